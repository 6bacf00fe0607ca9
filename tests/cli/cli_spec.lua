-- Drives the real binary (N9E_BIN) and checks exit codes, output and the
-- database contents with the sqlite3 command-line tool.
local json = require("cjson")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")
local ROOT = assert(sys.realpath("."), "run from the repository root")

local q = testing.shell_quote

local work
local function sh(cmd, env)
  local errf = work .. "/stderr.txt"
  local p = io.popen(("cd %s && %s %s 2>%s"):format(q(work), env or "", cmd, q(errf)))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errf)
  local err = f:read("a")
  f:close()
  return code, out, err
end

local function mig(args, env) return sh(q(BIN) .. " " .. args, env) end

local function sql(db, query)
  local p = io.popen(("sqlite3 -batch %s %s"):format(q(work .. "/" .. db), q(query)))
  local out = p:read("a")
  p:close()
  return (out:gsub("\n$", ""))
end

local function write(name, text)
  assert(sys.mkdir_p((work .. "/" .. name):match("^(.*)/")))
  assert(sys.write_file(work .. "/" .. name, text))
end

local function script(v, body)
  return ("return { version = %q, description = %q, %s }\n"):format(v, "v" .. v, body)
end

local ONE = script("1.0.0", [[up = function(db) db:exec("CREATE TABLE a (x INTEGER)") end]])
local TWO = script("1.1.0", [[up = function(db) db:exec("INSERT INTO a VALUES (1)") end]])

before_each(function()
  work = testing.tmpname(".cli")
  assert(sys.mkdir_p(work))
end)

after_each(function()
  os.execute("rm -rf " .. q(work))
end)

describe("command line", function()
  it("has --help for every command and the top level", function()
    for _, cmd in ipairs({ "run", "check", "plan", "status", "history", "log", "verify", "rollback", "baseline", "repair",
                           "new", "test", "version", "wait", "serve", "token", "lint", "rehearse",
                           "restore" }) do
      local code, out = mig(cmd .. " --help")
      assert.are.equal(0, code, cmd)
      assert.matches("usage: n9e%-lua%-migrate " .. cmd, out)
      assert.matches("%-%-db DSN", out)
    end
    local code, out = mig("--help")
    assert.are.equal(0, code)
    assert.matches("Exit codes:", out)
    code, out = mig("help run")
    assert.are.equal(0, code)
    assert.matches("%-%-to VERSION", out)
  end)

  it("exits 2 with a hint on bad usage", function()
    local code, _, err = mig("")
    assert.are.equal(2, code)
    assert.matches("usage:", err)
    code, _, err = mig("frobnicate")
    assert.are.equal(2, code)
    assert.matches("error: unknown command 'frobnicate'", err)
    code, _, err = mig("run --frob")
    assert.are.equal(2, code)
    assert.matches("unknown option '%-%-frob'", err)
    assert.matches("hint: n9e%-lua%-migrate run %-%-help", err)
    code, _, err = mig("run --lock-timeout soon")
    assert.are.equal(2, code)
    assert.matches("%-%-lock%-timeout wants seconds, got 'soon'", err)
    code, _, err = mig("run --ddl-lock-timeout 0")
    assert.are.equal(2, code)
    assert.matches("%-%-ddl%-lock%-timeout wants seconds %(at least 0%.001%), got '0'", err)
    code, _, err = mig("run --lock-retries 1.5")
    assert.are.equal(2, code)
    assert.matches("%-%-lock%-retries wants a whole number %(0 to 1000%), got '1%.5'", err)
    code, _, err = mig("run --group-ms -1")
    assert.are.equal(2, code)
    assert.matches("%-%-group%-ms wants milliseconds %(0 to 3600000%), got '%-1'", err)
    code, _, err = mig("status --group-ms 5") -- run's alone
    assert.are.equal(2, code)
    assert.matches("unknown option '%-%-group%-ms'", err)
    code, _, err = mig("status extra")
    assert.are.equal(2, code)
    assert.matches("wrong number of arguments", err)
    code = mig("run --to")
    assert.are.equal(2, code)
    code, _, err = mig("run --to 7.0")
    assert.are.equal(2, code)
    assert.matches("not a version", err)
    code, _, err = mig("run --to 99.0.0")
    assert.are.equal(2, code)
    assert.matches("no script has that version", err)
    code, _, err = mig("run --log-level loud")
    assert.are.equal(2, code)
    assert.matches("expected debug, info, warn, error or quiet", err)
  end)

  it("exits 2 and says what is wrong with a bad --db", function()
    for dsn, msg in pairs({
      ["ftp://x/y"] = "unknown scheme",
      ["postgres://user@/db"] = "names no host",
      ["mysql://u@h:99999/db"] = "port must be a number",
      ["postgres://u@h:5432/"] = "names no database",
      ["sqlite:"] = "needs a file path",
      ["root:pw@udp(10.0.0.1:3306)/n9e"] = "network must be tcp or unix",
      ["host=h port=99999 dbname=n9e"] = "port must be a number",
    }) do
      local code, _, err = mig("status --db " .. q(dsn))
      assert.are.equal(2, code, dsn)
      assert.matches(msg, err, 1, true)
    end
  end)

  it("reads the database from Nightingale's config.toml with --n9e-config", function()
    write("etc/config.toml", '[Global]\nRunMode = "release"\n\n[DB]\n# sqlite: DSN="/path/to/filename.db"\n'
      .. 'DSN = "from-config.db"\nDBType = "sqlite" # mysql postgres sqlite\n')
    local code, out, err = mig("run --to 7.0.0 --n9e-config etc/config.toml")
    assert.are.equal(0, code, err)
    assert.matches("database is now at 7%.0%.0", out)
    assert.are.equal("7.0.0", sql("from-config.db", "SELECT max(version) FROM n9e_migrate_history"))
    code, out, err = mig("status --n9e-config etc/config.toml --db x.db")
    assert.are.equal(2, code)
    assert.matches("either --db or --n9e-config", err, 1, true)
    assert.are.equal("", out) -- errors go to stderr only
    write("etc/bad.toml", '[DB]\nDBType = "sqlite"\n')
    code, out, err = mig("status --n9e-config etc/bad.toml")
    assert.are.equal(2, code)
    assert.matches("etc/bad.toml: config line 3: no DSN in the %[DB%] table", err)
    assert.are.equal("", out)
  end)

  it("runs the built-in Nightingale chain on ./n9e.db by default", function()
    -- what plan promises is what run does: one applied row per SQLite
    -- script, in order (6.7.3 and 7.5.0 are for MySQL/PostgreSQL only)
    local _, planned = mig("plan --json")
    local want = {}
    for _, p in ipairs(json.decode(planned).pending) do want[#want + 1] = p.version end
    assert.are.equal("7.0.0", want[1])
    assert.are.equal("9.1.1", want[#want])
    local code, out, err = mig("run")
    assert.are.equal(0, code, err)
    assert.matches("applied 7%.0%.0", out)
    assert.matches("database is now at 9%.1%.1", out)
    assert.are.equal("root", sql("n9e.db", "SELECT username FROM users"))
    local got = sql("n9e.db", "SELECT version FROM n9e_migrate_history WHERE outcome = 'applied' ORDER BY id")
    assert.are.equal(table.concat(want, "\n"), got)
    code, out = mig("run")
    assert.are.equal(0, code)
    assert.matches("up to date at 9%.1%.1", out)
    assert.are.equal(tostring(#want), sql("n9e.db", "SELECT count(*) FROM n9e_migrate_history"))
  end)

  it("adopts a database Nightingale created itself, recognised by its schema", function()
    os.execute(("sqlite3 %s < %s"):format(q(work .. "/n9e.db"),
                                          q(ROOT .. "/tests/reference/v7.0.0/docker_initsql_sqlite.sql")))
    sql("n9e.db", "INSERT INTO target (ident, group_id, tags) VALUES ('h1', 1, '')")
    local code, out = mig("status")
    assert.are.equal(0, code)
    assert.matches("unmanaged: [^\n]*7%.0%.0", out)
    code, out = mig("plan")
    assert.are.equal(0, code)
    assert.matches("would apply, in order:\n  7%.1%.0", out)
    local err
    code, out, err = mig("run")
    assert.are.equal(0, code, err)
    assert.matches("adopted a Nightingale database without history: schema fingerprint exact, baseline 7%.0%.0", out)
    assert.matches("database is now at 9%.1%.1", out)
    assert.matches("^baseline|7%.0%.0|[^\n]*adopted: schema fingerprint exact 7%.0%.0",
                   sql("n9e.db", "SELECT kind, version, description FROM n9e_migrate_history ORDER BY id LIMIT 1"))
    assert.are.equal("1", sql("n9e.db", "SELECT group_id FROM target_busi_group WHERE target_ident = 'h1'"))
  end)

  it("refuses an unmanaged database whose schema is no Nightingale release (exit 3), closest listed", function()
    sql("n9e.db", "CREATE TABLE orders (id INTEGER); CREATE TABLE users (id INTEGER)")
    local code, _, err = mig("run")
    assert.are.equal(3, code)
    assert.matches("not one of Nightingale's releases", err, 1, true)
    assert.matches("closest", err)
    assert.are.equal("", sql("n9e.db", "SELECT name FROM sqlite_master WHERE name LIKE 'n9e_migrate%'"))
  end)

  it("takes the database from N9E_MIGRATE_DB and from --db sqlite:PATH", function()
    local code = mig("run --to 7.0.0", "N9E_MIGRATE_DB=env.db")
    assert.are.equal(0, code)
    assert.are.equal("7.0.0", sql("env.db", "SELECT max(version) FROM n9e_migrate_history"))
    code = mig("run --db sqlite:other.db --to 7.1.0")
    assert.are.equal(0, code)
    assert.are.equal("7.1.0", sql("other.db", "SELECT max(version) FROM n9e_migrate_history"))
    assert.is_nil(sys.stat(work .. "/n9e.db"))
  end)

  it("plan, status, history and verify report where the database stands", function()
    local code, out = mig("plan")
    assert.are.equal(0, code)
    assert.matches("would apply, in order:\n  7%.0%.0", out)
    assert.is_nil(sys.stat(work .. "/n9e.db")) -- looking creates nothing
    mig("run --to 7.1.0")
    code, out = mig("status")
    assert.are.equal(0, code)
    assert.matches("current:  7%.1%.0", out)
    assert.matches("pending:  %d+ %(7%.2%.0, 7%.3%.0, ", out)
    code, out = mig("history")
    assert.are.equal(0, code)
    assert.matches("7%.1%.0%s+migrate%s+applied", out)
    code, out = mig("log")
    assert.are.equal(0, code)
    assert.matches("7%.0%.0%s+up%s+%S+%s+%d+%s+0%s+ok\n7%.0%.0%s+verify", out)
    code, out = mig("verify")
    assert.are.equal(0, code)
    assert.matches("2 version%(s%) verified", out)
    -- a verify that fails exits 4 (here: Nightingale's table dropped by hand)
    sql("n9e.db", "DROP INDEX idx_os")
    local vcode, _, err = mig("verify")
    assert.are.equal(4, vcode)
    assert.matches("version 7.1.0 (scripts/7.1.0.lua) failed in verify at line", err, 1, true)
    assert.matches("index idx_os on target is missing", err, 1, true)
  end)

  it("answers every command with one JSON document under --json", function()
    local code, out = mig("run --json --to 7.1.0")
    assert.are.equal(0, code)
    local doc = json.decode(out)
    assert.are.equal("applied", doc.outcome)
    assert.are.equal("7.1.0", doc.current)
    assert.are.equal(2, #doc.applied)
    for _, cmd in ipairs({ "plan", "status", "history", "log", "verify" }) do
      code, out = mig(cmd .. " --json")
      assert.are.equal(0, code, cmd)
      doc = json.decode(out)
      assert.are.equal(cmd, doc.command)
      assert.is_true(doc.ok)
    end
    out = select(2, mig("plan --json"))
    doc = json.decode(out)
    assert.are.equal("7.2.0", doc.pending[1].version)
    out = select(2, mig("status --json"))
    doc = json.decode(out)
    assert.are.equal("7.1.0", doc.current)
    assert.are.same({}, doc.problems)
    code, out = mig("run --json --to 7.0.0")
    assert.are.equal(3, code)
    doc = json.decode(out)
    assert.is_false(doc.ok)
    assert.are.equal(3, doc.exit)
    assert.matches("below the current version", doc.error)
  end)

  describe("refusals exit 3, name the file and change nothing", function()
    it("an applied script whose checksum changed", function()
      write("s/one.lua", ONE)
      write("s/two.lua", TWO)
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
      write("s/one.lua", ONE .. "-- tampered\n")
      local code, _, err = mig("run --scripts s")
      assert.are.equal(3, code)
      assert.matches("s/one%.lua %(version 1%.0%.0%) changed after it was applied", err)
      assert.are.equal("0", sql("n9e.db", "SELECT count(*) FROM a"))
      code, _, err = mig("plan --scripts s")
      assert.are.equal(3, code)
      assert.matches("changed after it was applied", err)
    end)

    it("a version in history that no script knows", function()
      write("s/one.lua", ONE)
      write("s/two.lua", TWO)
      assert.are.equal(0, (mig("run --scripts s")))
      os.remove(work .. "/s/two.lua")
      local code, _, err = mig("run --scripts s")
      assert.are.equal(3, code)
      assert.matches("version 1.1.0 is recorded in n9e_migrate_history but no script has it", err, 1, true)
    end)

    it("--to below the current version", function()
      assert.are.equal(0, (mig("run")))
      local code, _, err = mig("run --to 7.0.0")
      assert.are.equal(3, code)
      assert.matches("--to 7.0.0 is below the current version 9.1.1", err, 1, true)
      assert.are.equal("1", sql("n9e.db", "SELECT count(*) FROM pragma_table_info('target') WHERE name = 'os'"))
    end)

    it("a script that does not load", function()
      write("s/one.lua", ONE)
      write("s/broken.lua", "return { version = '1.1.0', up = function( end }")
      local code, _, err = mig("run --scripts s")
      assert.are.equal(3, code)
      assert.matches("script s/broken%.lua does not load: s/broken%.lua:1:", err)
      assert.are.equal("", sql("n9e.db", "SELECT name FROM sqlite_master"))
    end)
  end)

  describe("a failing version is rolled back completely", function()
    local cases = {
      { "up", script("1.1.0", [[up = function(db)
  db:exec("CREATE TABLE b (y INTEGER)")
  db:exec("INSERT INTO a VALUES (5)")
  error("up exploded")
end]]), 1, 4, "up exploded" },
      { "convert", script("1.1.0", [[up = function(db) db:exec("CREATE TABLE b (y INTEGER)") end,
convert = function(db)
  db:exec("INSERT INTO a VALUES (5)")
  db:exec("INSERT INTO b VALUES ('x', 'too many')")
end]]), 1, 4, "b has 1 columns but 2 values were supplied" },
      { "verify", script("1.1.0", [[up = function(db) db:exec("CREATE TABLE b (y INTEGER)"); db:exec("INSERT INTO a VALUES (5)") end,
verify = function(db)
  assert(db:scalar("SELECT count(*) FROM b") > 0, "b is empty")
end]]), 4, 3, "b is empty" },
      { "sandbox violation", script("1.1.0", [[up = function(db)
  db:exec("CREATE TABLE b (y INTEGER)")
  os.execute("touch pwned")
end]]), 1, 3, "os.execute is not available to migration scripts" },
    }
    for _, c in ipairs(cases) do
      it("when " .. c[1] .. " fails", function()
        write("s/one.lua", ONE)
        write("s/two.lua", c[2])
        assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
        local code, out, err = mig("run --scripts s")
        assert.are.equal(c[3], code, err)
        local step = c[1] == "sandbox violation" and "up" or c[1]
        assert.matches(("version 1.1.0 (s/two.lua) failed in %s at line %d: "):format(step, c[4]), err, 1, true)
        assert.matches(c[5], err, 1, true)
        assert.matches("rolled back 1%.1%.0; database stays at 1%.0%.0", out)
        assert.are.equal("", sql("n9e.db", "SELECT name FROM sqlite_master WHERE name = 'b'"))
        assert.are.equal("0", sql("n9e.db", "SELECT count(*) FROM a"))
        assert.are.equal("1.1.0|rolled_back", sql("n9e.db", "SELECT version, outcome FROM n9e_migrate_history ORDER BY id DESC LIMIT 1"))
        assert.is_nil(sys.stat(work .. "/pwned"))
      end)
    end

    it("when a script runs out of memory", function()
      write("s/one.lua", ONE)
      write("s/two.lua", script("1.1.0", [[up = function(db)
  db:exec("INSERT INTO a VALUES (1)")
  local t = {}
  for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end
end]]))
      local code, _, err = mig("run --scripts s --memory-limit 16")
      assert.are.equal(1, code)
      assert.matches("version 1.1.0 (s/two.lua) failed in up at line 4: sandbox: memory limit of 16777216 bytes exceeded",
                     err, 1, true)
      assert.matches("near s/two.lua:4", err, 1, true)
      assert.are.equal("1.0.0", sql("n9e.db", "SELECT max(version) FROM n9e_migrate_history WHERE outcome = 'applied'"))
      assert.are.equal("0", sql("n9e.db", "SELECT count(*) FROM a"))
    end)

    it("when a script exhausts its instruction or time budget", function()
      write("s/one.lua", ONE)
      write("s/two.lua", script("1.1.0", [[up = function(db)
  db:exec("INSERT INTO a VALUES (1)")
  while true do pcall(function() while true do end end) end
end]]))
      local code, _, err = mig("run --scripts s --max-instructions 5000000")
      assert.are.equal(1, code)
      assert.matches("failed in up at line 3: sandbox: instruction budget of 5000000 exhausted", err, 1, true)
      code, _, err = mig("run --scripts s --step-timeout 0.3")
      assert.are.equal(1, code)
      assert.matches("sandbox: time budget of 0.3 s exhausted", err, 1, true)
      assert.are.equal("0", sql("n9e.db", "SELECT count(*) FROM a"))
    end)
  end)

  it("exits 5 when another process holds the lock past --lock-timeout", function()
    write("s/one.lua", ONE)
    sql("n9e.db", "CREATE TABLE IF NOT EXISTS keep (x)")
    os.execute(("(echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'COMMIT;') | sqlite3 %s >/dev/null 2>&1 &")
      :format(q(work .. "/n9e.db")))
    os.execute("sleep 0.5")
    local t0 = sys.monotonic()
    local code, _, err = mig("run --scripts s --lock-timeout 0.5")
    local took = sys.monotonic() - t0
    assert.are.equal(5, code)
    assert.matches("lock not obtained within 0.5 s", err, 1, true)
    assert.is_true(took < 2.5, "took " .. took)
    os.execute("sleep 3")
  end)

  it("scaffolds a script and a spec with new, and both work", function()
    local code, out = mig("new 1.0.0 'add table a' --scripts s --spec-dir spec")
    assert.are.equal(0, code)
    assert.matches("created s/1%.0%.0%.lua", out)
    assert.matches("created spec/1%.0%.0_spec%.lua", out)
    code = mig("new 1.0.0 'again' --scripts s --spec-dir spec")
    assert.are.equal(2, code)
    code = mig("new 1.0 'bad' --scripts s --spec-dir spec")
    assert.are.equal(2, code)
    -- the skeleton as written passes lint
    local lcode, lout = mig("lint --scripts s")
    assert.are.equal(0, lcode, lout)
    code = mig("run --scripts s")
    assert.are.equal(0, code)
    assert.are.equal("1.0.0|add table a", sql("n9e.db", "SELECT version, description FROM n9e_migrate_history"))
    code, out = mig("test spec")
    assert.are.equal(0, code, out)
    assert.matches("1 success / 0 failures", out)
  end)

  it("test returns non-zero when a spec fails", function()
    write("spec/bad_spec.lua", "describe('x', function() it('fails', function() assert.are.equal(1, 2) end) end)")
    local code, out = mig("test spec")
    assert.are.equal(1, code)
    assert.matches("0 successes / 1 failure", out)
  end)

  it("rolls the built-in chain back with rollback --to, and exits 2 without --to", function()
    assert.are.equal(0, (mig("run")))
    local code, out, err = mig("rollback --to 7.0.0")
    assert.are.equal(0, code, err)
    assert.matches("rolled back 9%.1%.1.*rolled back 8%.0%.0.*rolled back 7%.2%.0.*rolled back 7%.1%.0"
                   .. ".*database is at 7%.0%.0", out)
    assert.are.equal("0", sql("n9e.db", "SELECT count(*) FROM pragma_table_info('target') WHERE name = 'os'"))
    assert.are.equal("", sql("n9e.db", "SELECT name FROM sqlite_master WHERE name = 'notification_record'"))
    code, out, err = mig("rollback")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.matches("rollback needs --to VERSION", err, 1, true)
  end)

  it("loads library modules from --lua-path before the built-in ones", function()
    write("lib/migrate/cli.lua", "return { main = function(a) io.write('override ', a.command, '\\n') return 7 end }")
    local code, out = mig("status --lua-path lib")
    assert.are.equal(7, code)
    assert.are.equal("override status\n", out)
  end)

  it("prints its version, as text and as JSON", function()
    local code, out = mig("version")
    assert.are.equal(0, code)
    assert.matches("^n9e%-lua%-migrate %d+%.%d+%.%d+\n$", out)
    code, out = mig("version --json")
    assert.are.equal(0, code)
    assert.matches("^%d+%.%d+%.%d+$", json.decode(out).version)
  end)

  it("test --json reports in busted's JSON format", function()
    write("spec/ok_spec.lua", "describe('x', function() it('works', function() assert.is_true(true) end) end)")
    local code, out = mig("test --json spec")
    assert.are.equal(0, code)
    local doc = json.decode(out)
    assert.are.equal(1, #doc.successes)
  end)

  it("writes a JSON-lines audit log with --log-file, quiet or not", function()
    local code = mig("run --to 7.1.0 --log-file audit.jsonl -q")
    assert.are.equal(0, code)
    local events, steps = {}, {}
    for line in io.lines(work .. "/audit.jsonl") do
      local rec = json.decode(line)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT", rec.ts)
      if rec.event == "step" then
        assert.is_number(rec.duration_ms)
        steps[#steps + 1] = rec.version .. ":" .. rec.step
      else
        events[#events + 1] = rec.event .. ":" .. tostring(rec.version)
      end
    end
    assert.are.same({ "lock.acquired:nil", "run.start:nil", "version.applied:7.0.0", "version.applied:7.1.0" }, events)
    -- the step log: every step that ran, with its duration (debug level on
    -- stderr, always in the audit file)
    assert.are.same({ "7.0.0:up", "7.0.0:verify", "7.1.0:up", "7.1.0:verify" }, steps)
  end)
end)

-- `lint`: the built-in scripts, a directory of bad ones, --json, a missing
-- directory, a directory's own .luacheckrc, and luacheck missing.
-- a directory with one finding of each rule, at known lines
local BAD = {
  ["bad/1.0.0.lua"] = [[
return {
  version = "1.0.0",
  up = function(db) db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(64))") end,
  down = function(db) db:exec("DROP TABLE t") end,
}
]],
  ["bad/1.1.0.lua"] = [[
local unused = 1
return {
  version = "1.2.0",
  up = function(db)
    db:exec("DROP TABLE old_stuff")
    db:exec("ALTER TABLE t MODIFY COLUMN name varchar(16)")
  end,
  down = function() end,
}
]],
  ["bad/again.lua"] = [[
return {
  version = "1.0.0",
  up = function(db) db:exec("CREATE INDEX idx_name ON t (name)") end,
}
]],
  ["bad/rows.lua"] = [[
return {
  version = "1.3.0",
  up = function(db) db:exec("UPDATE t SET name = lower(name)") end,
}
]],
}

local EXPECTED = {
  "bad/1.1.0.lua:1: [luacheck] (W211) unused variable 'unused'",
  "bad/1.1.0.lua:3: [version] the file name says version 1.1.0 but the script declares 1.2.0",
  "bad/1.1.0.lua:5: [destructive] DROP TABLE old_stuff in up loses data; only `down` may do that, unless the "
    .. "script declares destructive = true",
  "bad/1.1.0.lua:6: [destructive] t.name narrows from varchar(64) to varchar(16) (mysql) in up: values that do "
    .. "not fit are cut or refused; declare destructive = true if that is intended",
  "bad/again.lua:2: [version] scripts bad/1.0.0.lua and bad/again.lua both have version 1.0.0",
  "bad/again.lua:3: [down] up only makes changes that can be undone (create index) but there is no down: write "
    .. "one, or declare irreversible = \"why\"",
  "bad/rows.lua:3: [down] warning: no down: rollback below 1.3.0 is refused; write one, or declare "
    .. "irreversible = \"why\" when it cannot be undone",
  "lint: 4 script(s), 6 error(s), 1 warning(s)",
}

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

describe("lint (no database)", function()
  it("passes the built-in scripts: exit 0, no findings", function()
    local code, out, err = mig("lint")
    assert.are.equal(0, code, out .. err)
    assert.matches("^lint: %d+ script%(s%), 0 error%(s%), 0 warning%(s%)\n$", out)
    code, out = mig("lint --json")
    assert.are.equal(0, code)
    local doc = json.decode(out)
    assert.is_true(doc.ok)
    assert.are.equal("lint", doc.command)
    assert.are.equal(0, doc.exit)
    assert.are.same({}, doc.findings)
    assert.is_true(doc.scripts >= 20)
    assert.matches('"findings":%[%]', out) -- an array, also when empty
  end)

  it("reports every finding of a bad directory with its line and exits 3", function()
    for name, text in pairs(BAD) do write(name, text) end
    local code, out = mig("lint --scripts bad")
    assert.are.equal(3, code, out)
    assert.are.same(EXPECTED, lines(out))
  end)

  it("gives the findings as one JSON document with --json", function()
    for name, text in pairs(BAD) do write(name, text) end
    local code, out = mig("lint --scripts bad --json")
    assert.are.equal(3, code)
    local doc = json.decode(out)
    assert.is_false(doc.ok)
    assert.are.equal("lint", doc.command)
    assert.are.equal(3, doc.exit)
    assert.are.equal(4, doc.scripts)
    assert.are.equal(7, #doc.findings)
    assert.are.same({ script = "bad/1.1.0.lua", line = 5, rule = "destructive", severity = "error",
                      message = "DROP TABLE old_stuff in up loses data; only `down` may do that, unless the script "
                        .. "declares destructive = true" }, doc.findings[3])
    assert.are.same({ script = "bad/rows.lua", line = 3, rule = "down", severity = "warning",
                      message = "no down: rollback below 1.3.0 is refused; write one, or declare irreversible = "
                        .. "\"why\" when it cannot be undone" }, doc.findings[7])
  end)

  it("exits 0 when there are only warnings", function()
    write("warn/1.0.0.lua", BAD["bad/rows.lua"]:gsub("1%.3%.0", "1.0.0"))
    local code, out = mig("lint --scripts warn")
    assert.are.equal(0, code, out)
    assert.matches("1 script%(s%), 0 error%(s%), 1 warning%(s%)", out)
  end)

  it("exits 2 for a directory that is not there", function()
    local code, out, err = mig("lint --scripts nowhere")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.matches("error: %-%-scripts nowhere: not a directory", err)
    code, out = mig("lint --scripts nowhere --json")
    assert.are.equal(2, code)
    assert.are.equal(2, json.decode(out).exit)
  end)

  it("uses the .luacheckrc found in or above the directory, else the project's settings for scripts", function()
    write("own/1.0.0.lua", "local unused = 1\n" .. BAD["bad/1.0.0.lua"])
    local code, out = mig("lint --scripts own")
    assert.are.equal(3, code)
    assert.matches("own/1.0.0.lua:1: %[luacheck%] %(W211%) unused variable 'unused'", out)
    write(".luacheckrc", 'std = "lua54"\nfiles["own/"] = { ignore = { "211" } }\n')
    code, out = mig("lint --scripts own")
    assert.are.equal(0, code, out)
    write(".luacheckrc", 'std = "lua54"\nfiles["own/"] = { ignore = 211 }\n')
    code, out = mig("lint --scripts own")
    assert.are.equal(3, code, out)
    assert.matches("%[luacheck%] the %.luacheckrc settings are not valid", out)
  end)

  it("says so when luacheck is not installed, and fails", function()
    -- Lua's path without its system directories: luacheck's modules are
    -- looked up beside them
    local code, out = mig("lint", "LUA_PATH_5_4='/nonexistent/5.4/?.lua'")
    assert.are.equal(3, code, out)
    assert.matches("%[luacheck%] luacheck is not installed %(Debian package lua%-check%)", out)
    assert.matches("not found in /nonexistent/5%.1/%?%.lua", out)
  end)

  it("describes its rules and exit codes in --help", function()
    local code, out = mig("lint --help")
    assert.are.equal(0, code)
    assert.matches("usage: n9e%-lua%-migrate lint %[%-%-scripts DIR%]", out)
    for _, rule in ipairs({ "luacheck", "load", "version", "destructive", "down" }) do assert.matches(rule, out) end
    assert.matches("3 when there is an error", out)
  end)
end)
