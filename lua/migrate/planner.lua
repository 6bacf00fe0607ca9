--- The plan: where the database stands against the scripts, and what a
--- run would do.  Every reason to refuse is collected, not just the first.
local errors = require("migrate.errors")
local history = require("migrate.history")
local version = require("migrate.version")

local M = {}

--- scripts: sorted list from scripts.load_all; rows: history rows;
--- target: version text or nil.  Returns
--- { current, target, pending = {script...}, applied = {version -> row},
---   present = {version -> true} (applied, or covered by a baseline),
---   baseline, latest, refusals = {text...} }.
function M.plan(scripts, rows, target)
  local applied = history.applied(rows)
  local by_version, refusals = {}, {}
  for _, s in ipairs(scripts) do by_version[s.version] = s end

  -- a baseline row says "the database already is at V": every script up to
  -- V counts as present without having been applied by us
  local baseline
  for v, row in pairs(applied) do
    if row.kind == "baseline" and (not baseline or version.lt(baseline, v)) then baseline = v end
  end
  local present = {}
  for _, s in ipairs(scripts) do
    if applied[s.version] or (baseline and not version.lt(baseline, s.parsed)) then
      present[s.version] = true
    end
  end

  local current
  for v, row in pairs(applied) do
    local s = by_version[v]
    if not s then
      refusals[#refusals + 1] = ("version %s is recorded in %s but no script has it")
        :format(v, history.TABLE)
    elseif row.kind == "migrate" and row.checksum ~= s.checksum then
      refusals[#refusals + 1] = ("script %s (version %s) changed after it was applied: sha256 %s, recorded %s")
        :format(s.name, v, s.checksum, row.checksum)
    end
    if not current or version.lt(current, v) then current = v end
  end

  local latest = scripts[#scripts] and scripts[#scripts].version
  if target then
    local t, err = version.normalize(target)
    if not t then errors.raise(errors.USAGE, "--to: " .. err) end
    target = t
    if current and version.lt(target, current) then
      refusals[#refusals + 1] = ("--to %s is below the current version %s (a downgrade); use rollback --to %s")
        :format(target, current, target)
    elseif not by_version[target] then
      -- a release without schema changes (Nightingale 9.1.1) is reached by
      -- the newest script at or below it; past the newest script is unknown
      local below
      for _, s in ipairs(scripts) do
        if not version.lt(t, s.parsed) then below = s.version end
      end
      if not below or version.lt(latest, t) then
        errors.raise(errors.USAGE, ("--to %s: no script has that version (newest is %s)")
          :format(target, latest or "none"))
      end
      target = below
    end
  else
    target = latest
  end

  local pending = {}
  for _, s in ipairs(scripts) do
    if not present[s.version] then
      if current and version.lt(s.parsed, current) then
        refusals[#refusals + 1] = ("script %s (version %s) is older than the current version %s but was never applied")
          :format(s.name, s.version, current)
      elseif target and not version.lt(target, s.parsed) then
        pending[#pending + 1] = s
      end
    end
  end
  return { current = current, target = target, latest = latest, pending = pending,
           applied = applied, present = present, baseline = baseline, refusals = refusals,
           scripts = scripts }
end

--- Raise exit 3 listing every refusal, if any.
function M.check(plan)
  if #plan.refusals > 0 then
    errors.raise(errors.REFUSED, "refused:\n  " .. table.concat(plan.refusals, "\n  "),
                 { reasons = plan.refusals })
  end
end

return M
