--- What a migration script's source says, read without running it (for
--- `lint`): its tokens, the fields and steps of the table it returns, the
--- step(s) each piece of code serves, the values of its top-level constant
--- tables, its migrate.ddl calls (with loop variables over such constants
--- resolved) and the SQL its string literals hold.
---
--- A token reader, not a Lua parser: it follows the block and bracket
--- structure of code that loads (anything else is luacheck's and the
--- loader's to report) and gives up quietly where a value is computed.
local M = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat return then true
  until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local OPS3 = { ["..."] = true }
local OPS2 = { ["=="] = true, ["~="] = true, ["<="] = true, [">="] = true, ["//"] = true, ["::"] = true,
               ["<<"] = true, [">>"] = true, [".."] = true }

local ESCAPES = { n = "\n", t = "\t", r = "\r", a = "\a", b = "\b", f = "\f", v = "\v",
                  ["\\"] = "\\", ['"'] = '"', ["'"] = "'" }

local function count_nl(s, i, j)
  local n = 0
  for _ in s:sub(i, j):gmatch("\n") do n = n + 1 end
  return n
end

--- A short string from the quote at i: decoded value, index after it and
--- the number of source lines it spans.
local function short_string(src, i)
  local q = src:sub(i, i)
  local out, j, lines = {}, i + 1, 0
  while j <= #src do
    local c = src:sub(j, j)
    if c == q then return table.concat(out), j + 1, lines end
    if c == "\n" then break end -- unterminated: the loader reports it
    if c == "\\" then
      local e = src:sub(j + 1, j + 1)
      if ESCAPES[e] then
        out[#out + 1], j = ESCAPES[e], j + 2
      elseif e == "\n" then
        out[#out + 1], j, lines = "\n", j + 2, lines + 1
      elseif e == "z" then
        local ws = src:match("^%s*", j + 2)
        lines = lines + count_nl(ws, 1, #ws)
        j = j + 2 + #ws
      elseif e == "x" then
        out[#out + 1] = string.char(tonumber(src:sub(j + 2, j + 3), 16) or 63)
        j = j + 4
      elseif e:match("%d") then
        local d = src:match("^%d%d?%d?", j + 1)
        out[#out + 1] = string.char(math.min(tonumber(d), 255))
        j = j + 1 + #d
      elseif e == "u" then
        local hex = src:match("^{(%x+)}", j + 2) or "3f"
        out[#out + 1] = utf8.char(math.min(tonumber(hex, 16), 0x7FFFFFFF))
        j = j + 4 + #hex
      else
        out[#out + 1], j = e, j + 2
      end
    else
      out[#out + 1], j = c, j + 1
    end
  end
  return table.concat(out), j, lines
end

--- Tokens of Lua source: { t = "name"|"kw"|"str"|"num"|"op", v, line };
--- strings also have `long` and `body_line` (the line their text starts
--- on).  Comments are dropped.
function M.tokenize(src)
  local toks, i, n, line = {}, 1, #src, 1
  if src:sub(1, 1) == "#" then i = src:find("\n", 1, true) or n + 1 end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local stop
      if eq then
        local close = src:find("]" .. eq .. "]", i + 4 + #eq, true)
        stop = close and close + #eq + 1 or n
      else
        stop = (src:find("\n", i, true) or n + 1) - 1
      end
      line, i = line + count_nl(src, i, stop), stop + 1
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local body = i + #eq + 2
      local close = src:find("]" .. eq .. "]", body, true) or n + 1
      local text, body_line = src:sub(body, close - 1), line
      if text:sub(1, 2) == "\r\n" then
        text, body_line = text:sub(3), line + 1
      elseif text:sub(1, 1) == "\n" then
        text, body_line = text:sub(2), line + 1
      end
      toks[#toks + 1] = { t = "str", v = text, line = line, body_line = body_line, long = true }
      local stop = close + #eq + 1
      line, i = line + count_nl(src, i, stop), stop + 1
    elseif c == '"' or c == "'" then
      local v, j, lines = short_string(src, i)
      toks[#toks + 1] = { t = "str", v = v, line = line, body_line = line }
      line, i = line + lines, j
    elseif c:match("[%a_]") then
      local w = src:match("^[%w_]+", i)
      toks[#toks + 1] = { t = KEYWORDS[w] and "kw" or "name", v = w, line = line }
      i = i + #w
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local num = src:match("^0[xX][%x%.]*[pP][%+%-]?%d+", i) or src:match("^0[xX][%x%.]*", i)
        or src:match("^[%d%.]+[eE][%+%-]?%d+", i) or src:match("^[%d%.]+", i)
      toks[#toks + 1] = { t = "num", v = num, line = line }
      i = i + #num
    else
      local op = OPS3[src:sub(i, i + 2)] and src:sub(i, i + 2) or OPS2[src:sub(i, i + 1)] and src:sub(i, i + 1) or c
      toks[#toks + 1] = { t = "op", v = op, line = line }
      i = i + #op
    end
  end
  return toks
end

local OPENERS = { ["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true }
local BRACKETS = { ["("] = ")", ["{"] = "}", ["["] = "]" }
local CLOSERS = { [")"] = true, ["}"] = true, ["]"] = true }

--- Block and bracket structure: pair[k] is the index of what closes the
--- opener at k (`end`, `until`, `)`, `}`, `]`), depth[k] how many are
--- open at k.  nil when the structure does not balance.
local function structure(toks)
  local pair, depth, stack = {}, {}, {}
  for k, tk in ipairs(toks) do
    local closes = (tk.t == "kw" and (tk.v == "end" or tk.v == "until")) or (tk.t == "op" and CLOSERS[tk.v])
    if closes then
      local o = table.remove(stack)
      if not o then return nil end
      pair[o] = k
    end
    depth[k] = #stack
    if (tk.t == "kw" and OPENERS[tk.v]) or (tk.t == "op" and BRACKETS[tk.v]) then stack[#stack + 1] = k end
  end
  if #stack > 0 then return nil end
  return pair, depth
end

local BINOPS = { ["+"] = true, ["-"] = true, ["*"] = true, ["/"] = true, ["//"] = true, ["%"] = true,
                 ["^"] = true, [".."] = true, ["=="] = true, ["~="] = true, ["<"] = true, ["<="] = true,
                 [">"] = true, [">="] = true, ["&"] = true, ["|"] = true, ["~"] = true, ["<<"] = true,
                 [">>"] = true }
local UNOPS = { ["-"] = true, ["#"] = true, ["~"] = true }
local VALUE_KW = { ["nil"] = true, ["true"] = true, ["false"] = true, ["function"] = true }

local function is(tk, t, v) return tk ~= nil and tk.t == t and (v == nil or tk.v == v) end
local function binop(tk)
  return (tk.t == "op" and BINOPS[tk.v]) or (tk.t == "kw" and (tk.v == "and" or tk.v == "or"))
end

--- The last token of the expression (list, unless single) starting at i.
local function expr_end(S, i, single)
  local toks, pair = S.toks, S.pair
  local k, last, need = i, i - 1, true
  while toks[k] do
    local tk = toks[k]
    if need then
      if (tk.t == "op" and UNOPS[tk.v]) or is(tk, "kw", "not") then
        k = k + 1
      elseif tk.t == "name" or tk.t == "str" or tk.t == "num" or (tk.t == "kw" and VALUE_KW[tk.v])
             or is(tk, "op", "...") or is(tk, "op", "(") or is(tk, "op", "{") then
        if pair[k] then k = pair[k] end
        last, k, need = k, k + 1, false
      else
        break
      end
    elseif is(tk, "op", ".") or is(tk, "op", ":") then
      last, k = k + 1, k + 2
    elseif is(tk, "op", "[") or is(tk, "op", "(") or is(tk, "op", "{") then
      last = pair[k] or k
      k = last + 1
    elseif tk.t == "str" then
      last, k = k, k + 1
    elseif binop(tk) or (is(tk, "op", ",") and not single) then
      k, need = k + 1, true
    else
      break
    end
  end
  return last
end

-- Static values ---------------------------------------------------------------

--- Stands for a value the source computes.
M.UNKNOWN = setmetatable({}, { __tostring = function() return "(computed)" end, __name = "unknown" })
local UNKNOWN = M.UNKNOWN

local eval_expr

local function eval_constructor(S, k, env)
  local toks, t, n = S.toks, {}, 0
  local stop = S.pair[k]
  k = k + 1
  while k < stop do
    local tk = toks[k]
    if is(tk, "op", ",") or is(tk, "op", ";") then
      k = k + 1
    elseif is(tk, "op", "[") then
      local key = eval_expr(S, k + 1, env)
      local v
      v, k = eval_expr(S, S.pair[k] + 2, env)
      if key ~= UNKNOWN and key ~= nil then t[key] = v end
    elseif tk.t == "name" and is(toks[k + 1], "op", "=") then
      t[tk.v], k = eval_expr(S, k + 2, env)
    else
      n = n + 1
      t[n], k = eval_expr(S, k, env)
    end
  end
  return t, stop + 1
end

local function eval_primary(S, k, env)
  local toks, tk = S.toks, S.toks[k]
  local v
  if not tk then return UNKNOWN, k end
  if tk.t == "str" then
    v, k = tk.v, k + 1
  elseif tk.t == "num" then
    v, k = tonumber(tk.v) or UNKNOWN, k + 1
  elseif is(tk, "kw", "nil") then
    v, k = nil, k + 1
  elseif is(tk, "kw", "true") or is(tk, "kw", "false") then
    v, k = tk.v == "true", k + 1
  elseif is(tk, "op", "{") then
    v, k = eval_constructor(S, k, env)
  elseif is(tk, "op", "(") then
    v = eval_expr(S, k + 1, env)
    k = S.pair[k] + 1
  elseif tk.t == "name" then
    if env[tk.v] ~= nil then v = env[tk.v] else v = UNKNOWN end
    k = k + 1
  else
    return UNKNOWN, expr_end(S, k, true) + 1
  end
  while toks[k] do -- suffixes: fields, indexes; calls compute
    tk = toks[k]
    if is(tk, "op", ".") and is(toks[k + 1], "name") then
      if type(v) == "table" and v ~= UNKNOWN then v = v[toks[k + 1].v] else v = UNKNOWN end
      k = k + 2
    elseif is(tk, "op", "[") then
      local key = eval_expr(S, k + 1, env)
      if type(v) == "table" and v ~= UNKNOWN and key ~= UNKNOWN and key ~= nil then v = v[key] else v = UNKNOWN end
      k = S.pair[k] + 1
    elseif is(tk, "op", ":") then
      v, k = UNKNOWN, k + 2
    elseif is(tk, "op", "(") or is(tk, "op", "{") then
      v, k = UNKNOWN, S.pair[k] + 1
    elseif tk.t == "str" then
      v, k = UNKNOWN, k + 1
    else
      break
    end
  end
  return v, k
end

--- Value of the expression at k: strings, numbers, booleans, nil, tables
--- of those, names bound in env, fields and indexes of known tables, `..`
--- of known strings; anything else is UNKNOWN.  Returns value, next index.
function eval_expr(S, k, env)
  local toks = S.toks
  local unary = false
  while toks[k] and ((toks[k].t == "op" and UNOPS[toks[k].v]) or is(toks[k], "kw", "not")) do
    unary, k = true, k + 1
  end
  local v
  v, k = eval_primary(S, k, env)
  if unary then v = UNKNOWN end
  while toks[k] and binop(toks[k]) do
    local op = toks[k].v
    local rhs
    rhs, k = eval_expr(S, k + 1, env)
    local function text(x) return (type(x) == "string" or type(x) == "number") and x or nil end
    if op == ".." and text(v) and text(rhs) then v = v .. rhs else v = UNKNOWN end
  end
  return v, k
end

-- Structure of the script ----------------------------------------------------

local DIALECTS = { mysql = true, postgres = true, sqlite = true }
M.DIALECTS = DIALECTS

--- The dialect a top-level name stands for (MYSQL, POSTGRES_N9E,
--- SQLITE_SCHEMA, PG_...), or nil.
local function dialect_of_name(name)
  local u = (name or ""):upper()
  for _, w in ipairs({ u:match("^(%u+)"), u:match("_(%u+)$") }) do
    if w == "MYSQL" then return "mysql" end
    if w == "POSTGRES" or w == "PG" or w == "POSTGRESQL" then return "postgres" end
    if w == "SQLITE" then return "sqlite" end
  end
end

--- Read the top level: definitions (locals, functions), the returned
--- table's fields, module code.  Fills S.defs, S.fields, S.ranges.
local function top_level(S)
  local toks, pair, depth = S.toks, S.pair, S.depth
  local k = 1
  S.defs, S.fields, S.ranges = {}, {}, {}
  local function range(first, last, owner)
    S.ranges[#S.ranges + 1] = { first = first, last = last, owner = owner }
  end
  while toks[k] do
    local tk = toks[k]
    if depth[k] ~= 0 then
      k = k + 1
    elseif is(tk, "kw", "local") and is(toks[k + 1], "kw", "function") and is(toks[k + 2], "name") then
      local last = pair[k + 1] or #toks
      local name = toks[k + 2].v
      S.defs[name] = { first = k, last = last, line = tk.line }
      range(k, last, name)
      k = last + 1
    elseif is(tk, "kw", "local") then
      local names, j = {}, k + 1
      while is(toks[j], "name") do
        names[#names + 1] = toks[j].v
        j = j + 1
        if is(toks[j], "op", "<") then j = j + 3 end -- <const>, <close>
        if is(toks[j], "op", ",") then j = j + 1 else break end
      end
      local last = j - 1
      if is(toks[j], "op", "=") then last = expr_end(S, j + 1) end
      for _, name in ipairs(names) do
        S.defs[name] = { first = k, last = last, line = tk.line, value_at = #names == 1 and j + 1 or nil,
                         has_value = is(toks[j], "op", "=") }
      end
      range(k, last, names[1])
      k = math.max(last, k) + 1
    elseif is(tk, "kw", "return") then
      S.return_at = k
      if is(toks[k + 1], "op", "{") then
        S.return_table = { first = k + 1, last = pair[k + 1] }
      elseif is(toks[k + 1], "name") then
        S.return_name = toks[k + 1].v
      end
      range(k, #toks, nil)
      k = #toks + 1
    elseif is(tk, "kw", "function") then
      local last, path, j = pair[k] or #toks, {}, k + 1
      while is(toks[j], "name") do
        path[#path + 1] = toks[j].v
        if is(toks[j + 1], "op", ".") or is(toks[j + 1], "op", ":") then j = j + 2 else break end
      end
      if #path == 2 then S.fields[#S.fields + 1] = { table = path[1], key = path[2], first = k, last = last,
                                                      line = tk.line, func = true } end
      range(k, last, path[1])
      k = last + 1
    else
      local last
      if tk.t == "kw" and (OPENERS[tk.v] or tk.v == "for" or tk.v == "while") then
        local j = k
        while toks[j] and not (toks[j].t == "kw" and OPENERS[toks[j].v]) do j = j + 1 end
        last = pair[j] or #toks
        if tk.v == "repeat" then last = expr_end(S, last + 1) end
      else
        last = expr_end(S, k, true)
        if is(toks[last + 1], "op", ",") or is(toks[last + 1], "op", "=") then
          local j = last + 1
          while is(toks[j], "op", ",") do j = expr_end(S, j + 1, true) + 1 end
          if is(toks[j], "op", "=") then last = expr_end(S, j + 1) else last = j - 1 end
        end
      end
      range(k, math.max(last, k), tk.t == "name" and tk.v or nil)
      k = math.max(last, k) + 1
    end
  end
  -- the returned table's fields: NAME = expr at its first level
  local rt = S.return_table
  if not rt and S.return_name and S.defs[S.return_name] and S.defs[S.return_name].value_at
     and is(toks[S.defs[S.return_name].value_at], "op", "{") then
    local at = S.defs[S.return_name].value_at
    rt = { first = at, last = pair[at] }
  end
  if rt then
    local j = rt.first + 1
    while j < rt.last do
      if toks[j].t == "name" and is(toks[j + 1], "op", "=") and depth[j] == depth[rt.first] + 1 then
        local last = expr_end(S, j + 2, true)
        S.fields[#S.fields + 1] = { key = toks[j].v, first = j + 2, last = last, line = toks[j].line,
                                    func = is(toks[j + 2], "kw", "function") }
        j = last + 1
      else
        j = j + 1
      end
    end
  end
end

--- Names of top-level definitions referenced between first and last
--- (except inside the ranges of skip).
local function references(S, first, last, self, skip)
  local out = {}
  for k = first, last do
    local tk = S.toks[k]
    local skipped = false
    for _, r in ipairs(skip or {}) do
      if k >= r.first and k <= r.last then skipped = true end
    end
    if not skipped and tk.t == "name" and S.defs[tk.v] and tk.v ~= self then
      local prev, nxt = S.toks[k - 1], S.toks[k + 1]
      local field = prev and (is(prev, "op", ".") or is(prev, "op", ":"))
      local key = nxt and is(nxt, "op", "=") and prev and (is(prev, "op", "{") or is(prev, "op", ",")
                                                             or is(prev, "op", ";"))
      if not field and not key then out[tk.v] = true end
    end
  end
  return out
end

M.STEPS = { precheck = true, up = true, convert = true, verify = true, down = true }

--- Which steps reach each definition: S.roots[name] = { up = true, ... };
--- "load" stands for code that runs when the script loads (module code,
--- unreferenced definitions).
local function reachability(S)
  local edges = {}
  for name, d in pairs(S.defs) do edges[name] = references(S, d.first, d.last, name) end
  S.reach = {}
  local function mark(from_refs, root)
    local queue = {}
    for name in pairs(from_refs) do queue[#queue + 1] = name end
    while #queue > 0 do
      local name = table.remove(queue)
      S.reach[name] = S.reach[name] or {}
      if not S.reach[name][root] then
        S.reach[name][root] = true
        for nxt in pairs(edges[name] or {}) do queue[#queue + 1] = nxt end
      end
    end
  end
  S.steps = {}
  local step_ranges = {}
  for _, f in ipairs(S.fields) do
    if M.STEPS[f.key] and (not f.table or f.table == S.return_name) then
      S.steps[f.key] = f
      step_ranges[#step_ranges + 1] = f
      mark(references(S, f.first, f.last), f.key)
    end
  end
  -- module code runs when the script loads; the steps inside the
  -- returned table do not
  for _, r in ipairs(S.ranges) do
    if not r.owner or not S.defs[r.owner] then mark(references(S, r.first, r.last, nil, step_ranges), "load") end
  end
end

--- The steps the code at token k serves: a set such as { up = true }.
function M.context(S, k)
  for name, f in pairs(S.steps) do
    if k >= f.first and k <= f.last then return { [name] = true } end
  end
  local inner
  for _, r in ipairs(S.ranges) do
    if k >= r.first and k <= r.last then inner = r end
  end
  if inner and inner.owner and S.defs[inner.owner] then
    local roots = S.reach[inner.owner]
    if roots and next(roots) then return roots end
  end
  return { load = true }
end

--- Evaluate the top-level constants in order: S.values[name].
local function constants(S)
  S.values = {}
  for _, r in ipairs(S.ranges) do
    local d = r.owner and S.defs[r.owner]
    if d and d.first == r.first and d.value_at then
      local ok, v = pcall(eval_expr, S, d.value_at, S.values)
      if ok and v ~= UNKNOWN then S.values[r.owner] = v end
    end
  end
end

--- The script's source read: nil when its structure does not balance.
function M.read(src)
  local S = { toks = M.tokenize(src) }
  S.pair, S.depth = structure(S.toks)
  if not S.pair then return nil end
  top_level(S)
  reachability(S)
  constants(S)
  return S
end

--- The field `key` of the returned table (its line), or nil.
function M.field(S, key)
  for _, f in ipairs(S.fields) do
    if f.key == key and (not f.table or f.table == S.return_name) then return f end
  end
end

-- Loops and calls -------------------------------------------------------------

local MAX_VARIANTS = 4096

--- The bindings of the loop variables of every `for` enclosing token k,
--- as a list of environments (each on top of the constants): one per
--- combination of iterations whose values are known.
local function loop_envs(S, k)
  local toks = S.toks
  local loops = {}
  for j = 1, k do
    if is(toks[j], "kw", "for") then
      local d = j
      while toks[d] and not is(toks[d], "kw", "do") do d = d + 1 end
      if S.pair[d] and S.pair[d] >= k then loops[#loops + 1] = { at = j, body = d } end
    end
  end
  local envs = { setmetatable({}, { __index = S.values }) }
  for _, loop in ipairs(loops) do
    local names, j = {}, loop.at + 1
    while is(toks[j], "name") do
      names[#names + 1] = toks[j].v
      if is(toks[j + 1], "op", ",") then j = j + 2 else j = j + 1 break end
    end
    local nextenvs = {}
    for _, env in ipairs(envs) do
      local rows -- list of { value of names[1], value of names[2] }
      if is(toks[j], "kw", "in") and is(toks[j + 1], "name") and is(toks[j + 2], "op", "(")
         and (toks[j + 1].v == "ipairs" or toks[j + 1].v == "pairs") then
        local t = eval_expr(S, j + 3, env)
        if type(t) == "table" and t ~= UNKNOWN then
          rows = {}
          if toks[j + 1].v == "ipairs" then
            for i, v in ipairs(t) do rows[#rows + 1] = { i, v } end
          else
            local keys = {}
            for key in pairs(t) do keys[#keys + 1] = key end
            table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
            for _, key in ipairs(keys) do rows[#rows + 1] = { key, t[key] } end
          end
        end
      elseif is(toks[j], "op", "=") then
        local a, nk = eval_expr(S, j + 1, env)
        local b = is(toks[nk], "op", ",") and eval_expr(S, nk + 1, env) or nil
        if math.type(a) == "integer" and math.type(b) == "integer" and b - a < 1000 then
          rows = {}
          for i = a, b do rows[#rows + 1] = { i } end
        end
      end
      for _, row in ipairs(rows or { {} }) do
        local e = setmetatable({}, { __index = env })
        for i, name in ipairs(names) do
          if rows then e[name] = row[i] else e[name] = UNKNOWN end
          if e[name] == nil then e[name] = UNKNOWN end
        end
        if #nextenvs < MAX_VARIANTS then nextenvs[#nextenvs + 1] = e end
      end
    end
    envs = nextenvs
  end
  return envs
end

--- Calls of migrate.ddl: { fn = name, line, at = token index, args = {
--- values... } } per combination of loop values (args that are computed
--- are UNKNOWN).
function M.ddl_calls(S)
  local toks, aliases = S.toks, {}
  for name, d in pairs(S.defs) do
    local at = d.value_at
    if at and is(toks[at], "name", "require") then
      local arg = is(toks[at + 1], "op", "(") and toks[at + 2] or toks[at + 1]
      if is(arg, "str") and arg.v == "migrate.ddl" then aliases[name] = true end
    end
  end
  local out = {}
  for k, tk in ipairs(toks) do
    -- ddl.fn( with ddl a local of require("migrate.ddl"), or require("migrate.ddl").fn(
    local dot
    if tk.t == "name" and aliases[tk.v] and not is(toks[k - 1], "op", ".") then
      dot = k + 1
    elseif is(tk, "name", "require") and is(toks[k + 1], "op", "(") and is(toks[k + 2], "str", "migrate.ddl")
           and is(toks[k + 3], "op", ")") then
      dot = k + 4
    end
    if dot and is(toks[dot], "op", ".") and is(toks[dot + 1], "name") and is(toks[dot + 2], "op", "(") then
      local open = dot + 2
      local starts, j = {}, open + 1
      while j < S.pair[open] do
        starts[#starts + 1] = j
        j = expr_end(S, j, true) + 1
        if is(toks[j], "op", ",") then j = j + 1 end
      end
      for _, env in ipairs(loop_envs(S, k)) do
        local args = {}
        for i, s in ipairs(starts) do
          local ok, v = pcall(eval_expr, S, s, env)
          args[i] = ok and v or UNKNOWN
        end
        out[#out + 1] = { fn = toks[dot + 1].v, line = tk.line, at = k, args = args }
      end
    end
  end
  return out
end

-- SQL in string literals -----------------------------------------------------

--- The dialect a string literal at k is written for: the key it is the
--- value of (`mysql = [[...]]`), else the name of the top-level constant
--- holding it (MYSQL, POSTGRES_N9E, SQLITE_SCHEMA), else nil.
local function literal_dialect(S, k)
  local toks = S.toks
  if is(toks[k - 1], "op", "=") and is(toks[k - 2], "name") and DIALECTS[toks[k - 2].v] then
    return toks[k - 2].v
  end
  for _, r in ipairs(S.ranges) do
    if k >= r.first and k <= r.last and r.owner then return dialect_of_name(r.owner) end
  end
end

--- Skip one operand of `..` starting at k; returns the index after it.
local function skip_operand(S, k)
  local toks = S.toks
  while toks[k] and ((toks[k].t == "op" and UNOPS[toks[k].v]) or is(toks[k], "kw", "not")) do k = k + 1 end
  if not toks[k] then return k end
  if S.pair[k] then k = S.pair[k] end
  k = k + 1
  while toks[k] do
    local tk = toks[k]
    if is(tk, "op", ".") or is(tk, "op", ":") then
      k = k + 2
    elseif is(tk, "op", "[") or is(tk, "op", "(") or is(tk, "op", "{") then
      k = S.pair[k] + 1
    elseif tk.t == "str" then
      k = k + 1
    else
      break
    end
  end
  return k
end

--- Every piece of text that string literals make, joined where `..`
--- joins them (a computed operand reads as %s): { text, at = token index
--- of its first literal, dialect, line_at = function(pos) -> source line }.
function M.texts(S)
  local toks, out, used = S.toks, {}, {}
  for k, tk in ipairs(toks) do
    if tk.t == "str" and not used[k] then
      local parts, pos = {}, 1
      local function add(text, tok)
        parts[#parts + 1] = { text = text, from = pos, tok = tok }
        pos = pos + #text
      end
      if is(toks[k - 1], "op", "..") then add("%s ", nil) end
      local j = k
      add(tk.v, tk)
      used[k] = true
      j = j + 1
      while is(toks[j], "op", "..") do
        local operand = j + 1
        local after = skip_operand(S, operand)
        if after == operand + 1 and is(toks[operand], "str") then
          add(toks[operand].v, toks[operand])
          used[operand] = true
        else
          add("%s", nil)
        end
        j = after
      end
      local text = {}
      for i, p in ipairs(parts) do text[i] = p.text end
      out[#out + 1] = {
        text = table.concat(text), at = k, dialect = literal_dialect(S, k),
        line_at = function(p)
          local part = parts[1]
          for _, x in ipairs(parts) do
            if x.from <= p then part = x end
          end
          local t = part.tok or tk
          if not t.long then return t.line end
          return t.body_line + count_nl(part.text, 1, p - part.from)
        end,
      }
    end
  end
  return out
end

return M
