#!/usr/bin/env bash
# Benchmark (not a test): Nightingale's whole chain on each engine against
# loading the v9.1.1 reference schema directly with the engine's own client.
#   bench/chain.sh [BIN] [ROUNDS]     (run from the repository root)
# Needs the loopback servers (tools/servers.sh start).  Prints one line per
# engine: median wall time of ROUNDS runs for each side and the ratio.
set -euo pipefail
BIN=${1:-build/n9e-lua-migrate}
ROUNDS=${2:-5}
REF=tests/reference/v9.1.1
eval "$(tools/servers.sh start)"
export PGPASSWORD=$N9E_TEST_PASSWORD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PGHOST=127.0.0.1; PGPORT=$(echo "$N9E_TEST_PG_DSN" | sed -E 's#.*:([0-9]+)/.*#\1#')
MYPORT=$(echo "$N9E_TEST_MYSQL_DSN" | sed -E 's#.*:([0-9]+)/.*#\1#')
printf '%s\n' "$N9E_TEST_PASSWORD" >"$TMP/pw"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pg() { psql -q -h $PGHOST -p "$PGPORT" -U n9e -d "$1" -v ON_ERROR_STOP=1 "${@:2}" >/dev/null; }
my() { MYSQL_PWD=$N9E_TEST_PASSWORD mysql -h 127.0.0.1 -P "$MYPORT" -u n9e "$@"; }

bench_sqlite() {
  local chain=() direct=()
  for _ in $(seq "$ROUNDS"); do
    rm -f "$TMP/c.db" "$TMP/d.db"
    t0=$(now); "$BIN" run --db "sqlite:$TMP/c.db" -q >/dev/null; t1=$(now)
    sqlite3 "$TMP/d.db" <"$REF/docker_sqlite.sql"; t2=$(now)
    chain+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"); direct+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')")
  done
  report sqlite
}

bench_postgres() {
  local chain=() direct=()
  for _ in $(seq "$ROUNDS"); do
    pg n9e_test -c "DROP DATABASE IF EXISTS bench_c WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_d WITH (FORCE)"
    pg n9e_test -c "CREATE DATABASE bench_c" -c "CREATE DATABASE bench_d"
    t0=$(now); "$BIN" run --db "postgres://n9e@$PGHOST:$PGPORT/bench_c" --password-file "$TMP/pw" -q >/dev/null; t1=$(now)
    pg bench_d -f "$REF/docker_compose-postgres_initsql_for_postgres_a-n9e-for-Postgres.sql" \
               -f "$REF/docker_compose-postgres_initsql_for_postgres_b-ibex-for-Postgres.sql"; t2=$(now)
    chain+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"); direct+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')")
  done
  pg n9e_test -c "DROP DATABASE bench_c WITH (FORCE)" -c "DROP DATABASE bench_d WITH (FORCE)"
  report postgres
}

bench_mysql() {
  local chain=() direct=()
  for _ in $(seq "$ROUNDS"); do
    my -e "DROP DATABASE IF EXISTS bench_c; DROP DATABASE IF EXISTS bench_d; CREATE DATABASE bench_c; CREATE DATABASE bench_d"
    t0=$(now); "$BIN" run --db "mysql://n9e@127.0.0.1:$MYPORT/bench_c" --password-file "$TMP/pw" -q >/dev/null; t1=$(now)
    grep -viE '^\s*(create|drop) database|^\s*use ' "$REF/docker_initsql_a-n9e.sql" | my bench_d; t2=$(now)
    chain+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"); direct+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')")
  done
  my -e "DROP DATABASE bench_c; DROP DATABASE bench_d"
  report mysql
}

report() {
  local c d
  c=$(printf '%s\n' "${chain[@]}" | median); d=$(printf '%s\n' "${direct[@]}" | median)
  printf '%-9s chain %.3f s   direct load of v9.1.1 %.3f s   ratio %.2f   (median of %d)\n' \
    "$1" "$c" "$d" "$(awk -v a="$c" -v b="$d" 'BEGIN{print a/b}')" "$ROUNDS"
}

bench_sqlite
bench_postgres
bench_mysql
