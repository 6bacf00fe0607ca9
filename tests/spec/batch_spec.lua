-- db:rewrite (lua/migrate/batch.lua) on the engine named by
-- $N9E_TEST_ENGINE: batches, keyset order, skipped rows, filters, odd
-- values, and a real run in a script's convert step (journaled on MySQL,
-- undone when the version fails).
local log = require("migrate.log")
local testing = require("migrate.testing")

local NULL = require("n9e.db").null

local db

local function rows()
  local out = {}
  for r in db:query("SELECT id, doc, n FROM jobs ORDER BY id") do
    out[#out + 1] = ("%d|%s|%s"):format(r.id, tostring(r.doc), tostring(r.n))
  end
  return out
end

local function fill(n)
  for i = 1, n do
    -- gaps in the key, and a NULL every 7th row
    db:exec("INSERT INTO jobs (id, doc, n) VALUES (?, ?, ?)", i * 3, i % 7 == 0 and NULL or ("a" .. i), i)
  end
end

before_each(function()
  db = testing.db()
  db:exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, doc VARCHAR(200), n INTEGER)")
end)

after_each(function() getmetatable(db).__close(db) end)

-- Lua of a script: the sessions on the test database, 2 while a second
-- connection reads ahead (0 on SQLite)
local SESSIONS = [[(db.dialect == "mysql" and tonumber(db:scalar(
  "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()")))
  or (db.dialect == "postgres" and tonumber(db:scalar(
  "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"))) or 0]]

describe("db:rewrite on " .. testing.engine(), function()
  it("rewrites every row through map, batch by batch in key order, skipping rows map leaves", function()
    fill(25)
    local seen = {}
    local stats = db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 4,
      map = function(r)
        seen[#seen + 1] = r.id
        if r.doc == nil then return nil end -- a NULL reads as nil
        return { doc = r.doc .. "-" .. r.n * 2 }
      end }
    assert.are.same({ read = 25, written = 22, batches = 7, write = "update" }, stats)
    for i = 2, 25 do assert.is_true(seen[i] > seen[i - 1]) end
    local got = rows()
    assert.are.equal("3|a1-2|1", got[1])
    assert.are.equal("21|nil|7", got[7])
    assert.are.equal("75|a25-50|25", got[25])
  end)

  it("keeps unchanged columns, writes quotes, unicode and NULL, and honours where with arguments", function()
    fill(10)
    db:exec("ALTER TABLE jobs ADD COLUMN note VARCHAR(50)")
    db:exec("UPDATE jobs SET note = 'keep'")
    local stats = db:rewrite{ table = "jobs", key = "id", columns = { "doc", "n" }, where = "n > ?", args = { 5 },
      map = function(r)
        if r.n == 6 then return { doc = NULL } end
        return { doc = "it's \"ü\" " .. r.n }
      end }
    assert.are.equal(5, stats.read)
    local got = {}
    for r in db:query("SELECT n, doc, note FROM jobs ORDER BY id") do
      got[#got + 1] = ("%d:%s:%s"):format(r.n, r.doc == nil and "NULL" or r.doc, r.note)
    end
    assert.are.same({ "1:a1:keep", "2:a2:keep", "3:a3:keep", "4:a4:keep", "5:a5:keep", "6:NULL:keep",
                      "7:it's \"ü\" 7:keep", "8:it's \"ü\" 8:keep", "9:it's \"ü\" 9:keep",
                      "10:it's \"ü\" 10:keep" }, got)
  end)

  it("handles an empty table and a batch that the parameter limit shrinks", function()
    local stats = db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, map = function() return {} end }
    assert.are.same({ read = 0, written = 0, batches = 1, write = "update" }, stats)
    fill(3)
    stats = db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 1000000000,
                        map = function(r) return { doc = "x" .. r.id } end }
    assert.are.same({ read = 3, written = 3, batches = 1, write = "update" }, stats)
    assert.are.equal("x3", db:scalar("SELECT doc FROM jobs WHERE id = 3"))
  end)

  it("refuses a spec it cannot run, naming what is wrong", function()
    assert.has_error(function() db:rewrite{ table = "jobs", key = "nope", columns = { "doc" }, map = print } end,
                     "db:rewrite: jobs has no column nope")
    assert.has_error(function() db:rewrite{ table = "jobs", key = "id", columns = {}, map = print } end,
                     "db:rewrite: `columns` (what map may change) is required")
  end)

  it("logs convert.progress with rows, rate and the total", function()
    fill(12)
    local events = {}
    log.sink = function(rec) if rec.event == "convert.progress" then events[#events + 1] = rec end end
    db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 5, map = function() return { doc = "z" } end }
    log.sink = nil
    local last = events[#events]
    assert.are.equal("jobs", last.table)
    assert.are.equal(12, last.rows)
    assert.are.equal(12, last.total)
    assert.are.equal(12, last.written)
    assert.is_number(last.rate)
  end)

  it("reads ahead while it writes, and a map may query the database meanwhile", function()
    fill(25)
    require("migrate.history").ensure(db)
    -- the sessions while the map runs: a second connection may read ahead
    -- only until the version's transaction has written something
    local dir = testing.script_dir({
      ["v1.lua"] = [[return { version = "1.0.0", description = "rewrite only",
        up = function() end,
        convert = function(db)
          local seen = 0
          db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 3,
                      where = "n > ?", args = { 2 },
                      map = function(r)
                        if r.n == 10 then seen = ]] .. SESSIONS .. [[ end
                        -- a read in the middle of the overlapped statements
                        local before = db:scalar("SELECT doc FROM jobs WHERE id = ?", r.id)
                        return { doc = "v1-" .. r.n .. "-" .. tostring(before) }
                      end }
          assert(seen == (db.dialect == "sqlite" and 0 or 2), "sessions while reading ahead: " .. seen)
        end }]],
      ["v2.lua"] = [[return { version = "1.1.0", description = "write, then rewrite what was written",
        up = function() end,
        convert = function(db)
          db:exec("UPDATE jobs SET n = n + 100 WHERE n <= ?", 4)
          local seen = 0
          db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 3,
                      map = function(r)
                        if r.n == 10 then seen = ]] .. SESSIONS .. [[ end
                        return { doc = "v2-" .. r.n }
                      end }
          assert(seen == (db.dialect == "sqlite" and 0 or 1), "sessions after a write: " .. seen)
        end }]],
    })
    local res = testing.migrate(db, { scripts = dir, to = "1.0.0" })
    assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
    local got = rows()
    assert.are.equal("3|a1|1", got[1])
    assert.are.equal("6|a2|2", got[2])
    assert.are.equal("9|v1-3-a3|3", got[3])
    assert.are.equal("21|v1-7-nil|7", got[7])
    assert.are.equal("75|v1-25-a25|25", got[25])
    res = testing.migrate(db, { scripts = dir })
    assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
    got = rows()
    -- the rewrite read what the version's own UPDATE wrote before it
    assert.are.equal("3|v2-101|101", got[1])
    assert.are.equal("12|v2-104|104", got[4])
    assert.are.equal("15|v2-5|5", got[5])
    assert.are.equal(25, #got)
    -- the step log counts the rows the rewrite wrote: 25, and 4 more by the UPDATE
    assert.are.equal(29, math.tointeger(tonumber(db:scalar(
      "SELECT rows_touched FROM n9e_migrate_steps WHERE version = '1.1.0' AND step = 'convert'"))))
  end)

  if testing.engine() ~= "sqlite" then
    it("reports a write the server refuses mid-way with its SQL state, and the connection stays usable", function()
      fill(12)
      local ok, err = pcall(db.rewrite, db, { table = "jobs", key = "id", columns = { "doc" }, batch = 3,
        map = function(r) return { doc = r.id == 21 and ("x"):rep(300) or "ok" } end })
      assert.is_false(ok)
      assert.are.equal("22001", err.sqlstate, tostring(err.message)) -- too long for VARCHAR(200)
      assert.matches("UPDATE", err.sql)
      assert.are.equal(12, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM jobs"))))
    end)

    it("reads on its own connection when the second one fails", function()
      fill(10)
      local warned = {}
      log.sink = function(rec) if rec.event == "convert.read_ahead" then warned[#warned + 1] = rec end end
      local writer = {
        send = function(sql, ...) db:exec_send(sql, ...) end,
        wait = function() return db:exec_wait() end,
        open_reader = function()
          local r = db:open_reader()
          r:close() -- every read there fails
          return r
        end,
      }
      local ok, stats = pcall(require("migrate.batch").rewrite, db, { table = "jobs", key = "id", columns = { "doc" },
        batch = 3, map = function(r) return { doc = "z" .. r.id } end }, writer)
      log.sink = nil
      assert.is_true(ok, tostring(stats))
      assert.are.equal(10, stats.written)
      assert.are.equal(1, #warned)
      assert.are.equal("jobs", warned[1].table)
      for i, line in ipairs(rows()) do assert.are.equal(("%d|z%d|%d"):format(i * 3, i * 3, i), line) end
    end)
  end

  if testing.engine() ~= "sqlite" then
    it("reads ahead in the time zone the version set for its session", function()
      require("migrate.history").ensure(db)
      local pg = db.dialect == "postgres"
      db:exec("CREATE TABLE stamps (id INTEGER PRIMARY KEY, at " .. (pg and "TIMESTAMPTZ" or "TIMESTAMP NULL")
              .. ", doc VARCHAR(64))")
      db:exec(pg and "SET TimeZone = 'UTC'" or "SET time_zone = '+00:00'")
      for i = 1, 10 do db:exec("INSERT INTO stamps (id, at) VALUES (?, '2026-01-01 00:00:00')", i) end
      local dir = testing.script_dir({
        ["v1.lua"] = ([[return { version = "1.0.0", description = "in another time zone",
          up = function(db) db:exec("%s") end,
          convert = function(db)
            db:rewrite{ table = "stamps", key = "id", columns = { "doc" }, read = { "at" }, batch = 3,
                        map = function(r) return { doc = tostring(r.at) } end }
          end }]]):format(pg and "SET TimeZone = 'Asia/Karachi'" or "SET time_zone = '+05:00'"),
      })
      local res = testing.migrate(db, { scripts = dir })
      assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
      local n = 0
      for r in db:query("SELECT id, doc FROM stamps ORDER BY id") do
        n = n + 1
        assert.matches("^2026%-01%-01 05:00:00", r.doc, 1, false, "row " .. r.id)
      end
      assert.are.equal(10, n)
    end)
  end

  if testing.engine() ~= "sqlite" then
    it("reads on one connection once map has written, which the second one cannot see", function()
      fill(10)
      require("migrate.history").ensure(db)
      local dir = testing.script_dir({
        ["v1.lua"] = [[return { version = "1.0.0", description = "map writes ahead",
          up = function() end,
          convert = function(db)
            db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 3,
              map = function(r)
                if r.id == 3 then db:exec("UPDATE jobs SET doc = 'changed' WHERE id = 21") end
                return { doc = tostring(r.doc) .. "+" }
              end }
          end }]],
      })
      local res = testing.migrate(db, { scripts = dir })
      assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
      assert.are.equal("changed+", db:scalar("SELECT doc FROM jobs WHERE id = 21"))
      assert.are.equal("a8+", db:scalar("SELECT doc FROM jobs WHERE id = 24"))
    end)
  end

  if testing.engine() == "mysql" then
    it("writes MySQL batches as upserts only where nothing can tell, and never brings a row back", function()
      fill(10)
      require("migrate.history").ensure(db)
      -- tables where the INSERT half of an upsert would fail or do more
      db:exec("CREATE TABLE strict_jobs (id INTEGER PRIMARY KEY, doc VARCHAR(200), must INTEGER NOT NULL)")
      db:exec("CREATE TABLE named_jobs (id INTEGER PRIMARY KEY, doc VARCHAR(200), name VARCHAR(20) UNIQUE)")
      db:exec("CREATE TABLE watched_jobs (id INTEGER PRIMARY KEY, doc VARCHAR(200))")
      db:exec("CREATE TABLE inserts_seen (n INTEGER)")
      db:exec("CREATE TRIGGER watched_insert BEFORE INSERT ON watched_jobs FOR EACH ROW INSERT INTO inserts_seen VALUES (1)")
      for i = 1, 7 do
        db:exec("INSERT INTO strict_jobs VALUES (?, ?, ?)", i, "s" .. i, i)
        db:exec("INSERT INTO named_jobs VALUES (?, ?, ?)", i, "n" .. i, "name" .. i)
        db:exec("INSERT INTO watched_jobs VALUES (?, ?)", i, "w" .. i)
      end
      db:exec("DELETE FROM inserts_seen")
      -- MariaDB checks a JSON column with json_valid: an upsert checks it too
      db:exec("CREATE TABLE json_jobs (id INTEGER PRIMARY KEY, doc JSON)")
      for i = 1, 4 do db:exec("INSERT INTO json_jobs VALUES (?, ?)", i, '{"a": 1}') end
      local dir = testing.script_dir({
        ["v1.lua"] = [[return { version = "1.0.0", description = "upserts",
          up = function() end,
          convert = function(db)
            local st = db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 3,
              map = function(r)
                -- gone before its batch is written: the batch is an UPDATE
                if r.id == 3 then db:exec("DELETE FROM jobs WHERE id = 6") end
                return { doc = "u" .. r.id }
              end }
            assert(st.write == "upsert", "jobs: " .. st.write)
            st = db:rewrite{ table = "json_jobs", key = "id", columns = { "doc" }, batch = 3,
                             map = function(r) return { doc = '{"alpha": ' .. r.id .. '}' } end }
            assert(st.write == "upsert", "json_jobs: " .. st.write)
            for _, t in ipairs({ "strict_jobs", "named_jobs", "watched_jobs" }) do
              st = db:rewrite{ table = t, key = "id", columns = { "doc" }, batch = 3,
                               map = function(r) return { doc = "u" .. r.id } end }
              assert(st.write == "update", t .. ": " .. st.write)
              assert(st.written == 7, t .. ": " .. st.written)
            end
          end }]],
      })
      local res = testing.migrate(db, { scripts = dir })
      assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
      local got = rows()
      assert.are.equal(9, #got)
      assert.are.equal("3|u3|1", got[1])
      assert.are.equal("9|u9|3", got[2]) -- 6 stays deleted
      assert.are.equal("30|u30|10", got[9])
      for _, t in ipairs({ "strict_jobs", "named_jobs", "watched_jobs" }) do
        assert.are.equal("u1,u2,u3,u4,u5,u6,u7", db:scalar("SELECT GROUP_CONCAT(doc ORDER BY id) FROM " .. t))
      end
      assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM inserts_seen"))))
      assert.are.equal('{"alpha": 4}', db:scalar("SELECT doc FROM json_jobs WHERE id = 4"))
      -- the step log counts rows, not the upsert's 2 for each
      assert.are.equal(9 + 1 + 4 + 21, math.tointeger(tonumber(db:scalar(
        "SELECT rows_touched FROM n9e_migrate_steps WHERE version = '1.0.0' AND step = 'convert'"))))
    end)
  end

  if testing.engine() == "postgres" then
    it("reads ahead in the version's session settings, and not behind the version's own lock", function()
      fill(10)
      require("migrate.history").ensure(db)
      db:exec("DROP SCHEMA IF EXISTS n9e_other CASCADE")
      db:exec("CREATE SCHEMA n9e_other")
      db:exec("CREATE TABLE n9e_other.jobs (id INTEGER PRIMARY KEY, doc VARCHAR(200), n INTEGER)")
      for i = 1, 10 do db:exec("INSERT INTO n9e_other.jobs VALUES (?, ?, ?)", i * 3, "other" .. i, i) end
      -- a version whose up runs up_sql, then rewrites jobs.doc to
      -- prefix .. doc, and checks the sessions seen in the middle
      local function version(v, description, up_sql, prefix, sessions)
        return ([[return { version = %q, description = %q,
          up = function(db) db:exec(%q) end,
          convert = function(db)
            local seen = 0
            db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 3,
                        map = function(r)
                          if r.id == 15 then seen = ]] .. SESSIONS .. [[ end
                          return { doc = %q .. r.doc }
                        end }
            assert(seen == %d, %q .. seen)
          end }]]):format(v, description, up_sql, prefix, sessions, description .. ": sessions ")
      end
      local dir = testing.script_dir({
        -- the second connection must read n9e_other.jobs too
        ["v1.lua"] = version("1.0.0", "another schema first", "SET search_path TO n9e_other, public", "v1-", 2),
        -- its reads would wait for this lock until they gave up
        ["v2.lua"] = version("1.1.0", "locked", "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE", "v2-", 1),
      })
      local warned = 0
      log.sink = function(rec) if rec.event == "convert.read_ahead" then warned = warned + 1 end end
      local res = testing.migrate(db, { scripts = dir })
      log.sink = nil
      assert.are.equal(0, res.exit, res.message or (res.failed and res.failed.message))
      assert.are.equal(0, warned)
      local i = 0
      for r in db:query("SELECT id, doc FROM n9e_other.jobs ORDER BY id") do
        i = i + 1
        assert.are.equal(("%d|v2-v1-other%d"):format(i * 3, i), r.id .. "|" .. r.doc)
      end
      assert.are.equal(10, i)
      assert.are.equal("a1", db:scalar("SELECT doc FROM public.jobs WHERE id = 3"))
      db:exec("DROP SCHEMA n9e_other CASCADE")
    end)
  end

  if testing.engine() ~= "sqlite" then
    it("fails a version with the write the server refused, though the next one was on its way", function()
      fill(12)
      require("migrate.history").ensure(db)
      local dir = testing.script_dir({
        ["v1.lua"] = [[return { version = "1.0.0", description = "rewrite, one row too long",
          up = function() end,
          convert = function(db)
            db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 2,
                        map = function(r) return { doc = r.n == 5 and ("x"):rep(300) or ("v1-" .. r.n) } end }
          end }]],
      })
      local res = testing.migrate(db, { scripts = dir })
      assert.are.equal(1, res.exit, res.message)
      -- the refused write's own error (too long for VARCHAR(200)), not that of
      -- the write behind it in the failed transaction (25P02 on PostgreSQL)
      assert.matches("SQLSTATE 22001", res.failed.message, 1, true)
      assert.matches("UPDATE", res.failed.message, 1, true)
      local got = rows()
      assert.are.equal(12, #got)
      for i, line in ipairs(got) do
        assert.are.equal(("%d|%s|%d"):format(i * 3, i % 7 == 0 and "nil" or ("a" .. i), i), line)
      end
    end)
  end

  it("runs in a script's convert step, and a failing version undoes the rewrite", function()
    fill(9)
    require("migrate.history").ensure(db) -- a managed database: its tables are not adopted
    local dir = testing.script_dir({
      ["v1.lua"] = [[return { version = "1.0.0", description = "rewrite",
        up = function() end,
        convert = function(db)
          db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 2,
                      map = function(r) return { doc = "v1-" .. r.n } end }
        end }]],
      ["v2.lua"] = [[return { version = "1.1.0", description = "rewrite, then fail",
        up = function() end,
        convert = function(db)
          db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, read = { "n" }, batch = 2,
                      map = function(r) return { doc = "v2-" .. r.n } end }
          error("stop here")
        end }]],
    })
    local res = testing.migrate(db, { scripts = dir })
    assert.are.equal(1, res.exit, res.message)
    assert.are.equal("1.0.0", res.current, res.failed and res.failed.message)
    -- the run stopped early: the schema is recorded for the version that made it
    assert.are.equal("1.0.0", db:scalar("SELECT version FROM n9e_migrate_schema"))
    local got = rows()
    assert.are.equal(9, #got)
    for i, line in ipairs(got) do assert.are.equal(("%d|v1-%d|%d"):format(i * 3, i, i), line) end
  end)
end)
