#!/usr/bin/env bash
# Back up TMR Clinic's PostgreSQL database: one timestamped `pg_dump -Fc` file per run, then
# delete dumps past the retention. Run it from cron (README, "Backups"); it exits non-zero on any
# failure, so cron's mail or a monitor sees it.
#
#   DATABASE_URL=postgres://user:pass@db.internal:5432/tmrclinic deploy/backup.sh
#
# BACKUP_DIR          where dumps go (default /var/backups/tmrclinic); created mode 700
# BACKUP_KEEP_DAYS    delete dumps older than this many days (default 30; 0 = keep all by age)
# BACKUP_KEEP_FILES   also keep at most this many newest dumps (default 0 = no count limit)
#
# Old dumps are deleted only after a new one was written completely, and only files this script
# names (<database>-<UTC time>.dump), never anything else in BACKUP_DIR. A dump is written to a
# .partial file and renamed when pg_dump has finished, so a crash never leaves a truncated file
# that looks like a backup. Dumps hold PHI: the directory and files are readable by their owner
# only, and belong on encrypted storage with an off-site copy.
set -euo pipefail
umask 077

. "$(dirname "$0")/pgurl.sh"

[ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set; refusing to guess which database to back up."
parse_database_url "$DATABASE_URL"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/tmrclinic}"
KEEP_DAYS="${BACKUP_KEEP_DAYS:-30}"
KEEP_FILES="${BACKUP_KEEP_FILES:-0}"
[[ "$KEEP_DAYS" =~ ^[0-9]+$ ]] || fail "BACKUP_KEEP_DAYS must be a whole number of days, not '$KEEP_DAYS'."
[[ "$KEEP_FILES" =~ ^[0-9]+$ ]] || fail "BACKUP_KEEP_FILES must be a whole number, not '$KEEP_FILES'."

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
STAMP_GLOB="[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z"
final="$BACKUP_DIR/$DATABASE-$stamp.dump"
partial="$BACKUP_DIR/.$DATABASE-$stamp.dump.partial"
[ ! -e "$final" ] || fail "$final already exists; not overwriting it."
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --no-password --dbname="$CONNINFO" --file="$partial"
# Read the dump's table of contents back: a dump pg_restore cannot list is no backup.
pg_restore --list "$partial" >/dev/null
sync "$partial"
mv "$partial" "$final"
sync "$BACKUP_DIR"
trap - EXIT
echo "backup.sh: wrote $final ($(du -h "$final" | cut -f1))"

# Retention: the dump just written is never deleted.
mapfile -t dumps < <(
  find "$BACKUP_DIR" -maxdepth 1 -type f -name "$DATABASE-$STAMP_GLOB.dump" -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-
)
now="$(date +%s)"
index=0
for dump in "${dumps[@]}"; do
  index=$((index + 1))
  [ "$dump" != "$final" ] || continue
  too_old=0
  too_many=0
  if [ "$KEEP_DAYS" -gt 0 ]; then
    age=$(( now - $(stat -c %Y "$dump") ))
    [ "$age" -le $((KEEP_DAYS * 86400)) ] || too_old=1
  fi
  if [ "$KEEP_FILES" -gt 0 ] && [ "$index" -gt "$KEEP_FILES" ]; then
    too_many=1
  fi
  if [ "$too_old" = 1 ] || [ "$too_many" = 1 ]; then
    rm -f -- "$dump"
    echo "backup.sh: deleted $dump (retention: $KEEP_DAYS days, $KEEP_FILES files)"
  fi
done
