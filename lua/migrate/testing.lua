--- Helpers for busted specs run by `n9e-lua-migrate test`: throwaway
--- databases, running the real apply protocol, and the busted runner
--- itself (run inside this process, so specs reach the C primitives).
local apply = require("migrate.apply")
local dbmod = require("migrate.db")
local errors = require("migrate.errors")
local history = require("migrate.history")
local scripts = require("migrate.scripts")
local sys = require("n9e.sys")

local M = {}

local tmp_seq = 0

--- A path for a throwaway file that does not exist yet.
function M.tmpname(suffix)
  tmp_seq = tmp_seq + 1
  local base = os.getenv("TMPDIR") or "/tmp"
  local p = ("%s/n9e-spec-%d-%d-%d%s"):format(base, math.floor(sys.now() * 1000) % 100000000,
                                               tmp_seq, math.random(1, 1e9), suffix or "")
  return p
end

--- A table that stands for conn (every db method, called on it, goes to
--- conn) plus `fields`; closing it closes conn, then runs cleanup.
local function forwarding(conn, fields, cleanup)
  fields.conn = conn
  return setmetatable(fields, {
    __index = function(_, k)
      local v = conn[k]
      if type(v) == "function" then return function(_, ...) return v(conn, ...) end end
      return v
    end,
    __close = function()
      conn:close()
      cleanup()
    end,
  })
end

--- A fresh SQLite database in a temporary file; closing the handle (or
--- `local db <close> = testing.sqlite()`) removes the file.
function M.sqlite()
  local path = M.tmpname(".db")
  local conn = dbmod.open("sqlite:" .. path)
  return forwarding(conn, { path = path, dsn = "sqlite:" .. path,
                            open = function() return dbmod.open("sqlite:" .. path) end },
                    function()
                      os.remove(path)
                      os.remove(path .. "-journal")
                    end)
end

--- A temporary scripts directory holding files { [name] = text }.  Returns
--- its path and a function that removes it.
function M.script_dir(files)
  local dir = M.tmpname(".d")
  assert(sys.mkdir_p(dir))
  local written = {}
  for name, text in pairs(files) do
    local path = dir .. "/" .. name
    assert(sys.write_file(path, text))
    written[#written + 1] = path
  end
  return dir, function()
    for _, p in ipairs(written) do os.remove(p) end
    os.remove(dir)
  end
end

--- The engine specs run against: $N9E_TEST_ENGINE (sqlite, the default;
--- postgres; mysql).
function M.engine()
  return os.getenv("N9E_TEST_ENGINE") or "sqlite"
end

local SERVER_ENV = { postgres = "N9E_TEST_PG_DSN", mysql = "N9E_TEST_MYSQL_DSN" }
local password_file

--- The test servers' password, handed to db.open through a 0600 file so
--- that it never sits in a DSN string.
local function server_password_file()
  if password_file then return password_file end
  local pw = os.getenv("N9E_TEST_PASSWORD")
  if not pw then return nil end
  password_file = M.tmpname(".pw")
  local f = assert(io.open(password_file, "w"))
  f:write(pw, "\n")
  f:close()
  return password_file
end

--- A throwaway database of the test engine: SQLite, a temporary file; a
--- server engine, a fresh database on the test server (tools/servers.sh),
--- dropped on close.  The handle forwards every db method and has
--- `dsn` and `open()` (another connection to the same database).
function M.db(engine)
  engine = engine or M.engine()
  if engine == "sqlite" then return M.sqlite() end
  local admin_dsn = os.getenv(SERVER_ENV[engine] or "")
  assert(admin_dsn, ("engine %s: set %s (tools/servers.sh start prints it)")
    :format(engine, tostring(SERVER_ENV[engine])))
  local opts = { password_file = server_password_file() }
  local admin = dbmod.open(admin_dsn, opts)
  local name = ("n9e_t_%d_%d"):format(math.floor(sys.now() * 1000) % 100000000, math.random(1, 1e9))
  admin:exec("CREATE DATABASE " .. admin:quote_ident(name))
  local dsn = admin_dsn:gsub("/[^/?]*(%??[^/]*)$", "/" .. name .. "%1")
  local conn = dbmod.open(dsn, opts)
  local function open() return dbmod.open(dsn, opts) end
  return forwarding(conn, { dsn = dsn, open = open, password_file = opts.password_file }, function()
    local drop = "DROP DATABASE " .. admin:quote_ident(name)
    if engine == "postgres" then drop = drop .. " WITH (FORCE)" end
    admin:exec(drop)
    admin:close()
  end)
end

local function raw(db) return type(db) == "table" and rawget(db, "conn") or db end

--- Nightingale's own full-schema files of a release tag for an engine, in
--- load order (tests/reference/TAG/, see the README there).
local REFERENCE_FILES = {
  mysql = { "docker_initsql_a-n9e.sql" },
  postgres = { "docker_compose-postgres_initsql_for_postgres_a-n9e-for-Postgres.sql",
               "docker_compose-postgres_initsql_for_postgres_b-ibex-for-Postgres.sql" },
  sqlite = { "docker_initsql_sqlite.sql", "docker_sqlite.sql" }, -- the file moved in v7.3.3
}

--- The SQL text of reference TAG ("v9.1.1") for an engine, as Nightingale
--- ships it, minus the MySQL file's own CREATE/DROP DATABASE and USE (the
--- test database is chosen by the connection).  nil when the release has
--- no file for that engine.
function M.reference_sql(tag, engine)
  local dir = (os.getenv("N9E_TEST_REFERENCE") or "tests/reference") .. "/" .. tag .. "/"
  local parts = {}
  for _, f in ipairs(REFERENCE_FILES[engine]) do
    local text = sys.read_file(dir .. f)
    if text then
      if engine == "mysql" then
        text = text:gsub("\n%s*[Cc][Rr][Ee][Aa][Tt][Ee]%s+[Dd][Aa][Tt][Aa][Bb][Aa][Ss][Ee][^;]*;", "\n")
                   :gsub("\n%s*[Dd][Rr][Oo][Pp]%s+[Dd][Aa][Tt][Aa][Bb][Aa][Ss][Ee][^;]*;", "\n")
                   :gsub("\n%s*[Uu][Ss][Ee]%s+[%w_]+%s*;", "\n")
      end
      parts[#parts + 1] = text
      if engine == "sqlite" then break end
    end
  end
  if #parts == 0 then return nil end
  return table.concat(parts, "\n")
end

--- Load reference TAG into db (an empty throwaway database).
function M.load_reference(db, tag)
  local conn = raw(db)
  local sql = assert(M.reference_sql(tag, conn.dialect),
                     ("no reference schema %s for %s"):format(tag, conn.dialect))
  conn:exec_script(sql)
end

--- Load scripts (the built-in ones, or opts.scripts dir) for db's dialect.
function M.scripts(db, opts)
  opts = opts or {}
  return scripts.load_all({ scripts_dir = opts.scripts, dialect = db.dialect,
                            allowed_paths = opts.scripts and { opts.scripts } or {} })
end

--- Run the real apply protocol; returns the run's result table.  A stop
--- (refusal, lock timeout) is returned as { exit = code, message = ... }.
local function protocol(action, db, opts)
  opts = opts or {}
  local conn = raw(db)
  local ok, res = pcall(function()
    return action(conn, M.scripts(conn, opts), { to = opts.to, version = opts.version,
                                                 lock_timeout = opts.lock_timeout or 5, group_ms = opts.group_ms })
  end)
  if ok then return res end
  if errors.is_stop(res) then return { exit = res.exit, message = res.message, outcome = "refused" } end
  error(res, 0)
end

function M.migrate(db, opts) return protocol(apply.run, db, opts) end

--- `rollback --to opts.to` and `baseline opts.version`, the same way.
function M.rollback(db, opts) return protocol(apply.rollback, db, opts) end
function M.baseline(db, opts) return protocol(apply.baseline, db, opts) end

--- History rows of db.
function M.history(db) return history.read(raw(db)) end

--- Run busted in this state.  Busted ends the process with os.exit on
--- failure; replace it so the host keeps control and chooses the code.
function M.run_busted(args, lua_path)
  local argv = { [0] = "n9e-lua-migrate test" }
  for _, v in ipairs(args or {}) do
    if v ~= "--" then argv[#argv + 1] = v end -- "--" only separated our options
  end
  local has_path = false
  for _, v in ipairs(argv) do
    if v:sub(1, 1) ~= "-" and v ~= "json" then has_path = true end
  end
  if not has_path then argv[#argv + 1] = "spec" end
  _G.arg = argv
  if lua_path then package.path = lua_path .. "/?.lua;" .. package.path end
  local real_exit = os.exit
  os.exit = function(code)
    if code == true or code == nil then code = 0 elseif code == false then code = 1 end
    error({ exit = code }, 0)
  end
  local ok, err = pcall(require("busted.runner"), { standalone = false })
  os.exit = real_exit
  if ok then return 0 end
  if type(err) == "table" and err.exit then return err.exit end
  error(err, 0)
end

-- the command line, for specs that drive the binary --------------------------------

--- s quoted for sh.
function M.shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- The binary's arguments that point it at a test database (M.db).
function M.target_args(target)
  local a = "--db " .. M.shell_quote(target.dsn)
  if target.password_file then a = a .. " --password-file " .. M.shell_quote(target.password_file) end
  return a
end

--- Run `bin args` in work, against target (a M.db; false: only args),
--- with env (assignments prefixed to the command line).  Returns the exit
--- code (128 + the signal's number when killed), stdout, stderr.
function M.run_binary(bin, work, args, env, target)
  local q = M.shell_quote
  local errf = work .. "/stderr.txt"
  local p = io.popen(("cd %s && %s %s %s %s 2>%s"):format(q(work), env or "", q(bin), args,
                                                          target and M.target_args(target) or "", q(errf)))
  local out = p:read("a")
  local _, how, code = p:close()
  local err = assert(sys.read_file(errf))
  return how == "signal" and 128 + code or code, out, err
end

return M
