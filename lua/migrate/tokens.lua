--- API tokens and roles for `serve`.
---
--- The token file holds one token per line, never the token itself:
---
---     # name      role      hash                                   [versions=LOW..HIGH]
---     ci-deploy   operator  sha256:9f86d08188...                   versions=9.0.0..9.1.1
---
--- Tokens are 256 random bits (`n9e-lua-migrate token` makes them), so a
--- plain SHA-256 is enough: there is nothing to brute-force that a slow
--- password hash would protect.  The presented token is hashed and compared
--- with every entry in constant time (sys.equal), without stopping early.
local errors = require("migrate.errors")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

M.PREFIX = "n9m_"

--- What each role may do; a role has everything of the roles before it.
M.ROLES = { "viewer", "operator", "admin" }
local GRANTS = {
  viewer = { status = true, plan = true, history = true, log = true, jobs = true, metrics = true },
  operator = { check = true, run = true, verify = true, rehearse = true },
  admin = { rollback = true, baseline = true, repair = true },
}

local RANK = {}
for i, r in ipairs(M.ROLES) do RANK[r] = i end

--- The least role that may perform action (nil: no such action).
function M.role_for(action)
  for _, r in ipairs(M.ROLES) do
    if GRANTS[r][action] then return r end
  end
  return nil
end

function M.allows(role, action)
  local need = M.role_for(action)
  return need ~= nil and RANK[role] ~= nil and RANK[role] >= RANK[need]
end

--- "LOW..HIGH", either side optional -> { low =, high = } (normalised), or
--- raises a usage error.
function M.parse_range(text)
  local at = text:find("..", 1, true)
  local low, high = at and text:sub(1, at - 1), at and text:sub(at + 2)
  if not at or (low == "" and high == "") then
    errors.raise(errors.USAGE, ("versions=%s: expected LOW..HIGH, e.g. 9.0.0..9.1.1 (either side may "
      .. "be empty)"):format(text))
  end
  local r = {}
  for side, v in pairs({ low = low, high = high }) do
    if v ~= "" then
      local n, why = version.normalize(v)
      if not n then errors.raise(errors.USAGE, ("versions=%s: %s"):format(text, why)) end
      r[side] = n
    end
  end
  if r.low and r.high and version.lt(r.high, r.low) then
    errors.raise(errors.USAGE, ("versions=%s: the range is empty"):format(text))
  end
  return r
end

function M.range_text(r)
  if not r then return nil end
  return (r.low or "") .. ".." .. (r.high or "")
end

function M.in_range(entry, v)
  local r = entry.versions
  if not r then return true end
  if r.low and version.lt(v, r.low) then return false end
  if r.high and version.lt(r.high, v) then return false end
  return true
end

local function valid_name(name) return name:match("^[%w._@-]+$") ~= nil and #name <= 64 end

--- Parse the file's text; raises a usage error naming the line.
function M.parse(text, source)
  local list, names = {}, {}
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local function bad(why)
      errors.raise(errors.USAGE, ("%s:%d: %s"):format(source or "tokens", n, why))
    end
    local body = line:gsub("#.*$", ""):match("^%s*(.-)%s*$")
    if body ~= "" then
      local f = {}
      for w in body:gmatch("%S+") do f[#f + 1] = w end
      if #f < 3 or #f > 4 then bad("expected NAME ROLE sha256:HEX [versions=LOW..HIGH]") end
      local name, role, hash, extra = f[1], f[2], f[3], f[4]
      if not valid_name(name) then bad(("token name %q: letters, digits, . _ @ - only"):format(name)) end
      if names[name] then bad(("token name %s appears twice"):format(name)) end
      if not RANK[role] then bad(("role %q: expected viewer, operator or admin"):format(role)) end
      local hex = hash:match("^sha256:(%x+)$")
      if not hex or #hex ~= 64 then
        bad("the third field must be sha256:<64 hex digits>; tokens are stored as hashes, never in plain "
          .. "(make them with `n9e-lua-migrate token`)")
      end
      local entry = { name = name, role = role, hash = hex:lower() }
      if extra then
        local range = extra:match("^versions=(.+)$")
        if not range then bad(("unknown field %q (expected versions=LOW..HIGH)"):format(extra)) end
        local ok, r = pcall(M.parse_range, range)
        if not ok then bad(errors.text(r)) end
        entry.versions = r
      end
      names[name] = true
      list[#list + 1] = entry
    end
  end
  return list
end

--- The entry for an Authorization header value, or nil.  Every entry is
--- compared, whatever matched first.
function M.authenticate(list, header)
  local token = header and header:match("^[Bb]earer%s+(%S+)%s*$")
  if not token then return nil end
  local digest = sys.sha256(token)
  local found = nil
  for _, e in ipairs(list) do
    if sys.equal(digest, e.hash) and not found then found = e end
  end
  return found
end

--- A new token line for the file: returns token, line.
function M.make(list, name, role, range_text)
  if not valid_name(name) then
    errors.raise(errors.USAGE, ("token name %q: letters, digits, . _ @ - only, at most 64"):format(name))
  end
  if not RANK[role or ""] then
    errors.raise(errors.USAGE, "token needs --role viewer, operator or admin")
  end
  for _, e in ipairs(list) do
    if e.name == name then errors.raise(errors.USAGE, ("a token named %s already exists"):format(name)) end
  end
  local range = range_text and M.parse_range(range_text) or nil
  local token = M.PREFIX .. sys.random_hex(32)
  local line = ("%s %s sha256:%s%s\n"):format(name, role, sys.sha256(token),
                                              range and (" versions=" .. M.range_text(range)) or "")
  return token, line, range
end

return M
