-- The apply protocol with throwaway script sets, on the engine named by
-- $N9E_TEST_ENGINE (sqlite by default; ctest runs it on every engine).
local apply = require("migrate.apply")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local ENGINE = testing.engine()
local NOT_FOUND = ({
  sqlite = "no such table: missing",
  postgres = 'relation "missing" does not exist',
  mysql = "Table '[%w_]+%.missing' doesn't exist",
})[ENGINE]
local READ_ONLY = ({ sqlite = "readonly", postgres = "read%-only transaction", mysql = "READ ONLY" })[ENGINE]

local function script(v, body)
  return ("return { version = %q, description = %q, %s }"):format(v, "v" .. v, body)
end

local OK_1 = script("1.0.0", [[up = function(db) db:exec("CREATE TABLE a (id INTEGER, v TEXT)") end,
  verify = function(db) assert(db:table_exists("a")) end]])
local OK_2 = script("1.1.0", [[up = function(db) db:exec("ALTER TABLE a ADD COLUMN w TEXT") end,
  convert = function(db) db:exec("INSERT INTO a (v, w) VALUES (?, ?)", "seed", "w") end]])

local function with(files, fn)
  local dir, cleanup = testing.script_dir(files)
  local db = testing.db()
  local ok, err = pcall(fn, db, dir)
  getmetatable(db).__close(db)
  cleanup()
  if not ok then error(err, 0) end
end

describe("apply protocol", function()
  it("applies pending versions in order and records full history rows", function()
    with({ ["b.lua"] = OK_2, ["a.lua"] = OK_1 }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal("applied", r.outcome)
      assert.are.equal("1.1.0", r.current)
      assert.are.equal(0, r.exit)
      local rows = testing.history(db)
      assert.are.equal(2, #rows)
      local h = rows[1]
      assert.are.equal("1.0.0", h.version)
      assert.are.equal("v1.0.0", h.description)
      assert.are.equal("migrate", h.kind)
      assert.are.equal("applied", h.outcome)
      assert.are.equal(sys.sha256(OK_1), h.checksum)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", h.applied_at)
      assert.are.equal(sys.username(), h.applied_by)
      assert.are.equal(sys.hostname(), h.host)
      assert.are.equal(sys.version, h.runner_version)
      assert.is_true(math.type(h.duration_ms) == "integer" and h.duration_ms >= 0)
      assert.are.equal(dir .. "/a.lua", h.script)
      assert.are.equal("seed", db:scalar("SELECT v FROM a"))
      -- a second run is a no-op
      r = testing.migrate(db, { scripts = dir })
      assert.are.equal("up_to_date", r.outcome)
      assert.are.equal(2, #testing.history(db))
    end)
  end)

  it("stops at --to and continues later", function()
    with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2 }, function(db, dir)
      assert.are.equal("1.0.0", testing.migrate(db, { scripts = dir, to = "1.0.0" }).current)
      assert.is_false(db:column_exists("a", "w"))
      assert.are.equal("1.1.0", testing.migrate(db, { scripts = dir }).current)
    end)
  end)

  for _, case in ipairs({
    { step = "up", body = [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)"); db:exec("INSERT INTO b VALUES (1)")
      error("boom in up") end]], exit = 1, line = 2 },
    { step = "convert", body = [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)") end,
      convert = function(db) db:exec("INSERT INTO b VALUES (1)"); db:exec("UPDATE a SET v = 'changed'")
        db:exec("INSERT INTO nope VALUES (1)") end]], exit = 1, line = 3 },
    { step = "verify", body = [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)"); db:exec("UPDATE a SET v = 'changed'") end,
      verify = function(db) assert(db:scalar("SELECT count(*) FROM b") == 1, "b must have one row") end]],
      exit = 4, line = 2 },
  }) do
    it("rolls a version back completely when " .. case.step .. " fails", function()
      local bad = script("1.2.0", case.body)
      with({ ["a.lua"] = OK_1, ["c.lua"] = bad }, function(db, dir)
        assert.are.equal("1.0.0", testing.migrate(db, { scripts = dir, to = "1.0.0" }).current)
        db:exec("INSERT INTO a (v) VALUES ('orig')")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal("failed", r.outcome)
        assert.are.equal(case.exit, r.exit)
        assert.are.equal("1.0.0", r.current)
        assert.are.equal(case.step, r.failed.step)
        assert.are.equal(case.line, r.failed.line)
        assert.are.equal(dir .. "/c.lua", r.failed.script)
        assert.matches("version 1.2.0 %(.*c%.lua%) failed in " .. case.step .. " at line " .. case.line, r.failed.message)
        -- nothing of 1.2.0 remains
        assert.is_false(db:table_exists("b"))
        assert.are.equal("orig", db:scalar("SELECT v FROM a"))
        local rows = testing.history(db)
        assert.are.equal("rolled_back", rows[#rows].outcome)
        assert.matches("failed in " .. case.step, rows[#rows].error)
        assert.is_false(db:in_transaction())
      end)
    end)
  end

  it("keeps a step log, failed steps of rolled-back versions included", function()
    local bad = script("1.2.0", [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)") end,
      convert = function(db) db:exec("INSERT INTO b (x) VALUES (1), (2), (3)") error("convert broke") end]])
    with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2, ["c.lua"] = bad }, function(db, dir)
      testing.migrate(db, { scripts = dir })
      local steps = {}
      for r in db:query("SELECT version, step, rows_touched, outcome, error, started_at, finished_at "
                        .. "FROM n9e_migrate_steps ORDER BY id") do
        steps[#steps + 1] = ("%s %s %d %s"):format(r.version, r.step, r.rows_touched, r.outcome)
        assert.matches("^%d%d%d%d%-", r.started_at)
        assert.is_true(r.finished_at >= r.started_at)
        if r.outcome == "failed" then assert.matches("convert broke", r.error) end
      end
      assert.are.same({ "1.0.0 up 0 ok", "1.0.0 verify 0 ok", "1.1.0 up 0 ok", "1.1.0 convert 1 ok",
                        "1.2.0 up 0 ok", "1.2.0 convert 3 failed" }, steps)
    end)
  end)

  it("commits earlier versions of the run when a later one fails", function()
    local bad = script("1.2.0", [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)") error("late") end]])
    with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2, ["c.lua"] = bad }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal(1, r.exit)
      assert.are.equal("1.1.0", r.current)
      assert.are.equal(2, #r.applied)
      assert.is_true(db:column_exists("a", "w"))
      assert.is_false(db:table_exists("b"))
    end)
  end)

  it("lets a conversion prove with db:checksum that no row was lost or changed", function()
    local conv = [[local before
      return { version = "1.1.0",
      up = function(db) db:exec("CREATE TABLE c (id INTEGER, v VARCHAR(32))") end,
      convert = function(db)
        db:exec("INSERT INTO a (id, v) VALUES (1, 'p'), (2, 'q')")
        before = db:checksum("a", { "id", "v" })
        db:exec("INSERT INTO c (id, v) SELECT id, v FROM a")
        if MODE == "lose" then db:exec("DELETE FROM c WHERE id = 2") end
        if MODE == "change" then db:exec("UPDATE c SET v = 'Q' WHERE id = 2") end
      end,
      verify = function(db)
        db:assert_count("c", before.rows)
        db:assert_count("c", 1, "id = ?", 1)
        db:assert_checksum(before, "c", { "id", "v" })
      end }]]
    with({ ["a.lua"] = OK_1, ["b.lua"] = conv:gsub("MODE", "'keep'") }, function(db, dir)
      assert.are.equal("1.1.0", testing.migrate(db, { scripts = dir }).current)
      local sum = db:checksum("c", { "id", "v" })
      assert.are.equal(2, sum.rows)
      -- order-independent: the same rows in another table, inserted reversed
      db:exec("CREATE TABLE d (id INTEGER, v VARCHAR(32))")
      db:exec("INSERT INTO d (id, v) VALUES (2, 'q')")
      db:exec("INSERT INTO d (id, v) VALUES (1, 'p')")
      assert.are.same(sum, db:checksum("d", { "id", "v" }))
      -- NULL and '' differ
      db:exec("UPDATE d SET v = NULL WHERE id = 1")
      local with_null = db:checksum("d", { "id", "v" })
      db:exec("UPDATE d SET v = '' WHERE id = 1")
      assert.are_not.equal(with_null.sum, db:checksum("d", { "id", "v" }).sum)
    end)
    for mode, why in pairs({ lose = "integrity: c has 1 row(s), expected 2",
                             change = "integrity: c(id,v) checksum " }) do
      with({ ["a.lua"] = OK_1, ["b.lua"] = conv:gsub("MODE", "'" .. mode .. "'") }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(4, r.exit)
        assert.matches(why, r.failed.message, 1, true)
        assert.is_false(db:table_exists("c"))
      end)
    end
  end)

  -- what a verify could try to get its write through, per engine
  local ESCAPES = ({
    sqlite = { "PRAGMA query_only = OFF", "PRAGMA query_only(0)", "ATTACH ':memory:' AS x",
               "VACUUM INTO 'escaped.db'", "COMMIT" },
    postgres = { "COMMIT", "SET TRANSACTION READ WRITE", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                 "RELEASE SAVEPOINT x", "/* x */ ROLLBACK" },
    mysql = { "COMMIT", "SET SESSION TRANSACTION READ WRITE", "/*!40101 SET SESSION TRANSACTION READ WRITE */",
              "ROLLBACK", "SELECT 1 INTO OUTFILE '/tmp/n9e-escape'" },
  })[ENGINE]
  -- a write the statement guard lets through, so that the engine's own
  -- read-only mode is what refuses it (MySQL has no such statement form)
  local SNEAKY_WRITE = ENGINE == "mysql" and "INSERT INTO a (id, v) VALUES (1, 'written in verify')"
    or "WITH w AS (SELECT 1 AS id) INSERT INTO a (id, v) SELECT id, 'written in verify' FROM w"
  local SNEAKY_REFUSED = ENGINE == "mysql" and "read%-only handle: INSERT is not allowed" or READ_ONLY
  for _, escape in ipairs(ESCAPES) do
    it("keeps verify read-only against: " .. escape, function()
      local s = script("1.1.0", ([[up = function(db) db:exec("CREATE TABLE b (x INTEGER)") end,
        verify = function(db)
          pcall(db.exec, db, %q)
          db:exec(%q)
        end]]):format(escape, SNEAKY_WRITE))
      with({ ["a.lua"] = OK_1, ["b.lua"] = s }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(4, r.exit)
        assert.matches("failed in verify", r.failed.message, 1, true)
        assert.matches(SNEAKY_REFUSED, r.failed.message)
        assert.are.equal("1.0.0", r.current)
        assert.is_false(db:table_exists("b"))
        assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT count(*) FROM a"))))
        assert.is_nil(sys.read_file("escaped.db"))
      end)
    end)
  end

  it("keeps a SQL error's cause: engine message and statement", function()
    local bad = script("1.2.0", [[up = function(db)
      db:exec("ALTER TABLE missing ADD COLUMN x INTEGER") end]])
    with({ ["a.lua"] = OK_1, ["c.lua"] = bad }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal(1, r.exit)
      assert.are.equal("sql", r.failed.kind)
      assert.are.equal(2, r.failed.line)
      assert.matches(NOT_FOUND, r.failed.message)
      assert.matches("ALTER TABLE missing", r.failed.message)
    end)
  end)

  it("lets a script nest db:tx inside its version, and denies it transaction control", function()
    local s = script("1.2.0", [[up = function(db)
      db:exec("CREATE TABLE b (x INTEGER)")
      pcall(db.tx, db, function(h) h:exec("INSERT INTO b VALUES (1)") error("undo only this") end)
      db:tx(function(h) h:exec("INSERT INTO b VALUES (2)") end)
    end]])
    local commit = script("1.3.0", [[up = function(db) db:commit() end]])
    with({ ["a.lua"] = OK_1, ["c.lua"] = s, ["d.lua"] = commit }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal("1.2.0", r.current)
      assert.are.equal(2, tonumber(db:scalar("SELECT sum(x) FROM b"))) -- DECIMAL on MySQL
      assert.matches("db.commit is not available to migration scripts", r.failed.message)
    end)
  end)

  if ENGINE == "postgres" then
    -- each version's records and COMMIT go out with the next version's
    -- first statement (db:exec_batch_deferred): a COMMIT that fails there
    -- (a deferred constraint) must fail the run, and nothing after it may
    -- run, even where a script swallows the error
    local DEFERRED_DUP = script("1.0.0", [[up = function(db)
        db:exec("CREATE TABLE d1 (id INTEGER, CONSTRAINT d1_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)")
        db:exec("INSERT INTO d1 (id) VALUES (1), (1)")
      end]])
    local SWALLOWS = script("1.1.0", [[up = function(db)
        pcall(db.exec, db, "CREATE TABLE d2 (id INTEGER)")
        pcall(db.exec, db, "CREATE TABLE d3 (id INTEGER)")
      end]])

    for _, case in ipairs({ { "the next version's first statement", { ["a.lua"] = DEFERRED_DUP, ["b.lua"] = SWALLOWS } },
                            { "the run's last commit", { ["a.lua"] = DEFERRED_DUP } } }) do
      it("fails the run when a version's COMMIT fails, sent with " .. case[1], function()
        with(case[2], function(db, dir)
          local ok, err = pcall(testing.migrate, db, { scripts = dir })
          assert.is_false(ok)
          assert.matches("^the records of version 1%.0%.0: duplicate key", err.message)
          assert.are.equal("23505", err.sqlstate)
          assert.are.equal("COMMIT", err.sql)
          for _, t in ipairs({ "d1", "d2", "d3" }) do assert.is_false(db:table_exists(t), t) end
          assert.are.equal(0, db:scalar("SELECT count(*) FROM n9e_migrate_history WHERE kind = 'migrate'"))
          assert.is_false(db:lock_held(apply.LOCK_KEY))
        end)
      end)
    end

    local CONCURRENT = script("1.1.0", [[transaction = false,
      up = function(db)
        db:exec("CREATE INDEX CONCURRENTLY a_v_idx ON a (v)")
        db:exec("ALTER TABLE a ADD COLUMN z INTEGER")
        if db:table_exists("fail_marker") then error("boom") end
      end]])

    it("runs a transaction = false version outside a transaction (CREATE INDEX CONCURRENTLY)", function()
      with({ ["a.lua"] = OK_1, ["b.lua"] = CONCURRENT }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal("1.1.0", r.current)
        assert.are.equal(true, db:scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_v_idx'::regclass"))
        assert.is_true(db:column_exists("a", "z"))
        assert.are.equal(0, db:scalar("SELECT count(*) FROM n9e_migrate_journal"))
      end)
    end)

    it("undoes a failed transaction = false version from its journal", function()
      with({ ["a.lua"] = OK_1, ["b.lua"] = CONCURRENT }, function(db, dir)
        testing.migrate(db, { scripts = dir, to = "1.0.0" })
        db:exec("CREATE TABLE fail_marker (x INTEGER)")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(1, r.exit)
        assert.matches("failed in up at line 5: boom", r.failed.message)
        assert.is_false(db:index_exists("a", "a_v_idx"))
        assert.is_false(db:column_exists("a", "z"))
        assert.are.equal(0, db:scalar("SELECT count(*) FROM n9e_migrate_journal"))
      end)
    end)

    it("refuses, outside a transaction, a statement that would need a table copy", function()
      local copy = script("1.1.0", [[transaction = false,
        up = function(db) db:exec("CREATE INDEX CONCURRENTLY a_v_idx ON a (v)") db:exec("UPDATE a SET v = 'x'") end]])
      with({ ["a.lua"] = OK_1, ["b.lua"] = copy }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(1, r.exit)
        assert.matches("may only run statements with a derived inverse", r.failed.message)
        assert.is_false(db:index_exists("a", "a_v_idx"))
      end)
    end)
  end

  if ENGINE == "mysql" then
    -- MySQL: convert, verify and the history row share one InnoDB
    -- transaction, so row changes need no copy of the table
    local function count_copies(db)
      return math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM information_schema.TABLES "
        .. "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'n9e\\_pre\\_%'")))
    end

    it("holds convert and verify in one transaction: a failed verify undoes the rows, no table copied", function()
      local conv = script("1.1.0", [[up = function(db) db:exec("CREATE TABLE b (x INTEGER)") end,
        convert = function(db)
          db:exec("UPDATE a SET v = 'converted'")
          db:exec("INSERT INTO b (x) VALUES (1)")
        end,
        verify = function(db)
          -- verify reads the conversion inside its transaction
          assert(db:scalar("SELECT COUNT(*) FROM a WHERE v = 'converted'") == 2, "conversion not visible")
          assert(db:scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME LIKE 'n9e_pre_%'") == 0,
                 "a table copy was made")
          pcall(db.exec, db, "COMMIT")
          error("verify says no")
        end]])
      with({ ["a.lua"] = OK_1, ["b.lua"] = conv }, function(db, dir)
        testing.migrate(db, { scripts = dir, to = "1.0.0" })
        db:exec("INSERT INTO a (id, v) VALUES (1, 'one'), (2, 'two')")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(4, r.exit)
        assert.matches("failed in verify at line %d+: verify says no", r.failed.message)
        assert.are.same({ "one", "two" }, { db:scalar("SELECT v FROM a WHERE id = 1"),
                                           db:scalar("SELECT v FROM a WHERE id = 2") })
        assert.is_false(db:table_exists("b"))
        assert.are.equal(0, count_copies(db))
        assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM n9e_migrate_journal"))))
        -- and when verify holds, all of it is committed with the history row
        local ok = conv:gsub("error%(\"verify says no\"%)", "")
        with({ ["a.lua"] = OK_1, ["b.lua"] = ok }, function(db2, dir2)
          testing.migrate(db2, { scripts = dir2, to = "1.0.0" })
          db2:exec("INSERT INTO a (id, v) VALUES (1, 'one'), (2, 'two')")
          local r2 = testing.migrate(db2, { scripts = dir2 })
          assert.are.equal(0, r2.exit, r2.failed and r2.failed.message)
          assert.are.equal("converted", db2:scalar("SELECT v FROM a WHERE id = 2"))
          assert.are.equal(1, math.tointeger(tonumber(db2:scalar("SELECT COUNT(*) FROM b"))))
          assert.is_false(db2:in_transaction())
        end)
      end)
    end)

    it("refuses DDL in convert, which would commit its transaction, and rows of a table that cannot roll back", function()
      local ddl = script("1.1.0", [[convert = function(db)
          db:exec("UPDATE a SET v = 'x'")
          db:exec("ALTER TABLE a ADD COLUMN late INTEGER")
        end, up = function() end]])
      with({ ["a.lua"] = OK_1, ["b.lua"] = ddl }, function(db, dir)
        testing.migrate(db, { scripts = dir, to = "1.0.0" })
        db:exec("INSERT INTO a (id, v) VALUES (1, 'one')")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(1, r.exit)
        assert.matches("convert runs in one transaction on mysql, which a schema change would commit: "
                       .. "put it in up %(ALTER TABLE a ADD COLUMN late", r.failed.message)
        assert.are.equal("one", db:scalar("SELECT v FROM a"))
        assert.is_false(db:column_exists("a", "late"))
      end)
      local myisam = script("1.1.0", [[up = function(db) db:exec("CREATE TABLE m (x INTEGER) ENGINE=MyISAM") end,
        convert = function(db) db:exec("INSERT INTO m (x) VALUES (1)") end]])
      with({ ["a.lua"] = OK_1, ["b.lua"] = myisam }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(1, r.exit)
        assert.matches("m uses the MyISAM engine, which cannot roll back a conversion: convert its engine in up",
                       r.failed.message)
        assert.is_false(db:table_exists("m"))
        assert.are.equal("1.0.0", r.current)
      end)
    end)
  end

  if ENGINE == "mysql" or ENGINE == "postgres" then
    -- the journal (lua/migrate/journal.lua): every MySQL version, and
    -- PostgreSQL's versions declared transaction = false
    local TXF = ENGINE == "postgres" and "transaction = false," or ""
    local function jscript(v, up) return script(v, TXF .. " up = function(db) " .. up .. " end") end
    local function journal_rows(db)
      if not db:table_exists("n9e_migrate_journal") then return 0 end
      return math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM n9e_migrate_journal")))
    end

    --- What the runner sends while fn runs, counted at the connection's
    --- methods (this process's own statements only, whatever else the
    --- server is doing).
    local function counting(fn)
      local methods = require("n9e.db").methods
      local exec, catalog = methods.exec, methods.catalog
      local seen = { inserts = 0, deletes = 0, deletes_outside_tx = 0, listings = 0, probes = 0, actions = {},
                     history_inserts = 0 }
      methods.exec = function(c, sql, ...)
        if type(sql) == "string" and sql:find("^INSERT INTO [`\"]?n9e_migrate_history") then
          seen.history_inserts = seen.history_inserts + 1
        end
        if type(sql) == "string" and sql:find("^INSERT INTO [`\"]?n9e_migrate_journal") then
          seen.inserts = seen.inserts + 1
          seen.actions[#seen.actions + 1] = (select(3, ...))
        elseif type(sql) == "string" and sql:find("^DELETE FROM [`\"]?n9e_migrate_journal") then
          seen.deletes = seen.deletes + 1
          if not c:in_transaction() then seen.deletes_outside_tx = seen.deletes_outside_tx + 1 end
        end
        return exec(c, sql, ...)
      end
      methods.catalog = function(c, kind, name, ...)
        if kind == "tables" and name then seen.probes = seen.probes + 1
        elseif kind == "tables" then seen.listings = seen.listings + 1 end
        return catalog(c, kind, name, ...)
      end
      local ok, err = pcall(fn)
      methods.exec, methods.catalog = exec, catalog
      if not ok then error(err, 0) end
      return seen
    end

    --- n versions that each make a table and its index; the last one, when
    --- `empty`, runs nothing at all
    local function making(n, empty)
      local files = {}
      for i = 1, n do
        files[("v%02d.lua"):format(i)] = jscript(("1.0.%d"):format(i), i == n and empty and "" or
          ([[db:exec("CREATE TABLE t_%d (id INTEGER PRIMARY KEY, name VARCHAR(64))")
             db:exec("CREATE INDEX idx_t_%d ON t_%d (name)")]]):format(i, i, i))
      end
      return files
    end

    it("journals one row per table a version makes, nothing at its start, and ends it in its history's transaction",
       function()
      local seen = {}
      for _, n in ipairs({ 3, 5 }) do
        with(making(n, true), function(db, dir)
          seen[n] = counting(function()
            local r = testing.migrate(db, { scripts = dir })
            assert.are.equal(0, r.exit, r.failed and r.failed.message)
          end)
          assert.are.equal(0, journal_rows(db))
          assert.are.equal(n - 1, #db:tables() - 4) -- t_1 .. t_(n-1) and the runner's own four
        end)
      end
      for _, n in ipairs({ 3, 5 }) do
        -- a create_table row for each table, no snapshot.  PostgreSQL: a
        -- DELETE per version that wrote a row (not for the empty one),
        -- each inside the transaction of the version's history row.
        -- MySQL: one DELETE of them all, in the run's last version's
        -- transaction (apply.lua, recorded_together)
        assert.are.equal(n - 1, seen[n].inserts)
        for _, a in ipairs(seen[n].actions) do assert.are.equal("create_table", a) end
        assert.are.equal(ENGINE == "mysql" and 1 or n - 1, seen[n].deletes)
        assert.are.equal(0, seen[n].deletes_outside_tx)
      end
      -- no listing of the tables per version: two versions more cost
      -- none more; nor a probe of one on MySQL (PostgreSQL asks for the
      -- schema table at each version, history.ensure_schema_table)
      assert.are.equal(seen[3].listings, seen[5].listings)
      if ENGINE == "mysql" then assert.are.equal(seen[3].probes, seen[5].probes) end
    end)

    if ENGINE == "mysql" then
      it("leaves the journals of recorded versions for one DELETE, which a run that stops early sends too", function()
        local files = making(4)
        files["v03.lua"] = jscript("1.0.3", [[db:exec("CREATE TABLE t_3 (id INTEGER PRIMARY KEY)")
          error("stop at 1.0.3")]])
        with(files, function(db, dir)
          local seen = counting(function()
            local r = testing.migrate(db, { scripts = dir })
            assert.are.equal(1, r.exit)
            assert.matches("stop at 1%.0%.3", r.failed.message)
            assert.are.equal("1.0.2", r.current)
          end)
          -- 1.0.3 undone with its journal; 1.0.1 and 1.0.2 kept, their
          -- journals deleted in one statement after the failure
          assert.are.equal(0, journal_rows(db))
          assert.is_true(db:table_exists("t_2"))
          assert.is_false(db:table_exists("t_3"))
          assert.are.equal(2, seen.deletes)
          assert.are.equal("1.0.2", db:scalar("SELECT version FROM n9e_migrate_schema"))
          local applied = {}
          for r in db:query("SELECT version FROM n9e_migrate_history WHERE outcome = 'applied' ORDER BY id") do
            applied[#applied + 1] = r.version
          end
          assert.are.same({ "1.0.1", "1.0.2" }, applied)
        end)
      end)

      it("records versions together while they took under --group-ms in all, each on its own with 0", function()
        for _, case in ipairs({ { ms = 60000, writes = 2 }, { ms = 0, writes = 5 } }) do
          with(making(5), function(db, dir)
            local seen = counting(function()
              local r = testing.migrate(db, { scripts = dir, group_ms = case.ms })
              assert.are.equal(0, r.exit, r.failed and r.failed.message)
              assert.are.equal(5, #r.applied)
            end)
            -- 60 s: 1.0.1 .. 1.0.4 in one INSERT, the run's last in its
            -- transaction; 0: one INSERT a version
            assert.are.equal(case.writes, seen.history_inserts, case.ms)
            local rows = {}
            for r in db:query("SELECT version, outcome FROM n9e_migrate_history ORDER BY id") do
              rows[#rows + 1] = r.version .. ":" .. r.outcome
            end
            assert.are.same({ "1.0.1:applied", "1.0.2:applied", "1.0.3:applied", "1.0.4:applied", "1.0.5:applied" },
                            rows)
            assert.are.equal(5, math.tointeger(tonumber(db:scalar(
              "SELECT COUNT(*) FROM n9e_migrate_steps WHERE step = 'up' AND outcome = 'ok'"))))
            assert.are.equal(0, journal_rows(db))
          end)
        end
      end)

      it("writes the group's records before a version that fails, then that version's", function()
        local files = making(4)
        files["v03.lua"] = jscript("1.0.3", [[db:exec("CREATE TABLE t_3 (id INTEGER PRIMARY KEY)")
          error("stop at 1.0.3")]])
        with(files, function(db, dir)
          local r = testing.migrate(db, { scripts = dir, group_ms = 60000 })
          assert.are.equal(1, r.exit)
          local rows = {}
          for h in db:query("SELECT version, outcome FROM n9e_migrate_history ORDER BY id") do
            rows[#rows + 1] = h.version .. ":" .. h.outcome
          end
          assert.are.same({ "1.0.1:applied", "1.0.2:applied", "1.0.3:rolled_back" }, rows)
          assert.are.equal(0, journal_rows(db))
          assert.is_true(db:table_exists("t_2"))
          assert.is_false(db:table_exists("t_3"))
        end)
      end)

      it("finishes, not undoes, the journal of a version whose history row is there", function()
        with(making(2), function(db, dir)
          local r = testing.migrate(db, { scripts = dir, to = "1.0.1" })
          assert.are.equal(0, r.exit, r.failed and r.failed.message)
          -- what a run killed after 1.0.1's history row, before its last
          -- version, leaves: 1.0.1's journal row, which would drop t_1
          db:exec("INSERT INTO n9e_migrate_journal (version, seq, action, table_name, statement, undo_sql, probe, "
            .. "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "1.0.1", 1, "create_table", "t_1",
            "CREATE TABLE t_1 (id INTEGER PRIMARY KEY, name VARCHAR(64))", '["DROP TABLE IF EXISTS `t_1`"]',
            '{"name":"t_1","kind":"table"}', "started", "2026-01-01T00:00:00.000Z")
          r = testing.migrate(db, { scripts = dir })
          assert.are.equal(0, r.exit, r.failed and r.failed.message)
          assert.are.same({}, r.recovered)
          assert.is_true(db:table_exists("t_1"))
          assert.is_true(db:table_exists("t_2"))
          assert.are.equal(0, journal_rows(db))
        end)
      end)
    end

    it("drops a version's shadow tables once its history is committed, then its rows", function()
      local body = [[db:exec("DROP TABLE b")]]
      if ENGINE == "mysql" then body = body .. [[ db:exec("INSERT INTO a (id, v) VALUES (2, 'two')")]] end
      local files = { ["a.lua"] = OK_1, ["b.lua"] = jscript("1.0.5", [[db:exec("CREATE TABLE b (id INTEGER)")]]),
                      ["c.lua"] = jscript("1.1.0", body) }
      with(files, function(db, dir)
        local seen = counting(function()
          local r = testing.migrate(db, { scripts = dir })
          assert.are.equal(0, r.exit, r.failed and r.failed.message)
        end)
        assert.is_false(db:table_exists("b"))
        for _, t in ipairs(db:tables()) do assert.is_nil(t:find("^n9e_pre_") or t:find("^n9e_drop_"), t) end
        assert.are.equal(0, journal_rows(db))
        -- 1.0.5 ends in its history's transaction (on MySQL, with 1.0.0,
        -- the last version's: one DELETE); 1.1.0, with shadow tables,
        -- after it (their DROP would commit it)
        assert.are.equal(2, seen.deletes)
        assert.are.equal(1, seen.deletes_outside_tx)
      end)
    end)

    it("leaves no table behind when a version renames a table it made, then fails", function()
      local renames = { [[db:exec("ALTER TABLE r1 RENAME TO r2")]] }
      if ENGINE == "mysql" then
        renames[2] = [[db:exec("RENAME TABLE r1 TO r2") db:exec("RENAME TABLE r2 TO r3")]]
      end
      for _, rename in ipairs(renames) do
        local v = jscript("1.1.0", [[db:exec("CREATE TABLE r1 (id INTEGER)")
          db:exec("CREATE INDEX r1_id ON r1 (id)") ]] .. rename .. [[
          db:exec("CREATE TABLE r1 (id INTEGER)")
          error("after the renames")]])
        with({ ["a.lua"] = OK_1, ["b.lua"] = v }, function(db, dir)
          local r = testing.migrate(db, { scripts = dir })
          assert.are.equal(1, r.exit)
          assert.matches("after the renames", r.failed.message)
          assert.is_false(db:in_transaction())
          for _, t in ipairs({ "r1", "r2", "r3" }) do assert.is_false(db:table_exists(t), t) end
          assert.are.equal(0, journal_rows(db))
        end)
      end
    end)

    it("never drops a table that was there: CREATE TABLE IF NOT EXISTS of it, or a failed CREATE TABLE, writes no row",
       function()
      local v = jscript("1.1.0", [[db:exec("CREATE TABLE IF NOT EXISTS a (id INTEGER, v TEXT)")
        assert(not pcall(db.exec, db, "CREATE TABLE a (id INTEGER)"))
        db:exec("CREATE TABLE IF NOT EXISTS b (id INTEGER)")
        error("then it fails")]])
      with({ ["a.lua"] = OK_1, ["b.lua"] = v }, function(db, dir)
        testing.migrate(db, { scripts = dir, to = "1.0.0" })
        db:exec("INSERT INTO a (id, v) VALUES (1, 'kept')")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(1, r.exit)
        assert.matches("then it fails", r.failed.message)
        assert.are.equal("kept", db:scalar("SELECT v FROM a WHERE id = 1"))
        assert.is_false(db:table_exists("b"))
        assert.are.equal(0, journal_rows(db))
      end)
    end)
  end

  describe("rollback --to", function()
    local V1 = script("1.0.0", [[up = function(db) db:exec("CREATE TABLE a (id INTEGER, v VARCHAR(32))") end,
      verify = function(db) assert(db:table_exists("a"), "a is missing") end,
      down = function(db) db:exec("DROP TABLE a") end]])
    local V2 = script("1.1.0", [[up = function(db) db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)") end,
      convert = function(db) db:exec("INSERT INTO a (id, v, w) VALUES (1, 'x', 'y')") end,
      verify = function(db) assert(db:column_exists("a", "w"), "a.w is missing") end,
      down = function(db) db:exec("DELETE FROM a WHERE id = 1") db:exec("ALTER TABLE a DROP COLUMN w") end]])

    it("runs the downs newest first, verifies, records, and can go up again", function()
      with({ ["a.lua"] = V1, ["b.lua"] = V2 }, function(db, dir)
        assert.are.equal("1.1.0", testing.migrate(db, { scripts = dir }).current)
        local r = testing.rollback(db, { scripts = dir, to = "1.0.0" })
        assert.are.equal(0, r.exit)
        assert.are.equal("1.0.0", r.current)
        assert.is_false(db:column_exists("a", "w"))
        assert.are.equal(0, db:scalar("SELECT count(*) FROM a"))
        local rows = testing.history(db)
        assert.are.equal("rollback", rows[#rows].kind)
        assert.are.equal("1.1.0", rows[#rows].version)
        assert.are.equal("1.1.0", testing.migrate(db, { scripts = dir }).current)
        assert.is_true(db:column_exists("a", "w"))
      end)
    end)

    it("refuses when a version to undo has no down, changing nothing, and quotes why it has none", function()
      local nodown = script("1.1.0", [[up = function(db) db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)") end,
        irreversible = "w is kept"]])
      with({ ["a.lua"] = V1, ["b.lua"] = nodown }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        local r = testing.rollback(db, { scripts = dir, to = "1.0.0" })
        assert.are.equal(3, r.exit)
        assert.matches("no down step in 1.1.0 (" .. dir .. "/b.lua; irreversible: w is kept)", r.message, 1, true)
        assert.is_true(db:column_exists("a", "w"))
      end)
    end)

    it("keeps a version applied when its down fails", function()
      local bad = script("1.1.0", [[up = function(db) db:exec("ALTER TABLE a ADD COLUMN w VARCHAR(32)") end,
        down = function(db) db:exec("CREATE TABLE leftover (x INTEGER)") error("down broke") end]])
      with({ ["a.lua"] = V1, ["b.lua"] = bad }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        local r = testing.rollback(db, { scripts = dir, to = "1.0.0" })
        assert.are.equal(1, r.exit)
        assert.matches("failed in down at line 2: down broke", r.failed.message, 1, true)
        assert.is_false(db:table_exists("leftover"))
        assert.is_true(db:column_exists("a", "w"))
        local status = testing.migrate(db, { scripts = dir })
        assert.are.equal("up_to_date", status.outcome)
        assert.are.equal("1.1.0", status.current)
      end)
    end)
  end)

  describe("baseline", function()
    local V1 = script("1.0.0", [[up = function(db) db:exec("CREATE TABLE a (id INTEGER)") end,
      verify = function(db) assert(db:table_exists("a"), "table a is missing") end]])
    local V2 = script("1.1.0", [[up = function(db) db:exec("CREATE TABLE b (id INTEGER)") end]])

    it("adopts a database that is at a known version, and runs from there", function()
      with({ ["a.lua"] = V1, ["b.lua"] = V2 }, function(db, dir)
        db:exec("CREATE TABLE a (id INTEGER)") -- made by someone else
        assert.are.equal(3, testing.migrate(db, { scripts = dir }).exit) -- unmanaged: refused
        local r = testing.baseline(db, { scripts = dir, version = "1.0.0" })
        assert.are.equal("1.0.0", r.current)
        assert.are.same({ "1.0.0" }, r.verified)
        local rows = testing.history(db)
        assert.are.equal("baseline", rows[1].kind)
        local run = testing.migrate(db, { scripts = dir })
        assert.are.equal("1.1.0", run.current)
        assert.are.equal(1, #run.applied)
        assert.is_true(db:table_exists("b"))
      end)
    end)

    it("refuses when the schema does not match, recording nothing", function()
      with({ ["a.lua"] = V1, ["b.lua"] = V2 }, function(db, dir)
        db:exec("CREATE TABLE other (id INTEGER)")
        local r = testing.baseline(db, { scripts = dir, version = "1.0.0" })
        assert.are.equal(3, r.exit)
        assert.matches("does not match 1.0.0", r.message, 1, true)
        assert.matches("table a is missing", r.message, 1, true)
        assert.is_false(db:table_exists("n9e_migrate_history"))
      end)
    end)

    it("refuses on a database that is already managed", function()
      with({ ["a.lua"] = V1 }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        local r = testing.baseline(db, { scripts = dir, version = "1.0.0" })
        assert.are.equal(3, r.exit)
        assert.matches("already managed", r.message, 1, true)
      end)
    end)
  end)

  it("refuses before writing anything when a precheck says no (exit 3)", function()
    local s = script("1.0.0", [[precheck = function(db, ctx) return false, "not today: " .. ctx.version end,
      up = function(db) db:exec("CREATE TABLE a (x INTEGER)") end]])
    with({ ["a.lua"] = s }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal(3, r.exit)
      assert.matches("precheck refused: not today: 1.0.0", r.message)
      assert.are.same({}, db:tables()) -- not even the history table
    end)
  end)

  it("refuses a script whose min_from is above the current version", function()
    local v2 = script("1.1.0", [[min_from = "1.0.5", up = function(db) db:exec("CREATE TABLE b (x INTEGER)") end]])
    with({ ["a.lua"] = OK_1, ["b.lua"] = v2 }, function(db, dir)
      testing.migrate(db, { scripts = dir, to = "1.0.0" })
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal(3, r.exit)
      assert.matches("compatibility: 1.1.0 upgrades only from 1.0.5 or later (the database is at 1.0.0)",
                     r.message, 1, true)
      assert.is_false(db:table_exists("b"))
    end)
  end)

  it("gives prechecks a read-only handle", function()
    local s = script("1.0.0", [[precheck = function(db) db:exec("CREATE TABLE sneaky (x INTEGER)") end,
      up = function(db) end]])
    with({ ["a.lua"] = s }, function(db, dir)
      local r = testing.migrate(db, { scripts = dir })
      assert.are.equal(3, r.exit)
      assert.matches("this step has a read-only handle: CREATE is not allowed here", r.message, 1, true)
      assert.are.same({}, db:tables())
    end)
  end)

  describe("refusals (exit 3, nothing written)", function()
    it("an applied script whose checksum changed", function()
      with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2 }, function(db, dir)
        testing.migrate(db, { scripts = dir, to = "1.0.0" })
        assert(sys.write_file(dir .. "/a.lua", OK_1 .. "\n-- edited"))
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(3, r.exit)
        assert.matches("a%.lua %(version 1%.0%.0%) changed after it was applied", r.message)
        assert.is_false(db:column_exists("a", "w"))
      end)
    end)

    it("a version in history that no script knows", function()
      with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2 }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        os.remove(dir .. "/b.lua")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(3, r.exit)
        assert.matches("version 1.1.0 is recorded in n9e_migrate_history but no script has it", r.message, 1, true)
      end)
    end)

    it("--to below the current version", function()
      with({ ["a.lua"] = OK_1, ["b.lua"] = OK_2 }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        local r = testing.migrate(db, { scripts = dir, to = "1.0.0" })
        assert.are.equal(3, r.exit)
        assert.matches("below the current version 1.1.0", r.message, 1, true)
      end)
    end)

    it("a script older than the current version that was never applied", function()
      with({ ["b.lua"] = OK_2, ["a.lua"] = OK_1 }, function(db, dir)
        testing.migrate(db, { scripts = dir })
        assert(sys.write_file(dir .. "/z.lua", script("1.0.5", "up = function() end")))
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(3, r.exit)
        assert.matches("version 1.0.5) is older than the current version 1.1.0 but was never applied", r.message, 1, true)
      end)
    end)

    for name, case in pairs({
      syntax = { "return { version = '1.0.0', up = function() end", "does not load: .*bad%.lua:1:" },
      binary = { "\27Lua\84\0\25\147\r\n\26\n", "does not load: .*binary chunk" },
      no_up = { "return { version = '1.0.0' }", "has no up function" },
      bad_version = { "return { version = '1.0', up = function() end }", "not a version" },
      bad_transaction = { "return { version = '1.0.0', transaction = true, up = function() end }",
                          "transaction may only be false" },
      not_table = { "return 42", "must return a table, got number" },
      unknown_field = { "return { version = '1.0.0', up = function() end, upp = 1 }", "unknown field 'upp'" },
      bad_lock_timeout = { "return { version = '1.0.0', up = function() end, lock_timeout = { upp = 2 } }",
                           "lock_timeout must be seconds, or a table of seconds per step" },
      bad_lock_retries = { "return { version = '1.0.0', up = function() end, lock_retries = 1.5 }",
                           "lock_retries must be a whole number" },
      top_level_error = { "error('at load')", "does not load: .*at load" },
      sandbox_at_load = { "os.execute('touch /tmp/x')", "os.execute is not available" },
    }) do
      it("a script that does not load: " .. name, function()
        with({ ["a.lua"] = OK_1, ["bad.lua"] = case[1] }, function(db, dir)
          local r = testing.migrate(db, { scripts = dir })
          assert.are.equal(3, r.exit)
          assert.matches(case[2], r.message)
          assert.matches("bad%.lua", r.message)
          assert.are.same({}, db:tables())
        end)
      end)
    end

    it("two scripts with one version, naming both files", function()
      with({ ["a.lua"] = OK_1, ["a2.lua"] = OK_1 }, function(db, dir)
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(3, r.exit)
        assert.matches("a%.lua and .*a2%.lua both have version 1%.0%.0", r.message)
      end)
    end)

    it("an unmanaged database that already has tables", function()
      with({ ["a.lua"] = OK_1 }, function(db, dir)
        db:exec("CREATE TABLE users (id INTEGER)")
        local r = testing.migrate(db, { scripts = dir })
        assert.are.equal(3, r.exit)
        assert.matches("its schema is not one of Nightingale's releases", r.message, 1, true)
        assert.matches("not a Nightingale schema", r.message, 1, true)
        assert.is_false(db:table_exists("n9e_migrate_history"))
      end)
    end)
  end)

  it("times out on the lock while another connection holds it (exit 5)", function()
    with({ ["a.lua"] = OK_1 }, function(db, dir)
      local other = db.open()
      assert.is_true(other:lock(apply.LOCK_KEY, 1))
      local t0 = sys.monotonic()
      local r = testing.migrate(db, { scripts = dir, lock_timeout = 0.3 })
      local took = sys.monotonic() - t0
      other:unlock(apply.LOCK_KEY)
      other:close()
      assert.are.equal(5, r.exit)
      assert.matches("lock not obtained within 0.3 s", r.message)
      assert.is_true(took >= 0.25 and took < 3, "took " .. took)
      assert.are.equal("1.0.0", testing.migrate(db, { scripts = dir }).current)
    end)
  end)
end)

describe("journal.classify", function()
  local journal = require("migrate.journal")
  it("derives each MySQL statement's undo from its own leading keyword", function()
    local cases = {
      { "SELECT 1", { kind = "plain" } },
      { "  set @a = 1", { kind = "plain" } },
      { "CREATE TABLE IF NOT EXISTS `t` (id INT)", { kind = "create_table", table = "t" } },
      { "/* c */ create table t2 (id INT)", { kind = "create_table", table = "t2" } },
      { "CREATE UNIQUE INDEX i ON t (id)", { kind = "create_index", name = "i", table = "t" } },
      { "RENAME TABLE a TO b", { kind = "rename", table = "a", to = "b" } },
      { "DROP TABLE IF EXISTS d", { kind = "drop_table", table = "d" } },
      { "DROP INDEX i ON t", { kind = "preimage", table = "t" } },
      { "ALTER TABLE t ADD COLUMN c INT", { kind = "add_column", table = "t", name = "c" } },
      { "ALTER TABLE t ADD c INT", { kind = "add_column", table = "t", name = "c" } },
      { "ALTER TABLE t ADD UNIQUE KEY k (c)", { kind = "add_index", table = "t", name = "k" } },
      { "ALTER TABLE t RENAME TO u", { kind = "rename", table = "t", to = "u" } },
      { "ALTER TABLE t ADD COLUMN c INT, ADD COLUMN d INT", { kind = "preimage", table = "t" } },
      { "-- why\nINSERT IGNORE INTO t (id) VALUES (1)", { kind = "dml", table = "t" } },
      { "replace into t (id) values (1)", { kind = "dml", table = "t" } },
      { "UPDATE t SET a = 1", { kind = "dml", table = "t" } },
      { "DELETE FROM t", { kind = "dml", table = "t" } },
    }
    for _, c in ipairs(cases) do assert.are.same(c[2], journal.classify(c[1]), c[1]) end
    for _, sql in ipairs({ "TRUNCATE TABLE t", "CREATE VIEW v AS SELECT 1", "DROP DATABASE x", "GRANT ALL ON *.* TO u",
                           "SELECTED" }) do
      local plan, why = journal.classify(sql)
      assert.is_nil(plan, sql)
      assert.matches("no compensation can be derived for this statement on MySQL/MariaDB", why)
    end
  end)
end)
