#!/bin/sh
# Runs once, as PostgreSQL's superuser, when the data volume is first initialised
# (docker-compose.yml mounts this folder into /docker-entrypoint-initdb.d). The superuser
# stays with PostgreSQL; Temporal and the application get a role each, neither a superuser:
#
#   temporal   CREATEDB: the temporal-schema job creates Temporal's own databases
#              (temporal, temporal_visibility) and owns them; it cannot reach famassist.
#   famassist  owns the database famassist (`famassist migrate` creates the tables);
#              it cannot create databases or roles.
#
# The passwords come from the environment (TEMPORAL_DB_PASSWORD, APP_DB_PASSWORD); psql
# quotes them (:'…'). Safe to run again: what exists is left as it is.
set -eu
: "${POSTGRES_USER:?}"
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD, the password of the temporal role}"
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD, the password of the famassist role}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set=temporal_password="$TEMPORAL_DB_PASSWORD" --set=app_password="$APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE temporal LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD %L', :'temporal_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec
SELECT format('CREATE ROLE famassist LOGIN NOCREATEDB NOSUPERUSER NOCREATEROLE PASSWORD %L', :'app_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'famassist') \gexec
SELECT 'CREATE DATABASE famassist OWNER famassist'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'famassist') \gexec
-- Only its owner (and the superuser) may connect to the application's database.
REVOKE ALL ON DATABASE famassist FROM PUBLIC;
SQL
