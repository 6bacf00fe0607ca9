local dbmod = require("migrate.db")
local testing = require("migrate.testing")
local csb = require("n9e.sandbox")

describe("db object (SQLite)", function()
  local db
  before_each(function()
    db = testing.sqlite()
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, f REAL, b BLOB)")
  end)
  after_each(function() getmetatable(db).__close(db) end)

  it("exposes the dialect as a field", function()
    assert.are.equal("sqlite", db.dialect)
  end)

  it("binds every value instead of pasting it into SQL", function()
    local evil = "x'); DROP TABLE t; --"
    assert.are.equal(1, db:exec("INSERT INTO t (name, n, f, b) VALUES (?, ?, ?, ?)", evil, 42, 1.5, "\0bin"))
    local row = db:first("SELECT name, n, f, b FROM t WHERE name = ?", evil)
    assert.are.equal(evil, row.name)
    assert.are.equal(42, row.n)
    assert.are.equal(1.5, row.f)
    assert.are.equal("\0bin", row.b)
    assert.is_true(math.type(row.n) == "integer")
  end)

  it("binds nil and db.null as NULL, booleans as integers", function()
    db:exec("INSERT INTO t (name, n) VALUES (?, ?)", nil, true)
    db:exec("INSERT INTO t (name, n) VALUES (?, ?)", dbmod.null, false)
    assert.are.equal(2, db:scalar("SELECT count(*) FROM t WHERE name IS NULL"))
    assert.are.equal(1, db:scalar("SELECT sum(n) FROM t"))
  end)

  it("counts rows affected", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    assert.are.equal(3, db:exec("UPDATE t SET name = 'x' WHERE n > ?", 2))
  end)

  it("raises a structured error with message, sql and a readable text", function()
    local ok, err = pcall(db.exec, db, "INSERT INTO nope VALUES (?)", 1)
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches("no such table: nope", err.message)
    assert.are.equal("sqlite", err.dialect)
    assert.matches("INSERT INTO nope", err.sql)
    assert.matches("no such table: nope in: INSERT INTO nope", tostring(err))
  end)

  it("refuses a parameter count mismatch and a second statement", function()
    local ok, err = pcall(db.exec, db, "INSERT INTO t (n) VALUES (?)")
    assert.is_false(ok)
    assert.matches("1 placeholder%(s%) but 0 value%(s%)", err.message)
    ok, err = pcall(db.exec, db, "SELECT 1; DROP TABLE t")
    assert.is_false(ok)
    assert.matches("exec_script", err.message)
    assert.is_true(db:table_exists("t"))
  end)

  it("refuses to bind a table, naming the caller's argument", function()
    local conn = dbmod.open("sqlite::memory:")
    local ok, err = pcall(conn.exec, conn, "SELECT ?, ?", 1, {})
    conn:close()
    assert.is_false(ok)
    assert.matches("bad argument #4 .*cannot bind a table value", err)
  end)

  it("reports no rows affected for statements that change nothing", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    assert.are.equal(5, db:exec("UPDATE t SET n = n + 1"))
    assert.are.equal(0, db:exec("SELECT count(*) FROM t"))
    assert.are.equal(0, db:exec("CREATE TABLE v (x INTEGER)"))
  end)

  it("accepts a trailing comment after the one statement", function()
    assert.are.equal(1, db:exec("INSERT INTO t (n) VALUES (?); -- why: seed", 1))
    assert.are.equal(1, db:exec("INSERT INTO t (n) VALUES (?) /* note */ ;", 2))
  end)

  it("streams a query and allows exec inside the loop", function()
    db:exec("CREATE TABLE u (n INTEGER)")
    db:exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO t (n) SELECT x FROM c")
    local seen = 0
    for row in db:query("SELECT n FROM t ORDER BY n") do
      seen = seen + 1
      db:exec("INSERT INTO u (n) VALUES (?)", row.n * 2)
    end
    assert.are.equal(1000, seen)
    assert.are.equal(1001000, db:scalar("SELECT sum(n) FROM u"))
  end)

  it("keeps memory flat while streaming 1,000,000 rows", function()
    local sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x, 'payload-' || x AS p FROM c"
    collectgarbage("collect")
    local base, peak, count = csb.memory_used(), 0, 0
    for row in db:query(sql) do
      count = count + 1
      if count % 50000 == 0 then
        local used = csb.memory_used()
        if used > peak then peak = used end
      end
      assert(row.x == count)
    end
    assert.are.equal(1000000, count)
    -- rows are garbage as soon as the loop moves on: growth stays far below
    -- what a buffered result (~100 MB of row tables) would need
    assert.is_true(peak - base < 16 * 1024 * 1024, ("grew by %d bytes"):format(peak - base))
  end)

  it("closes a cursor on break and on error (to-be-closed)", function()
    for i = 1, 3 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    local f, s, v, cursor = db:query("SELECT n FROM t")
    for _ in f, s, v, cursor do break end -- luacheck: ignore 512
    assert.are.equal("db cursor (closed)", tostring(cursor))
    local ok = pcall(function()
      for _ in db:query("SELECT n FROM t") do error("boom") end
    end)
    assert.is_false(ok)
    -- the connection is still usable: no statement left busy
    db:exec("DROP TABLE t")
  end)

  it("a closed connection raises instead of crashing", function()
    local conn = rawget(db, "conn")
    local other = dbmod.open("sqlite::memory:")
    other:close()
    assert.has_error(function() other:exec("SELECT 1") end, "attempt to use a closed connection")
    assert.are.equal("db (closed)", tostring(other))
    assert.is_false(other:close())
    assert.is_truthy(conn)
  end)

  it("closing a connection closes its open cursors first", function()
    local other = dbmod.open("sqlite::memory:")
    local f, s = other:query("SELECT 1 AS one UNION ALL SELECT 2")
    other:close()
    assert.is_nil(f(s)) -- the cursor was released with its connection
  end)

  it("db:tx commits on success and rolls back on error, nesting as savepoints", function()
    db:tx(function(h) h:exec("INSERT INTO t (n) VALUES (1)") end)
    assert.are.equal(1, db:scalar("SELECT count(*) FROM t"))
    local ok = pcall(db.tx, db, function(h)
      h:exec("INSERT INTO t (n) VALUES (2)")
      h:tx(function(h2) h2:exec("INSERT INTO t (n) VALUES (3)") end)
      error("abort")
    end)
    assert.is_false(ok)
    assert.are.equal(1, db:scalar("SELECT count(*) FROM t"))
    db:tx(function(h)
      h:exec("INSERT INTO t (n) VALUES (4)")
      pcall(h.tx, h, function(h2) h2:exec("INSERT INTO t (n) VALUES (5)"); error("inner") end)
    end)
    assert.are.same({ 1, 4 }, (function()
      local out = {}
      for r in db:query("SELECT n FROM t ORDER BY n") do out[#out + 1] = r.n end
      return out
    end)())
    assert.is_false(db:in_transaction())
  end)

  it("refuses a statement that ends the runner's transaction", function()
    db:begin()
    local ok, err = pcall(db.exec, db, "COMMIT")
    assert.is_false(ok)
    assert.matches("ended the runner's transaction", err.message)
  end)

  it("quotes identifiers through the driver", function()
    assert.are.equal('"a""b"', db:quote_ident('a"b'))
    db:exec("CREATE TABLE " .. db:quote_ident('we"ird') .. " (x INTEGER)")
    assert.is_true(db:table_exists('we"ird'))
    assert.has_error(function() db:quote_ident("") end)
  end)

  it("reads the catalog the same way for every probe", function()
    db:exec("CREATE UNIQUE INDEX idx_t_name ON t (name, n)")
    assert.is_true(db:column_exists("t", "name"))
    assert.is_false(db:column_exists("t", "nope"))
    local idx = db:indexes("t")
    assert.are.equal(1, #idx)
    assert.are.same({ name = "idx_t_name", unique = true, columns = { "name", "n" } }, idx[1])
    local cols = db:columns("t")
    assert.are.equal("id", cols[1].name)
    assert.is_true(cols[1].pk)
  end)

  it("read-only mode refuses writes", function()
    db:set_read_only(true)
    local ok, err = pcall(db.exec, db, "INSERT INTO t (n) VALUES (1)")
    db:set_read_only(false)
    assert.is_false(ok)
    assert.matches("readonly", err.message)
  end)
end)
