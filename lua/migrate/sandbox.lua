--- The environment migration scripts run in: an allow-list built fresh per
--- script (Redis-style lock-down with stock Lua 5.4: a new _ENV, text
--- chunks only, unknown globals refused).  The limits themselves (memory,
--- instructions, time) are enforced in C by n9e.sandbox.
local csb = require("n9e.sandbox")
local json = require("migrate.json")
local log = require("migrate.log")
local sys = require("n9e.sys")

local M = {}

--- Library modules a script may require: policy written in Lua that acts
--- only through the db handle the script passes in.
M.SCRIPT_LIBRARIES = { ["migrate.ddl"] = true, ["migrate.n9e_data"] = true }

local function refuse(what)
  error(("sandbox: %s is not available to migration scripts"):format(what), 3)
end

--- A copy of a library table whose missing fields raise a clear error.
local function restricted(name, src, allowed)
  local t = {}
  for k, v in pairs(src) do
    if not allowed or allowed[k] then t[k] = v end
  end
  return setmetatable(t, {
    __index = function(_, k) refuse(name .. "." .. tostring(k)) end,
    __metatable = false,
  })
end

local function path_allowed(real, roots)
  for _, root in ipairs(roots) do
    if real == root or real:sub(1, #root + 1) == root .. "/" then return true end
  end
  return false
end

--- io.open for scripts: read-only, and only under the allowed roots.
local function make_open(roots)
  return function(path, mode)
    mode = mode or "r"
    if mode ~= "r" and mode ~= "rb" then
      error(("sandbox: io.open mode '%s' refused: scripts may only read files"):format(mode), 2)
    end
    local real = sys.realpath(path)
    if not real or not path_allowed(real, roots) then
      error(("sandbox: file access outside allowed paths refused: %s"):format(tostring(path)), 2)
    end
    return io.open(real, mode)
  end
end

--- A fresh _ENV.  opts.allowed_paths: directories scripts may read.
function M.env(opts)
  opts = opts or {}
  local roots = {}
  for _, p in ipairs(opts.allowed_paths or {}) do
    local real = sys.realpath(p)
    if real then roots[#roots + 1] = real end
  end
  local env = {
    _VERSION = _VERSION,
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = csb.pcall, xpcall = csb.xpcall, -- cannot swallow a tripped limit
    rawequal = rawequal, rawget = rawget, rawlen = rawlen, rawset = rawset,
    select = select, setmetatable = setmetatable, tonumber = tonumber,
    tostring = tostring, type = type,
    getmetatable = function(v)
      if type(v) ~= "table" then return nil end -- shared metatables stay private
      return getmetatable(v)
    end,
    string = restricted("string", string),
    table = restricted("table", table),
    math = restricted("math", math),
    utf8 = restricted("utf8", utf8),
    os = restricted("os", os, { clock = true, date = true, difftime = true, time = true }),
    io = restricted("io", {}, nil),
    json = restricted("json", { encode = json.encode, decode = json.decode, null = json.null,
                                array = json.array }),
    require = function(name)
      if not M.SCRIPT_LIBRARIES[name] then refuse(("require('%s')"):format(tostring(name))) end
      return require(name)
    end,
    print = function(...)
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      log.info("script.print", table.concat(parts, "\t", 1, parts.n))
    end,
  }
  rawset(env.io, "open", make_open(roots))
  env._G = env
  return setmetatable(env, {
    __index = function(_, k) refuse("'" .. tostring(k) .. "'") end,
    __newindex = function(_, k)
      error(("sandbox: assignment to undefined global '%s' (declare it local)"):format(tostring(k)), 2)
    end,
    __metatable = false,
  })
end

--- Load a script's text as a sandboxed chunk and run its main body (which
--- returns the migration table).  Returns table or nil, error-table.
--- embedded: the script is the binary's own `name`, loaded as the
--- bytecode the build made of `source`.
function M.load(source, name, opts, embedded)
  local ok, fn
  if embedded then
    ok, fn = pcall(csb.load_embedded, name, M.env(opts))
  else
    ok, fn = pcall(csb.load, source, name, M.env(opts))
  end
  if not ok then return nil, { message = tostring(fn), kind = "load" } end
  local res = table.pack(csb.call(fn))
  if not res[1] then return nil, res[2] end
  return res[2]
end

--- Call fn(...) with the limits enforced: true, results... | false, err.
M.call = csb.call

return M
