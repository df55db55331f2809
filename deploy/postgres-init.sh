#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: the case register gets its own role and
# database beside Temporal's, with the password from REGISTER_DB_PASSWORD (.env); and the families' portal
# its own login (PORTAL_DB_PASSWORD) that may read the cases and matters and record consents and 好差评
# ratings, nothing else (the grants are made when the worker creates the tables: register/engine.py, PORTAL_ROLE).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$REGISTER_DB_PASSWORD" \
  -v portal_pw="${PORTAL_DB_PASSWORD:-}" <<'SQL'
CREATE ROLE shenhou LOGIN PASSWORD :'pw';
CREATE DATABASE shenhou OWNER shenhou;
SELECT :'portal_pw' <> '' AS portal_login \gset
\if :portal_login
CREATE ROLE shenhou_portal LOGIN PASSWORD :'portal_pw';
REVOKE ALL ON DATABASE shenhou FROM PUBLIC;
GRANT CONNECT ON DATABASE shenhou TO shenhou, shenhou_portal;
\endif
SQL
