--- Progress of long conversions (db:rewrite): rows, rate and ETA.
---   mode "tty"   a bar redrawn on stderr (a terminal, text output)
---   mode "json"  JSON lines on stderr (--json: stdout keeps its one document)
---   mode "off"   nothing on stderr
--- In every mode, a `convert.progress` log event at most once a second and
--- at the end: the audit file and serve's job events carry it.
local clog = require("n9e.log")
local json = require("migrate.json")
local log = require("migrate.log")
local sys = require("n9e.sys")

local M = { mode = "off" }

--- cli: pick the mode for this run.
function M.configure(json_output)
  if json_output then M.mode = "json"
  elseif sys.isatty(2) and clog.enabled("info") then M.mode = "tty"
  else M.mode = "off" end
end

local Bar = {}
Bar.__index = Bar

function M.start(name, total)
  local now = sys.monotonic()
  return setmetatable({ name = name, total = total, t0 = now, shown = -1, logged = now }, Bar)
end

local function fields(self, done)
  local secs = sys.monotonic() - self.t0
  local rate = secs > 0 and done / secs or 0
  local eta = (self.total and rate > 0) and math.max(0, (self.total - done) / rate) or nil
  return { table = self.name, rows = done, total = self.total, rate = math.floor(rate + 0.5),
           eta_s = eta and math.floor(eta + 0.5) or nil, elapsed_ms = math.floor(secs * 1000 + 0.5) }
end

local function draw(self, f, final)
  if M.mode == "tty" then
    local pct = self.total and self.total > 0 and f.rows / self.total or 1
    local width = 24
    local filled = math.floor(pct * width + 0.5)
    io.stderr:write(("\r  %-24s [%s%s] %d/%s rows  %d rows/s  %s%s"):format(
      self.name:sub(1, 24), string.rep("#", filled), string.rep(".", width - filled), f.rows,
      self.total and tostring(self.total) or "?", f.rate, final and "done" or ("ETA " .. (f.eta_s or "?") .. " s"),
      final and "\n" or "   "))
  elseif M.mode == "json" then
    local e = { event = "convert.progress" }
    for k, v in pairs(f) do e[k] = v end
    e.done = final or nil
    io.stderr:write(json.encode(e), "\n")
  end
end

function Bar:update(done)
  local now = sys.monotonic()
  local f
  if M.mode ~= "off" and now - (self.drawn or 0) >= (M.mode == "tty" and 0.1 or 1) then
    f = fields(self, done)
    draw(self, f, false)
    self.drawn = now
  end
  if now - self.logged >= 1 then
    f = f or fields(self, done)
    log.debug("convert.progress", ("%s: %d rows, %d rows/s"):format(self.name, done, f.rate), f)
    self.logged = now
  end
end

function Bar:finish(read, written)
  local f = fields(self, read)
  f.written = written
  draw(self, f, true)
  log.info("convert.progress", ("%s: %d rows read, %d rewritten in %d ms"):format(self.name, read, written,
           f.elapsed_ms), f)
end

return M
