--- db:rewrite{...}: rewrite the rows of one table in Lua, in batches.
---
---     db:rewrite{ table = "alert_rule", key = "id", columns = { "rule_config" },
---                 where = "rule_config IS NOT NULL", batch = 2000,
---                 map = function(row) ... return { rule_config = new } end }
---
--- Rows are read by keyset pagination on `key` (an integer primary key:
--- `key > last ORDER BY key LIMIT batch`, so every batch is an index range
--- and memory stays at one batch), handed to `map`, and the changed ones
--- written back with ONE statement per batch:
---   PostgreSQL  UPDATE t SET c = v.c FROM (VALUES (...), ...) AS v(k, c) WHERE t.key = v.k
---   SQLite      the same with VALUES' column1, column2 ...
---   MySQL       INSERT INTO t (k, c) VALUES (...), ... ON DUPLICATE KEY UPDATE c = VALUES(c)
---               where that is safe (upsert_allowed, all_locked), else
---               UPDATE t JOIN (SELECT ? AS k, ? AS c UNION ALL SELECT ...) v ON t.key = v.k SET t.c = v.c
--- A full batch always has the same statement text, so the driver's
--- prepared statement is reused.  `map` returns a table of the new values
--- of `columns` (nil/false: leave the row), and may read `read` columns too.
--- Returns { read = rows read, written = rows written, batches = reads,
--- write = "upsert" | "update" }.
local json = require("migrate.json")
local log = require("migrate.log")
local progress = require("migrate.progress")

local NULL = require("n9e.db").null

local M = {}

M.DEFAULT_BATCH = 2000
M.MAX_PARAMS = 30000

local function valid_spec(db, spec)
  assert(type(spec) == "table", "db:rewrite wants a table of options")
  assert(type(spec.table) == "string", "db:rewrite: `table` (the table's name) is required")
  assert(type(spec.key) == "string", "db:rewrite: `key` (an integer primary key column) is required")
  assert(type(spec.columns) == "table" and #spec.columns > 0, "db:rewrite: `columns` (what map may change) is required")
  assert(type(spec.map) == "function", "db:rewrite: `map` (function(row) -> new values) is required")
  local batch = spec.batch or M.DEFAULT_BATCH
  assert(math.type(batch) == "integer" and batch > 0, "db:rewrite: batch must be a positive integer")
  -- SQLite binds at most 32766 parameters per statement, PostgreSQL and
  -- MySQL 65535: a batch's write stays under the smallest
  batch = math.min(batch, M.MAX_PARAMS // (#spec.columns + 1))
  local types = {}
  for _, c in ipairs(db:columns(spec.table)) do types[c.name] = c.type end
  for _, c in ipairs({ spec.key, table.unpack(spec.columns) }) do
    assert(types[c], ("db:rewrite: %s has no column %s"):format(spec.table, c))
  end
  return batch, types
end

--- A PostgreSQL type without its modifier: an explicit CAST to
--- varchar(200) cuts a longer text silently, where the assignment to the
--- column refuses it (22001); numeric(p, s) rounds either way.
local function base(t) return (t:gsub("%(%s*%d+%s*,?%s*%d*%s*%)", "")) end

--- MySQL/MariaDB write a batch fastest as an INSERT ... ON DUPLICATE KEY
--- UPDATE of its rows (a 1,000,000-row rewrite here: 7.3 s, 10.7 s with
--- the lock below, against 13 s through UPDATE ... JOIN and 10.5 to 12 s
--- for the server's own one UPDATE).
--- It inserts a row that is gone, so each batch first locks its key range
--- (lock_sql: SELECT ... FOR UPDATE, which reads the newest rows) and is
--- written that way only when every one of its rows is there: then none
--- can go before the write, and every row it meets is an existing one
--- (the lock also holds inserts into the range's gaps until the version
--- commits, as REPEATABLE READ locks a range; an IN list of the keys
--- locked only the rows but cost 4 ms a batch, against 1 ms).  And
--- only on a table where the INSERT half cannot fail or do more than the
--- UPDATE would: InnoDB, no key other than the primary key on `key`, no
--- foreign key or CHECK (but MariaDB's own json_valid(column) of a JSON
--- column, which holds for a written value as the UPDATE checks it, and
--- for a column's default), no trigger (BEFORE INSERT would fire), and
--- every column the rewrite does not write can be left out of an INSERT.
--- Where the catalog cannot say (MySQL 8 has no CHECK_CONSTRAINTS.TABLE_NAME),
--- the batches are UPDATEs.
local UPSERT_SHAPE = [[
SELECT (SELECT ENGINE FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE') AS engine,
       (SELECT COUNT(*) FROM information_schema.TRIGGERS
         WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ?) AS triggers,
       (SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS tc
         WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = ? AND tc.CONSTRAINT_TYPE <> 'PRIMARY KEY'
           AND NOT (tc.CONSTRAINT_TYPE = 'CHECK' AND EXISTS (
             SELECT 1 FROM information_schema.CHECK_CONSTRAINTS cc
              WHERE cc.CONSTRAINT_SCHEMA = tc.TABLE_SCHEMA AND cc.TABLE_NAME = tc.TABLE_NAME
                AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
                AND cc.CHECK_CLAUSE = CONCAT('json_valid(`', tc.CONSTRAINT_NAME, '`)')))) AS constraints,
       (SELECT COUNT(*) FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY') AS uniques,
       (SELECT GROUP_CONCAT(COLUMN_NAME) FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY') AS pk]]

local function upsert_allowed(db, spec)
  local t = spec.table
  local shape = db:first(UPSERT_SHAPE, t, t, t, t, t)
  if not shape or tostring(shape.engine):upper() ~= "INNODB" or tonumber(shape.triggers) ~= 0
     or tonumber(shape.constraints) ~= 0 or tonumber(shape.uniques) ~= 0 or shape.pk ~= spec.key then
    return false
  end
  local written = { [spec.key] = true }
  for _, c in ipairs(spec.columns) do written[c] = true end
  for _, c in ipairs(db:rows([[SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def,
      EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?]], t)) do
    local extra = tostring(c.extra):lower()
    local no_default = c.def == nil or c.def == NULL -- (DEFAULT NULL reads 'NULL')
    if not written[c.name] and c.nullable ~= "YES" and no_default
       and not extra:find("auto_increment", 1, true) and not extra:find("generated", 1, true) then
      return false
    end
  end
  return true
end

--- The statement that locks the key range about to be written, and lists
--- the keys there.
local function lock_sql(db, spec)
  local k = db:quote_ident(spec.key)
  return ("SELECT %s AS k FROM %s WHERE %s BETWEEN ? AND ? FOR UPDATE"):format(k, db:quote_ident(spec.table), k)
end

--- The write statement for n rows (upsert: MySQL's INSERT ... ON DUPLICATE
--- KEY UPDATE, for rows that lock_sql found).
local function write_sql(db, spec, types, n, upsert)
  local q = function(s) return db:quote_ident(s) end
  local t, k, cols = q(spec.table), q(spec.key), spec.columns
  local width = #cols + 1
  if upsert then
    local names, sets = { k }, {}
    for i, c in ipairs(cols) do
      names[#names + 1] = q(c)
      sets[i] = ("%s = VALUES(%s)"):format(q(c), q(c))
    end
    local row = "(?" .. string.rep(", ?", width - 1) .. ")"
    return ("INSERT INTO %s (%s) VALUES %s ON DUPLICATE KEY UPDATE %s"):format(
      t, table.concat(names, ", "), string.rep(row .. ", ", n - 1) .. row, table.concat(sets, ", "))
  end
  if db.dialect == "mysql" then
    local first = { "? AS " .. q("k") }
    for i = 1, #cols do first[#first + 1] = ("? AS %s"):format(q("c" .. i)) end
    local parts = { "SELECT " .. table.concat(first, ", ") }
    for _ = 2, n do parts[#parts + 1] = "SELECT ?" .. string.rep(", ?", width - 1) end
    local sets = {}
    for i, c in ipairs(cols) do sets[i] = ("t.%s = v.%s"):format(q(c), q("c" .. i)) end
    return ("UPDATE %s AS t JOIN (%s) AS v ON t.%s = v.%s SET %s"):format(
      t, table.concat(parts, " UNION ALL "), k, q("k"), table.concat(sets, ", "))
  end
  local row
  if db.dialect == "postgres" then
    -- parameters arrive untyped: cast each to its column's type, without
    -- the type's modifier (base_type)
    local cells = { ("CAST(? AS %s)"):format(base(types[spec.key])) }
    for _, c in ipairs(cols) do cells[#cells + 1] = ("CAST(? AS %s)"):format(base(types[c])) end
    row = "(" .. table.concat(cells, ", ") .. ")"
  else
    row = "(?" .. string.rep(", ?", width - 1) .. ")"
  end
  local rows = string.rep(row .. ", ", n - 1) .. row
  local sets, names = {}, { q("k") }
  for i, c in ipairs(cols) do
    names[#names + 1] = q("c" .. i)
    sets[i] = db.dialect == "postgres" and ("%s = v.%s"):format(q(c), q("c" .. i))
      or ("%s = v.column%d"):format(q(c), i + 1)
  end
  if db.dialect == "postgres" then
    -- the key range of the batch (the two last parameters) keeps the join
    -- on the primary key index; without it the planner hashes the VALUES
    -- and scans the whole table once per batch
    return ("UPDATE %s AS t SET %s FROM (VALUES %s) AS v(%s) WHERE t.%s = v.%s AND t.%s BETWEEN %s AND %s"):format(
      t, table.concat(sets, ", "), rows, table.concat(names, ", "), k, q("k"), k,
      ("CAST(? AS %s)"):format(base(types[spec.key])), ("CAST(? AS %s)"):format(base(types[spec.key])))
  end
  return ("UPDATE %s SET %s FROM (VALUES %s) AS v WHERE %s.%s = v.column1"):format(
    t, table.concat(sets, ", "), rows, t, k)
end

--- The session settings a second connection copies from the first, so a
--- read there resolves the same tables and renders values the same way
--- (a version may have run SET search_path or SET TimeZone before its
--- rewrite), statement_timeout among them.  Those of the transaction, the
--- reader's own lock_timeout and the role (whose privileges are checked on
--- the first connection) are left.
local PG_SESSION_SETTINGS = [[
SELECT name, pg_catalog.current_setting(name) AS value FROM pg_catalog.pg_settings
 WHERE source = 'session' AND name NOT LIKE 'transaction%'
   AND name NOT IN ('default_transaction_read_only', 'lock_timeout', 'role', 'session_authorization',
                    'plan_cache_mode')]]

--- db:rewrite's second connection on db's target, for the reads ahead, or
--- nil when it must not or cannot have one.  It sees committed rows only,
--- so the caller offers it only while db's transaction has written
--- nothing; on PostgreSQL that is checked here too (no transaction id yet,
--- and no ACCESS EXCLUSIVE lock of its own that the reads would wait for).
--- Behind someone's DDL that waits for db's transaction, a read there
--- would wait for ever: it gives up after 2 s, and the rewrite reads on db.
function M.open_reader(db)
  local settings
  if db.dialect == "postgres" then
    local clean = db:scalar([[SELECT pg_catalog.txid_current_if_assigned() IS NULL AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_locks WHERE pid = pg_catalog.pg_backend_pid()
         AND locktype = 'relation' AND mode = 'AccessExclusiveLock')]])
    if not clean then return nil end
    settings = {}
    for _, r in ipairs(db:rows(PG_SESSION_SETTINGS)) do settings[r.name] = r.value end
    settings.lock_timeout = "2s"
  elseif db.dialect == "mysql" then
    settings = db:first("SELECT @@session.time_zone AS time_zone, @@session.sql_mode AS sql_mode")
  else
    return nil
  end
  local ok, reader = pcall(db.open_reader, db)
  if not ok then return nil end -- no second connection: read on this one
  local set
  if db.dialect == "postgres" then
    set = pcall(reader.exec, reader, [[SELECT pg_catalog.count(pg_catalog.set_config(key, value, false))
      FROM pg_catalog.json_each_text(CAST(? AS json))]], json.encode(settings))
  else
    set = pcall(reader.exec, reader, "SET SESSION lock_wait_timeout = 2, time_zone = ?, sql_mode = ?",
                settings.time_zone, settings.sql_mode)
  end
  if set then return reader end
  reader:close()
  return nil
end

--- Without a writer from the runner: each write runs at once.
local function direct_writer(db)
  local count
  return {
    send = function(sql, ...) count = db:exec(sql, ...) end,
    wait = function() return count end,
  }
end

--- db:rewrite(spec [, writer]).  writer = { send(sql, ...), wait([rows])
--- -> rows affected (rows: the rows the statement wrote, when the count
--- says otherwise) }: the write of batch k goes out with send, batch k+1 is mapped
--- while the server runs it, and wait collects it before the connection
--- is used again (db:exec_send/exec_wait: libpq's asynchronous send,
--- Connector/C's non-blocking API).  So the Lua work and the server's work
--- overlap instead of adding up.  With the reads on a second connection,
--- send comes while the last UPDATE is still in flight, unwaited: it
--- answers that one first, or sends behind it (db:exec_send pipelines on
--- PostgreSQL), so the server never waits for the client between two
--- writes.  Optional, to overlap the reads too:
--- send_rows(sql, ...) / wait_rows(rows written) -> rows (db:rows_send /
--- rows_wait: a statement that writes one batch and reads the next), or
--- open_reader() -> a second connection for the reads, or nil (called
--- once, before the rewrite's first write; M.open_reader makes one).
function M.rewrite(db, spec, writer)
  writer = writer or direct_writer(db)
  local batch, types = valid_spec(db, spec)
  local q = function(s) return db:quote_ident(s) end
  local read_cols = { spec.key }
  local seen = { [spec.key] = true }
  for _, list in ipairs({ spec.columns, spec.read or {} }) do
    for _, c in ipairs(list) do
      if not seen[c] then read_cols[#read_cols + 1], seen[c] = c, true end
    end
  end
  local quoted = {}
  for i, c in ipairs(read_cols) do quoted[i] = q(c) end
  local where = spec.where and (" AND (" .. spec.where .. ")") or ""
  local args = spec.args or {}
  local select_first = ("SELECT %s FROM %s WHERE 1 = 1%s ORDER BY %s LIMIT %d"):format(
    table.concat(quoted, ", "), q(spec.table), where, q(spec.key), batch)
  local select_next = ("SELECT %s FROM %s WHERE %s > ?%s ORDER BY %s LIMIT %d"):format(
    table.concat(quoted, ", "), q(spec.table), q(spec.key), where, q(spec.key), batch)
  -- the total is for the progress bar and records: a whole scan of the
  -- table (4 % of a 1,000,000-row rewrite), not made when nobody reads them
  local total = (progress.mode ~= "off" or log.wanted("info"))
    and db:scalar(("SELECT COUNT(*) FROM %s WHERE 1 = 1%s"):format(q(spec.table), where), table.unpack(args))
    or nil
  local bar = progress.start(spec.table, total and tonumber(total))
  local full_sql = {} -- the statements of a full batch, built once
  local stats = { read = 0, written = 0, batches = 0 }
  -- MySQL's upsert wants a transaction, which keeps the rows it locks
  local upsert = db.dialect == "mysql" and writer.in_transaction and writer.in_transaction()
    and select(2, pcall(upsert_allowed, db, spec)) == true
  stats.write = upsert and "upsert" or "update"
  local key, columns, ncols, map = spec.key, spec.columns, #spec.columns, spec.map
  local width = ncols + 1 -- parameters a row: the key, then columns

  -- whether every row of the batch's write is there, locked until the
  -- version ends (lock_sql); the keys come in order, as the batch was read
  local lock_statement = upsert and lock_sql(db, spec)
  local function all_locked(params, n)
    local there = {}
    for _, r in ipairs(db:rows(lock_statement, params[1], params[(n - 1) * width + 1])) do there[r.k] = true end
    for i = 1, n do
      if not there[params[(i - 1) * width + 1]] then return false end
    end
    return true
  end
  local in_flight = false

  -- the parameters of the write for one batch, and how many rows it changes
  local function mapped(list)
    local params, n, p = {}, 0, 0
    for i = 1, #list do
      local r = list[i]
      local new = map(r)
      if new then
        n = n + 1
        p = p + 1
        params[p] = r[key]
        for c = 1, ncols do
          local name = columns[c]
          local v = new[name]
          if v == nil then v = r[name] end
          p = p + 1
          params[p] = v
        end
      end
    end
    if n > 0 and db.dialect == "postgres" then
      params[p + 1], params[p + 2] = list[1][key], list[#list][key]
    end
    return params, n
  end

  -- the write in flight, if any: "rows" when the read of the next batch
  -- went with it (PostgreSQL), which then returns that batch
  local written_by_flight = 0
  local function settle()
    local kind = in_flight
    in_flight = false
    if kind == "rows" then return writer.wait_rows(written_by_flight) end
    -- an upsert counts 2 for each row it changes (MySQL): its rows are n
    if kind == "upsert" then writer.wait(written_by_flight)
    elseif kind then writer.wait() end
    return nil
  end

  -- a batch is read whole, without a server cursor (its LIMIT bounds
  -- it), so no write happens while a cursor is open
  local function read(conn, sql, ...)
    stats.batches = stats.batches + 1
    return conn:rows(sql, ...)
  end
  -- the batch after list, read on this connection
  local function read_after(list) return read(db, select_next, list[#list][key], table.unpack(args)) end

  -- How the read of the next batch overlaps the write of the last:
  --   on a second connection (writer.open_reader, PostgreSQL and MySQL),
  --     sent before the map and collected after it, so the server reads
  --     while the client maps and the write of the last batch runs: the
  --     connection that writes never waits for a read.  The runner offers
  --     it only while the version's transaction has written nothing (the
  --     second connection sees committed rows only), and it is opened once
  --     the first batch is full (a table of one batch is not worth a
  --     connection);
  --   else on PostgreSQL in the write's own statement (WITH w AS (UPDATE
  --     ...) SELECT ...: one snapshot, and the rows read are not the rows
  --     written), so the server reads while the client maps;
  --   SQLite, or neither offered: one after the other.
  local reader, with_read
  local function read_on_one(why)
    if why then
      log.warn("convert.read_ahead", "reading ahead on a second connection failed; reading on one: "
               .. tostring(why), { table = spec.table })
    end
    if reader then reader:close() end
    reader = nil
    with_read = writer.send_rows ~= nil
  end
  -- the combined statement's text is this rewrite's own, so a later
  -- version that changes the table's shape never meets it prepared
  M.rewrites = (M.rewrites or 0) + 1
  local combined_prefix = ("/* n9e rewrite %d */ WITH n9e_written AS ("):format(M.rewrites)

  -- the write of one batch; following: the batch after it, read already,
  -- when the write may read the one after that (PostgreSQL, one connection)
  local function send_write(params, n, following)
    local as_upsert = upsert and all_locked(params, n)
    local kind = as_upsert and "upsert" or "update"
    local sql
    if n == batch then
      full_sql[kind] = full_sql[kind] or write_sql(db, spec, types, batch, as_upsert)
      sql = full_sql[kind]
    else
      sql = write_sql(db, spec, types, n, as_upsert)
    end
    if with_read and following and #following == batch then
      local np = #params
      params[np + 1] = following[#following][key]
      for i = 1, #args do params[np + 1 + i] = args[i] end
      stats.batches = stats.batches + 1
      writer.send_rows(combined_prefix .. sql .. ") " .. select_next, table.unpack(params))
      in_flight, written_by_flight = "rows", n
    else
      in_flight = false -- (answered by the send, if it was still in flight)
      writer.send(sql, table.unpack(params))
      in_flight = as_upsert and "upsert" or true
      written_by_flight = n
    end
  end

  local function run()
    local list = read(db, select_first, table.unpack(args))
    if #list == batch and writer.open_reader then reader = writer.open_reader() end
    if not reader then read_on_one() end
    while #list > 0 do
      local ahead = reader and #list == batch
      if ahead then
        local ok, why = pcall(reader.rows_send, reader, select_next, list[#list][key], table.unpack(args))
        if not ok then ahead = false; read_on_one(why) end
      end
      local writes = writer.writes and writer.writes()
      local params, n = mapped(list) -- meanwhile the server writes the batch before, and reads ahead
      -- map wrote on this connection, which the other one cannot see yet:
      -- what it read ahead may be stale
      local stale = writes ~= (writer.writes and writer.writes())
      -- an UPDATE goes out behind the one in flight, whose count the send
      -- returns once it is answered: on PostgreSQL the server starts it
      -- the moment that one ends (elsewhere the send waits for it first)
      local behind = ahead and n > 0 and in_flight == true and not upsert
      local following = not behind and settle() or nil
      if ahead then
        -- the write goes first: the rows read ahead become Lua tables
        -- while the server writes
        if n > 0 then send_write(params, n) end
        local ok, got = pcall(reader.rows_wait, reader)
        if stale then
          read_on_one()
        elseif ok then
          following, stats.batches = got, stats.batches + 1
        else -- e.g. a lock wait behind someone's DDL: on with one connection
          read_on_one(got)
        end
        -- (read here, it finishes the write first, for settle)
        following = following or read_after(list)
      else
        if not following then
          following = #list == batch and read_after(list) or {}
        end
        if n > 0 then send_write(params, n, following) end
      end
      stats.read, stats.written = stats.read + #list, stats.written + n
      bar:update(stats.read)
      list = following
    end
    settle()
  end

  -- PostgreSQL plans a statement with 4,000 parameters anew at every
  -- execution (a custom plan: the casts of its VALUES are folded, each
  -- document parsed, at planning): 5 ms of a batch's 13 by the server's
  -- log.  The generic plan is planned once; for this rewrite only (a
  -- setting local to the transaction, which outside one lasts a statement).
  local restore_plan_mode
  if db.dialect == "postgres" then
    restore_plan_mode = db:scalar("SELECT current_setting('plan_cache_mode')")
    db:scalar("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")
  end

  local ok, err = pcall(run)
  if reader then pcall(reader.close, reader) end
  -- the connection must be idle for what follows (the rollback, after a
  -- failure)
  if not ok and in_flight then pcall(settle) end
  if restore_plan_mode then
    -- a map that raised leaves the transaction usable: put it back there too
    local put = pcall(db.scalar, db, "SELECT set_config('plan_cache_mode', ?, true)", restore_plan_mode)
    assert(put or not ok, "db:rewrite: could not restore plan_cache_mode")
  end
  if not ok then error(err, 0) end
  bar:finish(stats.read, stats.written)
  return stats
end

return M
