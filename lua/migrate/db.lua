--- Helpers added to every `db` connection (the C methods are in
--- runner/lua_db.c): transactions as a function, one-row queries, and
--- catalog probes that read the same on every engine.
local dbmod = require("n9e.db")

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

function methods.table_exists(self, name)
  for _, t in ipairs(self:tables()) do
    if t == name then return true end
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

return dbmod
