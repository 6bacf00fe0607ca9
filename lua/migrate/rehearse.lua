--- `rehearse`: the whole plan against a throwaway copy of the database.
--- The real database is only read: its prechecks (lock impact included)
--- are taken there, read-only; then a copy is made, `run` applies the
--- plan to the copy, each step's outcome and duration is read from the
--- copy's step log, and the copy is dropped, whatever happened.
---
--- Copies:
---   SQLite      VACUUM INTO a new file beside the database (a consistent
---               snapshot from one read transaction).
---   PostgreSQL  CREATE DATABASE ... TEMPLATE the database (a full copy of
---               its files) when no other session is connected to it; else
---               pg_dump's snapshot loaded with psql into a new database.
---   MySQL       a new database with every table's SHOW CREATE TABLE and
---               at most sample_rows rows of each (the runner's own tables
---               whole, so that the plan is the same).
local apply = require("migrate.apply")
local errors = require("migrate.errors")
local history = require("migrate.history")
local log = require("migrate.log")
local planner = require("migrate.planner")
local sys = require("n9e.sys")

local M = {}

M.DEFAULT_SAMPLE_ROWS = 10000

local function scratch_name()
  return "n9e_rehearse_" .. sys.random_hex(6)
end

--- The copy's description with a connection to it; a copy that cannot be
--- opened is dropped at once.
local function connected(open, name, copy)
  local ok, conn = pcall(open, name)
  if not ok then
    pcall(copy.drop)
    error(conn, 0)
  end
  copy.conn = conn
  return copy
end

local function sqlite_copy(real, open)
  local path = real:target():match("^sqlite:(.*)$")
  local dir = path:match("^(.*)/[^/]*$") or "."
  local copy = ("%s/.%s.%s.db"):format(dir, path:match("([^/]*)$"), scratch_name())
  if sys.stat(path) then
    real:exec("VACUUM INTO ?", copy)
  end
  local function drop()
    for _, suffix in ipairs({ "", "-wal", "-shm", "-journal" }) do os.remove(copy .. suffix) end
  end
  return connected(open, copy, { drop = drop, method = "VACUUM INTO " .. copy })
end

--- PostgreSQL: CREATE DATABASE ... TEMPLATE copies files, the fastest
--- way, but only while nobody else is connected to the database; with
--- the application connected, pg_dump's snapshot is loaded into an empty
--- scratch database with psql instead (backup.pg_copy).
local function postgres_copy(real, open)
  local source = real:scalar("SELECT current_database()")
  local others = tonumber(real:scalar(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")) or 0
  local name = scratch_name()
  local ok_admin, admin = pcall(open, "postgres")
  if not ok_admin then admin = open("template1") end
  local q = function(n) return admin:quote_ident(n) end
  local function drop()
    admin:exec(("DROP DATABASE IF EXISTS %s WITH (FORCE)"):format(q(name)))
    admin:close()
  end
  local method
  if others == 0 then
    real:close() -- TEMPLATE wants no session on the source, ours included
    local ok, err = pcall(admin.exec, admin, ("CREATE DATABASE %s TEMPLATE %s"):format(q(name), q(source)))
    if ok then
      method = ("CREATE DATABASE %s TEMPLATE %s"):format(name, source)
    elseif not tostring(errors.text(err)):find("being accessed by other users", 1, true) then
      admin:close()
      errors.raise(errors.REFUSED, ("cannot copy database %s for the rehearsal: %s"):format(source, errors.text(err)))
    end
  end
  if not method then
    local ok, err = pcall(admin.exec, admin, ("CREATE DATABASE %s"):format(q(name)))
    if not ok then
      admin:close()
      errors.raise(errors.REFUSED, ("cannot create a scratch database for the rehearsal: %s"):format(errors.text(err)))
    end
    local copied, how = pcall(function()
      local dst <close> = open(name)
      local dir = (sys.getenv("TMPDIR") or ""):match("^(/.+)$") or "/tmp"
      return require("migrate.backup").pg_copy(real, dst, dir)
    end)
    if not copied then
      pcall(drop)
      errors.raise(errors.REFUSED, ("cannot copy database %s for the rehearsal: %s"):format(source, errors.text(how)))
    end
    method = ("%s: database %s, from pg_dump (%d other session(s) kept TEMPLATE from copying %s)")
      :format(how, name, others, source)
  end
  return connected(open, name, { drop = drop, method = method })
end

local function mysql_copy(real, open, sample_rows)
  local source = real:scalar("SELECT DATABASE()")
  local name = scratch_name()
  local q = function(n) return real:quote_ident(n) end
  -- the real connection is read-only; the scratch database is made and
  -- dropped by a connection of its own
  local admin = open(source)
  admin:exec(("CREATE DATABASE %s"):format(q(name)))
  local function drop()
    admin:exec(("DROP DATABASE IF EXISTS %s"):format(q(name)))
    admin:close()
  end
  local ok, conn = pcall(function()
    local c = open(name)
    c:exec("SET FOREIGN_KEY_CHECKS = 0")
    for _, t in ipairs(real:tables()) do
      local create
      for row in real:query("SHOW CREATE TABLE " .. q(t)) do create = row["Create Table"] end
      if create then -- views have no "Create Table"
        c:exec(create)
        local whole = t:find("^n9e_migrate_") ~= nil
        c:exec(("INSERT INTO %s.%s SELECT * FROM %s.%s%s"):format(q(name), q(t), q(source), q(t),
          whole and "" or (" LIMIT %d"):format(sample_rows)))
      end
    end
    c:exec("SET FOREIGN_KEY_CHECKS = 1")
    return c
  end)
  if not ok then
    pcall(drop)
    error(conn, 0)
  end
  return { conn = conn, drop = drop, sampled = true,
           method = ("a copy of every table's definition in database %s and at most %d rows of each")
             :format(name, sample_rows) }
end

--- opts: everything `run` takes, plus open(database) -> a connection to
--- another database of the same server (another file for SQLite),
--- sample_rows, and load_scripts(conn).  Returns the report; report.exit is
--- the exit code (the run's on the copy, or 3 when the real database's
--- prechecks refuse).
function M.run(real, opts)
  local t0 = sys.monotonic()
  local list = opts.load_scripts(real)
  local managed = history.exists(real)
  local plan = planner.plan(list, history.read(real), opts.to)
  planner.check(plan)
  local report = { database = real:target(), from = plan.current, target = plan.target, pending = #plan.pending,
                   checks = {}, steps = {}, applied = {}, exit = errors.OK }
  if #plan.pending == 0 then
    report.outcome = "up_to_date"
    return report
  end
  -- what the real database would say (opened read-only): its sizes decide
  -- the lock impact
  report.checks = apply.prechecks(real, plan, managed, { checks = opts.checks })
  local dialect = real.dialect
  local copy
  if dialect == "sqlite" then
    copy = sqlite_copy(real, opts.open)
  elseif dialect == "postgres" then
    copy = postgres_copy(real, opts.open)
  else
    copy = mysql_copy(real, opts.open, opts.sample_rows or M.DEFAULT_SAMPLE_ROWS)
  end
  report.copy = { method = copy.method, sampled = copy.sampled or false }
  log.info("rehearse.copy", "rehearsing on " .. copy.method, { method = copy.method })
  local ok, res = pcall(function()
    local seen = #history.read_steps(copy.conn)
    -- the lock impact was judged on the real database above; the copy
    -- (a sample, on MySQL) must not judge it again
    local checks = {}
    for k, v in pairs(opts.checks or {}) do checks[k] = v end
    checks.skip = setmetatable({ ["lock-impact"] = true }, { __index = (opts.checks or {}).skip })
    local r = apply.run(copy.conn, opts.load_scripts(copy.conn), {
      to = opts.to, lock_timeout = opts.lock_timeout, checks = checks, ddl_lock_timeout = opts.ddl_lock_timeout,
      lock_retries = opts.lock_retries, step_timeout = opts.step_timeout })
    local steps = history.read_steps(copy.conn)
    for i = seen + 1, #steps do report.steps[#report.steps + 1] = steps[i] end
    return r
  end)
  local dropped, derr = pcall(function()
    copy.conn:close()
    copy.drop()
  end)
  if not dropped then
    log.warn("rehearse.drop", "could not drop the rehearsal copy: " .. errors.text(derr), { method = copy.method })
  end
  report.copy.dropped = dropped
  if not ok then
    if errors.is_stop(res) then
      report.exit, report.outcome = res.exit, "refused"
      report.failed = { message = errors.text(res) }
    else
      report.exit, report.outcome = errors.FAILED, "failed"
      report.failed = { message = errors.text(res) }
    end
  else
    report.outcome, report.applied, report.failed, report.exit = res.outcome, res.applied, res.failed, res.exit
    report.current = res.current
  end
  local refused = require("migrate.checks").refusals(report.checks)
  if #refused > 0 and report.exit == errors.OK then
    -- the copy took it; the real database would have refused the run
    report.exit = errors.REFUSED
    report.refusals = refused
  end
  report.duration_ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  return report
end

return M
