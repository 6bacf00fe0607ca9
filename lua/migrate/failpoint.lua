--- Failpoints for crash-safety tests: when $N9E_MIGRATE_FAILPOINT names a
--- point the run reaches (optionally "point:version"), the process kills
--- itself with SIGKILL there, as a crash or an OOM kill would.  Unset in
--- production; costs one table lookup per point.
local sys = require("n9e.sys")

local M = {}

local wanted = sys.getenv("N9E_MIGRATE_FAILPOINT")

--- The points, in protocol order; "exec:STEP:N" fires just before the
--- Nth statement a script's STEP runs (mid-DDL, mid-conversion).
M.POINTS = { "after_lock", "after_plan", "exec:up:N", "exec:convert:N", "before_history",
             "after_version" }

M.armed = wanted ~= nil

function M.hit(point, version)
  if not wanted then return end
  if wanted == point or (version and wanted == point .. ":" .. version) then
    sys.kill_self()
  end
end

return M
