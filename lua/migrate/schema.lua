--- A normalised description of the live schema, the same on every engine:
---   { [table] = { columns = { [name] = { type, notnull, default, pk } },
---                 indexes = { [name] = { unique, columns = {...} } } } }
--- Types are portable names (int, bigint, smallint, varchar(n), char(n),
--- text, float, decimal(p,s), bool, blob, ...), defaults are bare values.
--- `diff` lists every difference between two descriptions in words.
local M = {}

local INTERNAL = { "^n9e_migrate_", "^n9e_pre_", "^n9e_drop_", "^sqlite_" }

--- The runner's own tables and its shadow copies are never user schema.
local function internal(name)
  for _, p in ipairs(INTERNAL) do
    if name:match(p) then return true end
  end
  return false
end
M.internal = internal

local ALIASES = {
  integer = "int", int = "int", int4 = "int", mediumint = "int", serial = "int",
  bigint = "bigint", int8 = "bigint", bigserial = "bigint",
  smallint = "smallint", int2 = "smallint", tinyint = "smallint",
  text = "text", mediumtext = "text", longtext = "text", tinytext = "text",
  ["double precision"] = "float", double = "float", float8 = "float", real = "float",
  float = "float", float4 = "float",
  boolean = "bool", bool = "bool",
  blob = "blob", bytea = "blob", longblob = "blob", mediumblob = "blob", tinyblob = "blob",
  ["character varying"] = "varchar", varchar = "varchar", character = "char", char = "char",
  numeric = "decimal", decimal = "decimal",
}

--- Portable name of an engine's column type.
function M.portable_type(t)
  local s = tostring(t or ""):lower():gsub("%s+unsigned", ""):gsub("%s+zerofill", "")
  s = s:gsub("^%s+", ""):gsub("%s+$", "")
  local base, args = s:match("^([%a%s]-)%s*(%b())$")
  if not base then base, args = s, nil end
  local name = ALIASES[base]
  if not name then return s end
  if name == "int" or name == "bigint" or name == "smallint" then return name end -- display widths
  if args and (name == "varchar" or name == "char" or name == "decimal") then
    return name .. args:gsub("%s", "")
  end
  return name
end

--- Bare default: no casts, no quotes; NULL is nil.
function M.portable_default(d)
  if d == nil then return nil end
  local s = tostring(d):gsub("::[%w%s]+$", ""):gsub("::[%w%s]+%)", ")")
  if s:upper() == "NULL" then return nil end
  local q = s:match("^'(.*)'$")
  if q then s = q:gsub("''", "'") end
  return s
end

--- opts.raw keeps the engine's own type names and default texts: the
--- journal compares a table with itself before and after, where even a
--- portable-equal change (int(10) vs int(11), text vs mediumtext) counts.
--- opts.only = { [table] = true } describes just those tables.
function M.describe(conn, opts)
  local raw = opts and opts.raw
  local out = {}
  local function column(cols, c)
    cols[c.name] = { type = raw and c.type or M.portable_type(c.type), notnull = c.notnull,
                     default = raw and c.default or M.portable_default(c.default), pk = c.pk }
  end
  local only = opts and opts.only
  -- the server drivers list every table's columns in one query (two
  -- round trips instead of two per table); opts.per_table for one or two
  local bulk = conn.dialect ~= "sqlite" and not (opts and opts.per_table)
  for _, t in ipairs(conn:tables()) do
    if not internal(t) and (not only or only[t]) then
      local cols, idx = {}, {}
      if not bulk then
        for _, c in ipairs(conn:columns(t)) do column(cols, c) end
        for _, i in ipairs(conn:indexes(t)) do idx[i.name] = { unique = i.unique, columns = i.columns } end
      end
      out[t] = { columns = cols, indexes = idx }
    end
  end
  if bulk then
    for row in conn:catalog("columns") do
      local t = out[row.tbl]
      if t then
        column(t.columns, { name = row.name, type = row.type, notnull = row.notnull == 1 or row.notnull == true,
                            default = row.dflt, pk = (tonumber(row.pk) or 0) > 0 })
      end
    end
    for row in conn:catalog("indexes") do
      local t = out[row.tbl]
      if t then
        local cols = {}
        for c in (row.columns or ""):gmatch("[^,]+") do cols[#cols + 1] = c end
        t.indexes[row.name] = { unique = row.unique == 1 or row.unique == true, columns = cols }
      end
    end
  end
  return out
end

local function sorted_keys(t)
  local k = {}
  for name in pairs(t or {}) do k[#k + 1] = name end
  table.sort(k)
  return k
end

local function show(v) return v == nil and "none" or tostring(v) end

--- Differences between an expected and a live description, as lines.
function M.diff(want, have)
  local out = {}
  for _, t in ipairs(sorted_keys(want)) do
    local w, h = want[t], have[t]
    if not h then
      out[#out + 1] = ("table %s is missing"):format(t)
    else
      for _, c in ipairs(sorted_keys(w.columns)) do
        local wc, hc = w.columns[c], h.columns[c]
        if not hc then
          out[#out + 1] = ("column %s.%s is missing"):format(t, c)
        else
          for _, k in ipairs({ "type", "notnull", "default", "pk" }) do
            if wc[k] ~= hc[k] then
              out[#out + 1] = ("column %s.%s: %s is %s, expected %s"):format(t, c, k, show(hc[k]), show(wc[k]))
            end
          end
        end
      end
      for _, c in ipairs(sorted_keys(h.columns)) do
        if not w.columns[c] then out[#out + 1] = ("column %s.%s is not expected"):format(t, c) end
      end
      for _, i in ipairs(sorted_keys(w.indexes)) do
        local wi, hi = w.indexes[i], h.indexes[i]
        if not hi then
          out[#out + 1] = ("index %s on %s is missing"):format(i, t)
        elseif wi.unique ~= hi.unique or table.concat(wi.columns, ",") ~= table.concat(hi.columns, ",") then
          out[#out + 1] = ("index %s on %s is %s(%s), expected %s(%s)"):format(i, t,
            hi.unique and "unique " or "", table.concat(hi.columns, ","),
            wi.unique and "unique " or "", table.concat(wi.columns, ","))
        end
      end
      for _, i in ipairs(sorted_keys(h.indexes)) do
        if not w.indexes[i] then out[#out + 1] = ("index %s on %s is not expected"):format(i, t) end
      end
    end
  end
  for _, t in ipairs(sorted_keys(have)) do
    if not want[t] then out[#out + 1] = ("table %s is not expected"):format(t) end
  end
  return out
end

return M
