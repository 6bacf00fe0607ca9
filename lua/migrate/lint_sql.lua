--- The SQL in a migration script's string literals, read for `lint`:
--- statements turned into events ({ kind, table, column, type, columns,
--- dialect, line }: create_table, add_column, type_change, drop_table,
--- drop_column, truncate, data, ...), and column types with what each can
--- hold (which type changes widen and which narrow; README, "Linting
--- scripts").
local M = {}

local lex = require("migrate.sql_lex")
local blank_sql, sql_tokens, column_type = lex.blank, lex.tokens, lex.column_type

--- The type at the start of a column definition ("varchar(16) not null
--- default ''" -> "varchar(16)").
function M.definition_type(def)
  if type(def) ~= "string" then return nil end
  local s = blank_sql(def)
  return (column_type(sql_tokens(s, 1, #s), 1))
end

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
function M.unbounded_text(t)
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

M.REVERSIBLE = { create_table = true, create_index = true, create_other = true, add_column = true,
                     add_index = true, rename = true, drop_index = true }
M.DROPS_DATA = { drop_table = "DROP TABLE", drop_column = "DROP COLUMN", truncate = "TRUNCATE",
                     drop_database = "DROP DATABASE/SCHEMA", drop_partition = "DROP PARTITION" }
local DATA = { INSERT = true, UPDATE = true, DELETE = true, REPLACE = true, MERGE = true, UPSERT = true }
local INDEXISH = { INDEX = true, KEY = true, UNIQUE = true, PRIMARY = true, CONSTRAINT = true, FOREIGN = true,
                   FULLTEXT = true, SPATIAL = true, CHECK = true }
local NEUTRAL = { ALGORITHM = true, LOCK = true }

local function word(toks, i) return toks[i] and toks[i].t == "word" and toks[i].v or nil end

-- lint compares names case-insensitively
local function name_of(t)
  local n = lex.name(t)
  return n and n:lower()
end

--- A possibly qualified name at i: its last part (nil when computed), next index.
local function qualified(toks, i)
  local name, j = lex.qualified(toks, i)
  return name and name:lower(), j
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

local split_commas = lex.split

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
function M.text_events(text, dialect, line_at, out)
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

return M
