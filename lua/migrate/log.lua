--- The upgrade log: human lines on stderr, JSON lines in the audit file
--- (--log-file).  Callers pass structured fields; nothing here formats a
--- secret because DSNs are redacted before they reach the library.
local clog = require("n9e.log")
local json = require("migrate.json")
local sys = require("n9e.sys")

local M = {}

--- Optional observer of every record (all levels), e.g. serve's job
--- progress: M.sink(record_table, json_line).
M.sink = nil

local iso_second, iso_prefix -- a run writes several stamps a second: os.date once per second
local function iso(t)
  -- rounded to the millisecond, 12:00:00.9996 to 12:00:01.000
  local ms = math.floor(t * 1000 + 0.5)
  local second = ms // 1000
  if second ~= iso_second then
    iso_second, iso_prefix = second, os.date("!%Y-%m-%dT%H:%M:%S", second)
  end
  return ("%s.%03dZ"):format(iso_prefix, ms % 1000)
end
M.iso = iso

--- Whether a record of this level reaches anyone: stderr, the audit file
--- or the sink.  Building one nobody reads cost 0.05 ms a call, a few
--- calls per version.
function M.wanted(level)
  return clog.enabled(level) or M.sink ~= nil or clog.has_file()
end

local function emit(level, event, message, fields)
  if not M.wanted(level) then return end
  local human = clog.enabled(level) and ("n9e-lua-migrate: %s: %s"):format(level, message) or nil
  local rec = { ts = iso(sys.now()), level = level, event = event, msg = message }
  for k, v in pairs(fields or {}) do
    if rec[k] == nil then rec[k] = v end
  end
  local ok, line = pcall(json.encode, rec)
  clog.emit(level, human, ok and line or nil)
  if M.sink and ok then M.sink(rec, line) end
end

for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  M[level] = function(event, message, fields) emit(level, event, message, fields) end
end

return M
