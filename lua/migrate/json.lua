--- JSON through lua-cjson.  cjson 2.1 cannot tell an empty array from an
--- empty object, so arrays are marked with json.array() and an empty marked
--- array is written as [].  json.raw(text) embeds text that is JSON already
--- (a command's document inside an API response) without decoding it,
--- which would lose that distinction again.
local cjson = require("cjson")

local M = { null = cjson.null, decode = cjson.decode }

local array_mt = { __name = "json.array" }
local raw_mt = { __name = "json.raw" }
local EMPTY = "\0n9e-empty-array\0"

function M.array(t) return setmetatable(t or {}, array_mt) end

function M.raw(text) return setmetatable({ text = text }, raw_mt) end

local function prepare(v, raws)
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt == raw_mt then
    raws[#raws + 1] = v.text
    return "\0n9e-raw-" .. #raws .. "\0"
  end
  if mt == array_mt and next(v) == nil then return EMPTY end
  local out = {}
  for k, x in pairs(v) do out[k] = prepare(x, raws) end
  return out
end

function M.encode(v)
  local raws = {}
  local text = cjson.encode(prepare(v, raws))
  text = text:gsub('"\\u0000n9e%-empty%-array\\u0000"', "[]")
  if #raws > 0 then
    text = text:gsub('"\\u0000n9e%-raw%-(%d+)\\u0000"', function(i) return raws[tonumber(i)] end)
  end
  return text
end

return M
