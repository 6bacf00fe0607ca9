-- Concurrent runners, crashes and cut connections, on the engine named by
-- $N9E_TEST_ENGINE (ctest runs this on every engine).  Drives the real
-- binary (N9E_BIN) against a throwaway database per test.
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")
local ENGINE = testing.engine()

local q = testing.shell_quote

local work, db

local function target_args() return testing.target_args(db) end

--- Run the binary against the test database (or, with own_target, with
--- only the arguments given); returns exit code (or 128+signal), stdout,
--- stderr.
local function mig(args, env, own_target) return testing.run_binary(BIN, work, args, env, not own_target and db) end

local function write(name, text)
  assert(sys.mkdir_p((work .. "/" .. name):match("^(.*)/")))
  assert(sys.write_file(work .. "/" .. name, text))
end

-- Three versions; every step does real DDL/DML so that a crash anywhere
-- leaves something to undo.
local SCRIPTS = {
  ["s/v1.lua"] = [[return { version = "1.0.0", description = "one",
  up = function(db)
    db:exec("CREATE TABLE a (id INTEGER, v VARCHAR(32))")
    db:exec("CREATE INDEX a_v ON a (v)")
  end,
  convert = function(db)
    db:exec("INSERT INTO a (id, v) VALUES (1, 'one')")
    db:exec("INSERT INTO a (id, v) VALUES (2, 'two')")
  end }]],
  ["s/v2.lua"] = [[return { version = "1.1.0", description = "two",
  up = function(db)
    db:exec("CREATE TABLE b (id INTEGER)")
    db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
  end,
  convert = function(db)
    db:exec("UPDATE a SET w = v")
    db:exec("INSERT INTO b (id) VALUES (1)")
    local t = os.clock() while os.clock() - t < 0.05 do end
  end }]],
  ["s/v3.lua"] = [[return { version = "1.2.0", description = "three",
  up = function(db) db:exec("CREATE TABLE c (id INTEGER)") end }]],
}

local function state()
  local s = { tables = {}, rows = {} }
  for _, t in ipairs(db:tables()) do
    if not t:match("^n9e_migrate_") then -- history and journal; shadow copies count
      local cols = {}
      for _, c in ipairs(db:columns(t)) do cols[#cols + 1] = c.name end
      s.tables[#s.tables + 1] = t .. "(" .. table.concat(cols, ",") .. ")"
    end
  end
  table.sort(s.tables)
  if db:table_exists("a") then
    local cols = db:column_exists("a", "w") and "id, v, w" or "id, v"
    for r in db:query("SELECT " .. cols .. " FROM a ORDER BY id") do
      s.rows[#s.rows + 1] = table.concat({ r.id, r.v, r.w or "-" }, "|")
    end
  end
  return s
end

local function applied()
  local out = {}
  for _, r in ipairs(testing.history(db)) do
    out[#out + 1] = r.version .. ":" .. r.outcome
  end
  return out
end

local FINAL = { tables = { "a(id,v,w)", "b(id)", "c(id)" }, rows = { "1|one|one", "2|two|two" } }
local AT_1_0 = { tables = { "a(id,v)" }, rows = { "1|one|-", "2|two|-" } }
local EMPTY = { tables = {}, rows = {} }

before_each(function()
  work = testing.tmpname(".eng")
  assert(sys.mkdir_p(work))
  for name, text in pairs(SCRIPTS) do write(name, text) end
  db = testing.db()
end)

after_each(function()
  getmetatable(db).__close(db)
  os.execute("rm -rf " .. q(work))
end)

describe("engine " .. ENGINE, function()
  it("10 runners started at once: every version applied exactly once, all exit 0", function()
    local cmds = {}
    for i = 1, 10 do
      cmds[#cmds + 1] = ("( %s run --scripts s %s >out.%d 2>err.%d; echo $? >rc.%d ) &")
        :format(q(BIN), target_args(), i, i, i)
    end
    os.execute(("cd %s; %s wait"):format(q(work), table.concat(cmds, " ")))
    local up_to_date = 0
    for i = 1, 10 do
      local rc = io.open(("%s/rc.%d"):format(work, i)):read("l")
      local err = io.open(("%s/err.%d"):format(work, i)):read("a")
      local out = io.open(("%s/out.%d"):format(work, i)):read("a")
      assert.are.equal("0", rc, err)
      assert.is_nil(err:find("error", 1, true), err)
      if out:find("up to date at 1.2.0", 1, true) then up_to_date = up_to_date + 1 end
    end
    assert.is_true(up_to_date >= 1) -- the others waited, then found nothing to do
    assert.are.same({ "1.0.0:applied", "1.1.0:applied", "1.2.0:applied" }, applied())
    assert.are.same(FINAL, state())
  end)

  -- Killed with SIGKILL at each point of the protocol: the database is as
  -- before the version in flight, and the next run finishes the job.
  local matrix = {
    { "after_lock", EMPTY },
    { "after_plan", EMPTY },
    { "exec:up:2", EMPTY },         -- between the two DDL statements of 1.0.0
    { "exec:convert:2", EMPTY },    -- mid-conversion of 1.0.0
    { "before_history:1.0.0", EMPTY },
    -- SQLite runs the whole run in the one transaction that is its lock
    { "after_version:1.0.0", ENGINE == "sqlite" and EMPTY or AT_1_0 },
    { "before_history:1.1.0", ENGINE == "sqlite" and EMPTY or AT_1_0 },
  }
  for _, case in ipairs(matrix) do
    it("recovers from SIGKILL at " .. case[1], function()
      local code = mig("run --scripts s", "N9E_MIGRATE_FAILPOINT=" .. q(case[1]))
      assert.are.equal(137, code)
      if ENGINE == "mysql" then
        -- DDL committed as it ran: the journal restores, at `repair` or at
        -- the start of the next run
        local rcode, out, err = mig("repair")
        assert.are.equal(0, rcode, err)
        assert.is_truthy(out:match("^restored or finished: 1%.[01]%.0\n$") or out:match("^nothing to repair\n$"), out)
      end
      assert.are.same(case[2], state())
      local code2, _, err = mig("run --scripts s")
      assert.are.equal(0, code2, err)
      assert.are.same(FINAL, state())
      assert.are.same({ "1.0.0:applied", "1.1.0:applied", "1.2.0:applied" }, applied())
      if ENGINE == "mysql" then -- every version's journal ended with it
        assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM n9e_migrate_journal"))))
      end
    end)
  end

  if ENGINE == "mysql" then
    it("a crash before a group's history rows: repair undoes its versions newest first, run applies them again",
       function()
      local up = [[return { version = %q, description = "up only", up = function(db) %s end }]]
      os.execute("rm -rf " .. q(work .. "/s"))
      write("s/v1.lua", up:format("1.0.0", [[db:exec("CREATE TABLE a (id INTEGER, v VARCHAR(32))")]]))
      write("s/v2.lua", up:format("1.1.0", [[db:exec("CREATE TABLE b (id INTEGER)")]]))
      -- renames the table 1.1.0 made: 1.1.0's undo finds b only after 1.2.0's
      write("s/v3.lua", up:format("1.2.0", [[db:exec("RENAME TABLE b TO b2")]]))
      local code = mig("run --scripts s --group-ms 60000", "N9E_MIGRATE_FAILPOINT=before_history:1.2.0")
      assert.are.equal(137, code)
      assert.are.same({}, applied()) -- 1.0.0 and 1.1.0 were waiting for their group's INSERT
      assert.are.same({ "a(id,v)", "b2(id)" }, state().tables)
      local rcode, out, err = mig("repair")
      assert.are.equal(0, rcode, err)
      assert.are.equal("restored or finished: 1.2.0, 1.1.0, 1.0.0\n", out)
      assert.are.same(EMPTY, state())
      local code2, _, err2 = mig("run --scripts s")
      assert.are.equal(0, code2, err2)
      assert.are.same({ "1.0.0:applied", "1.1.0:applied", "1.2.0:applied" }, applied())
      assert.are.same({ "a(id,v)", "b2(id)" }, state().tables)
    end)
  end

  it("verify reports schema drift since the last version (exit 4), every difference listed", function()
    assert.are.equal(0, (mig("run --scripts s")))
    local code, out, err = mig("verify --scripts s")
    assert.are.equal(0, code, err)
    assert.matches("3 version%(s%) verified", out)
    local admin = db.open()
    admin:exec("ALTER TABLE c ADD COLUMN extra INTEGER")
    admin:exec("DROP INDEX a_v" .. (ENGINE == "mysql" and " ON a" or ""))
    admin:close()
    code, out, err = mig("verify --scripts s")
    assert.are.equal(4, code)
    assert.is_nil(out:find("version(s) verified", 1, true)) -- no success line
    assert.matches("schema drift since 1.2.0 was applied: column c.extra is not expected", err, 1, true)
    assert.matches("schema drift since 1.2.0 was applied: index a_v on a is missing", err, 1, true)
  end)

  it("check: structured prechecks, refusals exit 3, --skip-check is recorded", function()
    local json = require("cjson")
    local code, out, err = mig("check --json --scripts s")
    assert.are.equal(0, code, err)
    local doc = json.decode(out)
    local by = {}
    for _, r in ipairs(doc.checks) do by[r.name] = r end
    assert.are.equal("ok", by.server.status)
    assert.are.equal("ok", by.privileges.status)
    assert.are.equal("ok", by.plan.status)
    assert.are.equal(ENGINE == "sqlite" and "ok" or "warning", by.disk.status)
    -- disk: more than any disk has
    code, out = mig("check --json --scripts s --disk-path . --min-free-disk 1000000000")
    assert.are.equal(3, code)
    doc = json.decode(out)
    for _, r in ipairs(doc.checks) do by[r.name] = r end
    assert.are.equal("refused", by.disk.status)
    assert.is_string(by.disk.fix)
    code, out, err = mig("run --scripts s --disk-path . --min-free-disk 1000000000")
    assert.are.equal(3, code)
    assert.are.equal("", out)
    assert.matches("disk: %d+ MiB free at %.", err)
    assert.are.same(EMPTY, state())
    code, out, err = mig("run --scripts s --disk-path . --min-free-disk 1000000000 --skip-check disk")
    assert.are.equal(0, code, err)
    assert.matches("database is now at 1%.2%.0", out)
    local kinds = {}
    for _, r in ipairs(testing.history(db)) do kinds[#kinds + 1] = r.kind .. ":" .. r.description end
    assert.are.equal("skip_check:skipped check disk", kinds[1])
    assert.are.same(FINAL, state())
  end)

  if ENGINE ~= "sqlite" then
    it("check refuses a user without the privileges the plan needs", function()
      local admin = db.open()
      local pwf = work .. "/limited.pw"
      write("limited.pw", "Limited-pw-1\n")
      if ENGINE == "postgres" then
        admin:exec("DROP ROLE IF EXISTS n9e_limited")
        admin:exec("CREATE ROLE n9e_limited LOGIN PASSWORD 'Limited-pw-1'")
      else
        admin:exec("DROP USER IF EXISTS 'n9e_limited'@'127.0.0.1'")
        admin:exec("CREATE USER 'n9e_limited'@'127.0.0.1' IDENTIFIED BY 'Limited-pw-1'")
        admin:exec("GRANT SELECT ON " .. admin:quote_ident(db.dsn:match("/([^/?]+)%??[^/]*$")) .. ".* TO 'n9e_limited'@'127.0.0.1'")
      end
      local dsn = db.dsn:gsub("//[^@]+@", "//n9e_limited@")
      local code, out, err = mig(("check --scripts s --db %s --password-file %s"):format(q(dsn), q(pwf)), nil, true)
      if ENGINE == "postgres" then admin:exec("DROP ROLE n9e_limited")
      else admin:exec("DROP USER 'n9e_limited'@'127.0.0.1'") end
      admin:close()
      assert.are.equal(3, code, err)
      assert.matches("refused%s+privileges", out)
      assert.matches("fix: GRANT", out)
    end)
  end

  if ENGINE == "postgres" then
    it("recovers a transaction = false version (CREATE INDEX CONCURRENTLY) killed mid-way", function()
      write("s/v2.lua", [[return { version = "1.1.0", description = "concurrent", transaction = false,
  up = function(db)
    db:exec("CREATE INDEX CONCURRENTLY a_v2 ON a (v)")
    db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
  end }]])
      os.remove(work .. "/s/v3.lua")
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
      assert.are.equal(137, (mig("run --scripts s", "N9E_MIGRATE_FAILPOINT=exec:up:2")))
      assert.is_true(db:index_exists("a", "a_v2")) -- the index was built, then the crash
      local code, out, err = mig("repair")
      assert.are.equal(0, code, err)
      assert.matches("restored or finished: 1.1.0", out, 1, true)
      assert.is_false(db:index_exists("a", "a_v2"))
      assert.are.same(AT_1_0, state())
      code, out, err = mig("run --scripts s")
      assert.are.equal(0, code, err)
      assert.matches("applied 1.1.0", out, 1, true)
      assert.is_true(db:index_exists("a", "a_v2"))
      assert.is_true(db:column_exists("a", "w"))
    end)
  end

  if ENGINE ~= "sqlite" then
    it("never shows the password: output, errors, JSON, audit log, history, argv", function()
      local pw = assert(os.getenv("N9E_TEST_PASSWORD"))
      local user, rest = db.dsn:match("^%w+://([^@/]+)@(.*)$")
      local with_pw = db.dsn:match("^%w+://") .. user .. ":" .. pw .. "@" .. rest
      write("s/v3.lua", [[return { version = "1.2.0", description = "slow",
  up = function(db)
    db:exec("CREATE TABLE c (id INTEGER)")
    local t = os.clock() while os.clock() - t < 1.5 do end
    error("fails on purpose")
  end }]])
      -- a run that fails, with the password in the URL, observed from outside
      local p = io.popen(("cd %s && { %s run --scripts s --log-file audit.jsonl --db %s >out.txt 2>err.txt & "
                          .. "pid=$!; sleep 0.7; tr '\\0' ' ' </proc/$pid/cmdline; echo; wait $pid; echo rc=$?; }")
                         :format(q(work), q(BIN), q(with_pw)))
      local observed = p:read("a")
      p:close()
      assert.matches("rc=1", observed) -- the version failed and was rolled back
      assert.matches("%-%-db x+ ", observed) -- argv: the whole DSN blanked
      local texts = { observed }
      for _, f in ipairs({ "out.txt", "err.txt", "audit.jsonl" }) do
        texts[#texts + 1] = assert(io.open(work .. "/" .. f)):read("a")
      end
      assert.matches("fails on purpose", texts[3]) -- the error is reported ...
      for _, cmd in ipairs({ "status --json", "history --json", "history", "plan --json", "verify --json",
                             "run --scripts s --json" }) do
        local _, out, err = mig(cmd .. " --scripts s")
        texts[#texts + 1] = out .. err
      end
      -- a connection refused by the server: its message neither
      local bad = with_pw:gsub(":(%d+)/", ":1/")
      local code, out, err = mig("status --db " .. q(bad), nil, true)
      assert.are.equal(3, code)
      assert.matches("cannot connect", err)
      texts[#texts + 1] = out .. err
      for _, r in ipairs(testing.history(db)) do
        for _, v in pairs(r) do texts[#texts + 1] = tostring(v) end
      end
      for i, t in ipairs(texts) do
        assert.is_nil(t:find(pw, 1, true), ("text %d shows the password: %s"):format(i, t))
      end
      assert.matches("%*%*%*", table.concat(texts)) -- ... with the password masked
    end)

    it("recovers when the server cuts the connection mid-version", function()
      write("s/v2.lua", [[return { version = "1.1.0", description = "two",
  up = function(db, ctx)
    db:exec("CREATE TABLE b (id INTEGER)")
    -- not in the lock-impact precheck's dry run: the cut must land here
    local t = os.clock() while not ctx.dry_run and os.clock() - t < 2 do end
    db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
  end }]])
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
      local kill = ENGINE == "postgres"
        and "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
          .. "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
        or nil
      local admin = db.open()
      local p = io.popen(("cd %s && %s run --scripts s %s 2>&1; echo rc=$?"):format(q(work), q(BIN), target_args()))
      os.execute("sleep 0.7")
      if kill then
        admin:exec(kill)
      else -- MySQL/MariaDB: KILL every other session on this database
        local mine = { [admin:scalar("SELECT CONNECTION_ID()")] = true,
                       [db:scalar("SELECT CONNECTION_ID()")] = true }
        local victims = {}
        for r in admin:query("SELECT id FROM information_schema.processlist WHERE db = DATABASE()") do
          if not mine[r.id] then victims[#victims + 1] = r.id end
        end
        assert.is_true(#victims >= 1)
        for _, id in ipairs(victims) do admin:exec("KILL " .. math.tointeger(id)) end
      end
      local out = p:read("a")
      p:close()
      admin:close()
      if ENGINE == "mysql" then
        -- nothing can be undone without a connection: exit 6, journal kept,
        -- and the next run restores before it goes on
        assert.matches("rc=6", out)
        assert.matches("the journal is kept", out)
        local code, rout, err = mig("run --scripts s --to 1.0.0")
        assert.are.equal(0, code, err)
        assert.matches("recovered interrupted version 1.1.0", rout)
      else
        assert.matches("rc=1", out)
      end
      assert.are.same(AT_1_0, state())
      write("s/v2.lua", SCRIPTS["s/v2.lua"])
      local code, _, err = mig("run --scripts s")
      assert.are.equal(0, code, err)
      assert.are.same(FINAL, state())
    end)

    -- the journal (lua/migrate/journal.lua): every MySQL version, and the
    -- PostgreSQL versions declared transaction = false
    local TXF = ENGINE == "postgres" and "transaction = false, " or ""
    local function journal_rows()
      local rows = {}
      if not db:table_exists("n9e_migrate_journal") then return rows end
      for r in db:query("SELECT version, action, table_name FROM n9e_migrate_journal ORDER BY version, seq") do
        rows[#rows + 1] = ("%s %s %s"):format(r.version, r.action, r.table_name or "-")
      end
      return rows
    end
    --- `repair` restores the interrupted 1.1.0 (the state at 1.0.0, no
    --- journal left), then a run applies it and ends its journal
    local function repair_then_run()
      local code, out, err = mig("repair")
      assert.are.equal(0, code, err)
      assert.matches("restored or finished: 1.1.0", out, 1, true)
      assert.are.same(AT_1_0, state())
      assert.are.same({}, journal_rows())
      code, out, err = mig("run --scripts s")
      assert.are.equal(0, code, err .. out)
      assert.are.same({}, journal_rows())
    end

    for _, case in ipairs({
      { "right after its CREATE TABLE", "exec:up:2", { "1.1.0 create_table b" }, { "b" }, "" },
      { "after it renamed the table it made", "exec:up:3", { "1.1.0 create_table b", "1.1.0 rename_created b2" },
        { "b2" }, [[db:exec("ALTER TABLE b RENAME TO b2")]] },
    }) do
      it("undoes, from its journal rows alone, a version killed " .. case[1], function()
        write("s/v2.lua", ([[return { version = "1.1.0", description = "two", %s
  up = function(db)
    db:exec("CREATE TABLE b (id INTEGER)")
    %s
    db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
  end }]]):format(TXF, case[5]))
        os.remove(work .. "/s/v3.lua")
        assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
        assert.are.same({}, journal_rows())
        assert.are.equal(137, (mig("run --scripts s", "N9E_MIGRATE_FAILPOINT=" .. case[2])))
        for _, t in ipairs(case[4]) do assert.is_true(db:table_exists(t), t) end
        -- a row per table the version made, written before its statement;
        -- no snapshot of the tables there were
        assert.are.same(case[3], journal_rows())
        repair_then_run()
        assert.is_true(db:table_exists(case[4][1]))
        assert.are.same({ "1.0.0:applied", "1.1.0:applied" }, applied())
      end)
    end

    -- a journal that a runner from before the lazy journal left: a snapshot
    -- row first (the table names; earlier still, the whole schema), and no
    -- row for the tables its version made
    for _, form in ipairs({ "table names", "whole schema" }) do
      it("restores a version interrupted under an older runner, from a journal with a snapshot of the " .. form,
         function()
        local journal, json, schema = require("migrate.journal"), require("migrate.json"), require("migrate.schema")
        assert.are.equal(0, (mig("run --scripts s --to 1.0.0")))
        journal.ensure(db.conn)
        local insert = "INSERT INTO n9e_migrate_journal (version, seq, action, table_name, statement, undo_sql, "
          .. "probe, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        local at = "2026-01-01T00:00:00.000Z"
        local before = form == "table names" and { tables = json.array({ "a" }) } or schema.describe(db.conn, { raw = true })
        db:exec(insert, "1.1.0", 1, "snapshot", nil, json.encode(before), "[]", nil, "done", at)
        -- what the old runner did of 1.1.0 before it died: b made (no row),
        -- a described, then a column added (a row with its undo)
        db:exec("CREATE TABLE b (id INTEGER)")
        db:exec(insert, "1.1.0", 2, "table_snapshot", "a",
                json.encode(schema.describe(db.conn, { raw = true, only = { a = true }, per_table = true })),
                "[]", nil, "done", at)
        db:exec(insert, "1.1.0", 3, "ddl", "a", "ALTER TABLE a ADD COLUMN w VARCHAR(32)",
                json.encode(json.array({ "ALTER TABLE " .. db:quote_ident("a") .. " DROP COLUMN " .. db:quote_ident("w") })),
                json.encode({ kind = "column", table = "a", name = "w" }), "started", at)
        db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)")
        repair_then_run()
        assert.are.same(FINAL, state())
      end)
    end
  end
end)

describe("schema record on " .. ENGINE, function()
  it("is written once per run; a run killed between versions is caught by verify and mended by run", function()
    local code, _, err = mig("run --scripts s")
    assert.are.equal(0, code, err)
    assert.are.equal("1.2.0", db:scalar("SELECT version FROM n9e_migrate_schema"))
    assert.are.equal(0, (mig("verify --scripts s")))
    if ENGINE == "sqlite" then return end -- one transaction: a killed run leaves nothing
    db:exec("DROP TABLE c")
    db:exec("DROP TABLE b")
    db:exec("DROP TABLE a")
    for _, t in ipairs(db:tables()) do -- history, steps, schema, journal: start over
      if t:match("^n9e_migrate_") then db:exec("DROP TABLE " .. t) end
    end
    assert.are.equal(137, (mig("run --scripts s", "N9E_MIGRATE_FAILPOINT=after_version:1.1.0")))
    if ENGINE == "mysql" then assert.are.equal(0, (mig("repair --scripts s"))) end
    local out
    code, _, err = mig("verify --scripts s")
    assert.are.equal(4, code)
    assert.matches("the schema was last recorded at no version but the database is at 1%.1%.0 %(a run was "
      .. "interrupted%)", err)
    code, out, err = mig("run --scripts s --to 1.1.0")
    assert.are.equal(0, code, err)
    assert.matches("up to date at 1%.1%.0", out)
    assert.are.equal("1.1.0", db:scalar("SELECT version FROM n9e_migrate_schema"))
    assert.are.equal(0, (mig("verify --scripts s")))
  end)
end)

describe("instance gating on " .. ENGINE, function()
  local cjson = require("cjson")

  it("check --expect: 0 only at the version and verified; 3 elsewhere, 4 when it no longer verifies", function()
    local code, out, err = mig("check --expect 1.2.0 --scripts s")
    assert.are.equal(3, code, err)
    assert.matches("refused%s+expect%s+database is at %(no version%), expected 1%.2%.0", out)
    assert.are.equal(0, (mig("run --scripts s --to 1.1.0")))
    code, out = mig("check --expect 1.2.0 --scripts s --json")
    assert.are.equal(3, code)
    local doc = cjson.decode(out)
    assert.are.equal("1.1.0", doc.current)
    assert.are.equal("run `n9e-lua-migrate run --to 1.2.0`", doc.checks[2].fix:match("run `.-`"))
    assert.are.equal(0, (mig("run --scripts s")))
    code, out, err = mig("check --expect v1.2.0 --scripts s --json")
    assert.are.equal(0, code, err)
    doc = cjson.decode(out)
    assert.are.same({ "server", "expect", "verified" }, { doc.checks[1].name, doc.checks[2].name, doc.checks[3].name })
    assert.are.equal("3 version(s) verified", doc.checks[3].detail)
    code, out = mig("check --expect 1.1.0 --scripts s")
    assert.are.equal(3, code)
    assert.matches("this instance is older than the database", out)
    db:exec("DROP TABLE c")
    code, out = mig("check --expect 1.2.0 --scripts s")
    assert.are.equal(4, code)
    assert.matches("refused%s+verified%s+schema drift since 1%.2%.0", out)
    local _
    code, _, err = mig("check --expect banana --scripts s")
    assert.are.equal(2, code)
    assert.matches("%-%-expect: 'banana' is not a version", err)
  end)

  it("wait --for blocks until another instance has upgraded, then passes the same gate", function()
    os.execute(("cd %s && ( %s wait --for 1.2.0 --timeout 60 --interval 0.2 --scripts s --json %s >wait.out "
      .. "2>wait.err; echo $? >wait.rc ) &"):format(q(work), q(BIN), target_args()))
    sys.sleep(1)
    assert.is_nil(io.open(work .. "/wait.rc")) -- still waiting: nothing there yet
    assert.are.equal(0, (mig("run --scripts s")))
    local rc
    for _ = 1, 200 do
      local f = io.open(work .. "/wait.rc")
      rc = f and f:read("l")
      if f then f:close() end
      if rc then break end
      sys.sleep(0.1)
    end
    local doc = cjson.decode(io.open(work .. "/wait.out"):read("a"))
    assert.are.equal("0", rc, io.open(work .. "/wait.out"):read("a"))
    assert.are.equal("1.2.0", doc.current)
    assert.is_true(doc.waited_ms >= 1000)
    assert.matches("waiting for 1%.2%.0: database at", io.open(work .. "/wait.err"):read("a"))

    -- at a newer version: refused at once; a version never reached: exit 5
    local code, _, err = mig("wait --for 1.1.0 --timeout 30 --scripts s")
    assert.are.equal(3, code)
    assert.matches("database is at 1%.2%.0, newer than 1%.1%.0", err)
    code, _, err = mig("wait --for 1.3.0 --timeout 1 --interval 0.2 --scripts s")
    assert.are.equal(5, code)
    assert.matches("did not reach 1%.3%.0 within 1 s %(last seen: at 1%.2%.0%)", err)
    code, _, err = mig("wait --scripts s")
    assert.are.equal(2, code)
    assert.matches("wait needs %-%-for VERSION", err)
  end)
end)

if ENGINE ~= "sqlite" then
  -- A second connection holds a transaction open on t; the migration
  -- ALTERs t; a third connection reads t in a loop meanwhile.  The reads
  -- must never queue behind the waiting ALTER for longer than the lock
  -- timeout (plus a margin); the migration retries, then either succeeds
  -- once the holder commits or fails cleanly, naming it.
  describe("DDL under live traffic on " .. ENGINE, function()
    local LOCK_TIMEOUT, MARGIN = 1, 1
    local function lock_scripts()
      write("l/v1.lua", [[return { version = "1.0.0", description = "t",
        up = function(db)
          db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(20))")
          db:exec("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")
        end }]])
      write("l/v2.lua", [[return { version = "1.1.0", description = "alter t",
        up = function(db) db:exec("ALTER TABLE t ADD COLUMN w INTEGER") end }]])
      local code, _, err = mig("run --scripts l --to 1.0.0")
      assert.are.equal(0, code, err)
    end
    local function hold(conn)
      conn:begin()
      assert.are.equal(2, math.tointeger(tonumber(conn:scalar("SELECT COUNT(*) FROM t"))))
      return tostring(conn:scalar(ENGINE == "postgres" and "SELECT pg_backend_pid()" or "SELECT CONNECTION_ID()"))
    end
    local function start(args)
      os.execute(("cd %s && ( %s run --scripts l --ddl-lock-timeout %d %s --log-file locks.jsonl %s "
        .. ">run.out 2>run.err; echo $? >run.rc ) &"):format(q(work), q(BIN), LOCK_TIMEOUT, args, target_args()))
    end
    local function rc()
      local f = io.open(work .. "/run.rc")
      if not f then return nil end
      local r = f:read("l")
      f:close()
      return r
    end
    -- reads t until done() holds; the longest read, in seconds
    local function read_loop(reader, done)
      local worst = 0
      repeat
        local t0 = sys.monotonic()
        reader:scalar("SELECT COUNT(*) FROM t")
        worst = math.max(worst, sys.monotonic() - t0)
        sys.sleep(0.02)
      until done()
      return worst
    end
    local function lock_waits()
      local out = {}
      for line in io.lines(work .. "/locks.jsonl") do
        local ev = require("cjson").decode(line)
        if ev.event == "lock.wait" then out[#out + 1] = ev end
      end
      return out
    end
    -- the step log of 1.1.0 as `log --json` shows it: "step outcome", oldest first
    local function steps_of_1_1()
      local code, out, err = mig("log --json")
      assert.are.equal(0, code, err)
      local list = {}
      for _, st in ipairs(require("cjson").decode(out).steps) do
        if st.version == "1.1.0" then list[#list + 1] = st.step .. " " .. st.outcome end
      end
      return list
    end

    it("waits briefly, retries with backoff, and succeeds once the holder commits", function()
      lock_scripts()
      local holder, reader = db.open(), db.open()
      local holder_id = hold(holder)
      local t0 = sys.monotonic()
      start("--lock-retries 6")
      local worst = read_loop(reader, function() return sys.monotonic() - t0 > 3.5 end)
      assert.is_nil(rc()) -- still retrying: the holder has not let go
      holder:commit()
      worst = math.max(worst, read_loop(reader, function() return rc() ~= nil or sys.monotonic() - t0 > 90 end))
      holder:close()
      reader:close()
      assert.are.equal("0", rc(), io.open(work .. "/run.err"):read("a"))
      assert.is_true(db:column_exists("t", "w"))
      assert.is_true(worst < LOCK_TIMEOUT + MARGIN, ("a read waited %.2f s"):format(worst))
      local waits = lock_waits()
      assert.is_true(#waits >= 1)
      assert.are.equal(holder_id, tostring(math.tointeger(waits[1].blockers[1].id)))
      assert.matches("retry 1 of 6", waits[1].msg, 1, true)
      assert.is_true(waits[1].delay_s >= 0.5 and waits[1].delay_s <= 1)
      local h = testing.history(db)
      assert.are.equal("1.1.0:applied", h[#h].version .. ":" .. h[#h].outcome)
      -- every attempt that gave up is in the step log as a lock timeout
      local steps = steps_of_1_1()
      assert.are.equal(#waits + 1, #steps)
      for i = 1, #waits do assert.are.equal("up lock_timeout", steps[i]) end
      assert.are.equal("up ok", steps[#steps])
    end)

    it("lets a script's step wait less than the run does (lock_timeout = { up = S })", function()
      lock_scripts()
      write("l/v2.lua", [[return { version = "1.1.0", description = "alter t", lock_timeout = { up = 1 },
        up = function(db) db:exec("ALTER TABLE t ADD COLUMN w INTEGER") end }]])
      local holder = db.open()
      hold(holder)
      local t0 = sys.monotonic()
      -- the run's own wait would be 60 s; the script's step gives up after 1
      local code, _, err = mig("run --scripts l --ddl-lock-timeout 60 --lock-retries 0")
      local took = sys.monotonic() - t0
      holder:rollback()
      holder:close()
      assert.are.equal(1, code, err)
      assert.matches("gave up after 1 attempt%(s%)", err)
      assert.is_true(took < 1 + 5, ("took %.1f s"):format(took))
      assert.are.same({ "up lock_timeout" }, steps_of_1_1())
      assert.is_false(db:column_exists("t", "w"))
    end)

    it("gives up after the retries, rolls back, and names the session holding the lock", function()
      lock_scripts()
      local holder, reader = db.open(), db.open()
      local holder_id = hold(holder)
      local t0 = sys.monotonic()
      start("--lock-retries 2")
      local worst = read_loop(reader, function() return rc() ~= nil or sys.monotonic() - t0 > 90 end)
      holder:rollback()
      holder:close()
      reader:close()
      local err = io.open(work .. "/run.err"):read("a")
      assert.are.equal("1", rc(), err)
      assert.matches("failed in up at line 2: .*gave up after 3 attempt%(s%); the lock was held by session "
                     .. holder_id .. " ", err)
      assert.is_true(worst < LOCK_TIMEOUT + MARGIN, ("a read waited %.2f s"):format(worst))
      assert.are.equal(2, #lock_waits())
      assert.are.same({ "up lock_timeout", "up lock_timeout", "up lock_timeout" }, steps_of_1_1())
      assert.is_false(db:column_exists("t", "w"))
      local h = testing.history(db)
      assert.are.equal("1.1.0:rolled_back", h[#h].version .. ":" .. h[#h].outcome)
      assert.are.equal(1, #(function()
        local n = {}
        for _, r in ipairs(h) do if r.version == "1.1.0" then n[#n + 1] = r end end
        return n
      end)()) -- one record for the version, not one per attempt
      if ENGINE == "mysql" then
        assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM n9e_migrate_journal"))))
      end
    end)
  end)
end

-- Lock impact (migrate.impact): DDL that would block a big table's writes
-- while it copies, rewrites or indexes it is refused before anything runs.
describe("lock impact on " .. ENGINE, function()
  local json = require("cjson")
  local V1 = [[return { version = "1.0.0", up = function(db)
    db:exec("CREATE TABLE big (id INTEGER PRIMARY KEY, v VARCHAR(20), w INTEGER)") end }]]
  -- a type change: PostgreSQL rewrites the table, MySQL/MariaDB copy it;
  -- SQLite builds an index (it has no in-place type change), only reported
  local HEAVY = [[return { version = "1.1.0", up = function(db)
    db:exec("ALTER TABLE big ADD COLUMN note VARCHAR(10)")
    if db.dialect == "postgres" then db:exec("ALTER TABLE big ALTER COLUMN w TYPE bigint")
    elseif db.dialect == "mysql" then db:exec("ALTER TABLE big MODIFY COLUMN w bigint")
    else db:exec("CREATE INDEX big_w ON big (w)") end
  end }]]
  local ONLINE = [[return { version = "1.1.0", transaction = false, up = function(db)
    if db.dialect == "postgres" then db:exec("CREATE INDEX CONCURRENTLY big_v ON big (v)")
    elseif db.dialect == "mysql" then db:exec("ALTER TABLE big ADD INDEX big_v (v), ALGORITHM=INPLACE, LOCK=NONE")
    else db:exec("CREATE INDEX big_v ON big (v)") end
  end }]]
  local ROWS = 3000

  local function big_table(v2)
    write("li/v1.lua", V1)
    assert.are.equal(0, (mig("run --scripts li -q")))
    write("li/v2.lua", v2)
    for b = 0, ROWS // 100 - 1 do
      local values = {}
      for i = 1, 100 do values[i] = ("(%d, 'v%d', %d)"):format(b * 100 + i, i, i) end
      db:exec("INSERT INTO big (id, v, w) VALUES " .. table.concat(values, ", "))
    end
    -- the check reads the catalog's row estimate, which ANALYZE brings up to date
    if ENGINE == "postgres" then db:exec("ANALYZE big")
    elseif ENGINE == "mysql" then db:scalar("ANALYZE TABLE big") end
  end

  local function impact_check(args)
    local code, out, err = mig("check --json --scripts li --big-table-rows 1000 " .. (args or ""))
    local doc = json.decode(out)
    for _, r in ipairs(doc.checks) do
      if r.name == "lock-impact:1.1.0" then return code, r, err end
    end
    return code, nil, err
  end

  it("refuses a lock-heavy ALTER on a big table before anything runs; the override is recorded", function()
    big_table(HEAVY)
    local code, r, err = impact_check()
    assert.is_table(r, err)
    local heavy = r.statements[#r.statements]
    local add = r.statements[1]
    assert.are.equal(2, #r.statements)
    assert.is_true(heavy.rows >= 1000, tostring(heavy.rows))
    assert.are.equal("big", heavy.table)
    if ENGINE == "sqlite" then
      -- no online alternative exists: reported, never refused
      assert.are.equal(0, code, err)
      assert.are.equal("ok", r.status)
      assert.are.equal(ROWS, heavy.rows)
      assert.are.equal("database write lock", heavy.lock)
      assert.are.equal(0, (mig("run --scripts li --big-table-rows 1000 -q")))
      return
    end
    assert.are.equal(3, code, err)
    assert.are.equal("refused", r.status)
    assert.is_true(heavy.refused)
    assert.is_true(heavy.blocks)
    assert.is_falsy(add.refused) -- adding a nullable column is catalog-only on both
    if ENGINE == "postgres" then
      assert.are.equal("ACCESS EXCLUSIVE", heavy.lock)
      assert.are.equal("rewrite", heavy.work)
      assert.are.equal("brief", add.work)
    else
      assert.are.equal("COPY", heavy.algorithm)
      assert.are.equal("INSTANT", add.algorithm)
    end
    local rcode, out, rerr = mig("run --scripts li --big-table-rows 1000")
    assert.are.equal(3, rcode, rerr)
    assert.are.equal("", out)
    assert.matches("lock%-impact:1%.1%.0: ALTER TABLE on big %(%d+ rows%): type change [^;]+; [%a ]*writes "
                   .. "would wait", rerr)
    assert.matches("%-%-skip%-check lock%-impact:1%.1%.0", rerr)
    assert.is_false(db:column_exists("big", "note")) -- nothing of 1.1.0 ran
    assert.are.equal(1, #testing.history(db))
    -- the default threshold (a million rows) lets it through; so does the
    -- operator's override, which history keeps
    code, r = impact_check("--big-table-rows 1000000")
    assert.are.equal(0, code)
    assert.are.equal("ok", r.status)
    rcode, out, rerr = mig("run --scripts li --big-table-rows 1000 --skip-check lock-impact:1.1.0 -q")
    assert.are.equal(0, rcode, rerr)
    assert.matches("applied 1%.1%.0", out)
    assert.is_true(db:column_exists("big", "note"))
    local skipped
    for _, h in ipairs(testing.history(db)) do
      if h.kind == "skip_check" then skipped = h end
    end
    assert.is_table(skipped)
    assert.matches("skipped check lock%-impact:1%.1%.0", skipped.description)
    assert.matches("ALTER TABLE on big", skipped.error)
  end)

  it("refuses, as the run sends it, a heavy statement that the dry run could not foresee", function()
    -- the type change depends on the column the first statement adds: the
    -- dry run records statements without running them, so it never sees it
    big_table([[return { version = "1.1.0", up = function(db)
      db:exec("ALTER TABLE big ADD COLUMN note VARCHAR(10)")
      if db:column_exists("big", "note") then
        if db.dialect == "postgres" then db:exec("-- wider\nALTER TABLE big ALTER COLUMN w TYPE bigint")
        else db:exec("/* wider */ ALTER TABLE big MODIFY COLUMN w bigint") end
      end
    end }]])
    if ENGINE == "sqlite" then return end
    local code, r, err = impact_check()
    assert.are.equal(0, code, err)
    assert.are.equal(1, #r.statements)
    local rcode, out, rerr = mig("run --scripts li --big-table-rows 1000")
    assert.are.equal(3, rcode, rerr)
    assert.matches("rolled back 1%.1%.0", out)
    assert.matches("failed in up at line %d: refused before it ran %(check lock%-impact:1%.1%.0%): ALTER TABLE on big "
                   .. "%(%d+ rows%): type change [^;]+; [%a ]*writes would wait", rerr)
    assert.is_false(db:column_exists("big", "note")) -- the whole version was undone
    local h = testing.history(db)
    assert.are.equal("1.1.0:rolled_back", h[#h].version .. ":" .. h[#h].outcome)
    -- the override reaches the run's guard too
    rcode, out, rerr = mig("run --scripts li --big-table-rows 1000 --skip-check lock-impact:1.1.0 -q")
    assert.are.equal(0, rcode, rerr)
    assert.matches("applied 1%.1%.0", out)
    assert.is_true(db:column_exists("big", "note"))
  end)

  it("lets a declared online strategy through on the same table", function()
    big_table(ONLINE)
    local code, r, err = impact_check()
    assert.are.equal(0, code, err)
    assert.are.equal(1, #r.statements)
    local st = r.statements[1]
    assert.is_falsy(st.refused)
    if ENGINE ~= "sqlite" then
      assert.is_false(st.blocks)
      assert.is_true(st.declared)
      assert.are.equal(ENGINE == "postgres" and "SHARE UPDATE EXCLUSIVE" or "NONE", st.lock)
    end
    local rcode, _, rerr = mig("run --scripts li --big-table-rows 1000 -q")
    assert.are.equal(0, rcode, rerr)
    local found = false
    for _, i in ipairs(db:indexes("big")) do found = found or i.name == "big_v" end
    assert.is_true(found)
    -- the same index without its strategy is refused
    if ENGINE ~= "sqlite" then
      write("li/v3.lua", [[return { version = "1.2.0", up = function(db) db:exec("CREATE INDEX big_w ON big (w)") end }]])
      rcode, _, rerr = mig("run --scripts li --big-table-rows 1000")
      assert.are.equal(3, rcode, rerr)
      assert.matches("lock%-impact:1%.2%.0: CREATE INDEX on big", rerr)
    end
  end)
end)

describe("rehearse on " .. ENGINE, function()
  local json = require("cjson")

  -- scratch copies left behind, by name
  local function leftovers()
    local found = {}
    if ENGINE == "sqlite" then
      local p = io.popen("ls -a " .. q(db.path:match("^(.*)/")))
      for name in p:read("a"):gmatch("[^\n]+") do
        if name:find("n9e_rehearse_", 1, true) then found[#found + 1] = name end
      end
      p:close()
    else
      local c = db.open()
      local sql = ENGINE == "postgres" and "SELECT datname AS n FROM pg_database WHERE datname LIKE 'n9e_rehearse_%'"
        or "SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE 'n9e_rehearse_%'"
      for r in c:query(sql) do found[#found + 1] = r.n end
      c:close()
    end
    return found
  end

  -- PostgreSQL copies through TEMPLATE, which wants no other session on
  -- the database: the test's own connection steps aside, and comes back
  local function rehearse(args)
    if ENGINE == "postgres" then db.conn:close() end
    local code, out, err = mig("rehearse --json --scripts s " .. (args or ""))
    local doc = json.decode(out)
    return code, doc, err
  end

  local function current_state()
    local c = db.open()
    local saved = db
    db = setmetatable({ conn = c }, { __index = function(_, k)
      local v = c[k]
      if type(v) == "function" then return function(_, ...) return v(c, ...) end end
      return v
    end })
    local s, h = state(), #testing.history(db)
    db = saved
    c:close()
    return s, h
  end

  it("runs the plan on a copy, reports every step, drops the copy and leaves the database as it was", function()
    assert.are.equal(0, (mig("run --scripts s --to 1.0.0 -q")))
    local code, doc, err = rehearse()
    assert.are.equal(0, code, err)
    assert.are.equal("rehearse", doc.command)
    assert.are.equal("applied", doc.outcome)
    assert.are.equal("1.0.0", doc.from)
    assert.are.equal("1.2.0", doc.current)
    assert.are.equal(2, #doc.applied)
    local steps = {}
    for _, st in ipairs(doc.steps) do steps[st.version .. ":" .. st.step] = st end
    assert.are.equal("ok", steps["1.1.0:up"].outcome)
    assert.are.equal(3, math.tointeger(steps["1.1.0:convert"].rows_touched)) -- 2 rows updated, 1 inserted
    assert.is_true(steps["1.1.0:convert"].duration_ms >= 50) -- the step busy-waits 50 ms
    assert.is_truthy(steps["1.2.0:up"])
    assert.is_true(doc.copy.dropped)
    assert.matches(({ sqlite = "^VACUUM INTO ", postgres = "^CREATE DATABASE n9e_rehearse_%x+ TEMPLATE ",
                      mysql = "^a copy of every table's definition in database n9e_rehearse_%x+" })[ENGINE],
                   doc.copy.method)
    assert.are.equal(ENGINE == "mysql", doc.copy.sampled)
    local s, h = current_state()
    assert.are.same(AT_1_0, s)
    assert.are.equal(1, h)
    assert.are.same({}, leftovers())
  end)

  it("reports a failing version with its cause, exit 1, and still drops the copy", function()
    assert.are.equal(0, (mig("run --scripts s --to 1.0.0 -q")))
    write("s/v3.lua", [[return { version = "1.2.0", up = function(db) db:exec("CREATE TABLE c (id INTEGER)") end,
      convert = function(db) db:exec("INSERT INTO no_such_table VALUES (1)") end }]])
    local code, doc, err = rehearse()
    assert.are.equal(1, code, err)
    assert.are.equal("failed", doc.outcome)
    assert.matches("version 1%.2%.0 %(s/v3%.lua%) failed in convert at line 2: ", doc.failed.message)
    assert.are.equal(1, #doc.applied) -- 1.1.0 made it on the copy
    local failed
    for _, st in ipairs(doc.steps) do if st.outcome == "failed" then failed = st end end
    assert.are.equal("1.2.0", failed.version)
    assert.are.equal("convert", failed.step)
    assert.is_true(doc.copy.dropped)
    local s, h = current_state()
    assert.are.same(AT_1_0, s)
    assert.are.equal(1, h)
    assert.are.same({}, leftovers())
  end)

  it("has nothing to do on an up-to-date database", function()
    assert.are.equal(0, (mig("run --scripts s -q")))
    local code, out, err = mig("rehearse --scripts s")
    assert.are.equal(0, code, err)
    assert.matches("up to date at 1%.2%.0: nothing to rehearse", out)
  end)

  if ENGINE == "postgres" then
    it("copies through pg_dump and psql when other sessions keep TEMPLATE from copying", function()
      assert.are.equal(0, (mig("run --scripts s --to 1.0.0 -q")))
      -- the test's own session stays connected, as an application's would
      local code, out, err = mig("rehearse --json --scripts s")
      assert.are.equal(0, code, err)
      local doc = json.decode(out)
      assert.matches("^pg_dump | psql: database n9e_rehearse_%x+, from pg_dump %(1 other session%(s%)", doc.copy.method)
      assert.are.equal(2, #doc.applied)
      assert.is_true(doc.copy.dropped)
      assert.are.same(AT_1_0, state())
      assert.are.same({}, leftovers())
      -- without the tools it cannot: refused, and nothing is left
      local bin = work .. "/bin"
      assert(sys.mkdir_p(bin))
      os.execute(("ln -s %s %s/sh"):format(q(sys.realpath("/bin/sh")), q(bin)))
      code, out, err = mig("rehearse --scripts s", "PATH=" .. q(bin))
      assert.are.equal(3, code, out)
      assert.matches("cannot copy database .* for the rehearsal: .*pg_dump is not on PATH", err)
      assert.are.same({}, leftovers())
    end)
  end
end)
