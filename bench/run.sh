#!/usr/bin/env bash
# Benchmark (not a test) of the runner's overhead against the engines' own
# clients and two peers, on the loopback servers (tools/servers.sh):
#   bench/run.sh [BIN] [ROUNDS]      (from the repository root)
#
#   noop   `run` on a database already at the newest Nightingale release,
#          against the client doing `select 1` (psql -c / mysql -e)
#   m200   200 small migrations (a table and an index each) onto an empty
#          database, against the client applying the same SQL from one
#          file, dbmate (npm) and Sqitch (Debian)
#   convert  rewriting a JSON column of $ROWS rows (default 1,000,000) with
#          db:rewrite, against one server-side UPDATE doing the same with
#          the engine's JSON functions and against bench/convert.py
#          (psycopg2 / PyMySQL, batched); and the runner's peak RSS
#
# WHAT="noop m200 convert" and ENGINES="postgres mysql" choose the parts;
# QUIET=S the seconds each tool of m200 waits on its fresh database (1).
# Prints one markdown row per measurement: medians of ROUNDS wall times.
# Installs its peers when missing: Debian's sqitch and its DBD drivers
# (apt-get), dbmate from the npm registry into bench/.peers.
set -euo pipefail
BIN=$(realpath "${1:-build/n9e-lua-migrate}")
ROUNDS=${2:-5}
ROOT=$(pwd)

need=()
for p in sqitch libdbd-pg-perl libdbd-mysql-perl python3-psycopg2 python3-pymysql time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi
# npm: the machine's Node.js, or Debian's nodejs + npm where there is none
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nodejs npm
fi
if [ ! -x bench/.peers/node_modules/.bin/dbmate ]; then
  npm install --silent --prefix bench/.peers dbmate@2 >/dev/null
fi
DBMATE=$ROOT/bench/.peers/node_modules/.bin/dbmate

eval "$(tools/servers.sh start)"
export PGPASSWORD=$N9E_TEST_PASSWORD MYSQL_PWD=$N9E_TEST_PASSWORD SQITCH_PASSWORD=$N9E_TEST_PASSWORD
PGPORT=$(echo "$N9E_TEST_PG_DSN" | sed -E 's#.*:([0-9]+)/.*#\1#')
MYPORT=$(echo "$N9E_TEST_MYSQL_DSN" | sed -E 's#.*:([0-9]+)/.*#\1#')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '%s\n' "$N9E_TEST_PASSWORD" >"$TMP/pw"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pg() { psql -q -X -h 127.0.0.1 -p "$PGPORT" -U n9e -d "$1" -v ON_ERROR_STOP=1 "${@:2}" >/dev/null; }
my() { mysql -h 127.0.0.1 -P "$MYPORT" -u n9e "$@"; }
fresh() { # fresh ENGINE NAME (PostgreSQL: and a CHECKPOINT, so that no tool
  # runs into one that the runs before it made due; it drifted the times up)
  if [ "$1" = postgres ]; then pg n9e_test -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" -c CHECKPOINT
  else my -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2"; fi
}
# quiet() after a fresh database, before a timed tool: the server drops the
# 200 tables of the tool before in the background (files, purge); whoever
# ran next was up to 0.1 s slower on MariaDB, so each tool waits alike
quiet() { sleep "${QUIET:-1}"; }
dsn() { # dsn ENGINE NAME -> the runner's DSN
  if [ "$1" = postgres ]; then echo "postgres://n9e@127.0.0.1:$PGPORT/$2"; else echo "mysql://n9e@127.0.0.1:$MYPORT/$2"; fi
}
# time_of CMD... -> seconds, the command's output discarded
time_of() {
  local t0 t1; t0=$(now)
  "$@" >"$TMP/out" 2>&1 || { echo "bench: failed: $*" >&2; cat "$TMP/out" >&2; exit 1; }
  t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b-a}'
}
row() { # row ENGINE WHAT OURS THEIRS WHO
  printf '| %s | %s | %.4f s | %.4f s (%s) | %.2f |\n' "$1" "$2" "$3" "$4" "$5" "$(awk -v a="$3" -v b="$4" 'BEGIN{print a/b}')"
}

# --- the 200 migrations, in each tool's format --------------------------------
M=$TMP/m200
mkdir -p "$M/ours" "$M/dbmate" "$M/sqitch/deploy" "$M/sqitch/revert" "$M/sqitch/verify"
: >"$M/all.sql"
printf '%%syntax-version=1.0.0\n%%project=bench\n\n' >"$M/sqitch/sqitch.plan"
for i in $(seq 1 200); do
  sql="CREATE TABLE t_$i (id INTEGER PRIMARY KEY, name VARCHAR(64), v INTEGER);
CREATE INDEX idx_t_${i}_name ON t_$i (name);"
  printf 'return { version = "1.0.%d", description = "t%d",\n  up = function(db)\n    db:exec("CREATE TABLE t_%d (id INTEGER PRIMARY KEY, name VARCHAR(64), v INTEGER)")\n    db:exec("CREATE INDEX idx_t_%d_name ON t_%d (name)")\n  end,\n  down = function(db) db:exec("DROP TABLE t_%d") end }\n' \
    "$i" "$i" "$i" "$i" "$i" "$i" >"$M/ours/v$i.lua"
  printf '%s\n' "$sql" >>"$M/all.sql"
  printf -- '-- migrate:up\n%s\n\n-- migrate:down\nDROP TABLE t_%d;\n' "$sql" "$i" >"$M/dbmate/$(printf '%014d' "$i")_t$i.sql"
  printf '%s\n' "$sql" >"$M/sqitch/deploy/t$i.sql"
  printf 'DROP TABLE t_%d;\n' "$i" >"$M/sqitch/revert/t$i.sql"
  printf 'SELECT id FROM t_%d WHERE 0 = 1;\n' "$i" >"$M/sqitch/verify/t$i.sql"
  printf 't%d 2026-01-01T00:00:00Z bench <bench@example.com> # t%d\n' "$i" "$i" >>"$M/sqitch/sqitch.plan"
done

m200() { # m200 ENGINE
  local e=$1 ours=() client=() dbm=() sq=() engine_sq url_dbmate
  if [ "$e" = postgres ]; then
    engine_sq=pg; url_dbmate="postgres://n9e:$N9E_TEST_PASSWORD@127.0.0.1:$PGPORT/bench_m?sslmode=disable"
  else
    engine_sq=mysql; url_dbmate="mysql://n9e:$N9E_TEST_PASSWORD@127.0.0.1:$MYPORT/bench_m"
  fi
  for _ in $(seq "$ROUNDS"); do
    fresh "$e" bench_m; quiet
    ours+=("$(time_of "$BIN" run --scripts "$M/ours" --db "$(dsn "$e" bench_m)" --password-file "$TMP/pw" -q)")
    fresh "$e" bench_m; quiet
    if [ "$e" = postgres ]; then client+=("$(time_of pg bench_m -f "$M/all.sql")")
    else client+=("$(time_of sh -c "mysql -h 127.0.0.1 -P $MYPORT -u n9e bench_m <'$M/all.sql'")"); fi
    fresh "$e" bench_m; quiet
    # dbmate reads the URL from the environment, not argv (it holds the password)
    dbm+=("$(DATABASE_URL=$url_dbmate time_of "$DBMATE" --no-dump-schema --migrations-dir "$M/dbmate" up)")
    fresh "$e" bench_m; quiet
    if [ "$e" = mysql ]; then my -e "DROP DATABASE IF EXISTS sqitch; CREATE DATABASE sqitch"; fi
    (cd "$M/sqitch" && rm -f sqitch.conf && sqitch init bench --engine "$engine_sq" >/dev/null 2>&1 || true)
    sq+=("$(cd "$M/sqitch" && time_of sqitch deploy --target "db:$engine_sq://n9e@127.0.0.1:$([ "$e" = postgres ] && echo "$PGPORT" || echo "$MYPORT")/bench_m")")
  done
  local o c d s
  o=$(printf '%s\n' "${ours[@]}" | median); c=$(printf '%s\n' "${client[@]}" | median)
  d=$(printf '%s\n' "${dbm[@]}" | median); s=$(printf '%s\n' "${sq[@]}" | median)
  row "$e" "200 migrations" "$o" "$c" "$( [ "$e" = postgres ] && echo "psql -f" || echo "mysql <")"
  row "$e" "200 migrations" "$o" "$d" "dbmate $("$DBMATE" --version | awk '{print $3}')"
  row "$e" "200 migrations" "$o" "$s" "sqitch $(sqitch --version | awk '{print $3}')"
  if [ "$e" = postgres ]; then pg n9e_test -c "DROP DATABASE bench_m WITH (FORCE)"; else my -e "DROP DATABASE bench_m; DROP DATABASE IF EXISTS sqitch"; fi
}

noop() { # noop ENGINE
  local e=$1 ours=() client=()
  fresh "$e" bench_n
  "$BIN" run --db "$(dsn "$e" bench_n)" --password-file "$TMP/pw" -q >/dev/null
  for _ in $(seq "$ROUNDS"); do
    ours+=("$(time_of "$BIN" run --db "$(dsn "$e" bench_n)" --password-file "$TMP/pw" -q)")
    if [ "$e" = postgres ]; then client+=("$(time_of pg bench_n -c 'select 1')")
    else client+=("$(time_of my bench_n -e 'select 1')"); fi
  done
  row "$e" "no-op run (at 9.1.1)" "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${client[@]}" | median)" \
      "$( [ "$e" = postgres ] && echo "psql -c 'select 1'" || echo "mysql -e 'select 1'")"
  if [ "$e" = postgres ]; then pg n9e_test -c "DROP DATABASE bench_n WITH (FORCE)"; else my -e "DROP DATABASE bench_n"; fi
}

# --- rewriting a JSON column of ROWS rows in Lua ----------------------------------
ROWS=${ROWS:-1000000}
C=$TMP/conv
mkdir -p "$C"
cat >"$C/v1.lua" <<'LUA'
return { version = "1.0.0", description = "jobs",
  up = function(db)
    db:exec("CREATE TABLE jobs (id BIGINT PRIMARY KEY, doc " .. (db.dialect == "postgres" and "JSONB" or "JSON")
      .. " NOT NULL)")
  end }
LUA
cat >"$C/v2.lua" <<'LUA'
return { version = "1.1.0", description = "jobs.doc: a -> alpha",
  up = function() end,
  convert = function(db)
    db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 2000,
      map = function(row)
        local d = json.decode(row.doc)
        if d.a == nil then return nil end
        d.alpha, d.a = d.a, nil
        return { doc = json.encode(d) }
      end }
  end }
LUA

# (a CHECKPOINT after the load: every timed run starts with no checkpoint
# due, which otherwise lands in one run or another)
prepare_jobs() { # prepare_jobs ENGINE: bench_c at 1.0.0 with ROWS rows
  fresh "$1" bench_c
  "$BIN" run --scripts "$C" --to 1.0.0 --db "$(dsn "$1" bench_c)" --password-file "$TMP/pw" -q >/dev/null
  if [ "$1" = postgres ]; then
    pg bench_c -c "INSERT INTO jobs SELECT i, jsonb_build_object('a', i, 'b', 'x') FROM generate_series(1, $ROWS) i" \
               -c "VACUUM ANALYZE jobs" -c "CHECKPOINT"
  else
    my bench_c -e "INSERT INTO jobs SELECT seq, JSON_OBJECT('a', seq, 'b', 'x') FROM seq_1_to_$ROWS; ANALYZE TABLE jobs" >/dev/null
  fi
}

convert() { # convert ENGINE
  local e=$1 ours=() floor=() py=() rss=() port
  port=$([ "$e" = postgres ] && echo "$PGPORT" || echo "$MYPORT")
  for _ in $(seq "$ROUNDS"); do
    prepare_jobs "$e"
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%M' -o "$TMP/rss" "$BIN" run --scripts "$C" --db "$(dsn "$e" bench_c)" --password-file "$TMP/pw" -q >/dev/null
    t1=$(now)
    ours+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b-a}')"); rss+=("$(cat "$TMP/rss")")
    if [ "$e" = postgres ]; then
      [ "$(psql -X -At -h 127.0.0.1 -p "$PGPORT" -U n9e -d bench_c -c "SELECT count(*) FROM jobs WHERE doc ? 'alpha'")" = "$ROWS" ] \
        || { echo "conversion incomplete on $e" >&2; exit 1; }
    else
      [ "$(my -N bench_c -e "SELECT count(*) FROM jobs WHERE JSON_EXISTS(doc, '\$.alpha')")" = "$ROWS" ] \
        || { echo "conversion incomplete on $e" >&2; exit 1; }
    fi
    prepare_jobs "$e"
    if [ "$e" = postgres ]; then
      floor+=("$(time_of pg bench_c -c "UPDATE jobs SET doc = (doc - 'a') || jsonb_build_object('alpha', doc->'a') WHERE doc ? 'a'")")
    else
      floor+=("$(time_of my bench_c -e "UPDATE jobs SET doc = JSON_REMOVE(JSON_INSERT(doc, '\$.alpha', JSON_EXTRACT(doc, '\$.a')), '\$.a') WHERE JSON_EXISTS(doc, '\$.a')")")
    fi
    prepare_jobs "$e"
    py+=("$(time_of /usr/bin/python3 "$ROOT/bench/convert.py" "$e" "$port" bench_c)")
  done
  local o f p
  o=$(printf '%s\n' "${ours[@]}" | median); f=$(printf '%s\n' "${floor[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
  row "$e" "rewrite $ROWS JSON rows" "$o" "$f" "one server-side UPDATE"
  row "$e" "rewrite $ROWS JSON rows" "$o" "$p" "Python $(/usr/bin/python3 -c 'import sys; print(sys.version.split()[0])'), batched"
  echo "| $e | peak RSS of the rewrite | $(( $(printf '%s\n' "${rss[@]}" | sort -n | tail -1) / 1024 )) MB | | |"
  if [ "$e" = postgres ]; then pg n9e_test -c "DROP DATABASE bench_c WITH (FORCE)"; else my -e "DROP DATABASE bench_c"; fi
}

WHAT=${WHAT:-noop m200 convert}
echo "| engine | what | n9e-lua-migrate | other | ratio |"
echo "| --- | --- | --- | --- | --- |"
for e in ${ENGINES:-postgres mysql}; do
  for w in $WHAT; do "$w" "$e"; done
done
