--- Atomic versions where DDL commits implicitly (MySQL/MariaDB).
---
--- No transaction can hold a MySQL version, so the runner makes every step
--- undoable before it runs and writes down how to undo it.  The journal is
--- lazy: a version that starts writes and lists nothing, and a version's
--- first journal row is the durable mark that it began to change the
--- database.
---   * each statement a script runs is classified; before it runs, one
---     journal row records the statement, the statements that undo it and
---     a probe that tells whether it took effect (for a crash mid-statement):
---       CREATE TABLE t          -> DROP TABLE IF EXISTS t; the row is written
---                                  only if no table t is there, by the same
---                                  INSERT (… SELECT … WHERE NOT EXISTS): no
---                                  probe of its own, and a row for t means
---                                  the version made t (IF NOT EXISTS on a
---                                  table that is there writes nothing)
---       RENAME TABLE a TO b     -> RENAME TABLE b TO a (if no b is there);
---                                  a table the version made: DROP TABLE IF
---                                  EXISTS b, the first row drops a
---       CREATE INDEX i ON t     -> DROP INDEX i ON t
---       ALTER TABLE t ADD c     -> ALTER TABLE t DROP COLUMN c
---       ALTER TABLE t ADD INDEX -> DROP INDEX
---       DROP TABLE t            -> run as RENAME TABLE t TO n9e_drop_…, undo renames
---                                  it back, success drops it
---       any other ALTER, and INSERT/UPDATE/DELETE/REPLACE on a table that
---       existed before the version -> a pre-image first (a full copy,
---       n9e_pre_…); undo puts the copy back in place
---     what a version does to a table it made (indexes, columns, rows)
---     needs no row: dropping the table undoes it;
---   * a table that existed before the version is described (one
---     table_snapshot row) when the version first changes it;
---   * success: with no shadow table (pre-image, dropped table), the
---     version's rows are deleted in the transaction of its history and
---     step rows, so one COMMIT ends it (a crash leaves either the history
---     and no journal, or the journal and no history); with shadow tables,
---     they are dropped after that commit, then the rows;
---   * on failure, or at the next run after a crash, the journal is undone
---     in reverse, and every table the version touched is compared with its
---     description.  Equal: the version is rolled back (exit 1).  Not
---     equal, or an undo failed: the journal stays and the run exits 6;
---     `repair` finishes the job.
---   * journals of earlier runners start with a `snapshot` row (the names
---     of the tables, or the whole schema) and have no row for the tables
---     their version made: undo drops every table not in that list, and
---     reports a listed table that is missing.
local history = require("migrate.history")
local json = require("migrate.json")
local schema = require("migrate.schema")
local log = require("migrate.log")
local sys = require("n9e.sys")

local M = {}

M.TABLE = "n9e_migrate_journal"

-- The SQL that differs between the engines that use the journal: MySQL
-- for every version, PostgreSQL for versions declared `transaction = false`
-- (CREATE INDEX CONCURRENTLY and friends).
local DIALECT = {
  mysql = {
    id = "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY", table_suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    -- no table, view or sequence of that name (a constant name: MariaDB
    -- reads that one entry, case-sensitively where names are)
    absent = "FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM information_schema.TABLES "
      .. "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?)",
    drop_index = function(c, i, t) return ("DROP INDEX %s ON %s"):format(c:quote_ident(i), c:quote_ident(t)) end,
    rename = function(c, a, b) return ("RENAME TABLE %s TO %s"):format(c:quote_ident(a), c:quote_ident(b)) end,
    copy_table = function(c, t, p)
      return { ("CREATE TABLE %s LIKE %s"):format(c:quote_ident(p), c:quote_ident(t)),
               ("INSERT INTO %s SELECT * FROM %s"):format(c:quote_ident(p), c:quote_ident(t)) }
    end,
  },
  postgres = {
    id = "BIGSERIAL PRIMARY KEY", table_suffix = "",
    -- no relation of that name where CREATE TABLE would put it
    absent = "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
      .. "ON n.oid = c.relnamespace WHERE n.nspname = pg_catalog.current_schema() AND c.relname = ?)",
    -- CONCURRENTLY: the undo runs outside any transaction, as the step did
    drop_index = function(c, i) return "DROP INDEX CONCURRENTLY IF EXISTS " .. c:quote_ident(i) end,
    rename = function(c, a, b) return ("ALTER TABLE %s RENAME TO %s"):format(c:quote_ident(a), c:quote_ident(b)) end,
    -- a copy would not keep index names: PostgreSQL versions outside a
    -- transaction are for statements with a derived inverse only
    copy_table = nil,
  },
}

local function sql_for(conn)
  return DIALECT[conn.dialect] or error("the journal does not support " .. tostring(conn.dialect), 0)
end

local function drop_table(c, t) return "DROP TABLE IF EXISTS " .. c:quote_ident(t) end
-- connections whose journal table is known to be there: every version
-- asked again (two catalog queries each), and the journal is only ever
-- created outside a transaction (MySQL; PostgreSQL transaction = false),
-- so no rollback can take it away
local ensured = setmetatable({}, { __mode = "k" })

function M.ensure(conn)
  if ensured[conn] then return end
  if conn:table_exists(M.TABLE) then
    history.widen_text(conn, M.TABLE, "statement") -- table descriptions are kept there
    ensured[conn] = true
    return
  end
  local d = sql_for(conn)
  conn:exec(([[CREATE TABLE %s (
  id %s,
  version VARCHAR(64) NOT NULL,
  seq INT NOT NULL,
  action VARCHAR(16) NOT NULL,
  table_name VARCHAR(191),
  statement %s,
  undo_sql TEXT,
  probe TEXT,
  state VARCHAR(16) NOT NULL,
  created_at VARCHAR(32) NOT NULL
)%s]]):format(conn:quote_ident(M.TABLE), d.id, history.big_text(conn), d.table_suffix))
  ensured[conn] = true
end

-- schema snapshots: migrate/schema.lua with the engine's own type names ----------

-- before and after are described the same way, table by table
local function snapshot(conn, only) return schema.describe(conn, { raw = true, only = only, per_table = true }) end

local function table_names(conn)
  local out = {}
  for _, t in ipairs(conn:tables()) do
    if not schema.internal(t) then out[#out + 1] = t end
  end
  table.sort(out)
  return out
end

-- statement classification ------------------------------------------------------

local function strip(sql)
  return (sql:gsub("/%*.-%*/", " "):gsub("%-%-[^\n]*", " "):gsub("^%s+", ""):gsub("%s+$", ""))
end

local function ident(s)
  return (s:gsub("`", ""))
end

-- Keywords are matched on an upper-cased copy; names are cut from the
-- original text at the positions the pattern reports (N marks a name).
local N = "()`?[%w_$]+`?()"

local function matcher(s)
  local u = s:upper()
  return function(pat)
    local r = table.pack(u:find(pat))
    if not r[1] then return nil end
    local names = {}
    for i = 3, r.n, 2 do names[#names + 1] = ident(s:sub(r[i], r[i + 1] - 1)) end
    return table.unpack(names)
  end
end

--- What a statement does and how to undo it.  Returns a plan:
---   { kind = "create_table"|"create_index"|"add_column"|"add_index"|"rename"
---            |"drop_table"|"preimage"|"dml"|"plain", table=, name=, to= }
--- or nil, reason for statements no compensation can be derived for.
function M.classify(sql)
  local s = strip(sql)
  local m = matcher(s)
  -- each form starts with its own keyword: only that keyword's are tried
  local first = (s:match("^%a+") or ""):upper()
  if first == "SELECT" or first == "SET" or first == "SHOW" or first == "DO" then
    if m("^()SELECT()") or m("^()SET%s()") or m("^()SHOW()") or m("^()DO%s()") then
      return { kind = "plain" }
    end
  elseif first == "CREATE" then
    local t = m("^CREATE%s+TABLE%s+IF%s+NOT%s+EXISTS%s+" .. N) or m("^CREATE%s+TABLE%s+" .. N)
    if t then return { kind = "create_table", table = t } end
    local i, on
    for _, form in ipairs({ "^CREATE%s+INDEX%s+", "^CREATE%s+UNIQUE%s+INDEX%s+",
                            "^CREATE%s+INDEX%s+CONCURRENTLY%s+", "^CREATE%s+UNIQUE%s+INDEX%s+CONCURRENTLY%s+",
                            "^CREATE%s+INDEX%s+CONCURRENTLY%s+IF%s+NOT%s+EXISTS%s+",
                            "^CREATE%s+UNIQUE%s+INDEX%s+CONCURRENTLY%s+IF%s+NOT%s+EXISTS%s+" }) do
      if not i then i, on = m(form .. N .. "%s+ON%s+" .. N) end
    end
    if i then return { kind = "create_index", name = i, table = on } end
  elseif first == "RENAME" then
    local a, b = m("^RENAME%s+TABLE%s+" .. N .. "%s+TO%s+" .. N .. "%s*$")
    if a then return { kind = "rename", table = a, to = b } end
  elseif first == "DROP" then
    local t = m("^DROP%s+TABLE%s+IF%s+EXISTS%s+" .. N .. "%s*$") or m("^DROP%s+TABLE%s+" .. N .. "%s*$")
    if t then return { kind = "drop_table", table = t } end
    t = select(2, m("^DROP%s+INDEX%s+" .. N .. "%s+ON%s+" .. N .. "%s*$"))
    if t then return { kind = "preimage", table = t } end
  elseif first == "ALTER" then
    local t = m("^ALTER%s+TABLE%s+" .. N .. "%s+[^,]*$") -- one clause: maybe invertible
    if t then
      local col = m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+COLUMN%s+" .. N)
      local idx = m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+INDEX%s+" .. N)
        or m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+KEY%s+" .. N)
        or m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+UNIQUE%s+INDEX%s+" .. N)
        or m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+UNIQUE%s+KEY%s+" .. N)
      local keyword = m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+ADD%s+" .. N)
      local KEYWORDS = { INDEX = true, KEY = true, UNIQUE = true, PRIMARY = true, CONSTRAINT = true,
                         FULLTEXT = true, SPATIAL = true, FOREIGN = true, COLUMN = true }
      if not col and keyword and not KEYWORDS[keyword:upper()] then col = keyword end
      if col then return { kind = "add_column", table = t, name = col } end
      if idx then return { kind = "add_index", table = t, name = idx } end
      local to = m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+RENAME%s+TO%s+" .. N .. "%s*$")
        or m("^ALTER%s+TABLE%s+`?[%w_$]+`?%s+RENAME%s+" .. N .. "%s*$")
      if to and to:upper() ~= "COLUMN" and to:upper() ~= "INDEX" and to:upper() ~= "KEY" then
        return { kind = "rename", table = t, to = to }
      end
      return { kind = "preimage", table = t }
    end
    t = m("^ALTER%s+TABLE%s+" .. N) -- several clauses: copy first
    if t then return { kind = "preimage", table = t } end
  elseif first == "INSERT" or first == "REPLACE" or first == "UPDATE" or first == "DELETE" then
    local t = m("^INSERT%s+IGNORE%s+INTO%s+" .. N) or m("^INSERT%s+INTO%s+" .. N) or m("^REPLACE%s+INTO%s+" .. N)
      or m("^UPDATE%s+" .. N) or m("^DELETE%s+FROM%s+" .. N)
    if t then return { kind = "dml", table = t } end
  end
  return nil, ("no compensation can be derived for this statement on MySQL/MariaDB "
               .. "(supported: CREATE TABLE/INDEX, ALTER TABLE, RENAME TABLE, DROP TABLE/INDEX, "
               .. "INSERT/UPDATE/DELETE/REPLACE): %s"):format(s:sub(1, 80))
end

--- Split a script into statements (quotes, backticks and comments aware).
function M.split(sql)
  local out, buf, i, n = {}, {}, 1, #sql
  while i <= n do
    local c = sql:sub(i, i)
    if c == "'" or c == '"' or c == "`" then
      local j = i + 1
      while j <= n do
        local d = sql:sub(j, j)
        if d == "\\" and c ~= "`" then j = j + 1
        elseif d == c then
          if sql:sub(j + 1, j + 1) == c then j = j + 1 else break end
        end
        j = j + 1
      end
      buf[#buf + 1] = sql:sub(i, j)
      i = j + 1
    elseif c == "-" and sql:sub(i + 1, i + 1) == "-" then
      local j = sql:find("\n", i, true) or n
      i = j + 1
    elseif c == "/" and sql:sub(i + 1, i + 1) == "*" then
      local j = sql:find("*/", i + 2, true) or n
      i = j + 2
    elseif c == ";" then
      local stmt = table.concat(buf):match("^%s*(.-)%s*$")
      if stmt ~= "" then out[#out + 1] = stmt end
      buf = {}
      i = i + 1
    else
      buf[#buf + 1] = c
      i = i + 1
    end
  end
  local stmt = table.concat(buf):match("^%s*(.-)%s*$")
  if stmt ~= "" then out[#out + 1] = stmt end
  return out
end

-- the journal of one version ---------------------------------------------------

local Version = {}
Version.__index = Version

--- Open the journal of a version.  Nothing is written (nor listed) until
--- the version's first statement that needs a row: a version that only
--- makes tables costs one row per table, written with its probe.  Each
--- table that was there is described when the version first touches it
--- (describe_before): describing the whole schema for every version made
--- 200 one-table versions take 27 s on MariaDB.
function M.begin(conn, version)
  M.ensure(conn)
  return setmetatable({ conn = conn, version = version, seq = 0, rows = 0, preimaged = {},
                        created = {}, described = {} }, Version)
end

--- The table as it is before the version first changes it, journaled for
--- undo to compare with.
function Version:describe_before(tbl)
  if not tbl or self.described[tbl] or self.created[tbl] or not self.conn:table_exists(tbl) then return end
  self.described[tbl] = true
  self:record("table_snapshot", tbl, nil, {}, nil, "done", json.encode(snapshot(self.conn, { [tbl] = true })))
end

--- One journal row.  With `absent` (a table name) it is written only if
--- no table of that name is there, which the same INSERT asks: one round
--- trip for the probe and the row.  Returns the row's seq, or nil when
--- that table was there and nothing was written.
function Version:record(action, tbl, stmt, undo, probe, state, extra, absent)
  local c = self.conn
  local sql = ("INSERT INTO %s (version, seq, action, table_name, statement, undo_sql, probe, state, created_at) ")
    :format(c:quote_ident(M.TABLE))
  local args = table.pack(self.version, self.seq + 1, action, tbl, extra or stmt, json.encode(json.array(undo)),
                          probe and json.encode(probe) or nil, state, log.iso(sys.now()))
  if absent then
    sql = sql .. "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? " .. sql_for(c).absent
    args.n = args.n + 1
    args[args.n] = absent
  else
    sql = sql .. "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
  end
  if c:exec(sql, table.unpack(args, 1, args.n)) == 0 then return nil end
  self.seq, self.rows = self.seq + 1, self.rows + 1
  return self.seq
end

function Version:mark_done(seq)
  self.conn:exec(("UPDATE %s SET state = 'done' WHERE version = ? AND seq = ?")
    :format(self.conn:quote_ident(M.TABLE)), self.version, seq)
end

function Version:shadow_name(prefix, tbl)
  -- MySQL identifiers are at most 64 characters
  return ("%s%d_%s"):format(prefix, self.seq + 1, tbl):sub(1, 64)
end

--- Copy a table before it changes; undo swaps the copy back.
function Version:preimage(tbl)
  if self.preimaged[tbl] or self.created[tbl] or not self.conn:table_exists(tbl) then return end
  local c, d = self.conn, sql_for(self.conn)
  if not d.copy_table then
    error({ kind = "journal", message = ("on %s, a version declared transaction = false may only run "
      .. "statements with a derived inverse (CREATE INDEX [CONCURRENTLY], CREATE TABLE, ADD COLUMN, "
      .. "RENAME, DROP TABLE); %s would need a copy of the table"):format(c.dialect, tbl) }, 0)
  end
  local pre = self:shadow_name("n9e_pre_", tbl)
  local qt = c:quote_ident(tbl)
  self.shadows = true
  local seq = self:record("preimage", tbl, "copy of " .. tbl,
                          { "DROP TABLE IF EXISTS " .. qt, d.rename(c, pre, tbl) },
                          { kind = "table", name = pre }, "started")
  for _, stmt in ipairs(d.copy_table(c, tbl, pre)) do c:exec(stmt) end
  self:mark_done(seq)
  self.preimaged[tbl] = pre
end

--- Hold the rest of the version (its convert, verify and history row) in
--- one InnoDB transaction, which the caller has begun: its row changes
--- need no copy of the table then, since a rollback or a crash undoes
--- them.  A copy of a 1,000,000-row table cost as much as the rewrite.
--- DDL would commit that transaction, so it is refused while held.
function Version:hold()
  self.held, self.transactional = true, {}
end

--- A table whose changes a rollback undoes (InnoDB), or an error.
function Version:check_transactional(tbl)
  if self.transactional[tbl] ~= nil then return end
  local engine = self.conn:scalar("SELECT ENGINE FROM information_schema.TABLES "
    .. "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", tbl)
  if engine ~= nil and tostring(engine):upper() ~= "INNODB" then
    error({ kind = "journal", message = ("%s uses the %s engine, which cannot roll back a conversion: "
      .. "convert its engine in up (ALTER TABLE %s ENGINE=InnoDB)"):format(tbl, engine, tbl) }, 0)
  end
  self.transactional[tbl] = true
end

--- A statement that may run while the version is held (row changes on
--- InnoDB tables, reads), or an error.
function Version:admit(sql, plan)
  if not plan then
    local why
    plan, why = M.classify(sql)
    if not plan then error({ message = why, kind = "journal" }, 0) end
  end
  if plan.kind == "plain" then return end
  if plan.kind ~= "dml" then
    error({ kind = "journal", message = ("convert runs in one transaction on %s, which a schema change "
      .. "would commit: put it in up (%s)"):format(self.conn.dialect, strip(sql):sub(1, 80)) }, 0)
  end
  self:check_transactional(plan.table)
  self.wrote = true -- another connection would no longer see what this one does
end

--- Run one statement of the version, journaled.  `exec` is the raw
--- driver call; returns what it returns.
function Version:exec(exec, sql, ...)
  local plan, why = M.classify(sql)
  if not plan then error({ message = why, kind = "journal" }, 0) end
  local c, k, d = self.conn, plan.kind, sql_for(self.conn)
  if k == "plain" then return exec(sql, ...) end
  if c.dialect == "postgres" then -- names are unquoted here (classify): PostgreSQL folds them
    for _, f in ipairs({ "table", "name", "to" }) do plan[f] = plan[f] and plan[f]:lower() end
  end
  if self.held then
    self:admit(sql, plan)
    return exec(sql, ...)
  end
  if k ~= "create_table" then self:describe_before(plan.table) end
  if k == "dml" or k == "preimage" then
    self:preimage(plan.table)
    return exec(sql, ...)
  end
  -- No journal row (a durable write, an fsync on InnoDB) for what a
  -- version does to a table it made: undo drops the table.  A new name
  -- for it is the version's too, journaled to be dropped as well.
  if plan.table and self.created[plan.table] then
    if k == "rename" and self:record("rename_created", plan.to, sql, { drop_table(c, plan.to) },
                                     { kind = "table", name = plan.to }, "started", nil, plan.to) then
      self.created[plan.to] = true
    end -- else b is there: the rename fails by itself
    return exec(sql, ...)
  end
  if k == "create_table" then
    -- written only if t is not there: then the version makes it.  If it
    -- is, nothing is written: IF NOT EXISTS is a no-op, a plain CREATE
    -- fails by itself (and undo must not drop a table that was there)
    if self:record("create_table", plan.table, sql, { drop_table(c, plan.table) },
                   { kind = "table", name = plan.table }, "started", nil, plan.table) then
      self.created[plan.table] = true
    end
    return exec(sql, ...)
  end
  local qt = plan.table and c:quote_ident(plan.table)
  local undo, probe
  if k == "create_index" or k == "add_index" then
    undo = { d.drop_index(c, plan.name, plan.table) }
    probe = { kind = "index", table = plan.table, name = plan.name }
  elseif k == "add_column" then
    undo = { ("ALTER TABLE %s DROP COLUMN %s"):format(qt, c:quote_ident(plan.name)) }
    probe = { kind = "column", table = plan.table, name = plan.name }
  elseif k == "rename" then
    -- written only if no b is there (else the rename fails by itself,
    -- and undo must not rename that b away)
    self:record("ddl", plan.table, sql, { d.rename(c, plan.to, plan.table) },
                { kind = "table", name = plan.to }, "started", nil, plan.to)
    return exec(sql, ...)
  elseif k == "drop_table" then
    if not c:table_exists(plan.table) then return 0 end
    self.shadows = true
    local away = self:shadow_name("n9e_drop_", plan.table)
    local seq = self:record("drop_table", plan.table, sql, { d.rename(c, away, plan.table) },
                            { kind = "table", name = away }, "started")
    c:exec(d.rename(c, plan.table, away))
    self:mark_done(seq)
    return 0
  end
  -- left "started": undo asks the probe whether it took effect, as it
  -- must anyway after a crash in the middle of the statement
  self:record("ddl", plan.table, sql, undo, probe, "started")
  return exec(sql, ...)
end

-- undo, recovery, cleanup ------------------------------------------------------

local function probe_holds(conn, p)
  if not p then return true end
  if p.kind == "table" then return conn:table_exists(p.name) end
  if p.kind == "column" then return conn:table_exists(p.table) and conn:column_exists(p.table, p.name) end
  if p.kind == "index" then return conn:table_exists(p.table) and conn:index_exists(p.table, p.name) end
  return true
end

--- A journal written before the journal was lazy starts with a snapshot
--- row: the names of the tables there were ({ tables = {...} }), or, older
--- still, the whole schema described.  Its version's new tables have no
--- row: every table not in the list is the version's, and is dropped; a
--- listed table that is gone and that no table_snapshot row describes is
--- reported missing.  `described` gains the whole-schema form's tables.
--- Returns the problems.
local function legacy_tables(conn, before, described)
  local problems = {}
  local names = before.tables
  if not names then -- the whole schema
    names = {}
    for t, d in pairs(before) do
      names[#names + 1] = t
      described[t] = described[t] or d
    end
  end
  local was = {}
  for _, t in ipairs(names) do was[t] = true end
  local present = {}
  for _, t in ipairs(table_names(conn)) do
    present[t] = true
    if not was[t] then
      local ok, err = pcall(conn.exec, conn, "DROP TABLE " .. conn:quote_ident(t))
      if not ok then problems[#problems + 1] = tostring(err) end
    end
  end
  for _, t in ipairs(names) do
    if not present[t] and not described[t] then problems[#problems + 1] = ("table %s is missing"):format(t) end
  end
  return problems
end

local function rows_of(conn, version)
  local rows = {}
  for r in conn:query(("SELECT seq, action, table_name, statement, undo_sql, probe, state FROM %s "
                       .. "WHERE version = ? ORDER BY seq"):format(conn:quote_ident(M.TABLE)), version) do
    rows[#rows + 1] = r
  end
  return rows
end

--- Versions with a journal (open, or finished but not cleaned up).
function M.open_versions(conn)
  if not conn:table_exists(M.TABLE) then return {} end
  local out = {}
  for r in conn:query(("SELECT DISTINCT version FROM %s"):format(conn:quote_ident(M.TABLE))) do
    out[#out + 1] = r.version
  end
  return out
end

--- Undo a version from its journal.  Returns true, or false + report.
function M.undo(conn, version)
  local rows = rows_of(conn, version)
  local before, described = nil, {}
  local problems = {}
  for i = #rows, 1, -1 do
    local r = rows[i]
    if r.action == "snapshot" then
      before = json.decode(r.statement)
    elseif r.action == "table_snapshot" then
      for t, d in pairs(json.decode(r.statement)) do described[t] = d end
    else
      local probe = r.probe and json.decode(r.probe) or nil
      -- a statement cut by a crash may or may not have taken effect
      local took_effect = r.state == "done" or probe_holds(conn, probe)
      if r.action == "preimage" and r.state ~= "done" then took_effect = false end
      if took_effect then
        for _, stmt in ipairs(json.decode(r.undo_sql)) do
          local ok, err = pcall(conn.exec, conn, stmt)
          if not ok then problems[#problems + 1] = ("undo of step %d (%s) failed: %s")
            :format(r.seq, stmt, tostring(err)) end
        end
      elseif r.action == "preimage" and probe and conn:table_exists(probe.name) then
        pcall(conn.exec, conn, "DROP TABLE " .. conn:quote_ident(probe.name)) -- half-made copy
      end
    end
  end
  if before then -- a journal of an earlier runner (legacy_tables)
    local more = legacy_tables(conn, before, described)
    for _, p in ipairs(more) do problems[#problems + 1] = p end
  end
  -- the tables the version touched, column by column and index by index
  -- (one that is gone: "table t is missing")
  local only = {}
  for t in pairs(described) do only[t] = true end
  if next(only) then
    for _, d in ipairs(schema.diff(described, snapshot(conn, only))) do problems[#problems + 1] = d end
  end
  if #problems > 0 then return false, problems end
  M.forget(conn, version)
  return true
end

--- In the transaction that records a version that succeeded (its history
--- and step rows): its journal rows are deleted there when it made no
--- shadow table, so that one COMMIT ends the version; a crash leaves either
--- the history and no journal, or the journal and no history (undone).
--- `earlier`: versions of the run recorded before it whose journals were
--- left for this statement to delete (apply.lua, recorded_together).  Nothing is
--- sent when there is nothing to delete.  Returns false when shadow tables
--- are left: M.finish drops them after that commit (a DROP would commit
--- the transaction early), then the rows.
function Version:settle(earlier)
  local versions = {}
  for i, v in ipairs(earlier or {}) do versions[i] = v end
  local settled = not self.shadows
  if settled and self.rows > 0 then versions[#versions + 1] = self.version end
  M.forget(self.conn, versions)
  return settled
end

--- A version that finished and is recorded: drop its shadow tables and its
--- journal (after Version:settle, or for a journal found at recovery).
function M.finish(conn, version)
  for _, r in ipairs(rows_of(conn, version)) do
    local probe = r.probe and json.decode(r.probe) or nil
    if (r.action == "preimage" or r.action == "drop_table") and probe and conn:table_exists(probe.name) then
      conn:exec("DROP TABLE " .. conn:quote_ident(probe.name))
    end
  end
  M.forget(conn, version)
end

--- Delete the journal rows of a version, or of a list of versions (at most
--- 500 a statement).
function M.forget(conn, versions)
  if type(versions) ~= "table" then versions = { versions } end
  local sql = "DELETE FROM " .. conn:quote_ident(M.TABLE) .. " WHERE version "
  for first = 1, #versions, 500 do
    local last = math.min(first + 499, #versions)
    conn:exec(sql .. "IN (?" .. string.rep(", ?", last - first) .. ")", table.unpack(versions, first, last))
  end
end

return M
