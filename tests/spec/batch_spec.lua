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
    assert.are.same({ read = 25, written = 22, batches = 7 }, stats)
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
    assert.are.same({ read = 0, written = 0, batches = 1 }, stats)
    fill(3)
    stats = db:rewrite{ table = "jobs", key = "id", columns = { "doc" }, batch = 1000000000,
                        map = function(r) return { doc = "x" .. r.id } end }
    assert.are.same({ read = 3, written = 3, batches = 1 }, stats)
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
    -- the sessions on this database while the map runs: 2 on MySQL while
    -- a second connection reads ahead, which it may only do until the
    -- version's transaction has written something
    local SESSIONS = [[db.dialect == "mysql" and tonumber(db:scalar(
      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()")) or 0]]
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
          assert(seen == (db.dialect == "mysql" and 2 or 0), "sessions while reading ahead: " .. seen)
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
          assert(seen == (db.dialect == "mysql" and 1 or 0), "sessions after a write: " .. seen)
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
