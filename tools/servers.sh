#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL and MariaDB servers for the tests,
# on loopback, in directories of their own; no system service is used.
#
#   tools/servers.sh start   # prints the environment the tests read
#   tools/servers.sh stop
#
# Data lives under $N9E_TEST_SERVERS (default: a directory in /tmp that the
# postgres user can reach; PostgreSQL refuses to run as root).
set -euo pipefail

BASE="${N9E_TEST_SERVERS:-${TMPDIR:-/tmp}/n9e-lua-migrate-servers}"
PG_PORT="${N9E_TEST_PG_PORT:-54329}"
MY_PORT="${N9E_TEST_MYSQL_PORT:-33069}"
# Test-only credentials; the tests also check that this password never
# leaks into logs, history or output.
PASSWORD="${N9E_TEST_PASSWORD:-n9e-Test-S3cret}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pg() {
  local bin dir="$BASE/pg"
  bin="$(pg_bin)"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
max_connections = 200
CONF
    # local socket: trust (setup only); TCP: passwords (what the tests use)
    cat >"$dir/data/pg_hba.conf" <<CONF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
CONF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  as_pg "$bin/psql" -h "$dir" -p "$PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT count(*) = 0 AS create_role FROM pg_roles WHERE rolname = 'n9e' \gset
\if :create_role
CREATE ROLE n9e LOGIN SUPERUSER PASSWORD '$PASSWORD';
\endif
SELECT count(*) = 0 AS create_db FROM pg_database WHERE datname = 'n9e_test' \gset
\if :create_db
CREATE DATABASE n9e_test OWNER n9e;
\endif
SQL
}

start_mysql() {
  local dir="$BASE/mysql"
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
      --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1
  fi
  if ! mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1; then
    mariadbd --no-defaults --datadir="$dir/data" --port="$MY_PORT" --bind-address=127.0.0.1 \
      --socket="$dir/mysql.sock" --pid-file="$dir/mysql.pid" --user="$(id -un)" \
      --log-error="$dir/server.log" --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
      --max-connections=300 >/dev/null 2>&1 &
    for _ in $(seq 1 120); do
      mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
  mariadb --no-defaults --socket="$dir/mysql.sock" -uroot <<SQL
CREATE USER IF NOT EXISTS 'n9e'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'n9e'@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS n9e_test CHARACTER SET utf8mb4;
SQL
}

stop_all() {
  local bin
  bin="$(pg_bin)"
  if [ -f "$BASE/pg/data/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$BASE/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -S "$BASE/mysql/mysql.sock" ]; then
    mariadb-admin --no-defaults --socket="$BASE/mysql/mysql.sock" -uroot shutdown >/dev/null 2>&1 || true
  fi
}

case "${1:-start}" in
  start)
    mkdir -p "$BASE"
    chmod 755 "$BASE"
    start_pg
    start_mysql
    cat <<ENV
export N9E_TEST_PG_DSN='postgres://n9e@127.0.0.1:$PG_PORT/n9e_test'
export N9E_TEST_MYSQL_DSN='mysql://n9e@127.0.0.1:$MY_PORT/n9e_test'
export N9E_TEST_PASSWORD='$PASSWORD'
export N9E_TEST_PG_SOCKET='$BASE/pg'
export N9E_TEST_MYSQL_SOCKET='$BASE/mysql/mysql.sock'
ENV
    ;;
  stop) stop_all ;;
  clean) stop_all; rm -rf "$BASE" ;;
  *) echo "usage: $0 start|stop|clean" >&2; exit 2 ;;
esac
