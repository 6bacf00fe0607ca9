--- Helpers added to every `db` connection (the C methods are in
--- runner/lua_db.c): transactions as a function, one-row queries, and
--- catalog probes that read the same on every engine.
local dbmod = require("n9e.db")
local sys = require("n9e.sys")

local methods = dbmod.methods
local depth = setmetatable({}, { __mode = "k" })

--- db:tx(fn [, handle]): run fn(handle or db) atomically.  At the top
--- level it is a transaction; inside one it is a savepoint, so a script's
--- tx nests inside the runner's per-version transaction.
function methods.tx(self, fn, handle)
  local level = (depth[self] or 0) + 1
  local outer = level == 1 and not self:in_transaction()
  local sp = "n9e_tx_" .. level
  if outer then self:begin() else self:savepoint(sp) end
  depth[self] = level
  local res = table.pack(pcall(fn, handle or self))
  depth[self] = level - 1
  if res[1] then
    if outer then self:commit() else self:release(sp) end
    return table.unpack(res, 2, res.n)
  end
  if outer then self:rollback() else self:rollback_to(sp); self:release(sp) end
  error(res[2], 0)
end

--- db:rewrite{...}: batched rewrite of a table's rows (lua/migrate/batch.lua).
function methods.rewrite(self, spec)
  local writer = {
    send = function(sql, ...) self:exec_send(sql, ...) end,
    wait = function() return self:exec_wait() end,
    in_transaction = function() return self:in_transaction() end,
  }
  local batch = require("migrate.batch")
  if self.dialect == "postgres" then
    writer.send_rows = function(sql, ...) self:rows_send(sql, ...) end
    writer.wait_rows = function() return self:rows_wait() end
  end
  -- a second connection sees what this one writes once it is committed:
  -- outside a transaction at once, whatever map writes too (inside one,
  -- the runner's handle counts map's writes; this connection cannot)
  if not self:in_transaction() then
    writer.open_reader = function() return batch.open_reader(self) end
  end
  return batch.rewrite(self, spec, writer)
end

--- db:first(sql, ...) -> first row or nil (the cursor is closed at once).
function methods.first(self, sql, ...)
  for row in self:query(sql, ...) do -- luacheck: ignore 512 (first row only)
    return row
  end
  return nil
end

--- db:scalar(sql, ...) -> the single value of the first row, or nil.
function methods.scalar(self, sql, ...)
  for row in self:query(sql, ...) do -- luacheck: ignore 512 (first row only)
    local _, v = next(row)
    return v
  end
  return nil
end

function methods.tables(self)
  local out = {}
  for row in self:catalog("tables") do out[#out + 1] = row.name end
  return out
end

function methods.columns(self, table_name)
  local out = {}
  for row in self:catalog("columns", table_name) do
    out[#out + 1] = { name = row.name, type = row.type, notnull = row.notnull == 1 or row.notnull == true,
                      default = row.dflt, pk = (tonumber(row.pk) or 0) > 0 }
  end
  return out
end

function methods.indexes(self, table_name)
  local out = {}
  for row in self:catalog("indexes", table_name) do
    local cols = {}
    for c in (row.columns or ""):gmatch("[^,]+") do cols[#cols + 1] = c end
    out[#out + 1] = { name = row.name, unique = row.unique == 1 or row.unique == true, columns = cols }
  end
  return out
end

--- One catalog row for that name (listing every table each time made a
--- no-op run list Nightingale's 152 tables five times).
function methods.table_exists(self, name)
  for row in self:catalog("tables", name) do
    if row.name == name then return true end -- exact, whatever the server's collation
  end
  return false
end

function methods.column_exists(self, table_name, column)
  for _, c in ipairs(self:columns(table_name)) do
    if c.name == column then return true end
  end
  return false
end

function methods.index_exists(self, table_name, index)
  for _, i in ipairs(self:indexes(table_name)) do
    if i.name == index then return true end
  end
  return false
end

--- db:checksum(table, columns [, where, ...]) -> { rows = n, sum = hex }
--- Row count and an order-independent checksum of the chosen columns, for
--- proving a conversion lost or changed no row: each row's values are
--- hashed (sha256, NULL distinct from '') and the first 8 bytes of the
--- hashes are added modulo 2^64, so the order rows come in does not
--- matter but every value does.  Streams: memory stays flat.
function methods.checksum(self, tbl, columns, where, ...)
  assert(type(columns) == "table" and #columns > 0, "checksum: a list of columns is required")
  local quoted = {}
  for i, c in ipairs(columns) do quoted[i] = self:quote_ident(c) end
  local sql = ("SELECT %s FROM %s"):format(table.concat(quoted, ", "), self:quote_ident(tbl))
  if where then sql = sql .. " WHERE " .. where end
  local rows, sum, parts = 0, 0, {}
  for row in self:query(sql, ...) do
    rows = rows + 1
    for i, c in ipairs(columns) do
      local v = row[c]
      parts[i] = v == nil and "\0NULL" or (math.type(v) == "float" and ("%.17g"):format(v) or tostring(v))
    end
    local h = sys.sha256(table.concat(parts, "\0", 1, #columns))
    sum = sum + math.tointeger(tonumber(h:sub(1, 8), 16) * 4294967296 + tonumber(h:sub(9, 16), 16) | 0)
  end
  return { rows = rows, sum = ("%016x"):format(sum) }
end

--- db:assert_checksum(before, table, columns [, where, ...])
--- Raises unless the rows of table (optionally filtered) have the row count
--- and checksum recorded in before (a db:checksum result): the assertion a
--- conversion's verify makes over what its convert took before it started.
function methods.assert_checksum(self, before, tbl, columns, where, ...)
  assert(type(before) == "table" and before.rows and before.sum,
         "assert_checksum: the first argument is a db:checksum result")
  local after = self:checksum(tbl, columns, where, ...)
  local what = ("%s(%s)%s"):format(tbl, table.concat(columns, ","), where and (" where " .. where) or "")
  if after.rows ~= before.rows then
    error(("integrity: %s has %d row(s), expected %d"):format(what, after.rows, before.rows), 2)
  end
  if after.sum ~= before.sum then
    error(("integrity: %s checksum %s, expected %s: a value changed"):format(what, after.sum, before.sum), 2)
  end
  return after
end

--- db:assert_count(table, n [, where, ...]) raises unless the table (with
--- the optional filter) has exactly n rows.
function methods.assert_count(self, tbl, n, where, ...)
  local sql = "SELECT count(*) FROM " .. self:quote_ident(tbl) .. (where and (" WHERE " .. where) or "")
  local have = math.tointeger(tonumber(self:scalar(sql, ...)))
  if have ~= n then
    error(("integrity: %s%s has %s row(s), expected %d"):format(tbl, where and (" where " .. where) or "",
                                                                 tostring(have), n), 2)
  end
end

--- db:schema() -> the normalised description of migrate/schema.lua.
function methods.schema(self)
  return require("migrate.schema").describe(self)
end

--- db:assert_schema{ t = { columns = { c = "varchar(64)" | true }, indexes = { i = {"a","b"} | true } } }
--- Raises listing every table, column (with its portable type) and index
--- (with its columns) that is not as given; nothing else is compared.
function methods.assert_schema(self, spec)
  -- only the tables spec names: a verify runs once per version, and the
  -- whole catalog of Nightingale's ~250 tables costs a quarter second on
  -- PostgreSQL each time
  local only = {}
  for t in pairs(spec) do only[t] = true end
  local live, problems = require("migrate.schema").describe(self, { only = only }), {}
  for t, want in pairs(spec) do
    local have = live[t]
    if not have then
      problems[#problems + 1] = "table " .. t .. " is missing"
    else
      for c, ty in pairs(want.columns or {}) do
        local hc = have.columns[c]
        if not hc then problems[#problems + 1] = ("column %s.%s is missing"):format(t, c)
        elseif type(ty) == "string" and hc.type ~= ty then
          problems[#problems + 1] = ("column %s.%s is %s, expected %s"):format(t, c, hc.type, ty)
        end
      end
      for i, cols in pairs(want.indexes or {}) do
        local hi = have.indexes[i]
        if not hi then problems[#problems + 1] = ("index %s on %s is missing"):format(i, t)
        elseif type(cols) == "table" and table.concat(cols, ",") ~= table.concat(hi.columns, ",") then
          problems[#problems + 1] = ("index %s on %s covers (%s), expected (%s)")
            :format(i, t, table.concat(hi.columns, ","), table.concat(cols, ","))
        end
      end
    end
  end
  table.sort(problems)
  if #problems > 0 then error("schema: " .. table.concat(problems, "; "), 2) end
  return true
end

return dbmod
