-- The db object, on the engine named by $N9E_TEST_ENGINE (sqlite by
-- default; ctest runs it on every engine).
local dbmod = require("migrate.db")
local testing = require("migrate.testing")
local csb = require("n9e.sandbox")

local ENGINE = testing.engine()
local DDL = {
  sqlite = "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(100), n INTEGER, f REAL, b BLOB)",
  postgres = "CREATE TABLE t (id SERIAL PRIMARY KEY, name VARCHAR(100), n INTEGER, f DOUBLE PRECISION, b BYTEA)",
  mysql = "CREATE TABLE t (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), n INTEGER, f DOUBLE, b BLOB)",
}
local NO_TABLE = { sqlite = "no such table: nope", postgres = 'relation "nope" does not exist',
                   mysql = "Table '[%w_]+%.nope' doesn't exist" }
local READ_ONLY = { sqlite = "readonly", postgres = "read%-only transaction", mysql = "READ ONLY" }
local SERIES = { -- 1..N as x, without a table
  sqlite = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT x FROM c",
  postgres = "SELECT x FROM generate_series(1, %d) AS g(x)",
  mysql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT x FROM c",
}

describe("db object (" .. ENGINE .. ")", function()
  local db
  before_each(function()
    db = testing.db()
    db:exec(DDL[ENGINE])
  end)
  after_each(function() getmetatable(db).__close(db) end)

  it("exposes the dialect as a field", function()
    assert.are.equal(ENGINE, db.dialect)
  end)

  it("binds every value instead of pasting it into SQL", function()
    local evil = "x'); DROP TABLE t; --"
    -- Lua strings bind as text; PostgreSQL refuses a NUL byte in text and
    -- reads text into bytea as escape syntax, so the blob is plain there
    local blob = ENGINE == "postgres" and "bin" or "\0bin"
    assert.are.equal(1, db:exec("INSERT INTO t (name, n, f, b) VALUES (?, ?, ?, ?)", evil, 42, 1.5, blob))
    local row = db:first("SELECT name, n, f, b FROM t WHERE name = ?", evil)
    assert.are.equal(evil, row.name)
    assert.are.equal(42, row.n)
    assert.are.equal(1.5, row.f)
    assert.are.equal(blob, row.b)
    assert.is_true(math.type(row.n) == "integer")
  end)

  it("binds nil and db.null as NULL, booleans as the engine's booleans", function()
    -- PostgreSQL has a real boolean type: it does not go into an integer
    local yes, no = true, false
    if ENGINE == "postgres" then yes, no = 1, 0 end
    db:exec("INSERT INTO t (name, n) VALUES (?, ?)", nil, yes)
    db:exec("INSERT INTO t (name, n) VALUES (?, ?)", dbmod.null, no)
    assert.are.equal(2, db:scalar("SELECT count(*) FROM t WHERE name IS NULL"))
    assert.are.equal(1, tonumber(db:scalar("SELECT sum(n) FROM t")))
    if ENGINE == "postgres" then
      assert.are.equal(true, db:scalar("SELECT ? = true", true))
    end
  end)

  it("counts rows affected", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    assert.are.equal(3, db:exec("UPDATE t SET name = 'x' WHERE n > ?", 2))
  end)

  it("reads a bounded result whole with db:rows", function()
    for i = 1, 3 do db:exec("INSERT INTO t (n, name) VALUES (?, ?)", i, "r" .. i) end
    local rows = db:rows("SELECT n, name FROM t WHERE n > ? ORDER BY n", 1)
    assert.are.same({ { n = 2, name = "r2" }, { n = 3, name = "r3" } }, rows)
    assert.are.same({}, db:rows("SELECT n FROM t WHERE n > 100"))
    -- nothing stays open: writes go on at once
    for _, r in ipairs(rows) do db:exec("UPDATE t SET n = n * 10 WHERE n = ?", r.n) end
    assert.are.equal(51, math.tointeger(tonumber(db:scalar("SELECT SUM(n) FROM t"))))
    local ok, err = pcall(db.rows, db, "SELECT * FROM nope")
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches(NO_TABLE[ENGINE], err.message)
  end)

  it("runs a statement in two halves: exec_send, then exec_wait for its count", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    db:begin()
    db:exec_send("UPDATE t SET name = ? WHERE n > ?", "sent", 2)
    assert.are.equal(3, db:exec_wait())
    assert.has_error(function() db:exec_wait() end, "exec_wait: no statement was sent with exec_send")
    -- the next call waits for a statement nobody waited for; exec_wait
    -- then still gets its count
    db:exec_send("UPDATE t SET n = n + 10 WHERE n = ?", 1)
    assert.are.equal(11, db:scalar("SELECT n FROM t WHERE n > 10"))
    assert.are.equal(1, db:exec_wait())
    assert.has_error(function() db:exec_wait() end, "exec_wait: no statement was sent with exec_send")
    -- a send with one still to be waited for returns that one's count
    -- (on PostgreSQL it went out behind it); the wait is the new one's
    db:exec_send("UPDATE t SET name = ? WHERE n BETWEEN ? AND ?", "one", 4, 5)
    assert.are.equal(2, db:exec_send("UPDATE t SET name = ? WHERE n = ?", "two", 5))
    assert.are.equal(1, db:exec_wait())
    assert.are.same({ { name = "one" }, { name = "two" } }, db:rows("SELECT name FROM t WHERE n IN (4, 5) ORDER BY n"))
    db:commit()
    assert.are.equal(1, db:scalar("SELECT COUNT(*) FROM t WHERE name = 'sent'"))
    -- the values stay alive until the wait, whatever the collector does
    db:exec_send("UPDATE t SET name = ? WHERE n = ?", ("v"):rep(50) .. tostring(os.clock()):sub(1, 1), 2)
    collectgarbage("collect")
    assert.are.equal(1, db:exec_wait())
    assert.are.equal(51, #db:scalar("SELECT name FROM t WHERE n = 2"))
  end)

  it("reads in two halves: rows_send, then rows_wait for the rows", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n, name) VALUES (?, ?)", i, "r" .. i) end
    db:begin()
    -- the same text twice: prepared at its second sighting on PostgreSQL
    for _ = 1, 3 do
      db:rows_send("SELECT n, name FROM t WHERE n > ? ORDER BY n", 3)
      assert.are.same({ { n = 4, name = "r4" }, { n = 5, name = "r5" } }, db:rows_wait())
    end
    assert.has_error(function() db:rows_wait() end, "rows_wait: no query was sent with rows_send")
    db:rows_send("SELECT n FROM t WHERE n > ?", 100)
    assert.has_error(function() db:exec_wait() end, "exec_wait: no statement was sent with exec_send")
    assert.are.same({}, db:rows_wait())
    -- a call in between finishes the query first; the wait still gets its rows
    db:rows_send("SELECT n FROM t WHERE n = ?", 1)
    assert.are.equal(5, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM t"))))
    assert.are.same({ { n = 1 } }, db:rows_wait())
    -- rows nobody waits for are dropped by the next send
    db:rows_send("SELECT n FROM t WHERE n = ?", 2)
    db:scalar("SELECT 1")
    db:exec_send("UPDATE t SET name = ? WHERE n = ?", "x", 2)
    assert.has_error(function() db:rows_wait() end, "rows_wait: no query was sent with rows_send")
    assert.are.equal(1, db:exec_wait())
    db:commit()
    -- a failure comes with rows_wait (or at the send, where the query runs there), with its SQL
    local ok, err = pcall(function()
      db:rows_send("SELECT * FROM nope WHERE n = ?", 1)
      return db:rows_wait()
    end)
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches(NO_TABLE[ENGINE], err.message)
    assert.matches("SELECT * FROM nope", err.sql, 1, true)
    assert.are.equal(5, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM t"))))
  end)

  if ENGINE == "postgres" then
    it("rows_send takes a WITH that writes and reads at once, prepared from its second sighting", function()
      for i = 1, 6 do db:exec("INSERT INTO t (n, name) VALUES (?, ?)", i, "r" .. i) end
      db:begin()
      for k = 1, 3 do
        db:rows_send("WITH w AS (UPDATE t SET name = ? WHERE n = ?) SELECT n FROM t WHERE n > ? ORDER BY n",
                     "w" .. k, k, 4)
        assert.are.same({ { n = 5 }, { n = 6 } }, db:rows_wait())
      end
      db:commit()
      assert.are.same({ { name = "w1" }, { name = "w2" }, { name = "w3" } },
                      db:rows("SELECT name FROM t WHERE n <= 3 ORDER BY n"))
    end)
  end

  if ENGINE ~= "sqlite" then
    it("open_reader: a second, read-only connection to the same target", function()
      db:exec("INSERT INTO t (n, name) VALUES (?, ?)", 1, "one")
      local r = db:open_reader()
      assert.are.same({ { name = "one" } }, r:rows("SELECT name FROM t WHERE n = ?", 1))
      assert.are_not.equal(db:scalar(ENGINE == "postgres" and "SELECT pg_backend_pid()" or "SELECT CONNECTION_ID()"),
                           r:scalar(ENGINE == "postgres" and "SELECT pg_backend_pid()" or "SELECT CONNECTION_ID()"))
      assert.has_error(function() r:exec("INSERT INTO t (n) VALUES (?)", 2) end)
      -- it sees committed rows only
      db:begin()
      db:exec("INSERT INTO t (n, name) VALUES (?, ?)", 3, "three")
      assert.are.same({}, r:rows("SELECT name FROM t WHERE n = ?", 3))
      db:commit()
      assert.are.same({ { name = "three" } }, r:rows("SELECT name FROM t WHERE n = ?", 3))
      assert.is_false(tostring(r):find(os.getenv("N9E_TEST_PASSWORD") or "\0", 1, true) ~= nil)
      r:close()
      assert.has_error(function() r:rows("SELECT 1") end)
    end)
  end

  it("runs a batch of statements in order, transaction control included (one round trip on PostgreSQL)", function()
    db:begin()
    -- the same INSERT three times: prepared from its second sighting on PostgreSQL
    db:exec_batch({ { "INSERT INTO t (n, name) VALUES (?, ?)", 1, "a" },
                    { "INSERT INTO t (n, name) VALUES (?, ?)", 2, nil, n = 3 },
                    { "INSERT INTO t (n, name) VALUES (?, ?)", 3, "c" },
                    { "UPDATE t SET name = ? WHERE n = ?", "b", 2 },
                    { "COMMIT" }, { "BEGIN" } })
    assert.is_true(db:in_transaction())
    db:exec_batch({ { "INSERT INTO t (n, name) VALUES (?, ?)", 4, "d" }, { "COMMIT" } })
    assert.is_false(db:in_transaction())
    local names = {}
    for r in db:query("SELECT name FROM t ORDER BY n") do names[#names + 1] = r.name end
    assert.are.same({ "a", "b", "c", "d" }, names)
    -- a failure stops the rest and names its statement; the transaction is left to the caller
    db:exec("INSERT INTO t (id, n) VALUES (100, 9)")
    db:begin()
    local ok, err = pcall(db.exec_batch, db, { { "INSERT INTO t (n, name) VALUES (?, ?)", 5, "e" },
                                               { "INSERT INTO t (id, n) VALUES (?, ?)", 100, 9 },
                                               { "INSERT INTO t (n, name) VALUES (?, ?)", 6, "f" },
                                               { "COMMIT" } })
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches("INSERT INTO t %(id, n%)", err.sql)
    assert.is_true(db:in_transaction())
    db:rollback()
    assert.are.equal(5, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM t"))))
    -- the statement cache survives a failed batch: the same INSERT runs again
    db:exec_batch({ { "INSERT INTO t (n, name) VALUES (?, ?)", 7, "g" } })
    assert.are.equal(1, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM t WHERE name = 'g'"))))
    assert.has_error(function() db:exec_batch({}) end)
    assert.has_error(function() db:exec_batch({ { "SELECT ?" } }) end)
  end)

  it("sends a deferred batch in front of the next exec (one round trip on PostgreSQL), or of any other call",
     function()
    db:begin()
    db:exec_batch_deferred({ { "INSERT INTO t (n, name) VALUES (?, ?)", 1, "a" }, { "COMMIT" }, { "BEGIN" } },
                           "the records of x")
    assert.are.equal(1, db:exec("UPDATE t SET name = ? WHERE n = ?", "b", 1)) -- its own count
    db:rollback() -- undoes the UPDATE only: the INSERT was committed in front of it
    assert.are.equal("a", db:scalar("SELECT name FROM t WHERE n = 1"))
    db:begin()
    db:exec_batch_deferred({ { "INSERT INTO t (n, name) VALUES (?, ?)", 2, "c" }, { "COMMIT" } }, "the records of y")
    assert.are.equal("c", db:scalar("SELECT name FROM t WHERE n = 2"))
    assert.is_false(db:in_transaction())
    -- a statement refused before anything is sent (a placeholder without
    -- its value): the batch in front of it is not lost
    db:begin()
    db:exec_batch_deferred({ { "INSERT INTO t (n, name) VALUES (?, ?)", 4, "kept" }, { "COMMIT" } }, "the records of w")
    assert.has_error(function() db:exec("INSERT INTO t (n, name) VALUES (?, ?)", 5) end)
    assert.are.equal("kept", db:scalar("SELECT name FROM t WHERE n = 4"))
    assert.is_false(db:in_transaction())
    -- its failure raises with its label; the statement behind it never
    -- runs, and every call after raises it again, until unlock
    db:exec("INSERT INTO t (id, n) VALUES (100, 9)")
    db:begin()
    db:exec_batch_deferred({ { "INSERT INTO t (id, n) VALUES (?, ?)", 100, 9 }, { "COMMIT" } }, "the records of z")
    local ok, err = pcall(db.exec, db, "INSERT INTO t (n, name) VALUES (?, ?)", 3, "never")
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches("^the records of z: ", err.message)
    assert.matches("INSERT INTO t %(id, n%)", err.sql)
    assert.is_true(err.deferred)
    local again = select(2, pcall(db.scalar, db, "SELECT 1"))
    assert.are.equal(err.message, again.message)
    again = select(2, pcall(db.rollback, db))
    assert.are.equal(err.message, again.message)
    db:unlock("n9e-test-never-taken")
    if db:in_transaction() then db:rollback() end
    assert.are.equal(0, math.tointeger(tonumber(db:scalar("SELECT COUNT(*) FROM t WHERE name = 'never'"))))
    assert.has_error(function() db:exec_batch_deferred({}, "empty") end)
  end)

  it("reports a sent statement's failure at the wait, or at the next call, and rolls back past it", function()
    db:exec("INSERT INTO t (id, n) VALUES (1, 1)")
    db:begin()
    local ok, err
    -- SQLite and MySQL run it at the send; PostgreSQL reports at the wait
    ok, err = pcall(function()
      db:exec_send("INSERT INTO t (id, n) VALUES (?, 2)", 1)
      return db:exec_wait()
    end)
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches("INSERT INTO t %(id, n%)", err.sql)
    db:rollback()
    if ENGINE == "postgres" then
      db:begin()
      db:exec_send("INSERT INTO t (id, n) VALUES (?, 3)", 1)
      ok, err = pcall(db.scalar, db, "SELECT COUNT(*) FROM t")
      assert.is_false(ok)
      assert.matches("INSERT INTO t %(id, n%)", err.sql) -- the sent statement's error, not the SELECT's
      db:rollback()
      db:begin()
      db:savepoint("s")
      db:exec_send("UPDATE t SET n = ?", 4)
      db:rollback_to("s") -- waits for what was sent, then undoes it
      assert.are.equal(1, db:scalar("SELECT n FROM t"))
      db:rollback()
    end
    assert.are.equal(1, db:scalar("SELECT COUNT(*) FROM t"))
    -- the failure of the one ahead comes with the send behind it, which
    -- is dropped: nothing is left to wait for, and the rollback undoes both
    db:begin()
    db:exec("UPDATE t SET n = 5")
    ok, err = pcall(function()
      db:exec_send("INSERT INTO t (id, n) VALUES (?, 6)", 1)
      db:exec_send("UPDATE t SET n = ?", 7)
    end)
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches("INSERT INTO t %(id, n%)", err.sql)
    assert.are_not.equal("25P02", err.sqlstate)
    assert.has_error(function() db:exec_wait() end, "exec_wait: no statement was sent with exec_send")
    db:rollback()
    assert.are.same({ { n = 1 } }, db:rows("SELECT n FROM t"))
    assert.has_error(function() db:exec_send("INSERT INTO t (n) VALUES (?)") end)
    db:begin()
    ok, err = pcall(function() db:exec_send("COMMIT"); return db:exec_wait() end)
    assert.is_false(ok)
    assert.matches("ended the runner's transaction", err.message)
  end)

  it("raises a structured error with message, sql and a readable text", function()
    local ok, err = pcall(db.exec, db, "INSERT INTO nope VALUES (?)", 1)
    assert.is_false(ok)
    assert.is_true(dbmod.is_error(err))
    assert.matches(NO_TABLE[ENGINE], err.message)
    assert.are.equal(ENGINE, err.dialect)
    assert.matches("INSERT INTO nope", err.sql)
    assert.matches(NO_TABLE[ENGINE] .. ".* in: INSERT INTO nope", tostring(err))
    if ENGINE ~= "sqlite" then assert.are.equal(5, #err.sqlstate) end
  end)

  it("refuses a parameter count mismatch and a second statement", function()
    local ok, err = pcall(db.exec, db, "INSERT INTO t (n) VALUES (?)")
    assert.is_false(ok)
    assert.matches("placeholder", err.message)
    ok, err = pcall(db.exec, db, "SELECT 1; DROP TABLE t")
    assert.is_false(ok)
    assert.matches("exec_script", err.message)
    assert.is_true(db:table_exists("t"))
  end)

  it("refuses to bind a table, naming the caller's argument", function()
    local conn = db.open()
    local ok, err = pcall(conn.exec, conn, "SELECT ?, ?", 1, {})
    conn:close()
    assert.is_false(ok)
    assert.matches("bad argument #4 .*cannot bind a table value", err)
  end)

  it("reports no rows affected for statements that change nothing", function()
    for i = 1, 5 do db:exec("INSERT INTO t (n) VALUES (?)", i) end
    assert.are.equal(5, db:exec("UPDATE t SET n = n + 1"))
    assert.are.equal(0, db:exec("CREATE TABLE v (x INTEGER)"))
    assert.are.equal(0, db:exec("UPDATE t SET n = n WHERE n > 100"))
  end)

  it("accepts a trailing comment after the one statement", function()
    assert.are.equal(1, db:exec("INSERT INTO t (n) VALUES (?); -- why: seed", 1))
    assert.are.equal(1, db:exec("INSERT INTO t (n) VALUES (?) /* note */ ;", 2))
  end)

  it("streams a query and allows exec inside the loop", function()
    db:exec("CREATE TABLE u (n INTEGER)")
    db:exec("INSERT INTO t (n) " .. SERIES[ENGINE]:format(1000))
    local seen = 0
    for row in db:query("SELECT n FROM t ORDER BY n") do
      seen = seen + 1
      db:exec("INSERT INTO u (n) VALUES (?)", row.n * 2)
    end
    assert.are.equal(1000, seen)
    assert.are.equal(1001000, tonumber(db:scalar("SELECT sum(n) FROM u")))
  end)

  it("keeps memory flat while streaming 1,000,000 rows", function()
    local sql = ("SELECT x, %s AS p FROM (%s) AS s"):format(
      ENGINE == "mysql" and "CONCAT('payload-', x)" or "'payload-' || x", SERIES[ENGINE]:format(1000000))
    if ENGINE == "mysql" then -- recursion is capped at 1000 by default
      pcall(db.exec, db, "SET SESSION max_recursive_iterations = 2000000") -- MariaDB
      pcall(db.exec, db, "SET SESSION cte_max_recursion_depth = 2000000") -- MySQL 8
    end
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
    local other = db.open()
    other:close()
    assert.has_error(function() other:exec("SELECT 1") end, "attempt to use a closed connection")
    assert.are.equal("db (closed)", tostring(other))
    assert.is_false(other:close())
    assert.is_truthy(conn)
  end)

  it("closing a connection closes its open cursors first", function()
    local other = db.open()
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
    local q = ENGINE == "mysql" and "`" or '"'
    local name = "a" .. q .. "b"
    assert.are.equal(q .. "a" .. q .. q .. "b" .. q, db:quote_ident(name))
    db:exec("CREATE TABLE " .. db:quote_ident(name) .. " (x INTEGER)")
    assert.is_true(db:table_exists(name))
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

  it("checksums chosen columns independent of row order, sensitive to every value", function()
    db:exec("CREATE TABLE u (id INTEGER, name VARCHAR(100), n INTEGER)")
    local rows = { { 1, "a", 10 }, { 2, "b", nil }, { 3, "", 30 }, { 4, "d", 40 } }
    for _, r in ipairs(rows) do db:exec("INSERT INTO t (name, n) VALUES (?, ?)", r[2], r[3]) end
    for i = #rows, 1, -1 do db:exec("INSERT INTO u (id, name, n) VALUES (?, ?, ?)", i, rows[i][2], rows[i][3]) end
    local a, b = db:checksum("t", { "name", "n" }), db:checksum("u", { "name", "n" })
    assert.are.equal(4, a.rows)
    assert.matches("^%x+$", a.sum)
    assert.are.same(a, b)
    db:exec("UPDATE u SET n = 31 WHERE name = ''")
    assert.are_not.same(a, db:checksum("u", { "name", "n" }))
    db:exec("UPDATE u SET n = 30 WHERE name = ''")
    assert.are.same(a, db:checksum("u", { "name", "n" }))
    db:exec("UPDATE u SET name = NULL WHERE name = ''") -- NULL is not ''
    assert.are_not.same(a, db:checksum("u", { "name", "n" }))
    assert.are.equal(2, db:checksum("u", { "n" }, "n > ?", 20).rows)
  end)

  it("describes the schema the same way on every engine (db:schema, db:assert_schema)", function()
    db:exec("CREATE TABLE s (id BIGINT NOT NULL PRIMARY KEY, a INTEGER DEFAULT 0, "
            .. "b VARCHAR(64) NOT NULL DEFAULT 'x', c TEXT, f DECIMAL(10,2), g CHAR(3), e SMALLINT)")
    db:exec("CREATE INDEX i_b ON s (b, a)")
    local d = db:schema().s
    assert.are.same({ type = "bigint", notnull = true, pk = true }, d.columns.id)
    assert.are.same({ type = "int", notnull = false, default = "0", pk = false }, d.columns.a)
    assert.are.same({ type = "varchar(64)", notnull = true, default = "x", pk = false }, d.columns.b)
    assert.are.equal("text", d.columns.c.type)
    assert.are.equal("decimal(10,2)", d.columns.f.type)
    assert.are.equal("char(3)", d.columns.g.type)
    assert.are.equal("smallint", d.columns.e.type)
    assert.are.same({ unique = false, columns = { "b", "a" } }, d.indexes.i_b)
    assert.is_true(db:assert_schema({ s = { columns = { b = "varchar(64)", c = true }, indexes = { i_b = { "b", "a" } } } }))
    local ok, err = pcall(db.assert_schema, db, { s = { columns = { b = "text", zz = true }, indexes = { i_b = { "a" } } },
                                                 nope = {} })
    assert.is_false(ok)
    assert.matches("column s.b is varchar(64), expected text", err, 1, true)
    assert.matches("column s.zz is missing", err, 1, true)
    assert.matches("index i_b on s covers (b,a), expected (a)", err, 1, true)
    assert.matches("table nope is missing", err, 1, true)
  end)

  it("read-only mode refuses writes", function()
    db:set_read_only(true)
    local ok, err = pcall(db.exec, db, "INSERT INTO t (n) VALUES (1)")
    db:set_read_only(false)
    assert.is_false(ok)
    assert.matches(READ_ONLY[ENGINE], err.message)
  end)
end)
