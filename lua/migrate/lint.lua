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
local sql = require("migrate.lint_sql")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

local UNKNOWN = source.UNKNOWN

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
          emit({ kind = "add_column", column = col, type = sql.definition_type(def[d]), dialect = d })
        end
      end
    else
      emit({ kind = "add_column", column = col, type = sql.definition_type(def) })
    end
  elseif call.fn == "alter_column" then
    local spec = a[4]
    if type(spec) ~= "table" or spec == UNKNOWN then
      return emit({ kind = "type_change", column = col, computed = true })
    end
    local my, pg = spec.mysql, spec.postgres
    if my ~= nil then
      local ty = type(my) == "string" and sql.definition_type(my) or nil
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
      sql.text_events(t.text, t.dialect, t.line_at, out)
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
    if not exempt and sql.DROPS_DATA[e.kind] and not own then
      found = true
      if not declared then
        local what = (e.table or e.column) and (" " .. (e.column and column_name(e) or e.table)) or ""
        finding(out, sc.name, e.line, "destructive", "error",
                ("%s%s in %s loses data; only `down` may do that, unless the script declares destructive = true")
                  :format(sql.DROPS_DATA[e.kind], what, where))
      end
    elseif not exempt and e.kind == "type_change" then
      local dialect = e.dialect
      local new = sql.type_info(e.type, dialect)
      local old_text = model_get(model, dialect, e.table, e.column)
      local old = old_text and sql.type_info(old_text, dialect)
      local via = e.ddl and (" (" .. e.ddl .. ")") or ""
      if not new then
        if not declared then
          finding(out, sc.name, e.line, "destructive", "warning",
                  ("%s changes to a type computed at run time%s in %s: lint cannot tell whether it narrows")
                    :format(column_name(e), via, where))
        end
      elseif old and not sql.holds(old, new) then
        found = true
        if not declared then
          finding(out, sc.name, e.line, "destructive", "error",
                  ("%s narrows from %s to %s (%s)%s in %s: values that do not fit are cut or refused; declare "
                   .. "destructive = true if that is intended"):format(column_name(e), old_text, e.type,
                                                                      dialect or "every engine", via, where))
        end
      elseif not old and not sql.unbounded_text(new) and not declared then
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
      if sql.REVERSIBLE[e.kind] then changes[(e.kind:gsub("_", " "))] = true else other = true end
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
