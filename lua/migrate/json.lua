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

-- The value cjson is given: v itself unless a marked array or a raw text
-- is somewhere inside, then a copy of the tables on the way to them (a
-- conversion encodes one small document per row: copying every one, and
-- scanning every text for markers, cost more than cjson's encode).
local function prepare(v, state)
  local mt = getmetatable(v)
  if mt == raw_mt then
    state[#state + 1] = v.text
    state.marked = true
    return "\0n9e-raw-" .. #state .. "\0"
  end
  if mt == array_mt and next(v) == nil then
    state.marked = true
    return EMPTY
  end
  local out
  for k, x in pairs(v) do
    if type(x) == "table" then
      local y = prepare(x, state)
      if y ~= x then
        if not out then
          out = {}
          for k2, x2 in pairs(v) do out[k2] = x2 end
        end
        out[k] = y
      end
    end
  end
  return out or v
end

function M.encode(v)
  if type(v) ~= "table" then return cjson.encode(v) end
  local state = {} -- the raw texts, in order, and whether anything was marked
  local text = cjson.encode(prepare(v, state))
  if not state.marked then return text end
  text = text:gsub('"\\u0000n9e%-empty%-array\\u0000"', "[]")
  if #state > 0 then
    text = text:gsub('"\\u0000n9e%-raw%-(%d+)\\u0000"', function(i) return state[tonumber(i)] end)
  end
  return text
end

return M
