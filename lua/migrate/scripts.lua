--- Finding and loading migration scripts.  A script is a Lua file that
--- returns a table; its version comes from that table, not the file name.
--- Scripts are the built-in ones (scripts/ compiled into the binary) or
--- those under --scripts DIR (every *.lua except *_spec.lua).
local errors = require("migrate.errors")
local sandbox = require("migrate.sandbox")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

local STEPS = { "precheck", "up", "convert", "verify", "down" }
local KNOWN = { version = true, description = true, dialects = true, transaction = true,
                min_from = true, rewrites = true, lock_timeout = true, lock_retries = true,
                destructive = true, irreversible = true,
                precheck = true, up = true, convert = true, verify = true, down = true }

--- Sources: list of { name = display name, text = contents }.
function M.sources(dir)
  local out = {}
  if dir then
    if sys.stat(dir) ~= "directory" then
      errors.raise(errors.USAGE, ("--scripts %s: not a directory"):format(dir))
    end
    local files, err = sys.list_files(dir, ".lua")
    if not files then errors.raise(errors.USAGE, "cannot list scripts: " .. err) end
    for _, path in ipairs(files) do
      if not path:match("_spec%.lua$") then
        local text, rerr = sys.read_file(path)
        if not text then errors.raise(errors.REFUSED, "cannot read script " .. rerr) end
        out[#out + 1] = { name = path, text = text }
      end
    end
  else
    for _, name in ipairs(sys.embedded("scripts/")) do
      if name:match("%.lua$") and not name:match("_spec%.lua$") then
        local text, checksum = sys.embedded_read(name)
        out[#out + 1] = { name = name, text = text, checksum = checksum, embedded = true }
      end
    end
  end
  return out
end

--- Check a loaded script's table: its parsed version, or nil, reason.
function M.validate(m, name)
  if type(m) ~= "table" then
    return nil, ("script %s must return a table, got %s"):format(name, type(m))
  end
  for k in pairs(m) do
    if not KNOWN[k] then
      return nil, ("script %s: unknown field '%s' (known: version, description, dialects, %s)")
        :format(name, tostring(k), table.concat(STEPS, ", "))
    end
  end
  local v, verr = version.parse(m.version)
  if not v then return nil, ("script %s: %s"):format(name, verr) end
  if type(m.up) ~= "function" then
    return nil, ("script %s (version %s) has no up function"):format(name, v.text)
  end
  for _, s in ipairs(STEPS) do
    if m[s] ~= nil and type(m[s]) ~= "function" then
      return nil, ("script %s: %s must be a function"):format(name, s)
    end
  end
  if m.transaction ~= nil and m.transaction ~= false then
    return nil, ("script %s: transaction may only be false (steps that cannot run in a transaction)")
      :format(name)
  end
  if m.min_from ~= nil and not version.parse(m.min_from) then
    return nil, ("script %s: min_from %s"):format(name, select(2, version.parse(m.min_from)))
  end
  if m.rewrites ~= nil and type(m.rewrites) ~= "table" then
    return nil, ("script %s: rewrites must be a list of table names"):format(name)
  end
  local lt = m.lock_timeout
  local function seconds(x) return type(x) == "number" and x > 0 end
  if lt ~= nil and not seconds(lt) then
    local ok = type(lt) == "table"
    for k, x in pairs(type(lt) == "table" and lt or {}) do
      if not (k == "up" or k == "convert" or k == "verify" or k == "down" or k == "precheck") or not seconds(x) then
        ok = false
      end
    end
    if not ok then
      return nil, ("script %s: lock_timeout must be seconds, or a table of seconds per step "
        .. "({ up = 10, convert = 2 })"):format(name)
    end
  end
  if m.lock_retries ~= nil and (math.type(m.lock_retries) ~= "integer" or m.lock_retries < 0) then
    return nil, ("script %s: lock_retries must be a whole number, 0 or more"):format(name)
  end
  if m.destructive ~= nil and type(m.destructive) ~= "boolean" then
    return nil, ("script %s: destructive must be true or false (true: it drops tables or columns, or narrows "
      .. "a type, on purpose)"):format(name)
  end
  if m.irreversible ~= nil and (type(m.irreversible) ~= "string" or not m.irreversible:find("%S")) then
    return nil, ("script %s: irreversible must say why the script has no down (irreversible = \"why\")")
      :format(name)
  end
  if m.dialects ~= nil and type(m.dialects) ~= "table" then
    return nil, ("script %s: dialects must be a list such as {\"sqlite\"}"):format(name)
  end
  return v
end

--- Load and validate every script.  Returns the scripts for `dialect`,
--- sorted by version: { version, parsed, description, name, checksum, module }.
--- Any script that does not load, or two with one version: exit 3, every
--- problem listed.
function M.load_all(opts)
  local problems, list, seen = {}, {}, {}
  for _, src in ipairs(M.sources(opts.scripts_dir)) do
    local mod, err = sandbox.load(src.text, src.name, { allowed_paths = opts.allowed_paths }, src.embedded)
    local v
    if not mod then
      err = ("script %s does not load: %s"):format(src.name, errors.text(err))
    else
      v, err = M.validate(mod, src.name)
    end
    if not v then
      problems[#problems + 1] = err
    elseif seen[v.text] then
      problems[#problems + 1] = ("scripts %s and %s both have version %s")
        :format(seen[v.text], src.name, v.text)
    else
      seen[v.text] = src.name
      local applies = true
      if mod.dialects then
        applies = false
        for _, d in ipairs(mod.dialects) do
          if d == opts.dialect then applies = true end
        end
      end
      if applies then
        list[#list + 1] = { version = v.text, parsed = v, description = mod.description or "",
                            transaction = mod.transaction ~= false,
                            name = src.name, checksum = src.checksum or sys.sha256(src.text), module = mod }
      end
    end
  end
  if #problems > 0 then
    errors.raise(errors.REFUSED, table.concat(problems, "\n"), { reasons = problems })
  end
  table.sort(list, function(a, b) return version.lt(a.parsed, b.parsed) end)
  return list
end

return M
