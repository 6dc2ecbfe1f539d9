# Sourced by backup.sh and restore.sh: split DATABASE_URL for the PostgreSQL client tools.
#
# Sets CONNINFO (the URL without its password), DATABASE (the database's name) and exports
# PGPASSWORD: the password reaches pg_dump and friends through their environment, never their
# command line, which `ps` shows to every user of the host.

fail() { echo "$(basename "$0"): $*" >&2; exit 2; }

parse_database_url() {
  local url="$1" scheme rest authority userinfo password
  case "$url" in
    postgres://* | postgresql://*) ;;
    *) fail "DATABASE_URL must be a postgres:// URL." ;;
  esac
  scheme="${url%%://*}://"
  rest="${url#*://}"
  authority="${rest%%/*}"
  if [[ "$authority" == *@* ]]; then
    userinfo="${authority%@*}"
    if [[ "$userinfo" == *:* ]]; then
      # Percent-decoded as Django reads it (dj-database-url); backslashes kept literally.
      password="${userinfo#*:}"
      password="${password//\\/\\\\}"
      PGPASSWORD="$(printf '%b' "${password//%/\\x}")"
      export PGPASSWORD
      rest="${userinfo%%:*}@${rest#"$userinfo"@}"
    fi
  fi
  CONNINFO="$scheme$rest"
  DATABASE="${rest#*/}"
  DATABASE="${DATABASE%%\?*}"
  [[ "$rest" == */* && -n "$DATABASE" ]] || fail "DATABASE_URL must name a database, e.g. .../tmrclinic."
  [[ "$DATABASE" =~ ^[A-Za-z0-9_.-]+$ ]] || fail "unexpected characters in the database name '$DATABASE'."
}

# The same server and credentials, another database (to create or list databases).
conninfo_for_database() {
  local base="${CONNINFO%%\?*}" query=""
  [[ "$CONNINFO" != *\?* ]] || query="?${CONNINFO#*\?}"
  echo "${base%/*}/$1$query"
}
