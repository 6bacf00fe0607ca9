--- Exit codes and the one error shape the library raises for a deliberate
--- stop: { exit = code, message = text, reasons = {...} }.
local M = {}

M.OK = 0
M.FAILED = 1         -- migration failed and was rolled back
M.USAGE = 2          -- bad usage or input
M.REFUSED = 3        -- precheck refused
M.VERIFY = 4         -- verification failed
M.LOCK = 5           -- lock not obtained in time
M.UNRESTORED = 6     -- failed and could not be fully restored

local Stop = {}
Stop.__index = Stop
Stop.__tostring = function(e) return e.message end

--- Raise a deliberate stop with an exit code.
function M.raise(code, message, fields)
  local e = setmetatable(fields or {}, Stop)
  e.exit, e.message = code, message
  error(e, 0)
end

function M.is_stop(v) return getmetatable(v) == Stop end

--- Text of any error object (string, stop, db error table, sandbox table).
function M.text(e)
  if type(e) == "string" then return e end
  if type(e) ~= "table" then return tostring(e) end
  local mt = getmetatable(e)
  if mt and mt.__tostring and mt ~= Stop then return tostring(e) end
  return e.message and tostring(e.message) or tostring(e)
end

return M
