-- run --backup DIR and restore DIR, on the engine named by
-- $N9E_TEST_ENGINE (ctest runs this on every engine), driving the real
-- binary (N9E_BIN) against a throwaway database per test.
local json = require("cjson")
local schema = require("migrate.schema")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")
local ENGINE = testing.engine()
local SERVER = ENGINE ~= "sqlite"
local PASSWORD = os.getenv("N9E_TEST_PASSWORD")

local q = testing.shell_quote

local work, db

--- The binary against the test database (or `target`); returns exit
--- code, stdout, stderr.
local function mig(args, env, target) return testing.run_binary(BIN, work, args, env, target or db) end

local SCRIPTS = {
  ["v1.lua"] = [[return { version = "1.0.0", description = "one",
  up = function(db)
    local utf8 = db.dialect == "mysql" and " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" or ""
    db:exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(64), n INTEGER, f FLOAT)" .. utf8)
    db:exec("CREATE INDEX a_v ON a (v)")
  end,
  convert = function(db)
    db:exec("INSERT INTO a (id, v, n, f) VALUES (1, 'one', 1, 0.5), (2, 'it''s \"two\"\n', NULL, -1.25)")
    db:exec("INSERT INTO a (id, v, n, f) VALUES (3, ?, 3, NULL)", "Nightingale 夜莺 \\ %")
  end }]],
  -- a successful upgrade that changes schema and data
  ["v2.lua"] = [[return { version = "1.1.0", description = "two",
  up = function(db)
    db:exec("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER)")
    db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
    db:exec("CREATE INDEX a_n ON a (n)")
  end,
  convert = function(db)
    db:exec("UPDATE a SET w = 'x', n = 10 WHERE id = 1")
    db:exec("DELETE FROM a WHERE id = 2")
    db:exec("INSERT INTO b (id, a_id) VALUES (1, 1)")
  end }]],
  -- and one that fails after its DDL
  ["v3.lua"] = [[return { version = "1.2.0", description = "three",
  up = function(db) db:exec("CREATE TABLE c (id INTEGER)") end,
  convert = function(db)
    db:exec("INSERT INTO c (id) VALUES (1)")
    error("the upgrade fails here")
  end }]],
}

--- Every table's columns, row count and checksum, the runner's own
--- included, and the portable schema: what "the same database" means.
local function snapshot(conn)
  conn = conn or db
  local s = { schema = schema.describe(conn), tables = {} }
  for _, t in ipairs(conn:tables()) do
    local cols = {}
    for _, c in ipairs(conn:columns(t)) do cols[#cols + 1] = c.name end
    local sum = conn:checksum(t, cols)
    s.tables[t] = ("(%s) %d %s"):format(table.concat(cols, ","), sum.rows, sum.sum)
  end
  return s
end

--- History rows as "kind version outcome" (and the rows themselves).
local function history(conn)
  local out, rows = {}, testing.history(conn or db)
  for i, r in ipairs(rows) do out[i] = ("%s %s %s"):format(r.kind, r.version, r.outcome) end
  return out, rows
end

--- The one backup directory under dir.
local function only_backup(dir)
  local p = io.popen("ls -1 " .. q(dir))
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  assert.are.equal(1, #names, table.concat(names, ", "))
  return dir .. "/" .. names[1]
end

before_each(function()
  work = testing.tmpname(".bak")
  assert(sys.mkdir_p(work .. "/s"))
  for name, text in pairs(SCRIPTS) do assert(sys.write_file(work .. "/s/" .. name, text)) end
  db = testing.db()
end)

after_each(function()
  getmetatable(db).__close(db)
  os.execute("rm -rf " .. q(work))
end)

local DUMP_TOOL = { sqlite = "sqlite3_backup", postgres = "pg_dump" }

describe("backup and restore on " .. ENGINE, function()
  it("backup, a successful and a failing upgrade, restore: schema and every table's data as backed up", function()
    local code, _, err = mig("run --scripts s --to 1.0.0")
    assert.are.equal(0, code, err)
    local before, before_history = snapshot(), history()

    local out
    code, out, err = mig("run --scripts s --backup bk")
    assert.are.equal(1, code, err)
    assert.matches("the upgrade fails here", err)
    local dir = only_backup(work .. "/bk")
    assert.matches("^" .. work:gsub("%p", "%%%0") .. "/bk/%d+T%d+Z%-1%.0%.0$", dir)
    assert.matches("backed up 1.0.0 into " .. dir:gsub("%p", "%%%0"), out)
    -- 1.1.0 made it: the database is no longer the backup's
    local upgraded = snapshot()
    assert.are_not.same(before.schema, upgraded.schema)
    assert.are_not.equal(before.tables.a, upgraded.tables.a)
    assert.is_truthy(upgraded.tables.b)
    -- history says where the backup is
    local kinds, rows = history()
    assert.are.same({ "migrate 1.0.0 applied", "backup 1.0.0 applied", "migrate 1.1.0 applied",
                      "migrate 1.2.0 rolled_back" }, kinds)
    assert.are.equal("backup " .. dir, rows[2].description)

    -- the manifest: what, where, which tool, each file's size and hash, the facts
    local text = assert(sys.read_file(dir .. "/manifest.json"))
    assert.is_nil(text:find(PASSWORD or "\0", 1, true))
    local m = json.decode(text)
    assert.are.equal(1, m.format)
    assert.are.equal(ENGINE, m.engine)
    assert.are.equal("1.0.0", m.version)
    assert.are.equal("1.2.0", m.upgrading_to)
    assert.are.equal(db.conn:target(), m.database.target)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", m.created_at)
    assert.are.equal(sys.version, m.runner_version)
    if DUMP_TOOL[ENGINE] then
      assert.are.equal(DUMP_TOOL[ENGINE], m.tool.name)
    else
      assert.is_truthy(m.tool.name == "mariadb-dump" or m.tool.name == "mysqldump", m.tool.name)
    end
    assert.are.equal(1, #m.files)
    local sha, size = sys.sha256_file(dir .. "/" .. m.files[1].name)
    assert.are.equal(sha, m.files[1].sha256)
    assert.are.equal(size, m.files[1].size)
    assert.are.equal(3, m.tables.a.rows)
    assert.are.same({ "id", "v", "n", "f" }, m.tables.a.columns)
    assert.is_truthy(m.tables.n9e_migrate_history)
    assert.are.same(before.schema, m.schema)
    assert.are.equal("700\n", io.popen("stat -c %a " .. q(dir)):read("a"))

    code, out, err = mig("restore --json " .. q(dir))
    assert.are.equal(0, code, err)
    local doc = json.decode(out)
    assert.is_true(doc.ok)
    assert.are.equal(dir, doc.backup.path)
    assert.are.equal("1.0.0", doc.current)
    assert.is_true(doc.recorded)
    assert.are.equal(3, doc.undone)

    -- every table, the runner's steps and schema record included, as
    -- before; history too, plus the restore row
    local after = snapshot()
    assert.are.same(before.schema, after.schema)
    for t, v in pairs(before.tables) do
      if t ~= "n9e_migrate_history" then assert.are.equal(v, after.tables[t], t) end
    end
    local after_kinds
    after_kinds, rows = history()
    local want = { table.unpack(before_history) }
    want[#want + 1] = "restore 1.0.0 applied"
    assert.are.same(want, after_kinds)
    assert.are.equal("restore " .. dir, rows[#rows].description)
    assert.matches("undid 3 history row%(s%)", rows[#rows].error)
    for t in pairs(after.tables) do assert.is_truthy(before.tables[t], t .. " came back") end

    -- and the next run upgrades from there again
    code, out, err = mig("run --scripts s --to 1.1.0")
    assert.are.equal(0, code, err)
    assert.matches("applied 1.1.0", out)
    assert.are.same(upgraded.schema, snapshot().schema)
  end)

  it("refuses a backup whose dump or manifest was changed, and restores nothing (exit 3)", function()
    assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
    local code, _, err = mig("run --scripts s --to 1.1.0 --backup bk")
    assert.are.equal(0, code, err)
    local dir = only_backup(work .. "/bk")
    local upgraded = snapshot()
    local m = json.decode(sys.read_file(dir .. "/manifest.json"))
    local dump = dir .. "/" .. m.files[1].name
    local f = assert(io.open(dump, "ab"))
    f:write("x")
    f:close()
    local out
    code, out, err = mig("restore " .. q(dir))
    assert.are.equal(3, code)
    assert.are.equal("", out)
    assert.matches("is damaged or was changed, nothing restored: " .. m.files[1].name .. " has %d+ bytes", err)
    assert.are.same(upgraded, snapshot())
    -- another engine's backup
    local text = sys.read_file(dir .. "/manifest.json")
    local other = ENGINE == "sqlite" and "postgres" or "sqlite"
    assert(sys.write_file(dir .. "/manifest.json", (text:gsub('"engine":"' .. ENGINE .. '"', '"engine":"' .. other .. '"'))))
    os.execute("head -c -1 " .. q(dump) .. " > " .. q(dump .. ".fixed") .. " && mv " .. q(dump .. ".fixed") .. " " .. q(dump))
    code, _, err = mig("restore " .. q(dir))
    assert.are.equal(3, code)
    assert.matches("is of a " .. other .. " database, this is " .. ENGINE, err)
    -- no backup at all
    code, _, err = mig("restore " .. q(work))
    assert.are.equal(2, code)
    assert.matches("is not a backup directory %(no manifest.json in it%)", err)
    assert.are.same(upgraded, snapshot())
  end)

  it("restores into another database only with --other-database", function()
    assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
    assert.are.equal(0, (mig("run --scripts s --to 1.1.0 --backup bk")))
    local dir = only_backup(work .. "/bk")
    local m = json.decode(sys.read_file(dir .. "/manifest.json"))
    local other <close> = testing.db()
    local code, _, err = mig("restore " .. q(dir), nil, other)
    assert.are.equal(3, code)
    assert.matches("pass %-%-other%-database", err)
    assert.are.same({}, other:tables())
    code, _, err = mig("restore --other-database " .. q(dir), nil, other)
    assert.are.equal(0, code, err)
    assert.are.same(m.schema, schema.describe(other.conn))
    assert.are.same({ "migrate 1.0.0 applied", "restore 1.0.0 applied" }, (history(other.conn)))
  end)

  it("takes no backup when nothing is pending; $N9E_MIGRATE_BACKUP_DIR is the default, --no-backup ignores it",
     function()
    assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
    local code, out = mig("run --scripts s --to 1.0.0 --backup bk")
    assert.are.equal(0, code)
    assert.matches("up to date at 1.0.0", out)
    assert.is_nil(sys.stat(work .. "/bk"))
    local env = "N9E_MIGRATE_BACKUP_DIR=" .. q(work .. "/env")
    code, out = mig("run --scripts s --to 1.1.0 --no-backup", env)
    assert.are.equal(0, code)
    assert.is_nil(out:find("backed up", 1, true))
    assert.is_nil(sys.stat(work .. "/env"))
    local err
    code, out, err = mig("run --json --scripts s", env)
    assert.are.equal(1, code, err)
    local doc = json.decode(out)
    assert.are.equal(only_backup(work .. "/env"), doc.backup.path)
    assert.are.equal("1.1.0", doc.backup.version)
    code, out, err = mig("run --scripts s --backup x --no-backup")
    assert.are.equal("", out)
    assert.are.equal(2, code)
    assert.matches("either %-%-backup DIR or %-%-no%-backup", err)
  end)

  it("refuses (exit 3) a backup directory that cannot be written, before anything is applied", function()
    assert(sys.write_file(work .. "/file", "not a directory"))
    local code, out, err = mig("run --scripts s --backup file/bk")
    assert.are.equal(3, code)
    assert.are.equal("", out)
    assert.matches("backup: file/bk cannot be written", err)
    assert.are.same({}, (history()))
    code, out = mig("check --json --scripts s --backup file/bk")
    assert.are.equal(3, code)
    local by = {}
    for _, r in ipairs(json.decode(out).checks) do by[r.name] = r end
    assert.are.equal("refused", by.backup.status)
    code, out = mig("check --json --scripts s --backup bk")
    assert.are.equal(0, code)
    for _, r in ipairs(json.decode(out).checks) do by[r.name] = r end
    assert.are.equal("ok", by.backup.status)
  end)

  if SERVER then
    local TOOLS = { postgres = { "pg_dump", "psql" }, mysql = { "mariadb-dump", "mysqldump", "mariadb", "mysql" } }
    local PACKAGE = { postgres = "postgresql%-client", mysql = "mariadb%-client" }

    it("refuses run --backup when the dump tool is not on PATH (exit 3, the package named), nothing applied",
       function()
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
      local before = snapshot()
      local code, out, err = mig("run --scripts s --backup bk", "PATH=" .. q(work .. "/empty"))
      assert.are.equal(3, code)
      assert.are.equal("", out)
      assert.matches("backup: " .. (ENGINE == "postgres" and "pg_dump" or "mariadb%-dump or mysqldump")
                     .. " is not on PATH", err)
      assert.matches("install " .. PACKAGE[ENGINE], err)
      assert.are.same(before, snapshot())
      assert.is_nil(sys.stat(work .. "/bk"))
      -- and restore without the client
      assert.are.equal(1, (mig("run --scripts s --backup bk")))
      code, out, err = mig("restore " .. q(only_backup(work .. "/bk")), "PATH=" .. q(work .. "/empty"))
      assert.are.equal("", out)
      assert.are.equal(3, code)
      assert.matches("restore: .* is not on PATH: it is needed to restore", err)
    end)

    --- Programs named as the engine's tools, first on PATH: each runs
    --- body (a shell script; %s is the real tool).  Returns the PATH
    --- setting that puts them first.
    local function wrap_tools(body)
      assert(sys.mkdir(work .. "/wrap"))
      for _, name in ipairs(TOOLS[ENGINE]) do
        local real = sys.which(name)
        if real then
          local path = work .. "/wrap/" .. name
          assert(sys.write_file(path, "#!/bin/sh\n" .. body:format(q(real))))
          os.execute("chmod +x " .. q(path))
        end
      end
      return "PATH=" .. q(work .. "/wrap") .. ":\"$PATH\""
    end

    it("a dump that fails stops the run before anything is applied (exit 1) and leaves no partial backup", function()
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
      local before = snapshot()
      local path = wrap_tools([[
[ "$1" = --version ] && exec %s "$@"
echo "$0: the disk is full (simulated)" >&2; exit 2
]])
      local code, out, err = mig("run --scripts s --backup bk", path)
      assert.are.equal(1, code)
      assert.is_nil(out:find("applied", 1, true))
      assert.matches("backup into " .. work:gsub("%p", "%%%0") .. "/bk/[^ ]+ failed, nothing was applied: [%w_-]+ "
                     .. "failed %(exit 2%): [^\n]*the disk is full %(simulated%)", err)
      assert.are.same(before, snapshot())
      assert.are.same({ "migrate 1.0.0 applied" }, (history()))
      assert.are.equal("", io.popen("ls -A " .. q(work .. "/bk")):read("a"))
    end)

    it("never puts the password in a tool's argv: it is in a 0600 file, removed when the tool ends", function()
      -- wrappers first on PATH record how each tool was started, then run it
      local log = work .. "/tools.log"
      local wrapped = wrap_tools(([[
{ printf '%%%%s' "argv:"; for a in "$@"; do printf ' [%%%%s]' "$a"; done; echo
  f="${PGPASSFILE:-}"; case "$1" in --defaults-extra-file=*) f="${1#--defaults-extra-file=}";; esac
  [ -n "$f" ] && echo "secret: $f $(stat -c %%%%a "$f") $(stat -c %%%%a "$(dirname "$f")")"; env | sed 's/^/env: /'
} >> %s
exec %%s "$@"
]]):format(q(log)))
      -- the harness's own copy of the password stays out of the children's environment
      local env = "env -u N9E_TEST_PASSWORD " .. wrapped
      local code, _, err = mig("run --scripts s --to 1.1.0 --backup bk --log-file audit.jsonl", env)
      assert.are.equal(0, code, err)
      local dir = only_backup(work .. "/bk")
      local out
      code, out, err = mig("restore " .. q(dir) .. " --log-file audit.jsonl", env)
      assert.are.equal(0, code, err)
      local text = assert(sys.read_file(log))
      assert.is_nil(text:find(PASSWORD, 1, true), "the password reached a tool's argv or environment")
      local secrets, starts = {}, 0
      for line in text:gmatch("[^\n]+") do
        if line:match("^argv:") and not line:find("[--version]", 1, true) then starts = starts + 1 end
        local path, mode, dir_mode = line:match("^secret: (%S+) (%d+) (%d+)$")
        if path then
          assert.are.equal("600", mode)
          assert.are.equal("700", dir_mode)
          secrets[#secrets + 1] = path
        end
      end
      assert.are.equal(2, starts) -- the dump and the load
      assert.are.equal(starts, #secrets)
      for _, p in ipairs(secrets) do assert.is_nil(sys.stat(p), p .. " was left behind") end
      for _, where in ipairs({ out, err, sys.read_file(dir .. "/manifest.json"), sys.read_file(work .. "/audit.jsonl") }) do
        assert.is_nil(where:find(PASSWORD, 1, true))
      end
      for _, r in ipairs(testing.history(db)) do
        for _, v in pairs(r) do assert.is_nil(tostring(v):find(PASSWORD, 1, true)) end
      end
    end)

    it("db:secret_file writes the password for its kind, 0600, and removes it on close", function()
      do
        local kind = ENGINE == "postgres" and "pgpass" or "mysql"
        local f <close> = db.conn:secret_file(kind)
        local path = f:path()
        local want = kind == "pgpass" and ("*:*:*:*:%s\n"):format(PASSWORD:gsub("[\\:]", "\\%0"))
          or ('[client]\npassword="%s"\n'):format(PASSWORD:gsub('[\\"]', "\\%0"))
        assert.are.equal(want, sys.read_file(path))
        assert.are.equal("600\n", io.popen("stat -c %a " .. q(path)):read("a"))
        f:remove()
        assert.is_nil(sys.stat(path))
        assert.has_error(function() f:path() end, "attempt to use a removed secret file")
      end
      local info = db.conn:target_info()
      assert.is_true(info.has_password)
      assert.is_nil(info.password)
      assert.are.equal(db.conn:target():match("/([^/?]+)$"), info.dbname)
    end)
  end
end)

describe("backup primitives and scripts", function()
  it("a migration script reaches neither the process primitive nor the connection's secret and backup methods",
     function()
    assert(sys.write_file(work .. "/s/v1.lua", [[return { version = "1.0.0", up = function(db)
  local reachable = {}
  for _, name in ipairs({ "secret_file", "target_info", "backup_to", "restore_from" }) do
    if pcall(function() return db[name] end) then reachable[#reachable + 1] = "db:" .. name end
  end
  if pcall(function() return require("n9e.sys").run end) then reachable[#reachable + 1] = "sys.run" end
  error("reachable: " .. (#reachable > 0 and table.concat(reachable, ", ") or "none"))
end }]]))
    os.remove(work .. "/s/v2.lua")
    os.remove(work .. "/s/v3.lua")
    local code, _, err = mig("run --scripts s")
    assert.are.equal(1, code)
    assert.matches("failed in up at line 7: reachable: none", err)
  end)
end)

describe("backup --help", function()
  it("run, check and restore describe their backup options", function()
    local code, out = mig("run --help")
    assert.are.equal(0, code)
    assert.matches("%-%-backup DIR", out)
    assert.matches("N9E_MIGRATE_BACKUP_DIR", out)
    assert.matches("%-%-no%-backup", out)
    code, out = mig("check --help")
    assert.are.equal(0, code)
    assert.matches("%-%-backup DIR", out)
    code, out = mig("restore --help")
    assert.are.equal(0, code)
    assert.matches("usage: n9e%-lua%-migrate restore DIR", out)
    assert.matches("manifest.json", out)
    assert.matches("%-%-other%-database", out)
    code = mig("restore")
    assert.are.equal(2, code)
  end)
end)
