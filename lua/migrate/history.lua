--- The history table: one row per apply attempt (applied or rolled back),
--- per baseline and per rollback.  The current version is the newest
--- version whose last row says applied/baseline.
local M = {}

M.TABLE = "n9e_migrate_history"

local ID = {
  sqlite = "id INTEGER PRIMARY KEY AUTOINCREMENT",
  postgres = "id BIGSERIAL PRIMARY KEY",
  mysql = "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
}

-- MySQL: the runner's tables are InnoDB (transactional) and utf8mb4 (error
-- texts and descriptions are UTF-8), whatever the server's defaults.
local SUFFIX = { mysql = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" }
M.SUFFIX = SUFFIX

local COLUMNS = { "version", "description", "kind", "script", "checksum", "applied_at",
                  "duration_ms", "applied_by", "host", "runner_version", "outcome", "error" }

M.STEPS = "n9e_migrate_steps"
M.SCHEMA = "n9e_migrate_schema"
local STEP_COLUMNS = { "version", "step", "started_at", "finished_at", "duration_ms", "rows_touched",
                       "outcome", "error" }

function M.exists(db)
  return db:table_exists(M.TABLE)
end

local function ensure_steps(db)
  if db:table_exists(M.STEPS) then return end
  db:exec(([[CREATE TABLE %s (
  %s,
  version VARCHAR(64) NOT NULL,
  step VARCHAR(16) NOT NULL,
  started_at VARCHAR(32) NOT NULL,
  finished_at VARCHAR(32) NOT NULL,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  rows_touched BIGINT NOT NULL DEFAULT 0,
  outcome VARCHAR(16) NOT NULL,
  error TEXT
)%s]]):format(db:quote_ident(M.STEPS), ID[db.dialect], SUFFIX[db.dialect] or ""))
end

--- A multi-row INSERT of rows into tbl's columns, as { sql, values..., n }:
--- value(row, column) gives each value.
local function insert_rows(db, tbl, columns, rows, value)
  local stmt, n = {}, 1
  for _, row in ipairs(rows) do
    for _, c in ipairs(columns) do
      n = n + 1
      stmt[n] = value(row, c)
    end
  end
  local marks = "(?" .. string.rep(", ?", #columns - 1) .. ")"
  stmt[1] = ("INSERT INTO %s (%s) VALUES %s"):format(db:quote_ident(tbl), table.concat(columns, ", "),
                                                      string.rep(marks, #rows, ", "))
  stmt.n = n
  return stmt
end

local function field(row, c) return row[c] end

--- The step log: one row per script step that ran, failed ones included.
--- All the steps of a version in one statement (one round trip).
--- The INSERT of a version's step log entries, as { sql, values..., n }
--- (for db:exec_batch), or nil when there are none.
function M.steps_statement(db, steps)
  if #steps == 0 then return nil end
  return insert_rows(db, M.STEPS, STEP_COLUMNS, steps, field)
end

function M.read_steps(db)
  local rows = {}
  if not db:table_exists(M.STEPS) then return rows end
  for row in db:query(("SELECT id, %s FROM %s ORDER BY id"):format(table.concat(STEP_COLUMNS, ", "),
                                                                 db:quote_ident(M.STEPS))) do
    rows[#rows + 1] = row
  end
  return rows
end

--- The schema as it stood after the last version applied (or rolled back,
--- or baselined): what `verify` compares the live schema with.
function M.record_schema(db, version, description_json, at)
  M.ensure_schema_table(db)
  db:exec("DELETE FROM " .. db:quote_ident(M.SCHEMA))
  db:exec(("INSERT INTO %s (version, recorded_at, description) VALUES (?, ?, ?)")
    :format(db:quote_ident(M.SCHEMA)), version, at, description_json)
end

--- The DDL part of record_schema, for MySQL to run before the transaction
--- that records (DDL would commit it).
-- MySQL connections whose schema table is known to be there (asked once
-- per version otherwise); MySQL's DDL commits at once, so no rollback can
-- take the table away again, as one could on PostgreSQL and SQLite
local schema_ensured = setmetatable({}, { __mode = "k" })

function M.ensure_schema_table(db)
  if schema_ensured[db] then return end
  if not db:table_exists(M.SCHEMA) then
    db:exec(([[CREATE TABLE %s (
  version VARCHAR(64) NOT NULL,
  recorded_at VARCHAR(32) NOT NULL,
  description %s NOT NULL
)%s]]):format(db:quote_ident(M.SCHEMA), M.big_text(db), SUFFIX[db.dialect] or ""))
  else
    M.widen_text(db, M.SCHEMA, "description")
  end
  if db.dialect == "mysql" then schema_ensured[db] = true end
end

--- The column type for a text that can outgrow 64 KB (a schema description
--- of Nightingale's ~240 tables is ~200 KB): MySQL's TEXT stops at 65,535
--- bytes, LONGTEXT does not; PostgreSQL's and SQLite's TEXT have no limit.
function M.big_text(db) return db.dialect == "mysql" and "LONGTEXT" or "TEXT" end

--- Tables created by an earlier runner used TEXT on MySQL: widen in place.
function M.widen_text(db, tbl, col)
  if db.dialect ~= "mysql" then return end
  for _, c in ipairs(db:columns(tbl)) do
    if c.name == col and c.type:lower() == "text" then
      db:exec(("ALTER TABLE %s MODIFY COLUMN %s LONGTEXT"):format(db:quote_ident(tbl), db:quote_ident(col)))
    end
  end
end

--- The version the recorded schema belongs to (nil: none recorded).
function M.recorded_version(db)
  if not db:table_exists(M.SCHEMA) then return nil end
  return db:scalar(("SELECT version FROM %s"):format(db:quote_ident(M.SCHEMA)))
end

function M.expected_schema(db)
  if not db:table_exists(M.SCHEMA) then return nil end
  return db:first(("SELECT version, recorded_at, description FROM %s"):format(db:quote_ident(M.SCHEMA)))
end

function M.ensure(db)
  ensure_steps(db)
  if M.exists(db) then return false end
  db:exec(([[CREATE TABLE %s (
  %s,
  version VARCHAR(64) NOT NULL,
  description VARCHAR(255) NOT NULL DEFAULT '',
  kind VARCHAR(16) NOT NULL,
  script VARCHAR(255) NOT NULL DEFAULT '',
  checksum CHAR(64) NOT NULL DEFAULT '',
  applied_at VARCHAR(32) NOT NULL,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  applied_by VARCHAR(128) NOT NULL DEFAULT '',
  host VARCHAR(255) NOT NULL DEFAULT '',
  runner_version VARCHAR(32) NOT NULL DEFAULT '',
  outcome VARCHAR(16) NOT NULL,
  error TEXT
)%s]]):format(db:quote_ident(M.TABLE), ID[db.dialect], SUFFIX[db.dialect] or ""))
  return true
end

--- Every row, oldest first; {} when the table does not exist.
function M.read(db, exists)
  local rows = {}
  if not exists and not M.exists(db) then return rows end -- exists: the caller has just asked
  local sql = ("SELECT id, %s FROM %s ORDER BY id"):format(table.concat(COLUMNS, ", "),
                                                          db:quote_ident(M.TABLE))
  for row in db:query(sql) do rows[#rows + 1] = row end
  return rows
end

-- a missing duration is 0, any other missing value but the error ''
local function history_value(row, c)
  local v = row[c]
  if v == nil and c == "duration_ms" then return 0 elseif v == nil and c ~= "error" then return "" end
  return v
end

--- The INSERT of one history row, or of a list of rows in order, as
--- { sql, values..., n } (db:exec_batch).
function M.insert_statement(db, rows)
  if rows[1] == nil then rows = { rows } end
  return insert_rows(db, M.TABLE, COLUMNS, rows, history_value)
end

function M.insert(db, row)
  local stmt = M.insert_statement(db, row)
  db:exec(table.unpack(stmt, 1, stmt.n))
end

--- version -> the row that currently stands for it (last applied/baseline
--- row not undone by a later rollback row).
function M.applied(rows)
  local state = {}
  for _, r in ipairs(rows) do
    if r.outcome == "applied" and (r.kind == "migrate" or r.kind == "baseline") then
      state[r.version] = r
    elseif r.kind == "rollback" and r.outcome == "applied" then
      state[r.version] = nil
    end
  end
  return state
end

return M
