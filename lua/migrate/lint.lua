--- `lint`: check migration scripts without a database.  Rules (README,
--- "Linting scripts"):
---   luacheck     the script is luacheck-clean under the project's .luacheckrc
---   load         the script loads in the sandbox and its fields are valid
---   version      versions parse, are unique, match a version-like file
---                name, and min_from points at an earlier version
---   destructive  DROP TABLE/COLUMN, TRUNCATE and narrowing type changes
---                outside `down` only in scripts that declare destructive = true
---   down         an up that only creates has a down; a script without a
---                down says why (irreversible = "why")
--- Findings: { script, line, rule, severity = "error"|"warning", message }.
local csb = require("n9e.sandbox")
local errors = require("migrate.errors")
local sandbox = require("migrate.sandbox")
local scripts = require("migrate.scripts")
local source = require("migrate.lint_source")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

local UNKNOWN = source.UNKNOWN

-- SQL text ----------------------------------------------------------------------

--- text with SQL comments and the contents of quoted strings turned into
--- spaces (newlines kept, so positions and lines still match)
local function blank_sql(text)
  local out, i = {}, 1
  local function blank(s) return (s:gsub("[^\n]", " ")) end
  while true do
    local j = text:find("[-/']", i)
    if not j then break end
    out[#out + 1] = text:sub(i, j - 1)
    local c, two = text:sub(j, j), text:sub(j, j + 1)
    if two == "--" then
      local e = (text:find("\n", j, true) or #text + 1) - 1
      out[#out + 1], i = blank(text:sub(j, e)), e + 1
    elseif two == "/*" then
      local e = select(2, text:find("*/", j + 2, true)) or #text
      out[#out + 1], i = blank(text:sub(j, e)), e + 1
    elseif c == "'" then
      local k = j + 1
      while k <= #text do
        local d = text:sub(k, k)
        if d == "\\" then
          k = k + 2
        elseif d == "'" and text:sub(k + 1, k + 1) == "'" then
          k = k + 2
        elseif d == "'" then
          break
        else
          k = k + 1
        end
      end
      out[#out + 1], i = "'" .. blank(text:sub(j + 1, k - 1)) .. "'", k + 1
    else
      out[#out + 1], i = c, j + 1
    end
  end
  out[#out + 1] = text:sub(i)
  return table.concat(out)
end

--- SQL tokens of s from..to: { t = "word"|"ident"|"lit"|"p", v (words
--- upper case), raw, pos }.  `%s` (a computed part) is an ident.
local function sql_tokens(s, from, to)
  local toks, i = {}, from
  while i <= to do
    local a, b = s:find("^%s+", i)
    if a then i = b + 1 end
    if i > to then break end
    local c = s:sub(i, i)
    local w = s:match("^[%w_$]+", i)
    local tok
    if w then
      tok = { t = "word", v = w:upper(), raw = w }
    elseif c == "`" or c == '"' then
      local name = s:match("^" .. c .. "([^" .. c .. "]*)" .. c, i)
      if name then tok = { t = "ident", raw = name, len = #name + 2 } else tok = { t = "p", v = c, raw = c } end
    elseif c == "%" and s:match("^%%[sdq]", i) then
      tok = { t = "ident", raw = "%s", len = 2 }
    elseif c == "'" then
      local lit = s:match("^'[^']*'", i) or "'"
      tok = { t = "lit", raw = lit }
    else
      tok = { t = "p", v = c, raw = c }
    end
    tok.pos = i
    toks[#toks + 1] = tok
    i = i + (tok.len or #tok.raw)
  end
  return toks
end

local TYPE_STOP = {}
for w in ([[NOT NULL DEFAULT PRIMARY UNIQUE REFERENCES CHECK COMMENT AUTO_INCREMENT AUTOINCREMENT COLLATE
  CONSTRAINT GENERATED AS USING ON FIRST AFTER KEY IDENTITY CHARSET INVISIBLE VISIBLE STORED VIRTUAL]])
  :gmatch("[%u_]+") do TYPE_STOP[w] = true end

--- The column type written at toks[i]: "bigint(20) unsigned", "character
--- varying(255)", "%s" when computed; and the index after it.
local function column_type(toks, i)
  local parts = {}
  while toks[i] do
    local t = toks[i]
    if t.t == "word" then
      if TYPE_STOP[t.v] or (t.v == "CHARACTER" and toks[i + 1] and toks[i + 1].v == "SET") then break end
      parts[#parts + 1] = t.raw:lower()
      i = i + 1
    elseif t.t == "ident" and t.raw == "%s" then
      parts[#parts + 1] = "%s"
      i = i + 1
    elseif t.t == "p" and t.v == "(" and #parts > 0 then
      local args, depth = {}, 0
      repeat
        local x = toks[i]
        if x.v == "(" then depth = depth + 1 elseif x.v == ")" then depth = depth - 1 end
        args[#args + 1] = x.raw
        i = i + 1
      until depth == 0 or not toks[i]
      parts[#parts] = parts[#parts] .. table.concat(args)
    elseif t.t == "p" and t.v == "[" and toks[i + 1] and toks[i + 1].v == "]" then
      parts[#parts] = (parts[#parts] or "") .. "[]"
      i = i + 2
    else
      break
    end
  end
  if #parts == 0 then return nil, i end
  return table.concat(parts, " "), i
end

--- The type at the start of a column definition ("varchar(16) not null
--- default ''" -> "varchar(16)").
local function definition_type(def)
  if type(def) ~= "string" then return nil end
  local s = blank_sql(def)
  return (column_type(sql_tokens(s, 1, #s), 1))
end
M.definition_type = definition_type

-- Types: what narrows -------------------------------------------------------------

local INT_BYTES = { tinyint = 1, smallint = 2, int2 = 2, smallserial = 2, mediumint = 3, int = 4, integer = 4,
                    int4 = 4, serial = 4, bigint = 8, int8 = 8, bigserial = 8 }
local INT_DIGITS = { 3, 5, 8, 10, [8] = 19 }
local TEXT_BYTES = { tinytext = 255, text = 65535, mediumtext = 16777215, longtext = 4294967295 }
local BLOB_BYTES = { tinyblob = 255, blob = 65535, mediumblob = 16777215, longblob = 4294967295 }
local CHARS = { varchar = true, ["character varying"] = true, char = true, character = true, nvarchar = true,
                nchar = true, ["national varchar"] = true, ["national char"] = true }
local UNBOUNDED = math.huge
local TIME_RANK = { date = 1, datetime = 2, ["timestamp without time zone"] = 2, ["timestamp"] = 2,
                    ["timestamp with time zone"] = 3, timestamptz = 3 }

--- What a column type can hold: { family, bytes | chars | p,s, unsigned }.
--- dialect decides MySQL's sizes (text 64 KiB, BOOLEAN = TINYINT(1)).
function M.type_info(text, dialect)
  if type(text) ~= "string" or text:find("%s", 1, true) then return nil end
  local s = text:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  local full, unsigned = s, s:find(" unsigned") ~= nil
  s = s:gsub(" unsigned", ""):gsub(" zerofill", ""):gsub(" signed", "")
  local base, args = s:match("^([%w_ ]-)%s*%(([^)]*)%)")
  base = base or s
  local nums = {}
  for n in (args or ""):gmatch("%d+") do nums[#nums + 1] = tonumber(n) end
  local my = dialect == "mysql"
  if base == "bool" or base == "boolean" then
    if my then return { family = "int", bytes = 1, name = full } end
    return { family = "bool", name = full }
  end
  if INT_BYTES[base] then return { family = "int", bytes = INT_BYTES[base], unsigned = unsigned, name = full } end
  if CHARS[base] then
    local n = nums[1] or ((base:find("var") and not my) and UNBOUNDED or 1)
    return { family = "text", chars = n, name = full }
  end
  if TEXT_BYTES[base] then
    if my then return { family = "text", bytes = TEXT_BYTES[base], name = full } end
    return { family = "text", chars = UNBOUNDED, name = full }
  end
  if BLOB_BYTES[base] or base == "bytea" or base == "varbinary" or base == "binary" then
    local n = BLOB_BYTES[base] or nums[1] or UNBOUNDED
    return { family = "blob", bytes = my and n or (base == "bytea" or base == "blob") and UNBOUNDED or n, name = full }
  end
  if base == "real" or base == "float4" then return { family = "float", bytes = 4, name = full } end
  if base == "double" or base == "double precision" or base == "float8" then
    return { family = "float", bytes = 8, name = full }
  end
  if base == "float" then
    local p = nums[1]
    return { family = "float", bytes = (p and p > 24 or (not p and not my)) and 8 or 4, name = full }
  end
  if base == "decimal" or base == "numeric" or base == "dec" then
    return { family = "decimal", p = nums[1] or (my and 10 or 1000), s = nums[2] or 0, name = full }
  end
  local rank = TIME_RANK[base] or TIME_RANK[(base:gsub("%(%d+%)", ""))]
  if rank then return { family = "time", rank = rank, precision = nums[1] or 0, name = full } end
  if base == "json" or base == "jsonb" then return { family = "json", name = full } end
  return { family = "other", name = full }
end

--- PostgreSQL text and varchar without a length, MySQL longtext: a text
--- type any value's text fits into
local function unbounded_text(t)
  return t.family == "text" and (t.chars == UNBOUNDED or (t.bytes or 0) >= TEXT_BYTES.longtext)
end

local function chars_of(t)
  if t.chars then return t.chars end
  return t.bytes / 4 -- MySQL: utf8mb4, up to 4 bytes a character
end

local function bytes_of(t)
  if t.bytes then return t.bytes end
  return t.chars * 4
end

--- Longest text of a value of type t (its digits, its date)
local function text_width(t)
  if t.family == "int" then return (INT_DIGITS[t.bytes] or 20) + 1 end
  if t.family == "bool" then return 5 end
  if t.family == "float" then return 24 end
  if t.family == "decimal" then return t.p + 2 end
  if t.family == "time" then return 35 end
  return UNBOUNDED
end

--- Can every value of type `old` be stored in `new` unchanged?
function M.holds(old, new)
  if old.name == new.name then return true end
  local f, g = old.family, new.family
  if f == g then
    if f == "int" then
      if old.unsigned == new.unsigned then return new.bytes >= old.bytes end
      if old.unsigned then return new.bytes > old.bytes end
      return false -- negatives do not fit an unsigned type
    elseif f == "bool" or f == "json" then
      return true
    elseif f == "text" then
      if old.chars and new.chars then return new.chars >= old.chars end
      return bytes_of(new) >= bytes_of(old)
    elseif f == "blob" or f == "float" then
      return new.bytes >= old.bytes
    elseif f == "decimal" then
      return new.s >= old.s and new.p - new.s >= old.p - old.s
    elseif f == "time" then
      -- MySQL's timestamp (1970-2038) holds less than its datetime
      local shorter = old.name:find("^datetime") and new.name:find("^timestamp")
      return new.rank >= old.rank and new.precision >= old.precision and not shorter
    end
    return false
  end
  if f == "bool" and g == "int" then return true end
  if f == "int" and g == "float" then return old.bytes <= (new.bytes == 4 and 2 or 4) end
  if f == "int" and g == "decimal" then return new.p - new.s >= (INT_DIGITS[old.bytes] or 20) end
  if g == "text" and f ~= "blob" and f ~= "other" then return chars_of(new) >= text_width(old) end
  return false
end

-- SQL statements -----------------------------------------------------------------

local REVERSIBLE = { create_table = true, create_index = true, create_other = true, add_column = true,
                     add_index = true, rename = true, drop_index = true }
local DROPS_DATA = { drop_table = "DROP TABLE", drop_column = "DROP COLUMN", truncate = "TRUNCATE",
                     drop_database = "DROP DATABASE/SCHEMA", drop_partition = "DROP PARTITION" }
local DATA = { INSERT = true, UPDATE = true, DELETE = true, REPLACE = true, MERGE = true, UPSERT = true }
local INDEXISH = { INDEX = true, KEY = true, UNIQUE = true, PRIMARY = true, CONSTRAINT = true, FOREIGN = true,
                   FULLTEXT = true, SPATIAL = true, CHECK = true }
local NEUTRAL = { ALGORITHM = true, LOCK = true }

local function word(toks, i) return toks[i] and toks[i].t == "word" and toks[i].v or nil end

local function name_of(t)
  if not t then return nil end
  if t.t == "ident" then return t.raw ~= "%s" and t.raw:lower() or nil end
  if t.t == "word" then return t.raw:lower() end
end

--- A possibly qualified name at i: its last part (nil when computed), next index.
local function qualified(toks, i)
  local name = name_of(toks[i])
  i = i + 1
  while toks[i] and toks[i].v == "." and toks[i + 1] do
    name, i = name_of(toks[i + 1]), i + 2
  end
  return name, i
end

local function skip_words(toks, i, ...)
  for _, w in ipairs({ ... }) do
    if word(toks, i) == w then i = i + 1 else return i, false end
  end
  return i, true
end

local function if_exists(toks, i)
  local j, ok = skip_words(toks, i, "IF", "NOT", "EXISTS")
  if ok then return j end
  j, ok = skip_words(toks, i, "IF", "EXISTS")
  if ok then return j end
  return i
end

--- Comma-separated parts of toks[from..to] at parenthesis depth 0.
local function split_commas(toks, from, to)
  local parts, start, depth = {}, from, 0
  for i = from, to do
    local v = toks[i].v
    if v == "(" then
      depth = depth + 1
    elseif v == ")" then
      depth = depth - 1
    elseif v == "," and depth == 0 then
      parts[#parts + 1] = { from = start, to = i - 1 }
      start = i + 1
    end
  end
  if start <= to then parts[#parts + 1] = { from = start, to = to } end
  return parts
end

local function sub(toks, from, to)
  local out = {}
  for i = from, to do out[#out + 1] = toks[i] end
  return out
end

--- Events of one ALTER TABLE action.
local function alter_action(a, tbl, emit)
  local w = word(a, 1)
  if not w or NEUTRAL[w] then return end
  if w == "ADD" then
    local i = 2
    if word(a, i) == "COLUMN" then i = i + 1 end
    i = if_exists(a, i)
    if INDEXISH[word(a, i) or ""] then return emit({ kind = "add_index", table = tbl }, a[1]) end
    if word(a, i) == "PARTITION" then return emit({ kind = "alter", table = tbl }, a[1]) end
    local col = name_of(a[i])
    return emit({ kind = "add_column", table = tbl, column = col, type = (column_type(a, i + 1)) }, a[1])
  elseif w == "DROP" then
    local nxt = word(a, 2)
    if nxt == "INDEX" or nxt == "KEY" then return emit({ kind = "drop_index", table = tbl }, a[1]) end
    if nxt == "PARTITION" then return emit({ kind = "drop_partition", table = tbl }, a[1]) end
    if nxt == "PRIMARY" or nxt == "FOREIGN" or nxt == "CONSTRAINT" or nxt == "CHECK" or nxt == "DEFAULT" then
      return emit({ kind = "alter", table = tbl }, a[1])
    end
    local i = nxt == "COLUMN" and 3 or 2
    i = if_exists(a, i)
    return emit({ kind = "drop_column", table = tbl, column = name_of(a[i]) }, a[1])
  elseif w == "MODIFY" or w == "CHANGE" then
    local i = word(a, 2) == "COLUMN" and 3 or 2
    local col = name_of(a[i])
    if w == "CHANGE" then i = i + 1 end
    return emit({ kind = "type_change", table = tbl, column = col, type = (column_type(a, i + 1)),
                  dialect = "mysql" }, a[1])
  elseif w == "ALTER" then
    local i = word(a, 2) == "COLUMN" and 3 or 2
    local col = name_of(a[i])
    local j = skip_words(a, i + 1, "SET", "DATA")
    if word(a, j) == "TYPE" then
      return emit({ kind = "type_change", table = tbl, column = col, type = (column_type(a, j + 1)),
                    dialect = "postgres" }, a[1])
    end
    return emit({ kind = "alter", table = tbl, column = col }, a[1])
  elseif w == "RENAME" then
    return emit({ kind = "rename", table = tbl }, a[1])
  end
  return emit({ kind = "alter", table = tbl }, a[1])
end

--- Columns of CREATE TABLE's ( ... ) between from and to.
local function table_columns(toks, from, to)
  local cols = {}
  for _, part in ipairs(split_commas(toks, from, to)) do
    local first = toks[part.from]
    if first and not (first.t == "word" and (INDEXISH[first.v] or first.v == "EXCLUDE" or first.v == "LIKE")) then
      local col = name_of(first)
      local ty = column_type(sub(toks, part.from + 1, part.to), 1)
      if col and ty then cols[#cols + 1] = { column = col, type = ty } end
    end
  end
  return cols
end

local function syntax_dialect(s)
  local u = s:upper()
  if u:find("AUTO_INCREMENT", 1, true) or u:find("ENGINE%s*=") or u:find(" UNSIGNED") then return "mysql" end
  if u:find("AUTOINCREMENT", 1, true) then return "sqlite" end
  if u:find("BIGSERIAL", 1, true) or u:find("%f[%w]SERIAL%f[%W]") then return "postgres" end
end

--- Events of one statement (tokens), each { kind, table, column, type,
--- columns, dialect, tok }.
local function statement(toks, emit)
  local w = word(toks, 1)
  if w == "CREATE" then
    local i = skip_words(toks, 2, "OR", "REPLACE")
    while ({ TEMPORARY = true, TEMP = true, UNLOGGED = true, UNIQUE = true })[word(toks, i) or ""] do i = i + 1 end
    if word(toks, i) == "TABLE" then
      local tbl
      tbl, i = qualified(toks, if_exists(toks, i + 1))
      local cols = {}
      if toks[i] and toks[i].v == "(" then
        local depth, j = 0, i
        repeat
          if toks[j].v == "(" then depth = depth + 1 elseif toks[j].v == ")" then depth = depth - 1 end
          j = j + 1
        until depth == 0 or not toks[j]
        cols = table_columns(toks, i + 1, j - 2)
      end
      return emit({ kind = "create_table", table = tbl, columns = cols }, toks[1])
    end
    return emit({ kind = word(toks, i) == "INDEX" and "create_index" or "create_other" }, toks[1])
  elseif w == "ALTER" then
    if word(toks, 2) ~= "TABLE" then return emit({ kind = "alter" }, toks[1]) end
    local i = if_exists(toks, 3)
    if word(toks, i) == "ONLY" then i = i + 1 end
    local tbl
    tbl, i = qualified(toks, i)
    for _, part in ipairs(split_commas(toks, i, #toks)) do alter_action(sub(toks, part.from, part.to), tbl, emit) end
  elseif w == "DROP" then
    local what = word(toks, 2)
    if what == "TABLE" then
      local i = if_exists(toks, 3)
      for _, part in ipairs(split_commas(toks, i, #toks)) do
        emit({ kind = "drop_table", table = (qualified(toks, part.from)) }, toks[1])
      end
    elseif what == "INDEX" then
      emit({ kind = "drop_index" }, toks[1])
    elseif what == "DATABASE" or what == "SCHEMA" then
      emit({ kind = "drop_database" }, toks[1])
    else
      emit({ kind = "drop_other" }, toks[1])
    end
  elseif w == "TRUNCATE" then
    local i = word(toks, 2) == "TABLE" and 3 or 2
    emit({ kind = "truncate", table = (qualified(toks, i)) }, toks[1])
  elseif w == "RENAME" then
    emit({ kind = "rename" }, toks[1])
  elseif DATA[w or ""] then
    emit({ kind = "data" }, toks[1])
  end
end

--- Events of the SQL in one text (several `;`-separated statements).
local function text_events(text, dialect, line_at, out)
  local s = blank_sql(text)
  local from = 1
  while from <= #s do
    local stop = (s:find(";", from, true) or #s + 1) - 1
    local toks = sql_tokens(s, from, stop)
    if toks[1] then
      local d = dialect or syntax_dialect(s:sub(from, stop))
      statement(toks, function(e, tok)
        e.dialect = e.dialect and (dialect or e.dialect) or d
        e.line = line_at(tok.pos)
        e.sql = true
        out[#out + 1] = e
      end)
    end
    from = stop + 2
  end
end

-- migrate.ddl calls --------------------------------------------------------------

local DDL_KIND = { create_table = "create_table", add_index = "add_index", rename_index = "rename",
                   rename_column = "rename", drop_index = "drop_index" }

local function known(v) return v ~= UNKNOWN and v ~= nil end
local function text_or_nil(v) return type(v) == "string" and v:lower() or nil end

--- Events of one call: ddl.add_column and ddl.alter_column carry types.
local function call_events(call, out)
  local a = call.args
  local tbl, col = text_or_nil(a[2]), text_or_nil(a[3])
  local function emit(e)
    e.line, e.table, e.ddl = call.line, e.table or tbl, "ddl." .. call.fn
    out[#out + 1] = e
  end
  if DDL_KIND[call.fn] then
    emit({ kind = DDL_KIND[call.fn] })
  elseif call.fn == "add_column" then
    local def = a[4]
    if type(def) == "table" and def ~= UNKNOWN then
      for d in pairs(source.DIALECTS) do
        if known(def[d]) then
          emit({ kind = "add_column", column = col, type = definition_type(def[d]), dialect = d })
        end
      end
    else
      emit({ kind = "add_column", column = col, type = definition_type(def) })
    end
  elseif call.fn == "alter_column" then
    local spec = a[4]
    if type(spec) ~= "table" or spec == UNKNOWN then
      return emit({ kind = "type_change", column = col, computed = true })
    end
    local my, pg = spec.mysql, spec.postgres
    if my ~= nil then
      local ty = type(my) == "string" and definition_type(my) or nil
      emit({ kind = "type_change", column = col, type = ty, computed = ty == nil, dialect = "mysql" })
    end
    if type(pg) == "table" and pg ~= UNKNOWN then
      if pg.type ~= nil then
        emit({ kind = "type_change", column = col, type = type(pg.type) == "string" and pg.type:lower() or nil,
               computed = type(pg.type) ~= "string", dialect = "postgres" })
      else
        emit({ kind = "alter", column = col, dialect = "postgres" })
      end
    elseif pg ~= nil then
      emit({ kind = "type_change", column = col, computed = true, dialect = "postgres" })
    end
  end
end

-- Reading one script --------------------------------------------------------------

--- Everything a script's source does: S (lint_source.read) and its events
--- in source order, each with `ctx` (the steps it serves).
function M.events(text)
  local S = source.read(text)
  if not S then return nil end
  local out = {}
  -- the returned table's other fields (description, ...) are words, not SQL
  local data_fields = {}
  for _, f in ipairs(S.fields) do
    if not source.STEPS[f.key] then data_fields[#data_fields + 1] = f end
  end
  local function in_data_field(k)
    for _, f in ipairs(data_fields) do
      if k >= f.first and k <= f.last then return true end
    end
  end
  for _, t in ipairs(source.texts(S)) do
    if not in_data_field(t.at) then
      local from = #out
      text_events(t.text, t.dialect, t.line_at, out)
      for i = from + 1, #out do out[i].at = t.at end
    end
  end
  local seen = {}
  for _, call in ipairs(source.ddl_calls(S)) do
    local from = #out
    call_events(call, out)
    for i = #out, from + 1, -1 do
      local e = out[i]
      e.at = call.at
      local key = table.concat({ e.line, e.kind, tostring(e.table), tostring(e.column), tostring(e.dialect),
                                 tostring(e.type) }, "\0")
      if seen[key] then table.remove(out, i) else seen[key] = true end
    end
  end
  table.sort(out, function(x, y)
    if x.at ~= y.at then return x.at < y.at end
    return x.line < y.line
  end)
  for _, e in ipairs(out) do e.ctx = source.context(S, e.at) end
  return S, out
end

--- Code that only `down` reaches: a down undoes what up made, so it may drop.
local function only_down(ctx)
  return ctx.down == true and next(ctx, next(ctx)) == nil
end

local function steps_text(ctx)
  local names = {}
  for k in pairs(ctx) do names[#names + 1] = k == "load" and "code run when it loads" or k end
  table.sort(names)
  return table.concat(names, " and ")
end

-- The schema the chain declares: model[dialect or "*"][table][column] = type

local function model_get(model, dialect, tbl, col)
  if not tbl or not col then return nil end
  local function at(d) return model[d] and model[d][tbl] and model[d][tbl][col] end
  return (dialect and at(dialect)) or at("*")
end

local function model_set(model, dialect, tbl, col, ty)
  if not tbl or not col or not ty then return end
  local d = dialect or "*"
  model[d] = model[d] or {}
  model[d][tbl] = model[d][tbl] or {}
  model[d][tbl][col] = ty
end

local function learn(model, e)
  if e.kind == "create_table" then
    for _, c in ipairs(e.columns or {}) do model_set(model, e.dialect, e.table, c.column, c.type) end
  elseif (e.kind == "add_column" or e.kind == "type_change") and e.type then
    model_set(model, e.dialect, e.table, e.column, e.type)
  end
end

local function column_name(e)
  return ("%s.%s"):format(e.table or "(computed table)", e.column or "(computed column)")
end

-- Rules ------------------------------------------------------------------------------

--- The line of the returned table's field `key` in a script, or nil.
local function field_line(sc, key)
  local f = sc.S and source.field(sc.S, key)
  return f and f.line
end

local function finding(list, script, line, rule, severity, message)
  list[#list + 1] = { script = script, line = line, rule = rule, severity = severity, message = message }
end

--- The destructive rule on one script's events; learns the schema.
local function destructive_rule(sc, model, out)
  local declared = sc.module and sc.module.destructive == true
  local found = false
  -- tables and columns this script makes itself: dropping its own work
  -- tables loses nothing that was there before it
  local made = {}
  for _, e in ipairs(sc.events) do
    if not only_down(e.ctx) and e.table and (e.kind == "create_table" or e.kind == "add_column") then
      made[e.table .. "." .. (e.kind == "add_column" and tostring(e.column) or "")] = true
    end
  end
  for _, e in ipairs(sc.events) do
    local exempt = only_down(e.ctx)
    local where = steps_text(e.ctx)
    local own = e.table and ((e.kind == "drop_table" and made[e.table .. "."])
                             or (e.kind == "drop_column" and e.column and made[e.table .. "." .. e.column]))
    if not exempt and DROPS_DATA[e.kind] and not own then
      found = true
      if not declared then
        local what = (e.table or e.column) and (" " .. (e.column and column_name(e) or e.table)) or ""
        finding(out, sc.name, e.line, "destructive", "error",
                ("%s%s in %s loses data; only `down` may do that, unless the script declares destructive = true")
                  :format(DROPS_DATA[e.kind], what, where))
      end
    elseif not exempt and e.kind == "type_change" then
      local dialect = e.dialect
      local new = M.type_info(e.type, dialect)
      local old_text = model_get(model, dialect, e.table, e.column)
      local old = old_text and M.type_info(old_text, dialect)
      local via = e.ddl and (" (" .. e.ddl .. ")") or ""
      if not new then
        if not declared then
          finding(out, sc.name, e.line, "destructive", "warning",
                  ("%s changes to a type computed at run time%s in %s: lint cannot tell whether it narrows")
                    :format(column_name(e), via, where))
        end
      elseif old and not M.holds(old, new) then
        found = true
        if not declared then
          finding(out, sc.name, e.line, "destructive", "error",
                  ("%s narrows from %s to %s (%s)%s in %s: values that do not fit are cut or refused; declare "
                   .. "destructive = true if that is intended"):format(column_name(e), old_text, e.type,
                                                                      dialect or "every engine", via, where))
        end
      elseif not old and not unbounded_text(new) and not declared then
        finding(out, sc.name, e.line, "destructive", "warning",
                ("%s becomes %s (%s)%s in %s, but no earlier script declares its type: lint cannot tell "
                 .. "whether that narrows"):format(column_name(e), e.type, dialect or "every engine", via, where))
      end
    end
    if not exempt then learn(model, e) end
  end
  if declared and not found then
    finding(out, sc.name, field_line(sc, "destructive"), "destructive", "warning",
            "declares destructive = true, but lint finds no destructive statement outside down "
            .. "(it reads SQL literals and migrate.ddl calls; SQL computed at run time is not seen)")
  end
end

local function down_rule(sc, out)
  local m = sc.module
  if not m then return end
  local line = field_line(sc, "up") or (sc.S and sc.S.return_at and sc.S.toks[sc.S.return_at].line)
  if m.down and m.irreversible then
    finding(out, sc.name, field_line(sc, "irreversible") or line, "down", "error",
            "declares irreversible but has a down: drop one of them")
    return
  end
  if m.down or m.irreversible then return end
  local changes, other = {}, false
  for _, e in ipairs(sc.events or {}) do
    if e.ctx.up then
      if REVERSIBLE[e.kind] then changes[(e.kind:gsub("_", " "))] = true else other = true end
    end
  end
  local kinds = {}
  for k in pairs(changes) do kinds[#kinds + 1] = k end
  table.sort(kinds)
  if #kinds > 0 and not other then
    finding(out, sc.name, line, "down", "error",
            ("up only makes changes that can be undone (%s) but there is no down: write one, or declare "
             .. "irreversible = \"why\""):format(table.concat(kinds, ", ")))
  elseif other then
    finding(out, sc.name, line, "down", "warning",
            ("no down: rollback below %s is refused; write one, or declare irreversible = \"why\" when it "
             .. "cannot be undone"):format(sc.version or "this version"))
  end
end

--- A file name that says a version: the whole name, or what comes before
--- the first `_` (7.1.0.lua, v7.1.0.lua, 7.1.0_target_os.lua).
local function name_version(path)
  local base = path:match("([^/]+)%.lua$") or path
  return version.parse(base) or version.parse(base:match("^([^_]+)_") or "")
end

local function version_rules(list, out)
  local by_version, known_versions = {}, {}
  for _, sc in ipairs(list) do
    if sc.parsed then known_versions[sc.version] = sc end
  end
  for _, sc in ipairs(list) do
    local line = field_line(sc, "version")
    if sc.module and not sc.parsed then
      finding(out, sc.name, line, "version", "error", select(2, version.parse(sc.module.version)))
    elseif sc.parsed then
      local first = by_version[sc.version]
      if first then
        finding(out, sc.name, line, "version", "error",
                ("scripts %s and %s both have version %s"):format(first.name, sc.name, sc.version))
      else
        by_version[sc.version] = sc
      end
      local nv = name_version(sc.name)
      if nv and version.compare(nv, sc.parsed) ~= 0 then
        finding(out, sc.name, line, "version", "error",
                ("the file name says version %s but the script declares %s"):format(nv.text, sc.version))
      end
      local min = sc.module.min_from and version.parse(sc.module.min_from)
      if min then
        local mf = field_line(sc, "min_from")
        if not version.lt(min, sc.parsed) then
          finding(out, sc.name, mf or line, "version", "error",
                  ("min_from %s is not below the script's own version %s: no database could apply it")
                    :format(min.text, sc.version))
        elseif not known_versions[min.text] then
          finding(out, sc.name, mf or line, "version", "warning",
                  ("min_from %s is the version of no script here"):format(min.text))
        end
      end
    end
  end
end

-- luacheck ------------------------------------------------------------------------------

--- luacheck's modules: Debian's lua-check installs them for Lua 5.1 only
--- (/usr/share/lua/5.1/luacheck), pure Lua that runs on 5.4.  Look them
--- up on this Lua's own path with 5.4 read as 5.1, and only them.
local function luacheck_path()
  local path = {}
  for template in package.path:gmatch("[^;]+") do
    if template:find("/5%.4/") then path[#path + 1] = (template:gsub("/5%.4/", "/5.1/")) end
  end
  return table.concat(path, ";")
end

local function luacheck_searcher(name)
  if name ~= "luacheck" and not name:match("^luacheck%.") then return nil end
  local file, err = package.searchpath(name, luacheck_path())
  if not file then return "\n\t" .. err end
  local chunk, lerr = loadfile(file)
  if not chunk then error(lerr, 0) end
  return chunk, file
end

local function load_luacheck()
  local installed = false
  for _, s in ipairs(package.searchers) do
    if s == luacheck_searcher then installed = true end
  end
  if not installed then table.insert(package.searchers, luacheck_searcher) end
  local ok, luacheck = pcall(require, "luacheck")
  if not ok then
    local path = luacheck_path()
    return nil, path == "" and "package.path names no Lua 5.4 directory to look beside"
                or ("not found in " .. path)
  end
  return luacheck, nil, require("luacheck.options").all_options, require("luacheck.builtin_standards")
end

--- A .luacheckrc evaluated as data: { top = options, files = { [pattern] = options }, stds }
local function read_config(text, name)
  local files = setmetatable({}, { __index = function(t, k)
    local v = {}
    rawset(t, k, v)
    return v
  end })
  local env = { files = files, stds = {} }
  local ok, fn = pcall(csb.load, text, name, env)
  if not ok then return nil, tostring(fn) end
  local res = table.pack(sandbox.call(fn))
  if not res[1] then return nil, errors.text(res[2]) end
  return { top = env, files = files, stds = env.stds }
end

local function pattern_matches(key, rel)
  if key:sub(-1) == "/" then return rel:sub(1, #key) == key, true end
  if key:find("*", 1, true) then
    local p = "^" .. key:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*%*", "\1"):gsub("%*", "[^/]*")
      :gsub("\1", ".*") .. "$"
    return rel:match(p) ~= nil, true
  end
  return rel == key or rel:sub(1, #key + 1) == key .. "/", false
end

--- The option tables that apply to `rel` (a path relative to the config's
--- directory), least specific first; dirs_only ignores file entries.
local function options_for(config, rel, allowed, dirs_only)
  local function keep(t)
    local o = {}
    for k, v in pairs(t) do
      if allowed[k] then o[k] = v end
    end
    return o
  end
  local list = { keep(config.top) }
  local keys = {}
  for k in pairs(config.files) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return #a < #b or (#a == #b and a < b) end)
  for _, k in ipairs(keys) do
    local hit, dir = pattern_matches(k, rel)
    if hit and (dir or not dirs_only) then list[#list + 1] = keep(config.files[k]) end
  end
  return list
end

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

--- The .luacheckrc for a --scripts directory: the nearest one in it or
--- above it.  Returns config, its directory (nil if there is none), error.
local function find_config(dir)
  local d = sys.realpath(dir)
  while d and d ~= "" do
    local rc = d .. "/.luacheckrc"
    if sys.stat(rc) == "file" then
      local text, err = sys.read_file(rc)
      if not text then return nil, rc, err end
      local config, cerr = read_config(text, rc)
      return config, d, cerr and (rc .. ": " .. cerr)
    end
    if d == "/" then break end
    d = dirname(d)
    if d == "" then d = "/" end
  end
end

local function luacheck_rule(list, opts, out)
  local luacheck, err, allowed, builtin_stds = load_luacheck()
  if not luacheck then
    finding(out, nil, nil, "luacheck", "error",
            "luacheck is not installed (Debian package lua-check): scripts cannot be checked with it; "
            .. "install it (tools/install-deps.sh does) and run lint again (luacheck: " .. err .. ")")
    return
  end
  -- the project's own settings are compiled in with the scripts
  local project, perr = read_config(sys.embedded_read(".luacheckrc") or "", ".luacheckrc")
  if not project then
    finding(out, nil, nil, "luacheck", "error", "the built-in .luacheckrc does not load: " .. tostring(perr))
    return
  end
  local config, config_dir = project, nil
  local root
  if opts.scripts_dir then
    root = sys.realpath(opts.scripts_dir)
    local c, d, e = find_config(opts.scripts_dir)
    if e then
      finding(out, nil, nil, "luacheck", "error", e)
      return
    end
    if c then config, config_dir = c, d end
  end
  local reports, per_file = {}, {}
  for i, sc in ipairs(list) do
    local rel, dirs_only = sc.name, false
    if root then
      local real = sys.realpath(sc.name) or sc.name
      if config_dir then
        rel = real:sub(#config_dir + 2)
      else
        rel, dirs_only = "scripts/" .. real:sub(#root + 2), true
      end
    end
    reports[i] = luacheck.get_report(sc.text)
    per_file[i] = options_for(config, rel, allowed, dirs_only)
  end
  -- the standards a config may name: luacheck's own and the config's stds
  local stds = {}
  for k, v in pairs(builtin_stds) do stds[k] = v end
  for k, v in pairs(config.stds) do stds[k] = v end
  local ok, report = pcall(luacheck.process_reports, reports, per_file, stds)
  if not ok then
    finding(out, nil, nil, "luacheck", "error", "the .luacheckrc settings are not valid: " .. tostring(report))
    return
  end
  for i, file in ipairs(report) do
    local sc = list[i]
    if file.fatal then
      finding(out, sc.name, file.line, "luacheck", "error", tostring(file.msg or file.fatal))
    else
      for _, ev in ipairs(file) do
        local kind = ev.code:sub(1, 1) == "0" and "E" or "W"
        finding(out, sc.name, ev.line, "luacheck", "error",
                ("(%s%s) %s"):format(kind, ev.code, luacheck.get_message(ev)))
      end
    end
  end
end

-- Driver ---------------------------------------------------------------------------------

--- Lint sources { name, text, embedded } -> findings, scripts read.
function M.check(sources, opts)
  opts = opts or {}
  local out, list = {}, {}
  for _, src in ipairs(sources) do
    local sc = { name = src.name, text = src.text }
    local mod, err = sandbox.load(src.text, src.name, { allowed_paths = opts.allowed_paths }, src.embedded)
    if not mod then
      finding(out, src.name, tonumber(tostring(errors.text(err)):match(":(%d+):")), "load", "error",
              "does not load: " .. errors.text(err))
    else
      local v, verr = scripts.validate(mod, src.name)
      sc.module = mod
      if v then
        sc.parsed, sc.version = v, v.text
      elseif version.parse(mod.version) then
        finding(out, src.name, nil, "load", "error", verr)
      end
    end
    sc.S, sc.events = M.events(src.text)
    list[#list + 1] = sc
  end
  version_rules(list, out)
  -- the schema is learnt along the chain: oldest version first
  local ordered = {}
  for i, sc in ipairs(list) do ordered[i] = sc end
  table.sort(ordered, function(a, b)
    if a.parsed and b.parsed then return version.lt(a.parsed, b.parsed) end
    if a.parsed or b.parsed then return a.parsed ~= nil end
    return a.name < b.name
  end)
  local model = {}
  for _, sc in ipairs(ordered) do
    if sc.events then destructive_rule(sc, model, out) end
    down_rule(sc, out)
  end
  if not opts.no_luacheck then luacheck_rule(list, opts, out) end
  local rank = {}
  for i, sc in ipairs(list) do rank[sc.name] = i end
  table.sort(out, function(a, b)
    local ra, rb = rank[a.script] or 0, rank[b.script] or 0
    if ra ~= rb then return ra < rb end
    if (a.line or 0) ~= (b.line or 0) then return (a.line or 0) < (b.line or 0) end
    if a.rule ~= b.rule then return a.rule < b.rule end
    return a.message < b.message
  end)
  return out, #list
end

--- `lint`: the built-in scripts, or those under opts.scripts_dir.
--- Returns { findings, scripts, errors, warnings, exit }.
function M.run(opts)
  local findings, n = M.check(scripts.sources(opts.scripts_dir), opts)
  local res = { findings = findings, scripts = n, errors = 0, warnings = 0 }
  for _, f in ipairs(findings) do
    if f.severity == "error" then res.errors = res.errors + 1 else res.warnings = res.warnings + 1 end
  end
  res.exit = res.errors > 0 and errors.REFUSED or errors.OK
  return res
end

return M
