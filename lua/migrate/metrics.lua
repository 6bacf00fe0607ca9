--- `serve`'s GET /metrics: the state of the upgrade in the Prometheus text
--- exposition format 0.0.4, read from the database (history, step log,
--- journal, the migration lock), so it is right whichever instance ran the
--- upgrade.  Read-only: a handful of SELECTs, nothing created, nothing
--- locked.  collect() builds the families, render() writes the text.
local history = require("migrate.history")
local journal = require("migrate.journal")
local planner = require("migrate.planner")
local sys = require("n9e.sys")

local M = {}

M.CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

-- the outcomes always exposed (at 0 too), so that an alert on a counter's
-- increase sees the first one
local ATTEMPT_KINDS = { "migrate", "rollback" }
local ATTEMPT_OUTCOMES = { "applied", "rolled_back", "failed" }
local STEPS = { "up", "convert", "verify", "down" }
local STEP_OUTCOMES = { "ok", "failed", "lock_timeout" }
-- step duration buckets, seconds: a DDL statement to an hour-long conversion
local BUCKETS = { 0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600 }

--- Seconds since the epoch of a timestamp the library wrote (log.iso:
--- "2024-05-01T12:00:00.123Z", UTC), or nil.  Days from the civil date
--- as in H. Hinnant's days_from_civil; os.time would read it as local time.
function M.epoch(iso)
  local y, mo, d, h, mi, s = tostring(iso or ""):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):([%d.]+)Z$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * ((mo + 9) % 12) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

local function number(v)
  v = tonumber(v) or 0
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
  return ("%.15g"):format(v)
end

--- A label value as the format wants it: backslash, double quote and
--- line feed escaped.
function M.escape_label(v)
  return (tostring(v):gsub("[\\\"\n]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function escape_help(v)
  return (tostring(v):gsub("[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

--- The exposition text of families: a list of { name, type, help,
--- samples = { { labels = { {name, value}, ... }, value, suffix } } }.
function M.render(families)
  local out = {}
  for _, f in ipairs(families) do
    out[#out + 1] = ("# HELP %s %s\n# TYPE %s %s\n"):format(f.name, escape_help(f.help), f.name, f.type)
    for _, smp in ipairs(f.samples) do
      local labels = {}
      for i, l in ipairs(smp.labels or {}) do labels[i] = ('%s="%s"'):format(l[1], M.escape_label(l[2])) end
      out[#out + 1] = ("%s%s%s %s\n"):format(f.name, smp.suffix or "",
                                             #labels > 0 and ("{" .. table.concat(labels, ",") .. "}") or "",
                                             number(smp.value))
    end
  end
  return table.concat(out)
end

local function family(list, name, type_, help)
  local f = { name = name, type = type_, help = help, samples = {} }
  list[#list + 1] = f
  return function(value, labels, suffix)
    f.samples[#f.samples + 1] = { value = value, labels = labels, suffix = suffix }
  end
end

--- The families every scrape has: up, and what this process is.
local function head(list, up)
  family(list, "n9e_migrate_up", "gauge",
         "1 when the database (history, step log, journal) and the scripts could be read, else 0; "
         .. "the reason is in serve's log")(up)
  family(list, "n9e_migrate_build_info", "gauge", "the n9e-lua-migrate release serving these metrics")(
    1, { { "version", sys.version } })
  return list
end

--- The families of a database that could not be read.
function M.unreachable() return head({}, 0) end

--- Per (step, outcome) of the step log: count, total ms, rows touched and
--- the count at or under each bucket; one statement.
local function step_totals(conn)
  if not conn:table_exists(history.STEPS) then return {} end
  local cases, args = {}, {}
  for i, b in ipairs(BUCKETS) do
    cases[i] = ("SUM(CASE WHEN duration_ms <= ? THEN 1 ELSE 0 END) AS b%d"):format(i)
    args[i] = math.floor(b * 1000 + 0.5)
  end
  local sql = ("SELECT step, outcome, COUNT(*) AS n, SUM(duration_ms) AS ms, SUM(rows_touched) AS touched, %s "
    .. "FROM %s GROUP BY step, outcome"):format(table.concat(cases, ", "), conn:quote_ident(history.STEPS))
  return conn:rows(sql, table.unpack(args))
end

--- The newest entry of each step of a version in the step log, in step order.
local function last_steps(conn, version)
  if not version or not conn:table_exists(history.STEPS) then return {} end
  local newest, order = {}, {}
  for r in conn:query(("SELECT id, step, outcome, duration_ms FROM %s WHERE version = ? ORDER BY id")
                        :format(conn:quote_ident(history.STEPS)), version) do
    if not newest[r.step] then order[#order + 1] = r.step end
    newest[r.step] = r
  end
  local list = {}
  for i, step in ipairs(order) do list[i] = newest[step] end
  return list
end

local function list_with(standard, seen)
  local list, have = {}, {}
  for _, v in ipairs(standard) do
    list[#list + 1] = v
    have[v] = true
  end
  local extra = {}
  for v in pairs(seen) do
    if not have[v] then extra[#extra + 1] = v end
  end
  table.sort(extra)
  for _, v in ipairs(extra) do list[#list + 1] = v end
  return list
end

--- Every family, read from conn (opened read-only) against scripts.
function M.collect(conn, scripts, lock_key)
  local rows = history.read(conn)
  local plan = planner.plan(scripts, rows, nil)
  local list = head({}, 1)
  local current = family(list, "n9e_migrate_current_version_info", "gauge",
                         "the database's current version (no sample: no version yet)")
  if plan.current then current(1, { { "version", plan.current } }) end
  local latest = family(list, "n9e_migrate_latest_version_info", "gauge",
                        "the newest version the scripts of this server know")
  if plan.latest then latest(1, { { "version", plan.latest } }) end
  family(list, "n9e_migrate_pending_versions", "gauge",
         "versions `run` would apply to reach the newest script")(#plan.pending)
  family(list, "n9e_migrate_plan_problems", "gauge",
         "reasons `run` would refuse (exit 3): a changed script, a recorded version no script has, ...")(
    #plan.refusals)

  -- the newest attempt at a version: a migrate or a rollback row
  local last
  local counts = {} -- "kind\0outcome" -> rows
  for _, r in ipairs(rows) do
    if r.kind == "migrate" or r.kind == "rollback" then last = r end
    local key = r.kind .. "\0" .. r.outcome
    counts[key] = (counts[key] or 0) + 1
  end
  local outcome = family(list, "n9e_migrate_last_attempt_outcome", "gauge",
                         "the outcome of the newest attempt at a version (run: kind migrate; rollback: kind "
                         .. "rollback): 1 for its outcome, 0 for the others")
  local at = family(list, "n9e_migrate_last_attempt_timestamp_seconds", "gauge",
                    "when the newest attempt at a version started, seconds since the epoch")
  local took = family(list, "n9e_migrate_last_attempt_duration_seconds", "gauge",
                      "how long the newest attempt at a version took")
  if last then
    local outcomes = list_with(ATTEMPT_OUTCOMES, { [last.outcome] = true })
    for _, o in ipairs(outcomes) do
      outcome(o == last.outcome and 1 or 0, { { "kind", last.kind }, { "version", last.version }, { "outcome", o } })
    end
    at(M.epoch(last.applied_at) or 0)
    took((tonumber(last.duration_ms) or 0) / 1000)
  end
  local step_took = family(list, "n9e_migrate_last_attempt_step_duration_seconds", "gauge",
                           "the newest run of each step of the version of the newest attempt")
  for _, st in ipairs(last_steps(conn, last and last.version)) do
    step_took((tonumber(st.duration_ms) or 0) / 1000,
              { { "version", last.version }, { "step", st.step }, { "outcome", st.outcome } })
  end

  local history_rows = family(list, "n9e_migrate_history_rows_total", "counter",
                              "rows of the history: kind migrate outcome rolled_back is a version that failed and "
                              .. "was rolled back, outcome failed one that could not be restored (exit 6)")
  local standard = {}
  for _, k in ipairs(ATTEMPT_KINDS) do
    for _, o in ipairs(ATTEMPT_OUTCOMES) do standard[#standard + 1] = k .. "\0" .. o end
  end
  for _, key in ipairs(list_with(standard, counts)) do
    local k, o = key:match("^(.-)\0(.*)$")
    history_rows(counts[key] or 0, { { "kind", k }, { "outcome", o } })
  end

  local totals, seen_steps, seen_outcomes = {}, {}, {}
  local lock_timeouts, converted = 0, 0
  for _, r in ipairs(step_totals(conn)) do
    totals[r.step .. "\0" .. r.outcome] = r
    seen_steps[r.step], seen_outcomes[r.outcome] = true, true
    if r.outcome == "lock_timeout" then lock_timeouts = lock_timeouts + tonumber(r.n) end
    if r.step == "convert" and r.outcome == "ok" then converted = converted + (tonumber(r.touched) or 0) end
  end
  local steps, outcomes = list_with(STEPS, seen_steps), list_with(STEP_OUTCOMES, seen_outcomes)
  local steps_total = family(list, "n9e_migrate_steps_total", "counter",
                             "script steps in the step log, by outcome (lock_timeout: a statement gave up "
                             .. "waiting for a lock, or lost a deadlock)")
  local duration = family(list, "n9e_migrate_step_duration_seconds", "histogram",
                          "how long the script steps in the step log took")
  for _, step in ipairs(steps) do
    local n, sum, buckets = 0, 0, {}
    for _, o in ipairs(outcomes) do
      local r = totals[step .. "\0" .. o]
      steps_total(r and r.n or 0, { { "step", step }, { "outcome", o } })
      if r then
        n, sum = n + tonumber(r.n), sum + (tonumber(r.ms) or 0)
        for i = 1, #BUCKETS do buckets[i] = (buckets[i] or 0) + (tonumber(r["b" .. i]) or 0) end
      end
    end
    for i, b in ipairs(BUCKETS) do
      duration(buckets[i] or 0, { { "step", step }, { "le", number(b) } }, "_bucket")
    end
    duration(n, { { "step", step }, { "le", "+Inf" } }, "_bucket")
    duration(sum / 1000, { { "step", step } }, "_sum")
    duration(n, { { "step", step } }, "_count")
  end
  family(list, "n9e_migrate_lock_timeouts_total", "counter",
         "statements of script steps that gave up waiting for a lock (--ddl-lock-timeout) or lost a "
         .. "deadlock; each made its version roll back and, while retries were left, try again")(lock_timeouts)
  family(list, "n9e_migrate_rows_converted_total", "counter",
         "rows changed by convert steps that completed")(converted)

  -- an open journal while no runner holds the lock (asked before and
  -- after, so that a run that starts in between is not taken for one)
  local held = lock_key and conn:lock_held(lock_key)
  local open = journal.open_versions(conn)
  if held == false and conn:lock_held(lock_key) then held = true end
  -- the journal of a version the history records is finished, not open
  -- (a run that died leaves them; the next run deletes them)
  local applied, unrestored = history.applied(rows), 0
  for _, v in ipairs(open) do
    if not applied[v] then unrestored = unrestored + 1 end
  end
  family(list, "n9e_migrate_unrestored_versions", "gauge",
         "versions whose journal is open while no runner holds the migration lock: interrupted or not "
         .. "restored (exit 6); `repair` or the next run restores them")(held and 0 or unrestored)
  if held ~= nil then
    family(list, "n9e_migrate_lock_held", "gauge",
           "1 while a runner holds the database's migration lock (an upgrade, rollback or repair is at work)")(
      held and 1 or 0)
  end
  return list
end

return M
