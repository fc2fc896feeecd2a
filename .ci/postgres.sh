#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own data directory, 127.0.0.1 only, a free port, a `nasha`
# superuser (password `nasha`). Used by .ci/run, and by hand:
#
#   eval "$(bash .ci/postgres.sh start)"   # installs PostgreSQL if missing (root + apt-get), starts, exports the URL
#   npm test                               # the store tests now also run on PostgreSQL
#   bash .ci/postgres.sh stop              # stops it and deletes its data
#
# Commands: start (idempotent: an already running cluster is reused) | stop | url | status | stats.
# stdout carries only what `start` and `url` are asked for (shell `export` lines, the URL); logs go to stderr.
#
# Environment: NASHA_PG_DIR   where the cluster lives (default: ${TMPDIR:-/tmp}/nasha-pg-<uid>)
#              NASHA_PG_PORT  the port (default: the first free one from 55432)
#              NASHA_PG_BIN   the directory holding initdb and pg_ctl (default: found)
# Root cannot run PostgreSQL: as root, the cluster belongs to the `postgres` OS user the package creates.
set -euo pipefail

dir=${NASHA_PG_DIR:-${TMPDIR:-/tmp}/nasha-pg-$(id -u)}
data="$dir/data"
log_file="$dir/postgres.log"
url_file="$dir/url"
marker=.nasha-test-cluster # only a directory holding it (or an empty one) is ever deleted
user=nasha
password=nasha

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null; then
    runuser -u postgres -- "$@"
  else
    su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
  fi
}

find_bin() {
  if [ -n "${NASHA_PG_BIN:-}" ]; then
    [ -x "$NASHA_PG_BIN/initdb" ] || die "NASHA_PG_BIN=$NASHA_PG_BIN has no initdb"
    printf '%s\n' "$NASHA_PG_BIN"
    return
  fi
  local candidate
  # Debian/Ubuntu keep the server programs out of PATH, one directory per major version: take the newest.
  candidate=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$candidate" ]; then
    dirname "$candidate"
  elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
  fi
}

install_postgres() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "PostgreSQL's server programs (initdb, pg_ctl) are not installed: install them (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql) or set NASHA_PG_BIN"
  fi
  log "installing PostgreSQL with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends postgresql </dev/null >&2 || die "apt-get install postgresql failed"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  for port in $(seq 55432 55531); do
    port_in_use "$port" || {
      printf '%s\n' "$port"
      return
    }
  done
  die "no free port in 55432-55531; set NASHA_PG_PORT"
}

running() { [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

print_env() {
  printf "export NASHA_TEST_DATABASE_URL='%s'\n" "$(cat "$url_file")"
  printf "export NASHA_PG_DIR='%s'\n" "$dir"
}

start() {
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    install_postgres
    bin=$(find_bin)
    [ -n "$bin" ] || die "PostgreSQL was installed but initdb cannot be found under /usr/lib/postgresql"
  fi
  if running && [ -f "$url_file" ]; then
    log "already running: $(sed 's/:[^:@]*@/:***@/' "$url_file")"
    print_env
    return
  fi
  # Whatever is left (a stopped or half-made cluster) is throwaway: start from nothing.
  stop_cluster
  local port=${NASHA_PG_PORT:-}
  if [ -z "$port" ]; then port=$(free_port); fi
  if port_in_use "$port"; then die "port $port is already in use"; fi
  mkdir -p "$dir"
  touch "$dir/$marker"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' OS user to run PostgreSQL as (root cannot)"
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  as_owner test -w "$dir" || die "$dir is not writable by the PostgreSQL OS user (is a parent directory private?); set NASHA_PG_DIR"

  log "initdb in $data ($("$bin/postgres" --version))"
  local pwfile="$dir/pwfile"
  printf '%s\n' "$password" >"$pwfile"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pwfile"
  as_owner "$bin/initdb" -D "$data" --username="$user" --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  }
  rm -f "$pwfile"
  cat >>"$data/postgresql.conf" <<EOF

# Added by .ci/postgres.sh: a throwaway test cluster, on loopback only.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
# Durability is pointless for test data: skip the disk flushes.
fsync = off
synchronous_commit = off
full_page_writes = off
# CREATE/DROP DATABASE lines in the log show that the tests really used this server (see "stats").
log_statement = 'ddl'
log_line_prefix = '%m [%p] %d '
EOF

  log "starting on 127.0.0.1:$port"
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$log_file" -w -t 60 start >&2; then
    tail -n 30 "$log_file" >&2 2>/dev/null || true
    die "PostgreSQL did not start"
  fi
  local tries=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || {
      tail -n 30 "$log_file" >&2
      die "PostgreSQL does not accept connections on 127.0.0.1:$port"
    }
    sleep 1
  done
  local url="postgres://$user:$password@127.0.0.1:$port/postgres"
  # A real login over TCP with the password, as the tests will do.
  local version
  version=$(PGCONNECT_TIMEOUT=10 "$bin/psql" "$url" -X -A -t -c 'show server_version') ||
    die "cannot log in to $url"
  printf '%s\n' "$url" >"$url_file"
  log "PostgreSQL $version ready: postgres://$user:***@127.0.0.1:$port/postgres"
  print_env
}

stop_cluster() {
  [ -d "$dir" ] || return 0
  if [ ! -e "$dir/$marker" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not a cluster made by this script: not deleting it; choose another NASHA_PG_DIR"
  fi
  if [ -n "${bin:-}" ] && [ -f "$data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

stats() {
  [ -f "$log_file" ] || die "no cluster in $dir"
  local created dropped
  created=$(grep -c 'statement: CREATE DATABASE "nasha_t_' "$log_file" || true)
  dropped=$(grep -c 'statement: DROP DATABASE IF EXISTS "nasha_t_' "$log_file" || true)
  printf 'PostgreSQL tests: %s test databases created, %s dropped\n' "$created" "$dropped"
}

case "${1:-}" in
start) start ;;
stop)
  bin=$(find_bin)
  stop_cluster
  log "stopped; $dir removed"
  ;;
url)
  [ -f "$url_file" ] || die "not started (no $url_file); run: bash .ci/postgres.sh start"
  cat "$url_file"
  ;;
status)
  bin=$(find_bin)
  if [ -n "$bin" ] && running && [ -f "$url_file" ]; then
    echo "running: $(sed 's/:[^:@]*@/:***@/' "$url_file") (data in $dir)"
  else
    echo "not running (data dir $dir)"
    exit 3
  fi
  ;;
stats) stats ;;
*)
  echo "usage: bash .ci/postgres.sh start|stop|url|status|stats" >&2
  exit 2
  ;;
esac
