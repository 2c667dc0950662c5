#!/bin/sh
# One-shot (docker-compose.yml's temporal-schema, on the temporalio/admin-tools image):
# creates Temporal's two databases on PostgreSQL as the temporal role and brings their
# schemas to the version this admin-tools image carries, the same version as the server
# image. Safe to run on every start: an existing database is kept, setup-schema leaves a
# versioned schema alone and update-schema applies only the versions not yet applied, so
# upgrading the images (both tags together) upgrades the schemas before the server starts.
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}" "${DBNAME:?}" "${VISIBILITY_DBNAME:?}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${SQL_HOST}:${SQL_PORT:-5432}..."
tries=0
until nc -z -w 5 "$SQL_HOST" "${SQL_PORT:-5432}"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then echo "PostgreSQL does not answer" >&2; exit 1; fi
  sleep 2
done

sql_tool() {
  # The password is read from SQL_PASSWORD, never given on the command line.
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "${SQL_PORT:-5432}" -u "$SQL_USER" "$@"
}

# database:schema (the default store, then the visibility store)
for store in "${DBNAME}:temporal" "${VISIBILITY_DBNAME}:visibility"; do
  database=${store%%:*}
  schema=${store##*:}
  echo "Temporal database ${database} (${schema} schema)"
  sql_tool --db "$database" create-database
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "${SCHEMA_DIR}/${schema}/versioned"
done
echo "Temporal's schemas are up to date"
