--- JSON through lua-cjson.  cjson 2.1 cannot tell an empty array from an
--- empty object, so arrays are marked with json.array() and an empty marked
--- array is written as [].
local cjson = require("cjson")

local M = { null = cjson.null, decode = cjson.decode }

local array_mt = { __name = "json.array" }
local EMPTY = "\0n9e-empty-array\0"

function M.array(t) return setmetatable(t or {}, array_mt) end

local function prepare(v)
  if type(v) ~= "table" then return v end
  if getmetatable(v) == array_mt and next(v) == nil then return EMPTY end
  local out = {}
  for k, x in pairs(v) do out[k] = prepare(x) end
  return out
end

function M.encode(v)
  local text = cjson.encode(prepare(v))
  return (text:gsub('"\\u0000n9e%-empty%-array\\u0000"', "[]"))
end

return M
