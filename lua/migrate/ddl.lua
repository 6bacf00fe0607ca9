--- Dialect helpers for release scripts: one script per release works on
--- every engine because the few places where the engines' DDL differs are
--- spelled once per engine here or in the script's own per-dialect table.
---
--- Every helper is idempotent ("ensure"): Nightingale itself may already
--- have made the change (gorm AutoMigrate at start-up), so a helper first
--- looks at the catalog and does nothing when the change is there.  Each
--- returns true when it changed something.
---
--- A `def` argument is either one string for every engine or a table
--- { mysql = "...", postgres = "...", sqlite = "..." }; an engine missing
--- from the table means "nothing to do on that engine".
local M = {}

local function pick(db, def)
  if type(def) == "table" then return def[db.dialect] end
  return def
end
M.pick = pick

local function q(db, name) return db:quote_ident(name) end

--- ddl.create_table(db, name, def): run def (CREATE TABLE plus its CREATE
--- INDEX statements, `;`-separated) unless the table exists.
function M.create_table(db, name, def)
  local sql = pick(db, def)
  if not sql or db:table_exists(name) then return false end
  db:exec_script(sql)
  return true
end

--- ddl.add_column(db, table, column, def): ALTER TABLE ... ADD COLUMN
--- column def (def is the column's type and constraints) unless it exists.
--- PostgreSQL and SQLite refuse a NOT NULL column without a default on a
--- table with rows; give such columns a default (Nightingale's #2076).
function M.add_column(db, tbl, col, def)
  local d = pick(db, def)
  if not d or db:column_exists(tbl, col) then return false end
  db:exec(("ALTER TABLE %s ADD COLUMN %s %s"):format(q(db, tbl), q(db, col), d))
  return true
end

--- ddl.column(db, table, column) -> the catalog row {name, type, notnull,
--- default, pk} of that column, or nil.
function M.column(db, tbl, col)
  for _, c in ipairs(db:columns(tbl)) do
    if c.name == col then return c end
  end
end

local function find_index(db, tbl, name)
  for _, i in ipairs(db:indexes(tbl)) do
    if i.name == name then return i end
  end
end

local function same_columns(a, b)
  if #a ~= #b then return false end
  for k = 1, #a do
    if a[k] ~= b[k] then return false end
  end
  return true
end

--- ddl.index_on(db, table, {columns}) -> an index of table over exactly
--- these columns, in this order, whatever its name; or nil.
function M.index_on(db, tbl, cols)
  for _, i in ipairs(db:indexes(tbl)) do
    if same_columns(i.columns, cols) then return i end
  end
end

--- ddl.add_index(db, table, name, {columns} [, {unique = true, def = {...}}])
--- CREATE [UNIQUE] INDEX unless an index of that name exists.  An index
--- on the same columns under another name (the file's name where gorm uses
--- its own, or the reverse) is renamed, so Nightingale's AutoMigrate,
--- which looks indexes up by name, does not build a second copy.
--- opts.def replaces the generated statement on the engines it names
--- (MySQL `ALGORITHM=INPLACE, LOCK=NONE`, PostgreSQL CONCURRENTLY).
function M.add_index(db, tbl, name, cols, opts)
  opts = opts or {}
  if find_index(db, tbl, name) then return false end
  for _, i in ipairs(db:indexes(tbl)) do
    if same_columns(i.columns, cols) and (i.unique or false) == (opts.unique or false)
       and not i.name:match("^sqlite_autoindex_") and i.name ~= "PRIMARY" then
      M.rename_index(db, tbl, i.name, name)
      return true
    end
  end
  local custom = opts.def and pick(db, opts.def)
  if custom then
    db:exec(custom)
    return true
  end
  local quoted = {}
  for k, c in ipairs(cols) do quoted[k] = q(db, c) end
  db:exec(("CREATE %sINDEX %s ON %s (%s)"):format(opts.unique and "UNIQUE " or "", q(db, name),
                                                   q(db, tbl), table.concat(quoted, ", ")))
  return true
end

--- ddl.drop_index(db, table, name) unless it is gone already.  On
--- PostgreSQL a UNIQUE constraint's index is dropped with its constraint.
function M.drop_index(db, tbl, name)
  if not find_index(db, tbl, name) then return false end
  if db.dialect == "mysql" then
    db:exec(("ALTER TABLE %s DROP INDEX %s"):format(q(db, tbl), q(db, name)))
  elseif db.dialect == "postgres" then
    local con = db:scalar("SELECT conname FROM pg_constraint WHERE conname = ? AND conrelid = ?::regclass",
                          name, tbl)
    if con then
      db:exec(("ALTER TABLE %s DROP CONSTRAINT %s"):format(q(db, tbl), q(db, name)))
    else
      db:exec(("DROP INDEX %s"):format(q(db, name)))
    end
  else
    db:exec(("DROP INDEX %s"):format(q(db, name)))
  end
  return true
end

--- ddl.rename_index(db, table, old, new).  SQLite cannot rename an index:
--- it is dropped and built again under the new name.
function M.rename_index(db, tbl, old, new)
  local i = find_index(db, tbl, old)
  if not i or find_index(db, tbl, new) then return false end
  if db.dialect == "mysql" then
    db:exec(("ALTER TABLE %s RENAME INDEX %s TO %s"):format(q(db, tbl), q(db, old), q(db, new)))
  elseif db.dialect == "postgres" then
    db:exec(("ALTER INDEX %s RENAME TO %s"):format(q(db, old), q(db, new)))
  else
    local quoted = {}
    for k, c in ipairs(i.columns) do quoted[k] = q(db, c) end
    db:exec(("DROP INDEX %s"):format(q(db, old)))
    db:exec(("CREATE %sINDEX %s ON %s (%s)"):format(i.unique and "UNIQUE " or "", q(db, new), q(db, tbl),
                                                     table.concat(quoted, ", ")))
  end
  return true
end

--- ddl.alter_column(db, table, column, spec) brings a column to
--- spec = { mysql = "full column definition", postgres = { type = "...",
--- notnull = bool, default = "SQL literal" or false (drop it) } }.
--- MySQL: MODIFY COLUMN when type, nullability or default differ.
--- PostgreSQL: only the clauses that differ.  SQLite stores any value in
--- any declared type and cannot alter a column in place; a rebuild of the
--- table would cost a full copy for no change in behaviour, so SQLite
--- columns keep their declaration (listed as drift where a reference
--- file differs).
function M.alter_column(db, tbl, col, spec)
  local s = spec[db.dialect]
  if not s then return false end
  local have = M.column(db, tbl, col)
  if not have then error(("alter_column: %s.%s does not exist"):format(tbl, col), 2) end
  if db.dialect == "mysql" then
    -- compare through a probe: MODIFY is skipped when nothing would change
    local want = s:lower()
    local same = want:find(have.type:lower(), 1, true) == 1
      and (want:find("not null", 1, true) ~= nil) == (have.notnull == true)
    if same then
      local def = have.default
      local wd = want:match("default%s+('[^']*')") or want:match("default%s+([%w_%-%.]+)")
      if wd == "null" then wd = nil end
      same = (def == nil and wd == nil) or (wd ~= nil and def ~= nil and
                                            (wd == def or wd == ("'" .. def .. "'")))
    end
    if same then return false end
    db:exec(("ALTER TABLE %s MODIFY COLUMN %s %s"):format(q(db, tbl), q(db, col), s))
    return true
  end
  local clauses = {}
  if s.type and require("migrate.schema").portable_type(have.type)
                ~= require("migrate.schema").portable_type(s.type) then
    clauses[#clauses + 1] = ("ALTER COLUMN %s TYPE %s%s"):format(q(db, col), s.type,
                                                                 s.using and (" USING " .. s.using) or "")
  end
  if s.notnull ~= nil and s.notnull ~= (have.notnull == true) then
    clauses[#clauses + 1] = ("ALTER COLUMN %s %s NOT NULL"):format(q(db, col), s.notnull and "SET" or "DROP")
  end
  if s.default ~= nil then
    if s.default == false then
      if have.default ~= nil then clauses[#clauses + 1] = ("ALTER COLUMN %s DROP DEFAULT"):format(q(db, col)) end
    elseif require("migrate.schema").portable_default(have.default)
           ~= require("migrate.schema").portable_default(s.default) then
      clauses[#clauses + 1] = ("ALTER COLUMN %s SET DEFAULT %s"):format(q(db, col), s.default)
    end
  end
  if #clauses == 0 then return false end
  db:exec(("ALTER TABLE %s %s"):format(q(db, tbl), table.concat(clauses, ", ")))
  return true
end

--- ddl.rename_column(db, table, old, new) unless old is gone already.
function M.rename_column(db, tbl, old, new)
  if not db:column_exists(tbl, old) or db:column_exists(tbl, new) then return false end
  db:exec(("ALTER TABLE %s RENAME COLUMN %s TO %s"):format(q(db, tbl), q(db, old), q(db, new)))
  return true
end

--- ddl.expect(db, spec) for verify steps: like db:assert_schema, but a
--- column's type may be a per-dialect table; an engine that table does
--- not name only needs the column to exist (any type).
function M.expect(db, spec)
  local flat = {}
  for t, want in pairs(spec) do
    local w = { columns = {}, indexes = want.indexes }
    for c, ty in pairs(want.columns or {}) do w.columns[c] = pick(db, ty) or true end
    flat[t] = w
  end
  return db:assert_schema(flat)
end

return M
