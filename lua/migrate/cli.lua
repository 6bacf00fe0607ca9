--- Command dispatch and output.  runner/main.c parsed and validated the
--- command line; this turns it into work, text or JSON, and an exit code.
local apply = require("migrate.apply")
local checks = require("migrate.checks")
local clog = require("n9e.log")
local dbmod = require("migrate.db")
local errors = require("migrate.errors")
local history = require("migrate.history")
local json = require("migrate.json")
local planner = require("migrate.planner")
local scripts = require("migrate.scripts")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

local out, err_out = io.stdout, io.stderr

--- Where command output goes (serve captures it); anything with :write.
function M.set_output(stdout, stderr) out, err_out = stdout, stderr end

local function say(fmt, ...)
  out:write(fmt:format(...), "\n")
end

local function number_opt(opts, name, default)
  local v = opts[name]
  return v and tonumber(v) or default
end

--- --log-level and --log-file: process-wide (serve applies them once).
function M.log_options(o)
  if o["log-level"] then
    local ok = pcall(clog.set_level, o["log-level"])
    if not ok then
      errors.raise(errors.USAGE, ("--log-level %s: expected debug, info, warn, error or quiet")
        :format(o["log-level"]))
    end
  end
  if o["log-file"] then
    local ok, err = clog.open_file(o["log-file"])
    if not ok then errors.raise(errors.USAGE, err) end
  end
end

--- run/check --backup DIR, else $N9E_MIGRATE_BACKUP_DIR, unless --no-backup.
local function backup_dir(o)
  if o.backup and o["no-backup"] then
    errors.raise(errors.USAGE, "give either --backup DIR or --no-backup, not both")
  end
  if o.backup == "" then errors.raise(errors.USAGE, "--backup wants a directory") end
  if o["no-backup"] then return nil end
  local env = sys.getenv(require("migrate.backup").ENV)
  return o.backup or (env ~= "" and env) or nil
end

--- Settings shared by every command, from the parsed options.
local function settings(a)
  local o = a.opts
  if o.db and o["n9e-config"] then
    errors.raise(errors.USAGE, "give either --db or --n9e-config, not both")
  end
  local s = {
    json = o.json ~= nil,
    db = o.db or (not o["n9e-config"] and (sys.getenv("N9E_MIGRATE_DB") or "./n9e.db")) or nil,
    n9e_config = o["n9e-config"],
    password_file = o["password-file"],
    scripts_dir = o.scripts,
    allowed_paths = a.opts_list["allow-path"] or {},
    lock_timeout = number_opt(o, "lock-timeout", 60),
    ddl_lock_timeout = number_opt(o, "ddl-lock-timeout", 3),
    lock_retries = math.tointeger(number_opt(o, "lock-retries", 5)),
    step_timeout = number_opt(o, "step-timeout", 3600),
    group_ms = number_opt(o, "group-ms", nil),
    to = o.to,
    expect = o.expect,
    sample_rows = math.tointeger(number_opt(o, "sample-rows", nil)),
    wait_for = o["for"],
    timeout = number_opt(o, "timeout", 300),
    interval = number_opt(o, "interval", 2),
    checks = { skip = {}, disk_path = o["disk-path"], big_rows = number_opt(o, "big-table-rows", nil),
               min_free = math.floor(number_opt(o, "min-free-disk", 256) * 1048576) },
  }
  if a.command == "run" or a.command == "check" then
    s.backup_dir = backup_dir(o)
    s.checks.backup_dir = s.backup_dir
  end
  for _, name in ipairs(a.opts_list["skip-check"] or {}) do s.checks.skip[name] = true end
  if o.scripts then table.insert(s.allowed_paths, o.scripts) end
  M.log_options(o)
  require("migrate.progress").configure(s.json)
  return s
end

--- read_only: for commands that only look (plan, status, history, verify);
--- they never create or change the database.  database: another database
--- of the same server (another file for SQLite), as rehearse's copies.
local function open_db(s, read_only, database)
  local ok, conn = pcall(dbmod.open, s.db, { read_only = read_only, n9e_config = s.n9e_config,
                                            password_file = s.password_file, database = database })
  if not ok then
    local e = conn
    local code = (type(e) == "table" and e.kind == "dsn") and errors.USAGE or errors.REFUSED
    errors.raise(code, errors.text(e))
  end
  return conn
end

local function load_scripts(s, conn)
  return scripts.load_all({ scripts_dir = s.scripts_dir, allowed_paths = s.allowed_paths,
                            dialect = conn.dialect })
end

--- fn(conn, scripts) with the database of a's options opened read-only
--- (nothing created) and its scripts; the connection is closed after.
--- For serve's /metrics, which is no command.
function M.reading(a, fn)
  local s = settings(a)
  local conn <close> = open_db(s, true)
  return fn(conn, load_scripts(s, conn))
end

local function emit_json(doc)
  out:write(json.encode(doc), "\n")
end

local function versions(list)
  local v = json.array()
  for _, s in ipairs(list) do
    v[#v + 1] = { version = s.version, description = s.description, script = s.name }
  end
  return v
end

-- commands ------------------------------------------------------------------

local commands = {}

function commands.run(s)
  local conn <close> = open_db(s)
  local list = load_scripts(s, conn)
  local r = apply.run(conn, list, { to = s.to, lock_timeout = s.lock_timeout, checks = s.checks,
                                    ddl_lock_timeout = s.ddl_lock_timeout, lock_retries = s.lock_retries,
                                    step_timeout = s.step_timeout, backup_dir = s.backup_dir,
                                    group_ms = s.group_ms })
  local backup = r.backup and require("migrate.backup").summary(r.backup)
  for _, v in ipairs(r.recovered or {}) do
    if not s.json then say("recovered interrupted version %s", v) end
  end
  if r.adopted and not s.json then
    say("adopted a Nightingale database without history: schema fingerprint %s, baseline %s",
        r.adopted.fingerprint == "between" and ("between " .. r.adopted.lower .. " and " .. r.adopted.upper)
        or r.adopted.fingerprint, r.adopted.version)
  end
  if s.json then
    emit_json({ ok = r.exit == 0, command = "run", outcome = r.outcome, from = r.from,
                recovered = json.array(r.recovered or {}), adopted = r.adopted,
                current = r.current, target = r.target, applied = json.array(r.applied),
                failed = r.failed, duration_ms = r.duration_ms, exit = r.exit,
                database = conn:target(), backup = backup })
  elseif r.outcome == "up_to_date" then
    say("database is up to date at %s", r.current or "(empty: no scripts)")
  else
    if backup then
      say("backed up %s into %s (%s, %d ms)", r.from or "the empty database", backup.path, backup.tool.name,
          backup.duration_ms)
    end
    for _, a in ipairs(r.applied) do
      say("applied %s  %s  (%d ms)", a.version, a.description, a.duration_ms)
    end
    if r.failed then
      err_out:write(("n9e-lua-migrate: error: %s\n"):format(r.failed.message))
      say("rolled back %s; database stays at %s", r.failed.version, r.current or "(empty)")
    else
      say("database is now at %s", r.current)
    end
  end
  return r.exit
end

--- `rehearse`: the plan on a throwaway copy (migrate.rehearse).
function commands.rehearse(s)
  local real = open_db(s, true)
  local function open(database) return open_db(s, false, database) end
  local ok, r = pcall(require("migrate.rehearse").run, real, {
    open = open, load_scripts = function(conn) return load_scripts(s, conn) end, to = s.to,
    lock_timeout = s.lock_timeout, checks = s.checks, ddl_lock_timeout = s.ddl_lock_timeout,
    lock_retries = s.lock_retries, step_timeout = s.step_timeout, sample_rows = s.sample_rows })
  pcall(real.close, real)
  if not ok then error(r, 0) end
  if s.json then
    emit_json({ ok = r.exit == 0, command = "rehearse", outcome = r.outcome, from = r.from, target = r.target,
                current = r.current, copy = r.copy, checks = json.array(r.checks), steps = json.array(r.steps),
                applied = json.array(r.applied), failed = r.failed, refusals = r.refusals and json.array(r.refusals),
                duration_ms = r.duration_ms, exit = r.exit, database = r.database })
    return r.exit
  end
  if r.outcome == "up_to_date" then
    say("database is up to date at %s: nothing to rehearse", r.from or "(empty: no scripts)")
    return r.exit
  end
  say("rehearsal of %s -> %s on %s", r.from or "empty database", r.target, r.copy.method)
  say("%-16s %-9s %-8s %8s %10s", "version", "step", "outcome", "ms", "rows")
  for _, st in ipairs(r.steps) do
    say("%-16s %-9s %-8s %8s %10s", st.version, st.step, st.outcome, st.duration_ms, st.rows_touched)
    if st.error and st.error ~= "" then say("    error: %s", st.error) end
  end
  for _, c in ipairs(r.checks) do
    if c.status ~= "ok" then say("%-9s %-16s %s", c.status, c.name, c.detail or "") end
  end
  if r.failed then err_out:write(("n9e-lua-migrate: error: rehearsal failed: %s\n"):format(r.failed.message)) end
  if r.refusals then
    err_out:write("n9e-lua-migrate: error: the copy took the plan, but run on the database would refuse:\n  "
      .. table.concat(r.refusals, "\n  ") .. "\n")
  end
  say("%s on the copy in %d ms (%d version(s) applied%s); the copy %s; the database was not changed",
      r.exit == 0 and "rehearsed" or "rehearsal FAILED", r.duration_ms, #r.applied,
      r.copy.sampled and ", on a sample of each table's rows: durations are not the real ones" or "",
      r.copy.dropped and "was dropped" or "could NOT be dropped (see the warning)")
  return r.exit
end

function commands.plan(s)
  local conn <close> = open_db(s, true)
  local list = load_scripts(s, conn)
  local p = planner.plan(list, history.read(conn), s.to)
  local managed = history.exists(conn)
  if not managed and #conn:tables() > 0 then
    -- what run would do: adopt a recognised Nightingale release as baseline
    local fingerprint = require("migrate.fingerprint")
    local fp = fingerprint.identify(conn)
    if fp.status == "exact" or fp.status == "between" then
      p.adopt = { fingerprint = fp.status, version = fp.version, lower = fp.lower, upper = fp.upper }
      p = planner.plan(list, { { version = fp.version, kind = "baseline", outcome = "applied" } }, s.to)
      p.adopt = { fingerprint = fp.status, version = fp.version, lower = fp.lower, upper = fp.upper }
    else
      p.refusals[#p.refusals + 1] = ("the database has tables but no %s table, and its schema is not a "
        .. "Nightingale release: %s"):format(history.TABLE, fingerprint.explain(fp))
    end
  end
  local code = #p.refusals > 0 and errors.REFUSED or errors.OK
  if s.json then
    emit_json({ ok = code == 0, command = "plan", current = p.current, target = p.target,
                pending = versions(p.pending), refusals = json.array(p.refusals), exit = code,
                database = conn:target() })
    return code
  end
  say("database: %s", conn:target())
  say("current:  %s", p.current or "(none: empty or unmanaged database)")
  say("target:   %s", p.target or "(no scripts)")
  if #p.pending == 0 then
    say("nothing to apply")
  else
    say("would apply, in order:")
    for _, v in ipairs(p.pending) do
      say("  %-16s %s  [%s]", v.version, v.description, v.name)
    end
  end
  if code ~= 0 then
    errors.raise(code, "run would refuse:\n  " .. table.concat(p.refusals, "\n  "),
                 { reasons = p.refusals })
  end
  return code
end

function commands.status(s)
  local conn <close> = open_db(s, true)
  local list = load_scripts(s, conn)
  local rows = history.read(conn)
  local p = planner.plan(list, rows, nil)
  local last = rows[#rows]
  local managed, fp = history.exists(conn), nil
  if not managed and #conn:tables() > 0 then fp = require("migrate.fingerprint").identify(conn) end
  if s.json then
    emit_json({ ok = true, command = "status", database = conn:target(), dialect = conn.dialect,
                server_version = conn:server_version(), managed = managed,
                fingerprint = fp and { status = fp.status, version = fp.version, lower = fp.lower,
                                       upper = fp.upper, detail = fp.detail } or nil,
                current = p.current, latest = p.latest, pending = versions(p.pending),
                problems = json.array(p.refusals),
                last = last and { version = last.version, outcome = last.outcome,
                                  applied_at = last.applied_at, kind = last.kind } or nil,
                exit = 0 })
    return 0
  end
  say("database: %s (%s %s)", conn:target(), conn.dialect, conn:server_version())
  say("current:  %s", p.current or "(none)")
  if fp then say("unmanaged: %s", fp.detail) end
  say("latest:   %s", p.latest or "(no scripts)")
  say("pending:  %d%s", #p.pending, #p.pending > 0 and
      (" (" .. table.concat((function()
        local t = {}
        for _, v in ipairs(p.pending) do t[#t + 1] = v.version end
        return t
      end)(), ", ") .. ")") or "")
  if last then
    say("last:     %s %s %s at %s", last.kind, last.version, last.outcome, last.applied_at)
  end
  for _, r in ipairs(p.refusals) do say("problem:  %s", r) end
  return 0
end

function commands.history(s)
  local conn <close> = open_db(s, true)
  local rows = history.read(conn)
  if s.json then
    emit_json({ ok = true, command = "history", database = conn:target(),
                rows = json.array(rows), exit = 0 })
    return 0
  end
  if #rows == 0 then
    say("no history (the database has not been migrated by n9e-lua-migrate)")
    return 0
  end
  say("%-4s %-16s %-9s %-12s %-24s %8s  %s", "id", "version", "kind", "outcome", "applied_at",
      "ms", "description")
  for _, r in ipairs(rows) do
    say("%-4s %-16s %-9s %-12s %-24s %8s  %s", r.id, r.version, r.kind, r.outcome, r.applied_at,
        r.duration_ms, r.description)
    if r.error and r.error ~= "" then say("     error: %s", r.error) end
  end
  return 0
end

--- Version text given to an option, normalised, or a usage error.
local function version_opt(text, option)
  local v, why = version.normalize(text)
  if not v then errors.raise(errors.USAGE, ("%s: %s"):format(option, why)) end
  return v
end

--- The readiness gate (check --expect, wait): the database is at want and
--- every applied version still verifies.  Returns check results and the
--- exit code.
local function expectation(conn, list, current, want)
  if not current or version.compare(current, want) ~= 0 then
    local older = current and version.lt(want, current)
    return { { name = "expect", status = "refused",
               detail = ("database is at %s, expected %s"):format(current or "(no version)", want),
               fix = older and "this instance is older than the database; deploy the matching release"
                 or ("wait for the instance that upgrades it, or run `n9e-lua-migrate run --to %s`"):format(want) } },
           errors.REFUSED
  end
  local results = { { name = "expect", status = "ok", detail = "database is at " .. want } }
  local v = apply.verify(conn, list)
  if #v.failures > 0 then
    local msgs = {}
    for _, f in ipairs(v.failures) do msgs[#msgs + 1] = f.message end
    results[2] = { name = "verified", status = "refused", detail = table.concat(msgs, "; "),
                   fix = "see `n9e-lua-migrate verify`" }
    return results, errors.VERIFY
  end
  results[2] = { name = "verified", status = "ok", detail = ("%d version(s) verified"):format(#v.checked) }
  return results, errors.OK
end

local function print_checks(results)
  local impact = require("migrate.impact")
  for _, r in ipairs(results) do
    say("%-9s %-16s %s", r.status, r.name, r.detail or "")
    for _, st in ipairs(r.statements or {}) do say("%-9s %-16s %s", "", "", impact.describe(st)) end
    if r.status ~= "ok" and r.fix then say("%-9s %-16s fix: %s", "", "", r.fix) end
  end
end

function commands.check(s)
  local want = s.expect and version_opt(s.expect, "--expect")
  local conn <close> = open_db(s, true)
  local list = load_scripts(s, conn)
  local p = planner.plan(list, history.read(conn), s.to)
  local results, code
  if want then
    -- a readiness probe: reachable, at the version, verified; the upgrade
    -- prechecks (disk, privileges) are the upgrading instance's business
    results, code = expectation(conn, list, p.current, want)
    table.insert(results, 1, { name = "server", status = "ok",
                               detail = ("%s %s reachable"):format(conn.dialect, conn:server_version()) })
  else
    results = apply.prechecks(conn, p, history.exists(conn), { checks = s.checks })
    code = #checks.refusals(results) > 0 and errors.REFUSED or errors.OK
  end
  if s.json then
    emit_json({ ok = code == 0, command = "check", current = p.current, target = p.target, expect = want,
                checks = json.array(results), exit = code })
    return code
  end
  print_checks(results)
  if code ~= 0 then
    err_out:write(("n9e-lua-migrate: error: %d check(s) refused\n"):format(#checks.refusals(results)))
  end
  return code
end

--- `wait --for V`: poll until another instance has brought the database to
--- V, then the same gate as check --expect.  An unreachable or not yet
--- created database is waited for too (instances start together).
function commands.wait(s)
  if not s.wait_for then errors.raise(errors.USAGE, "wait needs --for VERSION") end
  local want = version_opt(s.wait_for, "--for")
  local started = sys.monotonic()
  local seen
  while true do
    local ok, results, code, current = pcall(function()
      local conn <close> = open_db(s, true)
      local list = load_scripts(s, conn)
      local cur = planner.plan(list, history.read(conn), nil).current
      if cur and version.lt(want, cur) then
        errors.raise(errors.REFUSED, ("database is at %s, newer than %s"):format(cur, want), { final = true })
      end
      if cur and version.compare(cur, want) == 0 then
        local r, c = expectation(conn, list, cur, want)
        return r, c, cur
      end
      return nil, nil, cur
    end)
    if not ok then
      local e = results
      -- bad options stop at once; a database that cannot be reached yet is waited for
      if errors.is_stop(e) and (e.exit ~= errors.REFUSED or e.final) then error(e, 0) end
      seen = "unreachable: " .. errors.text(e)
    elseif results then
      local waited = math.floor((sys.monotonic() - started) * 1000 + 0.5)
      if s.json then
        emit_json({ ok = code == 0, command = "wait", current = current, expect = want,
                    waited_ms = waited, checks = json.array(results), exit = code })
      else
        print_checks(results)
      end
      return code
    else
      local now = "at " .. (current or "(no version yet)")
      if now ~= seen then
        require("migrate.log").info("wait", ("waiting for %s: database %s"):format(want, now),
                                    { expect = want, current = current })
      end
      seen = now
    end
    local left = s.timeout - (sys.monotonic() - started)
    if left <= 0 then
      errors.raise(errors.LOCK, ("the database did not reach %s within %g s (last seen: %s)")
        :format(want, s.timeout, seen))
    end
    sys.sleep(math.min(s.interval, left))
  end
end

function commands.log(s)
  local conn <close> = open_db(s, true)
  local rows = history.read_steps(conn)
  if s.json then
    emit_json({ ok = true, command = "log", database = conn:target(), steps = json.array(rows), exit = 0 })
    return 0
  end
  if #rows == 0 then
    say("no step log (nothing has been applied by n9e-lua-migrate)")
    return 0
  end
  say("%-16s %-9s %-24s %8s %10s  %s", "version", "step", "started_at", "ms", "rows", "outcome")
  for _, r in ipairs(rows) do
    say("%-16s %-9s %-24s %8s %10s  %s", r.version, r.step, r.started_at, r.duration_ms, r.rows_touched,
        r.outcome)
    if r.error and r.error ~= "" then say("    error: %s", r.error) end
  end
  return 0
end

function commands.verify(s)
  local conn <close> = open_db(s, true)
  local list = load_scripts(s, conn)
  local r = apply.verify(conn, list)
  local code = #r.failures > 0 and errors.VERIFY or errors.OK
  if s.json then
    local f = json.array()
    for i, x in ipairs(r.failures) do f[i] = x end
    emit_json({ ok = code == 0, command = "verify", current = r.current,
                checked = json.array(r.checked), failures = f, exit = code })
    return code
  end
  for _, v in ipairs(r.checked) do say("verified %s", v) end
  for _, f in ipairs(r.failures) do err_out:write("n9e-lua-migrate: error: ", f.message, "\n") end
  if code == 0 then say("%d version(s) verified", #r.checked) end
  return code
end

function commands.rollback(s)
  if not s.to then errors.raise(errors.USAGE, "rollback needs --to VERSION") end
  local conn <close> = open_db(s)
  local r = apply.rollback(conn, load_scripts(s, conn), { to = s.to, lock_timeout = s.lock_timeout,
                                                         ddl_lock_timeout = s.ddl_lock_timeout,
                                                         step_timeout = s.step_timeout })
  if s.json then
    emit_json({ ok = r.exit == 0, command = "rollback", outcome = r.outcome, from = r.from,
                current = r.current, target = r.target, rolled_back = json.array(r.rolled_back),
                failed = r.failed, exit = r.exit })
    return r.exit
  end
  for _, v in ipairs(r.rolled_back) do say("rolled back %s  (%d ms)", v.version, v.duration_ms) end
  if r.failed then
    err_out:write(("n9e-lua-migrate: error: %s\n"):format(r.failed.message))
  end
  say("database is at %s", r.current or "(none)")
  return r.exit
end

function commands.baseline(s, a)
  local conn <close> = open_db(s)
  local r = apply.baseline(conn, load_scripts(s, conn), { version = a.args[1], lock_timeout = s.lock_timeout })
  if s.json then
    emit_json({ ok = true, command = "baseline", current = r.current, verified = json.array(r.verified),
                exit = 0 })
  else
    say("verified %s; database recorded at %s", table.concat(r.verified, ", "), r.current)
  end
  return 0
end

--- `restore DIR`: bring the database back to a backup of run --backup.
function commands.restore(s, a)
  local conn <close> = open_db(s)
  local r = require("migrate.backup").restore(conn, a.args[1], {
    other_database = a.opts["other-database"] ~= nil, lock_timeout = s.lock_timeout,
    ddl_lock_timeout = s.ddl_lock_timeout, step_timeout = s.step_timeout })
  local b = require("migrate.backup").summary(r.backup)
  if s.json then
    emit_json({ ok = true, command = "restore", database = conn:target(), backup = b, current = b.version,
                verified = true, recorded = r.recorded, undone = r.undone, exit = 0 })
    return 0
  end
  say("restored %s (taken %s at %s): %d table(s), schema and data checksums as backed up", b.path, b.created_at,
      b.version or "an empty database", b.tables)
  if r.note then say("%s", r.note) end
  if not r.recorded then say("the restored database has no history table: the restore is not recorded in it") end
  say("database is at %s", b.version or "(none)")
  return 0
end

function commands.repair(s)
  local conn <close> = open_db(s)
  local r = apply.repair(conn, { lock_timeout = s.lock_timeout })
  if s.json then
    emit_json({ ok = true, command = "repair", recovered = json.array(r.recovered), exit = 0 })
  elseif #r.recovered == 0 then
    say("nothing to repair")
  else
    say("restored or finished: %s", table.concat(r.recovered, ", "))
  end
  return 0
end

--- `token NAME --role ROLE [--versions LOW..HIGH] --tokens FILE`: a new
--- API token for serve; the file keeps only its hash.
function commands.token(s, a)
  local tokens = require("migrate.tokens")
  local file = a.opts.tokens
  if not file then errors.raise(errors.USAGE, "token needs --tokens FILE (the file serve reads)") end
  local list = {}
  if sys.stat(file) then
    local text, err = sys.read_file(file)
    if not text then errors.raise(errors.USAGE, err) end
    list = tokens.parse(text, file)
  end
  local token, line, range = tokens.make(list, a.args[1], a.opts.role, a.opts.versions)
  local ok, err = sys.append_private(file, line)
  if not ok then errors.raise(errors.USAGE, err) end
  if s.json then
    emit_json({ ok = true, command = "token", name = a.args[1], role = a.opts.role,
                versions = tokens.range_text(range), token = token, file = file, exit = 0 })
  else
    say("%s", token)
    err_out:write(("n9e-lua-migrate: token %s (%s%s) added to %s; it is shown only this once\n")
      :format(a.args[1], a.opts.role, range and (", versions " .. tokens.range_text(range)) or "", file))
  end
  return 0
end

function commands.new(s, a)
  local res = require("migrate.scaffold").new({
    version = a.args[1], description = a.args[2],
    scripts_dir = s.scripts_dir or "scripts", spec_dir = a.opts["spec-dir"] or "spec",
  })
  if s.json then
    emit_json({ ok = true, command = "new", version = res.version, script = res.script,
                spec = res.spec, exit = 0 })
  else
    say("created %s", res.script)
    say("created %s", res.spec)
  end
  return 0
end

function commands.test(s, a)
  -- specs run many migrations: only warnings and errors unless asked
  if not a.opts["log-level"] then clog.set_level("warn") end
  local args = { table.unpack(a.args) }
  if s.json then
    table.insert(args, 1, "json")
    table.insert(args, 1, "-o")
  end
  return require("migrate.testing").run_busted(args, a.lua_path)
end

function commands.lint(s)
  local r = require("migrate.lint").run({ scripts_dir = s.scripts_dir, allowed_paths = s.allowed_paths })
  if s.json then
    local findings = json.array()
    for i, f in ipairs(r.findings) do
      findings[i] = { script = f.script or json.null, line = f.line or json.null, rule = f.rule,
                      severity = f.severity, message = f.message }
    end
    emit_json({ ok = r.exit == 0, command = "lint", findings = findings, scripts = r.scripts,
                errors = r.errors, warnings = r.warnings, exit = r.exit })
    return r.exit
  end
  for _, f in ipairs(r.findings) do
    local where = f.script and (f.script .. (f.line and (":" .. f.line) or "") .. ": ") or ""
    say("%s[%s] %s%s", where, f.rule, f.severity == "warning" and "warning: " or "", f.message)
  end
  say("lint: %d script(s), %d error(s), %d warning(s)", r.scripts, r.errors, r.warnings)
  return r.exit
end

-- entry point -----------------------------------------------------------------

local function report(e, s)
  local msg = errors.text(e)
  if s and s.json then
    emit_json({ ok = false, exit = e.exit, error = msg,
                reasons = e.reasons and json.array(e.reasons) or nil })
  end
  err_out:write("n9e-lua-migrate: error: ", msg, "\n")
end

function M.main(a)
  local s
  local ok, res = pcall(function()
    s = settings(a)
    local cmd = commands[a.command]
    if not cmd then errors.raise(errors.USAGE, "unknown command " .. tostring(a.command)) end
    return cmd(s, a)
  end)
  if ok then return res end
  if errors.is_stop(res) then
    report(res, s or { json = a.opts.json ~= nil })
    return res.exit
  end
  -- a database error outside any script (connection lost, disk full ...)
  if dbmod.is_error(res) then
    report({ exit = errors.FAILED, message = errors.text(res) }, s)
    return errors.FAILED
  end
  error(res, 0)
end

return M
