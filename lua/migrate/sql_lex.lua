--- SQL text as tokens, for the two readers of SQL in the library: `lint`
--- (what a script's statements do to the schema, migrate.lint_sql) and the
--- lock-impact check (what they lock, migrate.impact).  Not a parser:
--- enough of the three engines' lexical rules to find a statement's
--- words, names and column types.
---
--- Tokens: { t = "word"|"ident"|"lit"|"p", v (a word in upper case, the
--- character of a "p"), raw (a word as written, an identifier unquoted),
--- pos }.  `%s` (a part a script computes) is an ident.
local M = {}

--- text with SQL comments and the contents of quoted strings turned into
--- spaces (newlines kept, so positions and lines still match).  MySQL's
--- `#` comments count where a line starts with one (elsewhere `#` is an
--- operator of PostgreSQL's).
function M.blank(text)
  local out, i = {}, 1
  local function blank(s) return (s:gsub("[^\n]", " ")) end
  while true do
    local j = text:find("[-/'#]", i)
    if not j then break end
    out[#out + 1] = text:sub(i, j - 1)
    local c, two = text:sub(j, j), text:sub(j, j + 1)
    if two == "--" or c == "#" and text:sub(1, j - 1):match("[^\n]*$"):match("^%s*$") then
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

--- SQL tokens of s from..to (s as M.blank left it: no comments, string
--- contents blanked).  A quoted name may double its quote to contain it.
function M.tokens(s, from, to)
  from, to = from or 1, to or #s
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
      local j, parts = i + 1, {}
      while j <= to do
        local d = s:sub(j, j)
        if d == c and s:sub(j + 1, j + 1) == c then
          parts[#parts + 1], j = c, j + 2
        elseif d == c then
          break
        else
          parts[#parts + 1], j = d, j + 1
        end
      end
      if j <= to then
        tok = { t = "ident", raw = table.concat(parts), len = j - i + 1 }
      else
        tok = { t = "p", v = c, raw = c }
      end
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

-- The lock-impact check reads a statement up to four times (the dry run,
-- then the run's guard as it is sent): the tokens of recent statements
-- are kept, short ones only (a token takes about 100 bytes).  No caller
-- changes a token list.
local recent, recent_n = {}, 0
local RECENT_MAX, RECENT_LEN = 1024, 4096

--- The tokens of a statement's text, comments and string contents blanked.
function M.of(sql)
  local toks = recent[sql]
  if toks then return toks end
  toks = M.tokens(M.blank(sql))
  if #sql <= RECENT_LEN then
    if recent_n >= RECENT_MAX then recent, recent_n = {}, 0 end
    recent[sql], recent_n = toks, recent_n + 1
  end
  return toks
end

--- Whether t is the word w, or one of the words given (upper case).
function M.word(t, w, ...)
  if not t or t.t ~= "word" then return false end
  if t.v == w then return true end
  for i = 1, select("#", ...) do -- no table per call: the lexer's readers ask per token
    if t.v == select(i, ...) then return true end
  end
  return false
end

--- The name a word or quoted identifier stands for, as written (nil for
--- a computed `%s`).
function M.name(t)
  if not t then return nil end
  if t.t == "ident" then return t.raw ~= "%s" and t.raw or nil end
  if t.t == "word" then return t.raw end
end

--- A possibly schema-qualified name at toks[i]: its last part (nil when
--- computed), and the index after it.
function M.qualified(toks, i)
  local name = M.name(toks[i])
  i = i + 1
  while toks[i] and toks[i].v == "." and toks[i + 1] do
    name, i = M.name(toks[i + 1]), i + 2
  end
  return name, i
end

--- Comma-separated parts of toks[from..to] at parenthesis depth 0, as
--- { from, to } index ranges.
function M.split(toks, from, to)
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

local TYPE_STOP = {}
for w in ([[NOT NULL DEFAULT PRIMARY UNIQUE REFERENCES CHECK COMMENT AUTO_INCREMENT AUTOINCREMENT COLLATE
  CONSTRAINT GENERATED AS USING ON FIRST AFTER KEY IDENTITY CHARSET INVISIBLE VISIBLE STORED VIRTUAL]])
  :gmatch("[%u_]+") do TYPE_STOP[w] = true end

--- The column type written at toks[i]: "bigint(20) unsigned", "character
--- varying(255)", "%s" when computed; and the index after it.
function M.column_type(toks, i)
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


return M
