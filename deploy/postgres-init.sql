-- The case register lives beside Temporal's own databases, under its own role.
CREATE ROLE shenhou LOGIN PASSWORD 'shenhou';
CREATE DATABASE shenhou OWNER shenhou;
