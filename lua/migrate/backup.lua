--- Backups before an upgrade (`run --backup DIR`) and `restore DIR`
--- (README "Backup and restore").
---
--- A backup is a new directory DIR/<UTC time>-<version or "empty">/ with
--- the dump and manifest.json: the engine, the database, the version, the
--- tool, every file's size and SHA-256, and, taken from the same snapshot
--- as the dump, the schema and every table's row count and checksum.
--- restore checks the files against the manifest, replaces the database
--- with the dump, and then requires the schema and the checksums to be
--- the manifest's again.
---
--- The dump tools run as child processes (sys.run): no shell, the
--- password never in their argv, only in a 0600 file the connection
--- writes (db:secret_file) and removes as soon as the tool has finished.
local dbmod = require("migrate.db")
local errors = require("migrate.errors")
local history = require("migrate.history")
local json = require("migrate.json")
local log = require("migrate.log")
local schema = require("migrate.schema")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

M.MANIFEST = "manifest.json"
M.FORMAT = 1
M.ENV = "N9E_MIGRATE_BACKUP_DIR"

local EEXIST = 17
local PRIVATE_DIR = 448 -- 0700: a backup holds every row, API token hashes included

--- The dump file of each engine, and the programs that write and load it
--- (the first one found on PATH; MySQL's own tools first for a MySQL
--- server, MariaDB's for MariaDB) with the Debian package they come in.
local ENGINES = {
  sqlite = { file = "database.sqlite" },
  postgres = { file = "dump.sql", dump = { "pg_dump" }, load = { "psql" }, package = "postgresql-client" },
  mysql = { file = "dump.sql", dump = { "mariadb-dump", "mysqldump" }, load = { "mariadb", "mysql" },
            package = "mariadb-client (or MySQL's mysql-client)" },
}

local function basename(p) return (p:match("([^/]+)/*$")) or p end

local function mib(bytes) return ("%.1f MiB"):format((bytes or 0) / 1048576) end

--- The last lines of a tool's stderr, for an error message.
local function excerpt(text)
  text = (text or ""):gsub("%s+$", "")
  if #text > 2000 then text = "..." .. text:sub(-2000) end
  return text ~= "" and text or "(no message)"
end

-- tools ---------------------------------------------------------------------

--- The program for role ("dump" or "load") of conn's engine, or nil and
--- the names looked for.
local function find_tool(conn, role)
  local names = { table.unpack(ENGINES[conn.dialect][role]) }
  if conn.dialect == "mysql" and not tostring(conn:server_version()):find("MariaDB", 1, true) then
    names[1], names[2] = names[2], names[1]
  end
  for _, n in ipairs(names) do
    local path = sys.which(n)
    if path then return { name = n, path = path } end
  end
  return nil, table.concat(names, " or ")
end

local function missing_tool(conn, role, names)
  local e = ENGINES[conn.dialect]
  return ("%s is not on PATH: it is needed to %s a %s database"):format(names,
           role == "dump" and "back up" or "restore", conn.dialect == "postgres" and "PostgreSQL" or "MySQL/MariaDB"),
         ("install %s (Debian/Ubuntu: apt-get install %s)%s"):format(e.package, e.package:match("^%S+"),
           role == "dump" and ", or run without --backup" or "")
end

--- The tool, or a refusal (exit 3) naming the package to install.
local function require_tool(conn, role)
  local tool, names = find_tool(conn, role)
  if not tool then
    local why, fix = missing_tool(conn, role, names)
    errors.raise(errors.REFUSED, ("%s: %s (fix: %s)"):format(role == "dump" and "backup" or "restore", why, fix))
  end
  return tool
end

--- "pg_dump (PostgreSQL) 15.18 (Debian ...)" and the like; nil when the
--- tool does not answer --version.
local function tool_version(tool)
  local r = sys.run({ argv = { tool.path, "--version" } })
  if not r or r.code ~= 0 then return nil end
  return ((r.stdout or ""):match("[^\n]+") or ""):gsub("%s+$", "")
end

--- Runs a tool; returns its result, or raises with its stderr.
local function run_tool(argv, opts)
  local r, err = sys.run({ argv = argv, env = opts.env, stdin = opts.stdin, stdout = opts.stdout })
  if not r then error(err, 0) end
  if r.code ~= 0 then
    error(("%s failed (%s): %s"):format(basename(argv[1]),
          r.signal and ("killed by signal " .. r.signal) or ("exit " .. r.code), excerpt(r.stderr)), 0)
  end
  return r
end

-- connecting the tools the way the connection did -----------------------------

local function pct_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function params(info)
  local out = {}
  for pair in (info.params or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[#out + 1] = { pct_decode(k), pct_decode(v) }
  end
  return out
end

--- A libpq connection string for the tools, without the password (the
--- tools read it from PGPASSFILE).  As in the driver, the DSN's own
--- parameters (sslmode ...) come after the defaults and win.
local function pg_conninfo(info)
  local parts = {}
  local function add(k, v)
    if v ~= nil and v ~= "" then
      parts[#parts + 1] = ("%s='%s'"):format(k, (tostring(v):gsub("\\", "\\\\"):gsub("'", "\\'")))
    end
  end
  add("application_name", "n9e-lua-migrate")
  add("host", info.host)
  add("port", info.port)
  add("user", info.user)
  add("dbname", info.dbname)
  for _, kv in ipairs(params(info)) do add(kv[1], kv[2]) end
  return table.concat(parts, " ")
end

--- The environment that points libpq at the password file, if any.
local function pg_env(secret)
  return secret and { PGPASSFILE = secret:path() } or {}
end

--- pg_dump of conn's database, plain SQL, into the new file `file`;
--- options: pg_dump's own (--snapshot=..., --no-owner ...).
local function pg_dump(conn, tool, file, options)
  local secret <close> = conn:secret_file("pgpass")
  local argv = { tool.path, "--format=plain", "--no-password" }
  table.move(options, 1, #options, #argv + 1, argv)
  argv[#argv + 1] = "--dbname=" .. pg_conninfo(conn:target_info())
  run_tool(argv, { env = pg_env(secret), stdout = file })
end

--- psql runs the files into conn's database in one transaction, stopping
--- at the first error (which rolls all of it back).
local function psql_files(conn, tool, files)
  local secret <close> = conn:secret_file("pgpass")
  local argv = { tool.path, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction" }
  for _, f in ipairs(files) do
    argv[#argv + 1] = "-f"
    argv[#argv + 1] = f
  end
  argv[#argv + 1] = "--dbname=" .. pg_conninfo(conn:target_info())
  run_tool(argv, { env = pg_env(secret) })
end

--- Client options for mysqldump/mysql: the option file with the password
--- first (the clients require --defaults-extra-file to be), then where
--- and as whom, the character set and TLS as the DSN has them.
local function mysql_argv(program, info, secret)
  local a = { program }
  if secret then a[#a + 1] = "--defaults-extra-file=" .. secret:path() end
  if info.socket then a[#a + 1] = "--socket=" .. info.socket end
  if info.host then a[#a + 1] = "--host=" .. info.host end
  if info.port then a[#a + 1] = "--port=" .. info.port end
  if info.user then a[#a + 1] = "--user=" .. info.user end
  local charset = "utf8mb4"
  for _, kv in ipairs(params(info)) do
    if kv[1] == "charset" and kv[2] ~= "" then charset = kv[2]:match("^[^,]+") end
    if kv[1] == "tls" and (kv[2] == "true" or kv[2] == "skip-verify") then
      a[#a + 1] = "--ssl"
      if kv[2] == "true" then a[#a + 1] = "--ssl-verify-server-cert" end
    end
  end
  a[#a + 1] = "--default-character-set=" .. charset
  return a
end

-- what a backup records, and what a restore must reproduce ---------------------

local function current_version(conn)
  local cur
  for v in pairs(history.applied(history.read(conn))) do
    if not cur or version.lt(cur, v) then cur = v end
  end
  return cur
end

--- The version (from history), the schema (migrate.schema describe) and
--- every table's row count and checksum over all its columns, the
--- runner's own tables included.
function M.facts(conn)
  local tables = {}
  for _, t in ipairs(conn:tables()) do
    local cols = {}
    for _, c in ipairs(conn:columns(t)) do cols[#cols + 1] = c.name end
    local sum = #cols > 0 and conn:checksum(t, cols)
      or { rows = math.tointeger(tonumber(conn:scalar("SELECT count(*) FROM " .. conn:quote_ident(t)))), sum = "" }
    tables[t] = { rows = sum.rows, sum = sum.sum, columns = json.array(cols) }
  end
  return { version = current_version(conn), tables = tables, schema = schema.describe(conn) }
end

local function sorted_keys(t)
  local k = {}
  for name in pairs(t) do k[#k + 1] = name end
  table.sort(k)
  return k
end

--- Every way have differs from want (both M.facts), as lines.
function M.compare(want, have)
  local out = {}
  for _, t in ipairs(sorted_keys(want.tables)) do
    local w, h = want.tables[t], have.tables[t]
    if not h then
      out[#out + 1] = ("table %s is missing"):format(t)
    elseif table.concat(h.columns, ",") ~= table.concat(w.columns, ",") then
      out[#out + 1] = ("table %s has columns (%s), the backup (%s)"):format(t, table.concat(h.columns, ","),
                                                                         table.concat(w.columns, ","))
    elseif h.rows ~= w.rows then
      out[#out + 1] = ("table %s has %d row(s), the backup %d"):format(t, h.rows, w.rows)
    elseif h.sum ~= w.sum then
      out[#out + 1] = ("table %s: data checksum %s, the backup's %s"):format(t, h.sum, w.sum)
    end
  end
  for _, t in ipairs(sorted_keys(have.tables)) do
    if not want.tables[t] then out[#out + 1] = ("table %s is not in the backup"):format(t) end
  end
  for _, d in ipairs(schema.diff(want.schema, have.schema)) do out[#out + 1] = "schema: " .. d end
  if want.version ~= have.version then
    out[#out + 1] = ("the database is at %s, the backup at %s"):format(have.version or "no version",
                                                                  want.version or "no version")
  end
  return out
end

--- The size of the database, the estimate of what its dump needs.
local function database_size(conn)
  local size
  if conn.dialect == "postgres" then
    size = conn:scalar("SELECT pg_database_size(current_database())")
  elseif conn.dialect == "mysql" then
    size = conn:scalar("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.TABLES "
                       .. "WHERE table_schema = DATABASE()")
  else
    size = (conn:scalar("PRAGMA page_count") or 0) * (conn:scalar("PRAGMA page_size") or 0)
  end
  return math.tointeger(tonumber(size)) or 0
end

--- The database a backup is of: the name on a server, the file of SQLite.
local function database_name(conn)
  local info = conn:target_info()
  if conn.dialect == "sqlite" then return sys.realpath(info.path) or info.path end
  return info.dbname
end

-- the precheck -----------------------------------------------------------------

--- The nearest directory of path that exists (what a new one is made in).
local function existing_dir(path)
  local p = path
  while p ~= "" and sys.stat(p) == nil do
    local up = p:match("^(.*)/[^/]*$")
    if not up then return "." end
    if up == "" then return "/" end
    p = up
  end
  return p
end

local function has_lock_tables(conn)
  local grants = {}
  for row in conn:query("SHOW GRANTS FOR CURRENT_USER()") do
    local _, g = next(row)
    grants[#grants + 1] = tostring(g):upper()
  end
  local text = table.concat(grants, "\n")
  return text:find("ALL PRIVILEGES", 1, true) or text:find("LOCK TABLES", 1, true)
end

--- The `backup` precheck of run/check --backup DIR: DIR can be made and
--- written, the dump tool is on PATH and (pg_dump) not older than the
--- server, MySQL's user may LOCK TABLES, and DIR's disk has room for
--- the database.  Returns one result {name, status, detail, fix}.
function M.precheck(conn, dir)
  local function result(status, detail, fix)
    return { name = "backup", status = status, detail = detail, fix = fix }
  end
  local at = existing_dir(dir)
  if sys.stat(at) ~= "directory" or not sys.writable(at) then
    return result("refused", ("%s cannot be written (%s is not a writable directory)"):format(dir, at),
                  "choose a writable --backup directory, or create it for the user that runs the upgrade")
  end
  local found = ""
  if conn.dialect ~= "sqlite" then
    local tool, names = find_tool(conn, "dump")
    if not tool then return result("refused", missing_tool(conn, "dump", names)) end
    local v = tool_version(tool)
    if not v then
      return result("refused", ("%s does not answer --version"):format(tool.path),
                    "install a working " .. ENGINES[conn.dialect].package)
    end
    if conn.dialect == "postgres" then
      local mine, server = tonumber(v:match("%)%s*(%d+)")), tonumber(tostring(conn:server_version()):match("^(%d+)"))
      if mine and server and mine < server then
        return result("refused", ("%s is %s, older than the server (PostgreSQL %d): pg_dump cannot dump a newer server")
                        :format(tool.path, v, server),
                      ("install postgresql-client-%d or newer and put its pg_dump first on PATH"):format(server))
      end
    elseif not has_lock_tables(conn) then
      return result("refused", "the user lacks LOCK TABLES, which the backup takes (READ) so that the manifest's "
                      .. "checksums are those of the dump",
                    "GRANT LOCK TABLES ON <database>.* TO the migration user, or run without --backup")
    end
    found = ("%s at %s; "):format(v, tool.path)
  end
  local size = database_size(conn)
  at = sys.realpath(at) or at
  local free, err = sys.disk_free(at)
  if not free then return result("warning", found .. "cannot measure free space at " .. at .. ": " .. tostring(err)) end
  local detail = ("%s%s free at %s for a database of %s"):format(found, mib(free), at, mib(size))
  if free < size then
    return result("refused", detail, "free space there or choose another --backup directory")
  end
  return result("ok", detail)
end

-- taking a backup ----------------------------------------------------------------

local DUMP = {}

--- SQLite: the online backup API (through a connection of its own: this
--- one holds the run's write transaction); the facts are read from the
--- copy itself, so they are exactly the backup's.
function DUMP.sqlite(conn, file, _, opts)
  conn:backup_to(file, opts.lock_timeout)
  local copy <close> = dbmod.open("sqlite:" .. file, { read_only = true })
  return M.facts(copy)
end

--- PostgreSQL: the facts are taken in a REPEATABLE READ transaction whose
--- snapshot pg_dump imports (--snapshot), so dump and manifest are of the
--- same instant, however busy the database is.
function DUMP.postgres(conn, file, tool)
  if conn:in_transaction() then conn:commit() end
  conn:begin()
  local ok, res = pcall(function()
    conn:exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    local snapshot = conn:scalar("SELECT pg_export_snapshot()")
    local facts = M.facts(conn)
    pg_dump(conn, tool, file, { "--snapshot=" .. snapshot })
    return facts
  end)
  pcall(conn.rollback, conn) -- it only read; this ends the snapshot
  if not ok then error(res, 0) end
  return res
end

--- MySQL/MariaDB: mysqldump --single-transaction reads one InnoDB
--- snapshot; this connection holds a READ lock on every table from the
--- facts to the end of the dump, so that nothing changes between the
--- two (writers wait meanwhile, readers do not).  Triggers and routines
--- are dumped; events are not (they need the EVENT privilege, and a
--- restore should not re-arm scheduled jobs).
function DUMP.mysql(conn, file, tool)
  if conn:in_transaction() then conn:commit() end
  local tables, locked = conn:tables(), false
  local ok, res = pcall(function()
    if #tables > 0 then
      local list = {}
      for i, t in ipairs(tables) do list[i] = conn:quote_ident(t) .. " READ" end
      conn:exec("LOCK TABLES " .. table.concat(list, ", "))
      locked = true
    end
    local facts = M.facts(conn)
    local info = conn:target_info()
    local secret <close> = conn:secret_file("mysql")
    local argv = mysql_argv(tool.path, info, secret)
    for _, o in ipairs({ "--single-transaction", "--routines", "--triggers", "--hex-blob", "--no-tablespaces",
                         "--skip-dump-date", info.dbname }) do
      argv[#argv + 1] = o
    end
    run_tool(argv, { stdout = file })
    return facts
  end)
  if locked then pcall(conn.exec, conn, "UNLOCK TABLES") end
  if not ok then error(res, 0) end
  return res
end

--- A new directory under root for this backup (a second one in the same
--- second gets a suffix).
local function new_dir(root, name)
  for i = 1, 100 do
    local path = root .. "/" .. name .. (i > 1 and ("-" .. i) or "")
    local made, why, code = sys.mkdir(path, PRIVATE_DIR)
    if made then return path end
    if code ~= EEXIST then errors.raise(errors.FAILED, "backup: " .. why) end
  end
  errors.raise(errors.FAILED, "backup: no free directory name under " .. root)
end

--- Back conn up into a new directory under dir (made if need be), under
--- the migration lock the caller holds.  opts: version (the database's,
--- nil when empty), target, lock_timeout.  Returns { path, manifest,
--- manifest_sha256, duration_ms }.  A failure removes what it wrote and
--- raises exit 1 (a missing tool: 3).
function M.take(conn, dir, opts)
  local t0 = sys.monotonic()
  local engine = ENGINES[conn.dialect]
  local tool
  if engine.dump then
    tool = require_tool(conn, "dump")
    tool.version = tool_version(tool)
  end
  local made, err = sys.mkdir_p(dir)
  if not made then errors.raise(errors.FAILED, "backup: " .. err) end
  local root = assert(sys.realpath(dir))
  local path = new_dir(root, os.date("!%Y%m%dT%H%M%SZ") .. "-" .. (opts.version or "empty"))
  local file = path .. "/" .. engine.file
  local in_tx = conn:in_transaction()
  local ok, facts = pcall(DUMP[conn.dialect], conn, file, tool, opts)
  if in_tx and not conn:in_transaction() then conn:begin() end -- as the caller had it
  if not ok then
    os.remove(file)
    os.remove(path)
    if errors.is_stop(facts) then error(facts, 0) end
    errors.raise(errors.FAILED, ("backup into %s failed, nothing was applied: %s"):format(path, errors.text(facts)))
  end
  if facts.version ~= opts.version then
    -- SQLite: an adoption of this run is not committed, so not backed up;
    -- the name says what the backup holds
    local named = new_dir(root, os.date("!%Y%m%dT%H%M%SZ") .. "-" .. (facts.version or "empty"))
    assert(os.rename(file, named .. "/" .. engine.file))
    os.remove(path)
    path, file = named, named .. "/" .. engine.file
  end
  local sha, size = sys.sha256_file(file)
  local manifest = {
    format = M.FORMAT, engine = conn.dialect, created_at = log.iso(sys.now()),
    database = { target = conn:target(), name = database_name(conn), server_version = conn:server_version() },
    version = facts.version or json.null, upgrading_to = opts.target,
    tool = tool and { name = tool.name, path = tool.path, version = tool.version }
      or { name = "sqlite3_backup", version = conn:server_version() },
    runner_version = sys.version, host = sys.hostname(), created_by = sys.username(),
    files = json.array({ { name = engine.file, size = size, sha256 = sha } }),
    schema = facts.schema, tables = facts.tables,
  }
  local text = json.encode(manifest) .. "\n"
  local wrote, werr = sys.write_file(path .. "/" .. M.MANIFEST, text, true)
  if not wrote then
    os.remove(file)
    os.remove(path)
    errors.raise(errors.FAILED, "backup: " .. werr)
  end
  local ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  log.info("backup.taken", ("backed up %s at %s into %s (%s, %d ms)"):format(conn:target(), opts.version or "empty",
           path, mib(size), ms), { path = path, version = opts.version, bytes = size, duration_ms = ms })
  return { path = path, manifest = manifest, manifest_sha256 = sys.sha256(text), duration_ms = ms, bytes = size }
end

--- The history row that says where a backup is.
function M.history_row(b, kind, extra)
  return {
    version = b.manifest.version ~= json.null and b.manifest.version or "",
    description = (("%s %s"):format(kind, b.path)):sub(1, 255), kind = kind, script = basename(b.path),
    checksum = b.manifest_sha256, applied_at = log.iso(sys.now()), duration_ms = b.duration_ms,
    applied_by = sys.username(), host = sys.hostname(), runner_version = sys.version, outcome = "applied",
    error = extra,
  }
end

--- What `run --json` and `restore --json` say about a backup.
function M.summary(b)
  local m = b.manifest
  return { path = b.path, version = m.version, created_at = m.created_at, engine = m.engine,
           tool = m.tool, files = m.files, tables = #sorted_keys(m.tables), manifest_sha256 = b.manifest_sha256,
           duration_ms = b.duration_ms }
end

-- restoring ----------------------------------------------------------------------

--- The manifest of backup directory dir, checked against the files:
--- exit 2 when dir is no backup, 3 when a file is missing or differs.
function M.read(dir)
  local text = sys.read_file(dir .. "/" .. M.MANIFEST)
  if not text then
    errors.raise(errors.USAGE, ("%s is not a backup directory (no %s in it)"):format(dir, M.MANIFEST))
  end
  local ok, m = pcall(json.decode, text)
  if not ok or type(m) ~= "table" or m.format ~= M.FORMAT or not ENGINES[m.engine] or type(m.files) ~= "table"
     or type(m.tables) ~= "table" or type(m.schema) ~= "table" or type(m.database) ~= "table" then
    errors.raise(errors.REFUSED, ("%s/%s is not a manifest of format %d that this runner reads")
      :format(dir, M.MANIFEST, M.FORMAT))
  end
  if m.version == json.null then m.version = nil end
  local problems = {}
  for _, f in ipairs(m.files) do
    local path = dir .. "/" .. tostring(f.name)
    local sha, size = sys.sha256_file(path)
    if not sha then
      problems[#problems + 1] = ("%s is missing"):format(f.name)
    elseif size ~= f.size or sha ~= f.sha256 then
      problems[#problems + 1] = ("%s has %d bytes and sha256 %s, the manifest says %s bytes and %s")
        :format(f.name, size, sha, tostring(f.size), tostring(f.sha256))
    end
  end
  if #problems > 0 then
    errors.raise(errors.REFUSED, ("backup %s is damaged or was changed, nothing restored: %s")
      :format(dir, table.concat(problems, "; ")), { reasons = problems })
  end
  return m, sys.sha256(text)
end

local LOAD = {}

--- SQLite: the backup API copies the file into the live connection in
--- one write transaction, which waits for a running runner's (its lock).
function LOAD.sqlite(conn, file, _, opts)
  local ok, err = pcall(conn.restore_from, conn, file, opts.lock_timeout or 60)
  if ok then return end
  local code = type(err) == "table" and tonumber(err.code) or 0
  if code & 0xff == 5 or code & 0xff == 6 then -- SQLITE_BUSY, SQLITE_LOCKED
    errors.raise(errors.LOCK, ("lock not obtained within %g s: another runner holds it (%s)")
      :format(opts.lock_timeout or 60, errors.text(err)))
  end
  error(err, 0)
end

--- PostgreSQL: what the database has now is dropped and the dump loaded
--- in ONE psql transaction: the public schema's tables, views,
--- sequences, routines and types (not those of extensions), and every
--- other schema, which the dump creates again.
local function pg_drops(conn)
  local q = function(n) return conn:quote_ident(n) end
  local out = {}
  for r in conn:query([[SELECT n.nspname AS name FROM pg_catalog.pg_namespace n
      WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')
      ORDER BY 1]]) do
    out[#out + 1] = ("DROP SCHEMA IF EXISTS %s CASCADE;"):format(q(r.name))
  end
  local kinds = { r = "TABLE", p = "TABLE", f = "FOREIGN TABLE", m = "MATERIALIZED VIEW", v = "VIEW", S = "SEQUENCE" }
  for r in conn:query([[SELECT c.relname AS name, c.relkind::text AS kind FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'f', 'm', 'v', 'S') AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      ORDER BY position(c.relkind::text IN 'rpfmvS'), 1]]) do
    out[#out + 1] = ("DROP %s IF EXISTS public.%s CASCADE;"):format(kinds[r.kind], q(r.name))
  end
  for r in conn:query([[SELECT p.proname AS name, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
      p.prokind::text AS kind FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1, 2]]) do
    out[#out + 1] = ("DROP %s IF EXISTS public.%s(%s) CASCADE;"):format(r.kind == "a" and "AGGREGATE" or "ROUTINE",
                                                                     q(r.name), r.args)
  end
  for r in conn:query([[SELECT t.typname AS name, t.typtype::text AS kind FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd', 'r')
        OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
      ORDER BY 1]]) do
    out[#out + 1] = ("DROP %s IF EXISTS public.%s CASCADE;"):format(r.kind == "d" and "DOMAIN" or "TYPE", q(r.name))
  end
  return out
end

function LOAD.postgres(conn, file, tool, opts)
  local drops = pg_drops(conn)
  if conn:in_transaction() then conn:commit() end -- no lock of ours in psql's way
  local script = os.tmpname()
  local wait = ("SET lock_timeout = '%dms';\n"):format(math.max(1, math.floor((opts.ddl_lock_timeout or 3) * 1000)))
  assert(sys.write_file(script, wait .. table.concat(drops, "\n") .. "\n"))
  local ok, err = pcall(psql_files, conn, tool, { script, file })
  os.remove(script)
  if not ok then
    errors.raise(errors.FAILED, ("restore failed, the database is as it was (one transaction, rolled back): %s")
      :format(errors.text(err)))
  end
end

--- MySQL/MariaDB: views, routines and tables are dropped (foreign key
--- checks off), then the client loads the dump.  DDL commits as it goes:
--- a failure leaves the database partly restored (exit 6; restore again).
function LOAD.mysql(conn, file, tool)
  local drops = {}
  for r in conn:query("SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()") do
    drops[#drops + 1] = "DROP VIEW IF EXISTS " .. conn:quote_ident(r.name)
  end
  for r in conn:query("SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind FROM information_schema.ROUTINES "
                      .. "WHERE ROUTINE_SCHEMA = DATABASE()") do
    drops[#drops + 1] = ("DROP %s IF EXISTS %s"):format(r.kind == "FUNCTION" and "FUNCTION" or "PROCEDURE",
                                                        conn:quote_ident(r.name))
  end
  for r in conn:query("SELECT TABLE_NAME AS name, TABLE_TYPE AS kind FROM information_schema.TABLES "
                      .. "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'VIEW'") do
    drops[#drops + 1] = ("DROP %s IF EXISTS %s"):format(r.kind == "SEQUENCE" and "SEQUENCE" or "TABLE",
                                                        conn:quote_ident(r.name))
  end
  local ok, err = pcall(function()
    conn:exec("SET FOREIGN_KEY_CHECKS = 0")
    for _, sql in ipairs(drops) do conn:exec(sql) end
    conn:exec("SET FOREIGN_KEY_CHECKS = 1")
    local info = conn:target_info()
    local secret <close> = conn:secret_file("mysql")
    local argv = mysql_argv(tool.path, info, secret)
    argv[#argv + 1] = "--binary-mode"
    argv[#argv + 1] = info.dbname
    run_tool(argv, { stdin = file })
  end)
  if not ok then
    pcall(conn.exec, conn, "SET FOREIGN_KEY_CHECKS = 1")
    errors.raise(errors.UNRESTORED, ("restore failed with the database partly restored (MySQL/MariaDB DDL cannot be "
      .. "rolled back): %s; run restore again"):format(errors.text(err)))
  end
end

--- `restore DIR`: the manifest and files checked, the engine and the
--- database the backup's (or opts.other_database), under the migration
--- lock, the database replaced by the backup and checked against the
--- manifest's facts, then a `restore` history row when the restored
--- database has a history table.  opts: other_database, lock_timeout,
--- ddl_lock_timeout.  Returns { path, manifest, recorded, undone, duration_ms }.
function M.restore(conn, dir, opts)
  local t0 = sys.monotonic()
  local m, manifest_sha = M.read(dir)
  local path = sys.realpath(dir) or dir
  if m.engine ~= conn.dialect then
    errors.raise(errors.REFUSED, ("backup %s is of a %s database, this is %s"):format(path, m.engine, conn.dialect))
  end
  local name = database_name(conn)
  if m.database.name ~= name and not opts.other_database then
    errors.raise(errors.REFUSED, ("backup %s is of database %s (%s), this is %s (fix: pass --other-database to "
      .. "restore it here anyway)"):format(path, tostring(m.database.name), tostring(m.database.target), name))
  end
  local engine = ENGINES[conn.dialect]
  local tool = engine.load and require_tool(conn, "load")
  local apply = require("migrate.apply")
  -- SQLite: the restore is one write transaction of its own (the lock);
  -- the servers: the advisory lock every runner takes
  local server, wait = conn.dialect ~= "sqlite", opts.lock_timeout or 60
  if server and not conn:lock(apply.LOCK_KEY, wait) then
    errors.raise(errors.LOCK, ("lock not obtained within %g s: another runner holds it"):format(wait))
  end
  local ok, res = pcall(function()
    if server then require("migrate.locks").apply(conn, opts.ddl_lock_timeout or 3, opts.step_timeout) end
    local before = history.read(conn)
    LOAD[conn.dialect](conn, dir .. "/" .. engine.file, tool, opts)
    local problems = M.compare(m, M.facts(conn))
    if #problems > 0 then
      errors.raise(errors.VERIFY, ("restored %s, but the database is not the backup's: %s")
        :format(path, table.concat(problems, "; ")), { reasons = problems })
    end
    local after = history.read(conn)
    local last_id = after[#after] and tonumber(after[#after].id) or 0
    local undone = {}
    for _, r in ipairs(before) do
      if tonumber(r.id) > last_id then undone[#undone + 1] = r end
    end
    local note
    if #undone > 0 then
      local l = undone[#undone]
      note = ("undid %d history row(s) recorded after the backup, the last: %s %s %s at %s")
        :format(#undone, l.kind, l.version, l.outcome, l.applied_at)
    end
    local b = { path = path, manifest = m, manifest_sha256 = manifest_sha,
                duration_ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5) }
    local recorded = history.exists(conn)
    if recorded then history.insert(conn, M.history_row(b, "restore", note)) end
    if conn:in_transaction() then conn:commit() end
    return { backup = b, recorded = recorded, undone = #undone, note = note }
  end)
  if server then pcall(conn.unlock, conn, apply.LOCK_KEY) end
  if not ok then error(res, 0) end
  log.info("backup.restored", ("restored %s into %s (%s)"):format(path, conn:target(), m.version or "empty"),
           { path = path, version = m.version })
  return res
end

--- PostgreSQL: copy the database of src into the (empty) database of dst
--- through pg_dump and psql, for `rehearse` when other sessions keep
--- CREATE DATABASE ... TEMPLATE from copying.  The dump is one snapshot
--- (pg_dump's own transaction), written to a 0600 file in tmp_dir and
--- removed afterwards; ownership and grants are left out (the copy
--- belongs to whoever runs the rehearsal).
function M.pg_copy(src, dst, tmp_dir)
  local dump, load = require_tool(src, "dump"), require_tool(dst, "load")
  local file = ("%s/.n9e_rehearse_%s.sql"):format(tmp_dir, sys.random_hex(6))
  local ok, err = pcall(function()
    pg_dump(src, dump, file, { "--no-owner", "--no-privileges" })
    psql_files(dst, load, { file })
  end)
  os.remove(file)
  if not ok then error(err, 0) end
  return ("%s | %s"):format(basename(dump.path), basename(load.path))
end

return M
