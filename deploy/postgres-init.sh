#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: the case register gets its own role and
# database beside Temporal's, with the password from REGISTER_DB_PASSWORD (.env).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$REGISTER_DB_PASSWORD" <<'SQL'
CREATE ROLE shenhou LOGIN PASSWORD :'pw';
CREATE DATABASE shenhou OWNER shenhou;
SQL
