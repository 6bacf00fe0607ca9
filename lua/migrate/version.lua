--- Version strings as Nightingale tags them: [v]MAJOR.MINOR.PATCH[-PRE],
--- where PRE is dot-separated identifiers compared as semver does
--- (numbers numerically, words lexically, a release above its pre-releases):
--- 7.0.0-beta.3 < 7.0.0-beta.14 < 7.0.0 < 7.0.1
local M = {}

--- Parse text; returns a version table or nil, reason.
function M.parse(text)
  if type(text) ~= "string" then return nil, "version must be a string" end
  local s = text:gsub("^v", "")
  local core, pre = s:match("^([%d%.]+)%-([%w%.%-]+)$")
  if not core then core = s:match("^([%d%.]+)$") end
  if not core then
    return nil, ("'%s' is not a version (expected MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 7.0.1 or 7.0.0-beta.3)")
      :format(text)
  end
  local nums = {}
  for part in (core .. "."):gmatch("([^%.]*)%.") do
    if not part:match("^%d+$") then
      return nil, ("'%s' is not a version (empty or non-numeric component)"):format(text)
    end
    nums[#nums + 1] = tonumber(part)
  end
  if #nums ~= 3 then
    return nil, ("'%s' is not a version (expected three numbers MAJOR.MINOR.PATCH)"):format(text)
  end
  local ids = {}
  if pre then
    for id in (pre .. "."):gmatch("([^%.]*)%.") do
      if id == "" then return nil, ("'%s' has an empty pre-release identifier"):format(text) end
      ids[#ids + 1] = id:match("^%d+$") and tonumber(id) or id
    end
  end
  return { major = nums[1], minor = nums[2], patch = nums[3], pre = ids,
           text = s }
end

local function cmp_id(a, b)
  local na, nb = type(a) == "number", type(b) == "number"
  if na and nb then return a < b and -1 or (a > b and 1 or 0) end
  if na ~= nb then return na and -1 or 1 end -- numbers sort before words
  return a < b and -1 or (a > b and 1 or 0)
end

--- Compare two parsed versions (or strings): -1, 0, 1.
function M.compare(a, b)
  if type(a) == "string" then a = assert(M.parse(a)) end
  if type(b) == "string" then b = assert(M.parse(b)) end
  for _, k in ipairs({ "major", "minor", "patch" }) do
    if a[k] ~= b[k] then return a[k] < b[k] and -1 or 1 end
  end
  local pa, pb = a.pre, b.pre
  if #pa == 0 or #pb == 0 then
    if #pa == #pb then return 0 end
    return #pa == 0 and 1 or -1 -- a release ranks above its pre-releases
  end
  for i = 1, math.max(#pa, #pb) do
    if pa[i] == nil then return -1 end
    if pb[i] == nil then return 1 end
    local c = cmp_id(pa[i], pb[i])
    if c ~= 0 then return c end
  end
  return 0
end

function M.lt(a, b) return M.compare(a, b) < 0 end

--- Canonical text (no leading "v").
function M.normalize(text)
  local v, err = M.parse(text)
  if not v then return nil, err end
  return v.text
end

return M
