--- The apply protocol (DESIGN.md "The apply protocol"):
---   1. take the run-wide lock;  2. read history, plan;  3. prechecks;
---   4. per version: up + convert + verify + history row, all or nothing;
---   5. commit; report.
--- Each version runs in a savepoint, so a failed version rolls back to
--- exactly the state before it.  On SQLite the lock is the write
--- transaction (BEGIN IMMEDIATE): the run is one transaction and the lock
--- lasts as long.  On PostgreSQL the lock is a session-level advisory lock
--- and each version commits on its own, so tables altered by one version
--- are not kept locked while the next one runs.
local errors = require("migrate.errors")
local failpoint = require("migrate.failpoint")
local checks = require("migrate.checks")
local history = require("migrate.history")
local journal = require("migrate.journal")
local locks = require("migrate.locks")
local json = require("migrate.json")
local schema = require("migrate.schema")
local log = require("migrate.log")
local planner = require("migrate.planner")
local sandbox = require("migrate.sandbox")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}
local user_tables

M.LOCK_KEY = "n9e-lua-migrate"
--- MySQL: versions recorded together while they took less than this many
--- ms of applying in all (run --group-ms; recorded_together).
M.GROUP_MS = 100

--- What scripts may call on the database: no transaction control, no
--- lock, no close.  Tail calls keep error positions on the script's line.
local SCRIPT_METHODS = { "exec", "exec_script", "query", "rows", "first", "scalar", "quote_ident",
                         "server_version", "tables", "columns", "indexes", "table_exists",
                         "column_exists", "index_exists", "catalog", "checksum", "schema",
                         "assert_schema", "assert_checksum", "assert_count" }

--- Statements a read-only step (precheck, verify) may send.  The engine's
--- read-only mode refuses writes; this list refuses what would end or
--- loosen that mode from inside (SET, COMMIT, ROLLBACK, START, SAVEPOINT,
--- ATTACH, VACUUM INTO, ...), and MySQL's executable comments, which could
--- hide any of them.
local READ_ONLY_STATEMENTS = { SELECT = true, WITH = true, VALUES = true, SHOW = true,
                               EXPLAIN = true, DESCRIBE = true, DESC = true, TABLE = true,
                               PRAGMA = true } -- SQLite's driver refuses pragma writes

local function leading_keyword(sql)
  local i = 1
  while true do
    local _, e = sql:find("^%s+", i)
    if e then i = e + 1 end
    if sql:find("^/%*M?!", i) then return nil, "an executable comment" end
    if sql:find("^/%*", i) then
      local _, ce = sql:find("%*/", i + 2)
      if not ce then return nil, "an unterminated comment" end
      i = ce + 1
    elseif sql:find("^%-%-", i) or sql:find("^#", i) then
      local nl = sql:find("\n", i, true)
      if not nl then return "" end
      i = nl + 1
    else
      break
    end
  end
  return (sql:match("^%(*%s*(%a+)", i) or ""):upper()
end

function M.read_only_guard(sql)
  if type(sql) ~= "string" then return end
  local word, why = leading_keyword(sql)
  if word and not READ_ONLY_STATEMENTS[word] then why = word ~= "" and word or "this statement" end
  local upper = sql:upper()
  if not why and (sql:find("/%*M?!") or upper:find("INTO%s+OUTFILE") or upper:find("INTO%s+DUMPFILE")) then
    why = "an executable comment or INTO OUTFILE/DUMPFILE"
  end
  if why then
    error({ kind = "read_only", message = ("this step has a read-only handle: %s is not allowed here "
      .. "(only SELECT, WITH, VALUES, SHOW, EXPLAIN, DESCRIBE and PRAGMA reads)"):format(why) }, 3)
  end
end

--- guard(sql): called with each statement of a writing step before it is
--- journaled or sent (the run's lock-impact check, migrate.impact).
function M.script_handle(conn, step, jv, touched, read_only, guard)
  local h = {}
  for _, name in ipairs(SCRIPT_METHODS) do
    local f = conn[name]
    h[name] = function(_, ...) return f(conn, ...) end
  end
  if touched then -- the step log's "rows touched"
    local f = conn.exec
    h.exec = function(_, ...)
      local n = f(conn, ...)
      if math.type(n) == "integer" and n > 0 then touched.rows = touched.rows + n end
      return n
    end
  end
  if jv then -- MySQL: every statement journaled with its undo first
    local counted = h.exec
    local function exec(sql, ...) return counted(h, sql, ...) end
    h.exec = function(_, sql, ...) return jv:exec(exec, sql, ...) end
    h.exec_script = function(_, sql)
      for _, stmt in ipairs(journal.split(sql)) do jv:exec(exec, stmt) end
    end
  end
  if guard then
    local exec, exec_script = h.exec, h.exec_script
    h.exec = function(self, sql, ...)
      guard(sql)
      return exec(self, sql, ...)
    end
    h.exec_script = function(self, sql)
      for _, stmt in ipairs(journal.split(sql)) do guard(stmt) end
      return exec_script(self, sql)
    end
  end
  if failpoint.armed and step then
    local n, exec = 0, h.exec
    h.exec = function(self, ...)
      n = n + 1
      failpoint.hit(("exec:%s:%d"):format(step, n))
      return exec(self, ...)
    end
  end
  -- last, so that no wrapper above can bypass it
  if read_only then
    for _, name in ipairs({ "exec", "query", "rows", "first", "scalar" }) do
      local f = h[name]
      h[name] = function(self, sql, ...)
        M.read_only_guard(sql)
        return f(self, sql, ...)
      end
    end
    h.exec_script = function(_, sql)
      for _, stmt in ipairs(journal.split(sql)) do M.read_only_guard(stmt) end
      return conn:exec_script(sql)
    end
  end
  h.tx = function(_, fn) return conn:tx(fn, h) end
  -- the statements that may write, which a rewrite's second connection
  -- would not see until the version commits
  local writes = 0
  for _, name in ipairs({ "exec", "exec_script" }) do
    local f = h[name]
    h[name] = function(...)
      writes = writes + 1
      return f(...)
    end
  end
  -- through h, so that its writes are journaled, counted and guarded; a
  -- plain writing step may overlap its writes with the mapping
  local writer
  if not read_only and (not jv or jv.held) and not (failpoint.armed and step) then
    writer = {
      writes = function() return writes end,
      in_transaction = function() return conn:in_transaction() end,
      -- (the count of the write still in flight, if any: see db:exec_send)
      send = function(sql, ...)
        if jv then jv:admit(sql) end
        local ahead = conn:exec_send(sql, ...)
        if touched and ahead and ahead > 0 then touched.rows = touched.rows + ahead end
        return ahead
      end,
      wait = function(rows)
        local n = conn:exec_wait()
        if touched and (rows or n) > 0 then touched.rows = touched.rows + (rows or n) end
        return n
      end,
    }
    -- PostgreSQL: a write and the next batch's read in one statement
    if conn.dialect == "postgres" then
      writer.send_rows = function(sql, ...) conn:rows_send(sql, ...) end
      writer.wait_rows = function(written)
        local rows = conn:rows_wait()
        if touched then touched.rows = touched.rows + written end
        return rows
      end
    end
    -- the batches are read on a second connection while this one writes.
    -- It sees committed rows only, which are what this one sees until the
    -- version's transaction writes something: not after (the journal
    -- knows on MySQL; batch.open_reader asks PostgreSQL's transaction)
    if conn.dialect == "postgres" or (jv and jv.held and conn.dialect == "mysql") then
      writer.open_reader = function()
        if jv and jv.wrote then return nil end
        return require("migrate.batch").open_reader(conn)
      end
    end
  end
  h.rewrite = function(self, spec) return require("migrate.batch").rewrite(self, spec, writer) end
  h.dialect = conn.dialect
  h.null = require("n9e.db").null
  return setmetatable(h, {
    __index = function(_, k)
      error(("db.%s is not available to migration scripts"):format(tostring(k)), 2)
    end,
    __newindex = function() error("the db handle is read-only", 2) end,
    __metatable = false,
  })
end

local function context(s, plan, step)
  return {
    version = s.version, description = s.description, script = s.name, step = step,
    from = plan.current, to = plan.target, runner_version = sys.version,
    log = {
      debug = function(msg) log.debug("script.log", tostring(msg), { version = s.version }) end,
      info = function(msg) log.info("script.log", tostring(msg), { version = s.version }) end,
      warn = function(msg) log.warn("script.log", tostring(msg), { version = s.version }) end,
    },
  }
end

local lock_retry -- below

--- Turn any error from a step into the report every output path uses.
local function describe(err, s, step)
  local e = type(err) == "table" and err or { message = tostring(err) }
  local text = errors.text(e)
  local line = e.line
  if not line and type(e.message) == "string" then
    line = tonumber(e.message:match(":(%d+):"))
  end
  if not line and e.near then -- out of memory: the hook's last position
    line = tonumber(e.near:match(":(%d+)$"))
  end
  local where = line and (" at line %d"):format(line) or ""
  -- the position is reported once, in our words
  text = text:gsub("^[^\n]-:%d+: ", "", 1)
  return {
    version = s.version, script = s.name, step = step, line = line, kind = e.kind,
    sqlstate = (e.sqlstate ~= "" and e.sqlstate) or nil,
    message = ("version %s (%s) failed in %s%s: %s"):format(s.version, s.name, step, where, text),
    cause = text, lock_wait = locks.is_conflict(e),
  }
end

--- Run one step of a script in the sandbox.  When plan.steps is a list,
--- the step's log entry is appended to it (written by record_steps once
--- the version's outcome is known, so failed steps are kept too).
local function run_step(conn, s, plan, step, read_only, jv)
  local fn = s.module[step]
  if not fn then return true end
  local started, t0 = sys.now(), sys.monotonic()
  local touched = { rows = 0 }
  -- "guard": inside a transaction that MySQL cannot make read-only, the
  -- statement guard alone keeps the step from writing
  local engine_read_only = read_only and read_only ~= "guard"
  local lopts = plan.lock_opts or {}
  local restore = locks.override(conn, locks.timeout_for(s, step, lopts), locks.timeout_for(nil, step, lopts))
  if engine_read_only then conn:set_read_only(true) end
  local guard
  if plan.impact and (step == "up" or step == "down") then
    local impact = require("migrate.impact")
    guard = function(sql) impact.guard(conn, s.version, sql, plan.impact) end
  end
  local ok, err = sandbox.call(fn, M.script_handle(conn, step, not read_only and jv or nil, touched, read_only, guard),
                               context(s, plan, step))
  if engine_read_only then conn:set_read_only(false) end
  restore()
  local ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  log.debug("step", ("%s %s: %s in %d ms"):format(s.version, step, ok and "ok" or "failed", ms),
            { version = s.version, step = step, ok = ok, duration_ms = ms, rows = touched.rows })
  local d
  if not ok then
    -- a verify that failed (an assertion, a missing table, a refused
    -- write) is a verification failure, exit 4; a tripped limit is not
    d = describe(err, s, step)
    d.exit = (step == "verify" and d.kind ~= "memory" and d.kind ~= "instructions" and d.kind ~= "time")
             and errors.VERIFY or errors.FAILED
    if d.kind == "lock_impact" then d.exit = errors.REFUSED end
  end
  if plan.steps then
    -- a statement that gave up waiting for a lock (or a deadlock's victim)
    -- is told apart, so that lock waits can be counted from the step log
    plan.steps[#plan.steps + 1] = {
      version = s.version, step = step, started_at = log.iso(started), finished_at = log.iso(sys.now()),
      duration_ms = ms, rows_touched = touched.rows,
      outcome = ok and "ok" or (d.lock_wait and "lock_timeout" or "failed"),
      error = d and d.message or nil,
    }
  end
  if d then return false, d end
  return true
end

--- Every precheck (migrate/checks.lua), the unmanaged-database refusal and
--- each pending script's own precheck (read-only), as structured results.
function M.prechecks(conn, plan, managed, opts)
  local copts = opts.checks or {}
  copts.skip = copts.skip or {}
  copts.min_free = copts.min_free or 256 * 1048576
  copts.sqlite_path = conn.dialect == "sqlite" and conn:target():match("^sqlite:(.*)$") or nil
  local results = checks.run(conn, plan, copts)
  if not managed then
    local tables = user_tables(conn)
    if #tables > 0 then
      local fingerprint = require("migrate.fingerprint")
      local fp = fingerprint.identify(conn)
      if (fp.status == "exact" or fp.status == "between") and opts.adopt ~= false then
        results[#results + 1] = { name = "managed", status = "warning",
          detail = ("no %s table; the schema is Nightingale %s: run records that as the baseline "
            .. "(after the verify of every script up to it) and upgrades from there")
            :format(history.TABLE, fp.status == "between" and ("between " .. fp.lower .. " and " .. fp.upper)
                    or fp.version) }
      else
        results[#results + 1] = { name = "managed", status = "refused",
          detail = ("the database has %d table(s) but no %s table and its schema is not a Nightingale "
            .. "release: %s"):format(#tables, history.TABLE, fingerprint.explain(fp)),
          fix = "if it is at a known version, record that with `baseline VERSION`" }
      end
    end
  end
  for _, s in ipairs(plan.pending) do
    if s.module.precheck then
      local name = "script:" .. s.version
      conn:set_read_only(true)
      local ok, res, reason = sandbox.call(s.module.precheck, M.script_handle(conn, nil, nil, nil, true),
                                            context(s, plan, "precheck"))
      conn:set_read_only(false)
      local r = { name = name, status = "ok", detail = s.name }
      if not ok then
        r.status, r.detail = "refused", describe(res, s, "precheck").message
      elseif res == false then
        r.status = "refused"
        r.detail = ("version %s (%s) precheck refused: %s"):format(s.version, s.name,
                                                                  tostring(reason or "no reason given"))
      end
      if copts.skip[name] then r.status, r.detail = "skipped", "skipped by --skip-check" end
      results[#results + 1] = r
    end
  end
  -- what each version's DDL will lock, and for how long (migrate.impact)
  local impact = require("migrate.impact")
  -- the run's guard (run_step) goes on from what the dry run learnt
  plan.impact = { big_rows = copts.big_rows or impact.DEFAULT_BIG_ROWS, skip = copts.skip,
                  known = { size = {}, created = {} } }
  for _, r in ipairs(impact.check(conn, plan, {
    big_rows = plan.impact.big_rows, skip = copts.skip, guard = M.read_only_guard, known = plan.impact.known,
    context = function(s) local c = context(s, plan, "up"); c.dry_run = true; return c end,
    describe_error = function(err, s) return describe(err, s, "up").cause end,
  })) do
    results[#results + 1] = r
    for _, st in ipairs(r.statements) do
      local level = (st.refused or st.estimate_s >= 1) and log.info or log.debug
      level("lock.impact", impact.describe(st), { version = r.name:match(":(.*)$"), table = st.table,
               lock = st.lock, algorithm = st.algorithm, rows = st.rows, estimate_s = st.estimate_s,
               refused = st.refused or false })
    end
  end
  return results
end

local function prechecks(conn, plan, managed, opts)
  local results = M.prechecks(conn, plan, managed, opts)
  local refusals = checks.refusals(results)
  if #refusals > 0 then
    errors.raise(errors.REFUSED, "refused:\n  " .. table.concat(refusals, "\n  "),
                 { reasons = refusals, checks = results })
  end
  return results
end

--- The history row of a version (and the step log collected for it).
--- With plan.batch (a list), the statements are added to it, to be sent
--- with the version's COMMIT in one round trip (run, PostgreSQL).
--- The step log goes first: outside a transaction (MySQL, recorded_together)
--- the history row is the version's commit point, and a step log without
--- it (a crash in between) is still a true log of the steps that ran.
--- While plan.grouping (recorded_together), both join the group's instead.
local function record(conn, s, kind, outcome, started, ms, err, plan)
  local row = {
    version = s.version, description = s.description, kind = kind, script = s.name,
    checksum = s.checksum, applied_at = log.iso(started), duration_ms = ms,
    applied_by = sys.username(), host = sys.hostname(), runner_version = sys.version,
    outcome = outcome, error = err,
  }
  if plan and plan.grouping then
    local g = plan.group
    table.move(plan.steps, 1, #plan.steps, #g.steps + 1, g.steps)
    plan.steps = {}
    g.rows[#g.rows + 1], g.work = row, g.work + ms
    return
  end
  local stmts = {}
  if plan and plan.steps then
    stmts[1] = history.steps_statement(conn, plan.steps)
    plan.steps = {}
  end
  stmts[#stmts + 1] = history.insert_statement(conn, row)
  if plan and plan.batch then
    for _, st in ipairs(stmts) do plan.batch[#plan.batch + 1] = st end
  else
    for _, st in ipairs(stmts) do conn:exec(table.unpack(st, 1, st.n)) end
  end
end

--- The history row and log line of a version that made it.
local function remember_schema(conn, v)
  history.record_schema(conn, v, json.encode(schema.describe(conn)), log.iso(sys.now()))
end

--- The schema is recorded once per run, with the history row of its last
--- version (describing the whole schema after each of 200 versions made a
--- run quadratic); a run that stops early or dies records it later (run).
--- A journaled version (MySQL; PostgreSQL transaction = false): fn's
--- history row and schema record in one transaction, so that a reader
--- (wait, check --expect) never sees the version without them, and the
--- version's journal rows deleted in it (Version:settle), so that a crash
--- leaves the version either recorded or undoable, and one COMMIT does;
--- the schema table is made first, as DDL would commit the transaction.
--- Shadow tables are dropped after the commit.  begun: the caller's
--- transaction is open already (a held conversion, Version:hold).
---
--- `run` on MySQL (plan.group): a version that is not the run's last,
--- holds no conversion and made no shadow table is recorded without a
--- transaction, and with the versions before it: its step log and history
--- row join the group's (record), which one multi-row INSERT of the step
--- log and then one of the history rows write (flush_group) once the
--- group's versions took --group-ms of applying in all (0: each version at
--- once), before a version recorded in a transaction, and when a version
--- fails.  The history INSERT is the group's commit point: a crash before
--- it leaves the group's journals without history rows, and recovery
--- undoes those versions newest first (M.recover), so at most --group-ms
--- of work (and the version in flight) is applied again; 200 versions of
--- a table and an index each cost three round trips a version instead of
--- eight.  Their journals stay, listed in plan.finished_journals once
--- the history rows are written, until the next version recorded in a
--- transaction deletes them all (settle; the run's last, or
--- finish_journals when the run stops early): a journal of a version the
--- history records is finished, which is what recovery does with it.
--- Nobody reads in between a record that is not there: the schema record
--- goes with the run's last version.
local GROUP_MAX = 500 -- versions a history INSERT writes: 12 values each, far below 65,535 placeholders

local function new_group(ms) return { ms = ms, rows = {}, steps = {}, logs = {}, journals = {}, work = 0 } end

local function flush_group(conn, plan)
  local g = plan and plan.group
  if not g or #g.rows == 0 then return end
  local steps = history.steps_statement(conn, g.steps)
  if steps then conn:exec(table.unpack(steps, 1, steps.n)) end
  local rows = history.insert_statement(conn, g.rows)
  conn:exec(table.unpack(rows, 1, rows.n))
  table.move(g.journals, 1, #g.journals, #plan.finished_journals + 1, plan.finished_journals)
  plan.group = new_group(g.ms)
  for _, line in ipairs(g.logs) do log.info(table.unpack(line, 1, 3)) end
end

local function recorded_together(conn, jv, fn, begun, plan, last)
  local g = plan and plan.group
  if g and not begun and not last and not jv.shadows then
    plan.grouping = true
    local ok, res = pcall(fn)
    plan.grouping = false
    if not ok then error(res, 0) end
    if jv.rows > 0 then g.journals[#g.journals + 1] = jv.version end
    if g.work >= g.ms or #g.rows >= GROUP_MAX then flush_group(conn, plan) end
    return res
  end
  -- on their own: a rollback of this transaction must not take them
  flush_group(conn, plan)
  if not begun then
    history.ensure_schema_table(conn)
    conn:begin()
  end
  local res = fn()
  local settled = jv:settle(plan and plan.finished_journals)
  conn:commit()
  if plan then plan.finished_journals = {} end
  if not settled then journal.finish(conn, jv.version) end
  return res
end

--- A run that stops before its last version: the journals of the versions
--- it recorded, left for that version to delete (recorded_together).
local function finish_journals(conn, plan)
  journal.forget(conn, plan.finished_journals)
  plan.finished_journals = {}
end

local function succeeded(conn, s, started, ms, plan)
  record(conn, s, "migrate", "applied", started, ms, nil, plan)
  if plan.last == s.version then remember_schema(conn, s.version) end
  local line = { "version.applied", ("applied %s (%s) in %d ms"):format(s.version, s.description, ms),
                 { version = s.version, duration_ms = ms } }
  if plan.grouping then -- logged once it is recorded (flush_group)
    plan.group.logs[#plan.group.logs + 1] = line
  else
    log.info(table.unpack(line, 1, 3))
  end
  return { version = s.version, description = s.description, duration_ms = ms }
end

--- ... and of one that was rolled back completely.
local function rolled_back(conn, s, started, ms, report, plan)
  record(conn, s, "migrate", "rolled_back", started, ms, report.message, plan)
  log.error("version.rolled_back", report.message .. "; rolled back, nothing of it remains",
            { version = s.version, step = report.step, line = report.line,
              sqlstate = report.sqlstate })
  return report
end

--- After a version that gave up waiting for a lock was rolled back: who
--- held it, and whether the caller will try again (then nothing is
--- recorded; the wait is logged).  The last attempt's report names them.
lock_retry = function(conn, report, plan)
  if not report.lock_wait then return false end
  report.blockers = locks.blockers(conn)
  if plan.lock_attempt and plan.lock_attempt.left > 0 then return true end
  local tries = plan.lock_attempt and plan.lock_attempt.made or 1
  report.message = report.message .. ("; gave up after %d attempt(s)"):format(tries)
    .. (#report.blockers > 0 and ("; the lock was held by " .. locks.describe(report.blockers)) or "")
  return false
end

--- Apply one version inside a savepoint, or, with own_tx, in the
--- transaction it has to itself (PostgreSQL, which commits each version):
--- a failure rolls that back and no savepoint is needed, two round trips
--- fewer per version.  Returns true, info or false, report.
local function apply_version(conn, s, plan, own_tx)
  local started, t0 = sys.now(), sys.monotonic()
  if not own_tx then conn:savepoint("n9e_version") end
  local ok, report = run_step(conn, s, plan, "up")
  if ok then ok, report = run_step(conn, s, plan, "convert") end
  if ok then ok, report = run_step(conn, s, plan, "verify", true) end
  local ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  if ok then
    failpoint.hit("before_history", s.version)
    -- PostgreSQL: the records go with the version's COMMIT (run)
    if own_tx then plan.batch = {} end
    local info = succeeded(conn, s, started, ms, plan)
    if not own_tx then conn:release("n9e_version") end
    return true, info
  end
  if own_tx then
    conn:rollback()
    conn:begin()
  else
    conn:rollback_to("n9e_version")
    conn:release("n9e_version")
  end
  if lock_retry(conn, report, plan) then return false, report end
  return false, rolled_back(conn, s, started, ms, report, plan)
end

--- MySQL/MariaDB: the version is held by the journal, not a transaction.
local function apply_version_journaled(conn, s, plan)
  local started, t0 = sys.now(), sys.monotonic()
  local jv = journal.begin(conn, s.version)
  local ok, report = run_step(conn, s, plan, "up", false, jv)
  if ok and conn:in_transaction() then conn:commit() end -- a script's open DML
  -- MySQL: convert, verify and the history row in one transaction (see
  -- journal Version:hold); verify then reads the conversion inside it,
  -- behind the read-only statement guard
  local held = ok and s.module.convert ~= nil and conn.dialect == "mysql"
  if held then
    history.ensure_schema_table(conn)
    flush_group(conn, plan) -- before the transaction, whose rollback must not take them
    conn:begin()
    jv:hold()
  end
  if ok then ok, report = run_step(conn, s, plan, "convert", false, jv) end
  if ok and not held and conn:in_transaction() then conn:commit() end
  if ok then ok, report = run_step(conn, s, plan, "verify", held and "guard" or true) end
  local ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  if ok then
    failpoint.hit("before_history", s.version)
    return true, recorded_together(conn, jv, function() return succeeded(conn, s, started, ms, plan) end, held,
                                   plan, plan.last == s.version)
  end
  pcall(function() if conn:in_transaction() then conn:rollback() end end)
  -- the versions before it are complete: their records first
  local flushed, why = pcall(flush_group, conn, plan)
  -- the connection itself may be gone (server restart, KILL): then the
  -- journal stays for the next run or `repair`
  local called, undone, problems = pcall(journal.undo, conn, s.version)
  if not called then undone, problems = false, { errors.text(undone) } end
  if not flushed then
    undone = false
    problems = problems or {}
    table.insert(problems, 1, "the history rows of the versions applied before it could not be written ("
      .. errors.text(why) .. "): the next run undoes them and applies them again")
  end
  if not undone then
    report.exit = errors.UNRESTORED
    report.message = report.message .. "; restoring the state before it FAILED: "
      .. table.concat(problems, "; ") .. " (the journal is kept: `n9e-lua-migrate repair` or the next run restores it)"
    pcall(record, conn, s, "migrate", "failed", started, ms, report.message, plan)
    log.error("version.unrestored", report.message, { version = s.version })
    return false, report
  end
  if lock_retry(conn, report, plan) then return false, report end
  return false, rolled_back(conn, s, started, ms, report, plan)
end

--- Journals left by a run that died: versions that made it into history
--- are finished (their journals deleted, a run leaves them for later,
--- recorded_together); the others are undone.  Returns the undone
--- versions and the finished ones.  Raises exit 6 when undoing fails.
function M.recover(conn)
  local open = journal.open_versions(conn)
  if #open == 0 then return {}, {} end -- every run's case: history need not be read for it
  local done = history.applied(history.read(conn))
  local recovered, finished = {}, {}
  -- newest first: versions recorded together died together, and each
  -- one's journal describes the tables as the versions before it left them
  table.sort(open, function(a, b)
    local pa, pb = version.parse(a), version.parse(b)
    if pa and pb then return version.compare(pa, pb) > 0 end
    if pa or pb then return pa ~= nil end
    return a > b
  end)
  for _, v in ipairs(open) do
    if done[v] then
      journal.finish(conn, v)
      finished[#finished + 1] = v
    else
      local ok, problems = journal.undo(conn, v)
      if not ok then
        errors.raise(errors.UNRESTORED, ("version %s was interrupted and could not be restored: %s")
          :format(v, table.concat(problems, "; ")), { reasons = problems })
      end
      log.warn("version.recovered", ("version %s was interrupted by an earlier run; restored the state before it")
        :format(v), { version = v })
      recovered[#recovered + 1] = v
    end
  end
  return recovered, finished
end

--- The run-wide lock, or exit 5; then the short lock waits of what
--- follows (run, rollback, baseline, repair): see migrate.locks.
local function take_lock(conn, opts)
  if not conn:lock(M.LOCK_KEY, opts.lock_timeout) then
    errors.raise(errors.LOCK, ("lock not obtained within %g s: another runner holds it")
      :format(opts.lock_timeout))
  end
  log.debug("lock.acquired", "took the migration lock")
  local ok, err = pcall(locks.apply, conn, opts.ddl_lock_timeout or locks.DEFAULT_TIMEOUT, opts.step_timeout)
  if not ok then
    pcall(conn.unlock, conn, M.LOCK_KEY)
    error(err, 0)
  end
end

--- Run the protocol.  opts: to, lock_timeout, scripts (sorted list).
--- Returns a result table; result.exit is the process exit code.
function M.run(conn, scripts, opts)
  local t0 = sys.monotonic()
  take_lock(conn, opts)
  failpoint.hit("after_lock")
  -- the lock is the transaction on SQLite; PostgreSQL opens one here;
  -- MySQL/MariaDB versions are held by the journal instead
  local lock_is_tx = conn:in_transaction()
  local mysql = conn.dialect == "mysql"
  -- a version is held by the journal on MySQL, and on PostgreSQL when it
  -- declares transaction = false (CREATE INDEX CONCURRENTLY ...)
  local function journaled(s) return mysql or (conn.dialect == "postgres" and not s.transaction) end
  local lock_opts = { ddl_lock_timeout = opts.ddl_lock_timeout or locks.DEFAULT_TIMEOUT,
                      lock_retries = opts.lock_retries or locks.DEFAULT_RETRIES }
  local ok, result = pcall(function()
    local recovered = (not lock_is_tx) and M.recover(conn) or {}
    if not lock_is_tx and not mysql then conn:begin() end
    local managed = history.exists(conn)
    local adopted
    if not managed and opts.adopt ~= false and #user_tables(conn) > 0 then
      adopted = M.adopt(conn, scripts)
      managed = true
    end
    local plan = planner.plan(scripts, managed and history.read(conn, true) or {}, opts.to)
    planner.check(plan)
    -- nothing to apply, nothing to check: a no-op run (every instance's
    -- start) costs a plan, not the server, privilege and disk checks
    local results = #plan.pending > 0 and prechecks(conn, plan, managed, opts) or {}
    failpoint.hit("after_plan")
    local res = { from = plan.current, current = plan.current, target = plan.target,
                  applied = {}, recovered = recovered, exit = errors.OK, adopted = adopted }
    local wrote = adopted
    if plan.current and history.recorded_version(conn) ~= plan.current then
      -- an earlier run died between its versions and the schema record
      remember_schema(conn, plan.current)
      wrote = true
    end
    if #plan.pending == 0 then
      res.outcome = "up_to_date"
      if conn:in_transaction() then -- nothing was written, unless the adoption
        if wrote then conn:commit() else conn:rollback() end
      end
      return res
    end
    plan.last = plan.pending[#plan.pending].version
    plan.finished_journals = {}
    if mysql then plan.group = new_group(opts.group_ms or M.GROUP_MS) end
    plan.lock_opts = lock_opts
    -- before anything of the run is written: the database as it stands
    local backup
    if opts.backup_dir then
      backup = require("migrate.backup").take(conn, opts.backup_dir, { version = plan.current, target = plan.target,
                                                                       lock_timeout = opts.lock_timeout })
      res.backup = backup
    end
    history.ensure(conn)
    plan.steps = {}
    if backup then history.insert(conn, require("migrate.backup").history_row(backup, "backup")) end
    for _, r in ipairs(results) do -- an operator's override is part of the record
      if r.status == "skipped" then
        history.insert(conn, { version = plan.target, description = "skipped check " .. r.name,
          kind = "skip_check", applied_at = log.iso(sys.now()), applied_by = sys.username(),
          host = sys.hostname(), runner_version = sys.version, outcome = "applied", error = r.detail })
      end
    end
    log.info("run.start", ("%d version(s) to apply: %s -> %s"):format(#plan.pending,
             plan.current or "empty database", plan.target), { from = plan.current, to = plan.target })
    -- PostgreSQL: every version in a transaction of its own, so the
    -- runner's tables and the records above are committed first
    local own_tx = not lock_is_tx and not mysql
    if own_tx then
      conn:commit()
      conn:begin()
    end
    for _, s in ipairs(plan.pending) do
      local outside = journaled(s)
      if outside and conn:in_transaction() then conn:commit() end
      local done, info
      local retries = locks.retries_for(s, lock_opts)
      plan.lock_attempt = { made = 0, left = retries }
      while true do
        plan.lock_attempt.made = plan.lock_attempt.made + 1
        if outside then
          done, info = apply_version_journaled(conn, s, plan)
        else
          done, info = apply_version(conn, s, plan, own_tx)
        end
        if done or not info.lock_wait or plan.lock_attempt.left == 0 then break end
        plan.lock_attempt.left = plan.lock_attempt.left - 1
        if conn:in_transaction() and own_tx then conn:commit() end -- no lock held while waiting
        locks.wait_before_retry(s, plan.lock_attempt.made, retries, info, info.blockers or {})
        if own_tx and not conn:in_transaction() then conn:begin() end
      end
      if outside and not mysql and not conn:in_transaction() then conn:begin() end
      if not done then
        res.outcome, res.failed, res.exit = "failed", info, info.exit
        if #res.applied > 0 then -- the versions before it made it: their schema
          history.ensure_schema_table(conn) -- DDL, outside the savepoint (MySQL)
          -- in a savepoint: a failure here must not abort the run's
          -- transaction; the journals left there the next run deletes
          pcall(conn.tx, conn, function()
            remember_schema(conn, res.current)
            finish_journals(conn, plan)
          end)
        end
        break
      end
      res.applied[#res.applied + 1] = info
      res.current = s.version
      if not lock_is_tx and not mysql then -- commit each version; the lock stays
        -- the version's records, COMMIT and the next BEGIN in one round
        -- trip, which the next version's first statement shares: its
        -- failure raises there and at every call after (lua_db.c).  Sent
        -- at once where a failpoint may kill the run after this version.
        local batch = plan.batch or {}
        plan.batch = nil
        batch[#batch + 1] = { "COMMIT" }
        batch[#batch + 1] = { "BEGIN" }
        if failpoint.armed then
          conn:exec_batch(batch)
        else
          conn:exec_batch_deferred(batch, "the records of version " .. s.version)
        end
      end
      failpoint.hit("after_version", s.version)
    end
    if conn:in_transaction() then conn:commit() end
    res.outcome = res.outcome or "applied"
    return res
  end)
  if not ok then
    pcall(conn.unlock, conn, M.LOCK_KEY) -- rolls back whatever is open
    error(result, 0)
  end
  pcall(conn.unlock, conn, M.LOCK_KEY)
  result.duration_ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  return result
end

--- Take the lock, finish interrupted journals, run
--- fn(lock_is_tx, mysql, recovered, finished) protected, commit, release
--- the lock.
local function locked(conn, opts, fn)
  take_lock(conn, opts)
  local lock_is_tx, mysql = conn:in_transaction(), conn.dialect == "mysql"
  local ok, res = pcall(function()
    -- rollback, baseline and repair wait for locks as briefly as run does
    -- (take_lock), without retries: a refused lock fails the command
    local recovered, finished = {}, {}
    if not lock_is_tx then recovered, finished = M.recover(conn) end
    if not lock_is_tx and not mysql then conn:begin() end
    local r = fn(lock_is_tx, mysql, recovered, finished)
    if conn:in_transaction() then conn:commit() end
    return r
  end)
  if not ok then
    pcall(conn.unlock, conn, M.LOCK_KEY)
    error(res, 0)
  end
  pcall(conn.unlock, conn, M.LOCK_KEY)
  return res
end

--- Undo one applied version with its `down`, then verify the version
--- that becomes current; all or nothing, like applying.
local function rollback_version(conn, s, below, plan, journaled)
  local started, t0 = sys.now(), sys.monotonic()
  local jv = journaled and journal.begin(conn, s.version .. "-down") or nil
  if not jv then conn:savepoint("n9e_version") end
  local ok, report = run_step(conn, s, plan, "down", false, jv)
  if ok and jv and conn:in_transaction() then conn:commit() end
  if ok and below then ok, report = run_step(conn, below, plan, "verify", true) end
  local ms = math.floor((sys.monotonic() - t0) * 1000 + 0.5)
  if ok then
    local function write()
      record(conn, s, "rollback", "applied", started, ms, nil, plan)
      if below then remember_schema(conn, below.version) end
    end
    if jv then recorded_together(conn, jv, write) else write() end
    if not jv then conn:release("n9e_version") end
    log.info("version.rolled_down", ("rolled back %s in %d ms"):format(s.version, ms),
             { version = s.version, duration_ms = ms })
    return true, { version = s.version, duration_ms = ms }
  end
  if jv then
    pcall(function() if conn:in_transaction() then conn:rollback() end end)
    local called, undone, problems = pcall(journal.undo, conn, s.version .. "-down")
    if not called or not undone then
      report.exit = errors.UNRESTORED
      report.message = report.message .. "; restoring FAILED: "
        .. (called and table.concat(problems, "; ") or errors.text(undone))
      pcall(record, conn, s, "rollback", "failed", started, ms, report.message, plan)
      return false, report
    end
  else
    conn:rollback_to("n9e_version")
    conn:release("n9e_version")
  end
  record(conn, s, "rollback", "rolled_back", started, ms, report.message, plan)
  log.error("rollback.failed", report.message .. "; the version stays applied", { version = s.version })
  return false, report
end

--- `rollback --to V`: the `down` of every applied version newer than V,
--- newest first, each verified by the verify of the version below it.
function M.rollback(conn, scripts, opts)
  local target, err = version.normalize(opts.to or "")
  if not target then errors.raise(errors.USAGE, "rollback --to: " .. err) end
  return locked(conn, opts, function(lock_is_tx, mysql)
    local plan = planner.plan(scripts, history.read(conn), nil)
    planner.check(plan)
    plan.steps = {}
    if not plan.present[target] then
      errors.raise(errors.REFUSED, ("rollback --to %s: that version is not applied (current is %s)")
        :format(target, plan.current or "none"))
    end
    local undo, missing = {}, {}
    for i = #scripts, 1, -1 do
      local s = scripts[i]
      if plan.applied[s.version] and plan.applied[s.version].kind == "migrate"
         and version.lt(target, s.parsed) then
        undo[#undo + 1] = s
        if not s.module.down then
          local why = s.module.irreversible and ("; irreversible: " .. s.module.irreversible) or ""
          missing[#missing + 1] = s.version .. " (" .. s.name .. why .. ")"
        end
      end
    end
    if #missing > 0 then
      errors.raise(errors.REFUSED, "refused: no down step in " .. table.concat(missing, ", "),
                   { reasons = missing })
    end
    local res = { from = plan.current, current = plan.current, target = target, rolled_back = {},
                  exit = errors.OK, outcome = #undo == 0 and "nothing_to_do" or "rolled_back" }
    local by_version = {}
    for _, s in ipairs(scripts) do by_version[s.version] = s end
    for i, s in ipairs(undo) do
      local below = undo[i + 1] or by_version[target]
      local journaled = mysql or (conn.dialect == "postgres" and not s.transaction)
      if journaled and conn:in_transaction() then conn:commit() end
      local done, info = rollback_version(conn, s, below, plan, journaled)
      if journaled and not mysql and not conn:in_transaction() then conn:begin() end
      if not done then
        res.outcome, res.failed, res.exit = "failed", info, info.exit
        break
      end
      res.rolled_back[#res.rolled_back + 1] = info
      res.current = below.version
      if not lock_is_tx and not mysql then
        conn:commit()
        conn:begin()
      end
    end
    return res
  end)
end

--- Tables other than the runner's own.
user_tables = function(conn)
  local out = {}
  for _, t in ipairs(conn:tables()) do
    if not schema.internal(t) then out[#out + 1] = t end
  end
  return out
end

--- Run the verify of every script up to `at` (in order, read-only) and
--- record the baseline at `at`.  With opts.step_down, a failing verify
--- does not refuse: the baseline is the last version whose verify (and
--- every earlier one) held, because the scripts after it are idempotent
--- and bring a partly upgraded database forward.
local function record_baseline(conn, scripts, at, opts)
  local plan = planner.plan(scripts, {}, nil)
  local failures, checked, last = {}, {}, nil
  for _, s in ipairs(scripts) do
    if not version.lt(at.parsed, s.parsed) then
      local good, report = run_step(conn, s, plan, "verify", true)
      if not good then
        failures[#failures + 1] = report.message
        if opts.step_down then break end
      else
        checked[#checked + 1] = s.version
        if #failures == 0 then last = s end
      end
    end
  end
  if #failures > 0 and not (opts.step_down and last) then
    errors.raise(errors.REFUSED, ("refused: the schema does not match %s:\n  %s"):format(
      at.version, table.concat(failures, "\n  ")), { reasons = failures })
  end
  history.ensure(conn)
  local s = last or at
  record(conn, { version = s.version, name = s.name, checksum = s.checksum,
                 description = opts.note and (s.description or "") .. " (" .. opts.note .. ")" or s.description },
         "baseline", "applied", sys.now(), 0)
  remember_schema(conn, (last or at).version)
  log.info("baseline", ("recorded baseline %s (verified: %s)%s"):format((last or at).version,
           table.concat(checked, ", "), opts.note and ("; " .. opts.note) or ""), { version = (last or at).version })
  return last or at, checked, failures
end

--- Adopt a database Nightingale created itself (tables, no history):
--- recognise its release by schema fingerprint (migrate/fingerprint.lua),
--- then record the baseline as `baseline` would.  An unrecognised schema
--- is refused (exit 3) with the closest matches.  Returns { version,
--- fingerprint = status, detail }.
function M.adopt(conn, scripts)
  local fingerprint = require("migrate.fingerprint")
  local fp = fingerprint.identify(conn)
  if fp.status ~= "exact" and fp.status ~= "between" then
    errors.raise(errors.REFUSED, "refused: the database has tables but no " .. history.TABLE
      .. " table, and its schema is not one of Nightingale's releases:\n" .. fingerprint.explain(fp)
      .. "\n  if it is at a known version, record that with `baseline VERSION`",
      { fingerprint = fp })
  end
  local at
  for _, s in ipairs(scripts) do
    if not version.lt(version.parse(fp.version), s.parsed) then at = s end
  end
  if not at then
    errors.raise(errors.REFUSED, ("refused: the schema looks like Nightingale %s, older than every script")
      :format(fp.version))
  end
  local note = ("adopted: schema fingerprint %s %s"):format(fp.status,
    fp.status == "between" and (fp.lower .. ".." .. fp.upper) or fp.version)
  local got, _, failures = record_baseline(conn, scripts, at, { step_down = true, note = note })
  if #failures > 0 then
    log.warn("adopt", ("the verify of %s did not hold (%s); baseline %s, the idempotent scripts after it "
      .. "bring the rest"):format(at.version, failures[1], got.version), { version = got.version })
  end
  log.info("adopt", ("adopted an unmanaged Nightingale database at %s (%s)"):format(got.version, note),
           { version = got.version })
  return { version = got.version, fingerprint = fp.status, detail = fp.detail, lower = fp.lower,
           upper = fp.upper }
end

--- `baseline V`: record that a database n9e-lua-migrate did not create is
--- at V, after the verify of every script up to V passed on it.
function M.baseline(conn, scripts, opts)
  local target, err = version.normalize(opts.version or "")
  if not target then errors.raise(errors.USAGE, "baseline: " .. err) end
  return locked(conn, opts, function()
    local rows = history.read(conn)
    local plan = planner.plan(scripts, rows, nil)
    if plan.current then
      errors.raise(errors.REFUSED, ("refused: the database is already managed (current version %s); "
        .. "baseline is for databases n9e-lua-migrate did not create"):format(plan.current))
    end
    local at
    for _, s in ipairs(scripts) do
      if s.version == target then at = s end
    end
    if not at then errors.raise(errors.USAGE, ("baseline: no script has version %s"):format(target)) end
    local _, checked = record_baseline(conn, scripts, at, {})
    return { current = target, verified = checked }
  end)
end

--- `repair`: take the lock and finish what an interrupted or unrestored
--- run left (MySQL/MariaDB journals).  Returns { recovered = {versions} }.
function M.repair(conn, opts)
  return locked(conn, opts, function(_, _, recovered, finished)
    table.move(finished, 1, #finished, #recovered + 1, recovered)
    return { recovered = recovered }
  end)
end

--- Re-run verify of every applied version, read-only, inside a
--- transaction that is rolled back.  Returns { checked, failures }.
function M.verify(conn, scripts)
  local plan = planner.plan(scripts, history.read(conn), nil)
  local failures = {}
  for _, r in ipairs(plan.refusals) do failures[#failures + 1] = { message = r } end
  local checked = {}
  -- MySQL's read-only mode is its own transaction (driver set_read_only)
  if conn.dialect ~= "mysql" then conn:begin() end
  local ok, err = pcall(function()
    for _, s in ipairs(scripts) do
      if plan.present[s.version] then
        checked[#checked + 1] = s.version
        local good, report = run_step(conn, s, plan, "verify", true)
        if not good then failures[#failures + 1] = report end
      end
    end
  end)
  if conn:in_transaction() then pcall(conn.rollback, conn) end
  if not ok then error(err, 0) end
  -- drift: the live schema against the one recorded after the last version
  local expected = history.expected_schema(conn)
  local drift = {}
  if plan.current and (not expected or expected.version ~= plan.current) then
    failures[#failures + 1] = { kind = "drift", message = ("the schema was last recorded at %s but the database "
      .. "is at %s (a run was interrupted); `n9e-lua-migrate run` records it")
      :format(expected and expected.version or "no version", plan.current) }
  elseif expected then
    drift = schema.diff(json.decode(expected.description), schema.describe(conn))
    for _, d in ipairs(drift) do
      failures[#failures + 1] = { message = ("schema drift since %s was applied: %s"):format(expected.version, d),
                                  kind = "drift" }
    end
  end
  return { checked = checked, failures = failures, current = plan.current, drift = drift }
end

return M
