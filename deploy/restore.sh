#!/usr/bin/env bash
# Restore a backup.sh dump into a NEW database, then bring its schema up to this code's
# migrations. It never restores over data: a database that already has tables is refused.
#
#   DATABASE_URL=postgres://user:pass@db.internal:5432/tmrclinic_restored \
#     deploy/restore.sh /var/backups/tmrclinic/tmrclinic-20260301T020000Z.dump
#
# DATABASE_URL names the database to restore into: it is created (on the same server, with the
# same credentials, through the `postgres` database) if missing. Run it from the app's directory
# with the app's environment (DJANGO_* variables) loaded, because it ends with `manage.py migrate`;
# PYTHON chooses the interpreter (default .venv/bin/python). Then check the restored data and
# point the app servers' DATABASE_URL at it (README, "Restoring a backup").
set -euo pipefail
. "$(dirname "$0")/pgurl.sh"

[ $# -eq 1 ] || fail "usage: DATABASE_URL=postgres://.../new_database deploy/restore.sh DUMP_FILE"
[ -f "$1" ] || fail "no dump file at $1"
dump="$(realpath "$1")"
cd "$(dirname "$0")/.."
[ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set: name the new database to restore into."
parse_database_url "$DATABASE_URL"
PYTHON="${PYTHON:-.venv/bin/python}"

# A readable dump first, before anything is created.
pg_restore --list "$dump" >/dev/null

maintenance="$(conninfo_for_database "${RESTORE_MAINTENANCE_DB:-postgres}")"
exists="$(psql --no-psqlrc --no-password -Atc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" "$maintenance")"
if [ -n "$exists" ]; then
  tables="$(psql --no-psqlrc --no-password -Atc \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" \
    "$CONNINFO")"
  [ "$tables" = 0 ] || fail "database $DATABASE already has $tables tables; restore into a new, empty database."
else
  psql --no-psqlrc --no-password -q -c "CREATE DATABASE \"$DATABASE\"" "$maintenance"
  echo "restore.sh: created database $DATABASE"
fi

# One transaction: a restore that fails half-way leaves the database empty, not half full.
# --no-owner/--no-privileges: the objects belong to the role in DATABASE_URL, whatever the
# original server's roles were.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --no-password \
  --dbname="$CONNINFO" "$dump"
echo "restore.sh: restored $dump into $DATABASE"

# A dump carries no planner statistics: without them the dashboard's plans start out poor.
psql --no-psqlrc --no-password -q -c "ANALYZE" "$CONNINFO"

# A dump taken before an upgrade gets the newer code's migrations.
DATABASE_URL="$DATABASE_URL" "$PYTHON" manage.py migrate --noinput
echo "restore.sh: done. Compare row counts with the source if you can, then switch DATABASE_URL."
