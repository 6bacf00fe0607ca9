--- Safe DDL under live traffic: short lock waits, retries, and who blocks.
---
--- A statement that waits for a table lock makes every query that arrives
--- after it queue behind it (PostgreSQL's lock queue, MySQL's metadata
--- locks): an ALTER that "just waits" for a long transaction stops the
--- application.  So every statement of a step may wait for a lock only
--- briefly (`--ddl-lock-timeout`, a script's `lock_timeout`); when it
--- gives up, the version is rolled back as any failure, and tried again
--- after a backoff with jitter (`--lock-retries`, a script's
--- `lock_retries`), so that the application's queries get through in
--- between.  When the retries are spent the version fails (exit 1) naming
--- the sessions that held the locks.
---
---   PostgreSQL  lock_timeout (and statement_timeout = --step-timeout)
---   MySQL       lock_wait_timeout (metadata locks) and
---               innodb_lock_wait_timeout (row locks), whole seconds
---   SQLite      nothing waits inside a version: the run's write lock is
---               taken up front (--lock-timeout)
local log = require("migrate.log")
local sys = require("n9e.sys")

local M = {}

M.DEFAULT_TIMEOUT = 3 -- seconds a statement may wait for a lock
M.DEFAULT_RETRIES = 5
M.BACKOFF_FIRST = 1 -- seconds before the first retry; doubles, with jitter
M.BACKOFF_MAX = 30

-- { seconds, statement_timeout } the connection is set to now, so that
-- it is set again only when that differs (one round trip per run, not
-- per step)
local current = setmetatable({}, { __mode = "k" })

--- The lock wait of one step of script s (its `lock_timeout`, a number or
--- { up = S, convert = S, ... }), else the run's.
function M.timeout_for(s, step, opts)
  local own = s and s.module and s.module.lock_timeout
  if type(own) == "table" then own = own[step] end
  return own or opts.ddl_lock_timeout or M.DEFAULT_TIMEOUT
end

function M.retries_for(s, opts)
  local own = s and s.module and s.module.lock_retries
  return own or opts.lock_retries or M.DEFAULT_RETRIES
end

local function ms(seconds) return ("%dms"):format(math.floor(seconds * 1000 + 0.5)) end

--- Set the run's lock wait (and PostgreSQL's statement timeout) for the
--- session, outside any transaction: it covers the runner's own
--- statements too, and costs one round trip per run, not per step.
function M.apply(conn, seconds, statement_timeout)
  statement_timeout = statement_timeout or 0
  local now = current[conn]
  if now and now.seconds == seconds and now.statement_timeout == statement_timeout then return end
  if conn.dialect == "postgres" then
    assert(not conn:in_transaction(), "locks.apply inside a transaction would be undone by a rollback")
    conn:scalar("SELECT pg_catalog.set_config('lock_timeout', ?, false), "
                .. "pg_catalog.set_config('statement_timeout', ?, false)",
                ms(math.max(0.001, seconds)), ms(statement_timeout))
  elseif conn.dialect == "mysql" then
    local whole = math.max(1, math.ceil(seconds)) -- MySQL counts whole seconds
    conn:exec("SET SESSION lock_wait_timeout = ?, SESSION innodb_lock_wait_timeout = ?", whole, whole)
  end
  current[conn] = { seconds = seconds, statement_timeout = statement_timeout }
end

--- A step whose script asks for another lock wait: returns a function
--- that puts the run's back.  PostgreSQL sets it for the transaction only
--- (SET LOCAL), which ends with the version anyway.
function M.override(conn, seconds, run_seconds)
  if seconds == run_seconds or conn.dialect == "sqlite" then return function() end end
  if conn.dialect == "postgres" and conn:in_transaction() then
    conn:scalar("SELECT pg_catalog.set_config('lock_timeout', ?, true)", ms(math.max(0.001, seconds)))
    return function()
      if conn:in_transaction() then
        pcall(conn.scalar, conn, "SELECT pg_catalog.set_config('lock_timeout', ?, true)", ms(run_seconds))
      end
    end
  end
  local statement_timeout = current[conn] and current[conn].statement_timeout
  M.apply(conn, seconds, statement_timeout)
  return function() pcall(M.apply, conn, run_seconds, statement_timeout) end
end

--- Whether an error is a lock that was not granted in time (or a
--- deadlock, which the engine resolved by cancelling us): worth a retry.
function M.is_conflict(e)
  if type(e) ~= "table" then return false end
  local state, code = e.sqlstate, tonumber(e.code)
  if e.dialect == "postgres" then
    return state == "55P03" or state == "40P01" -- lock_not_available, deadlock_detected
  elseif e.dialect == "mysql" then
    return code == 1205 or code == 1213 -- ER_LOCK_WAIT_TIMEOUT (rows and metadata), ER_LOCK_DEADLOCK
  elseif e.dialect == "sqlite" then
    local primary = code and (math.tointeger(code) or 0) & 0xff
    return primary == 5 or primary == 6 -- SQLITE_BUSY, SQLITE_LOCKED
  end
  return false
end

local BLOCKERS = {
  -- after our statement gave up it no longer waits, so pg_blocking_pids()
  -- is empty: the oldest open transactions holding table locks are named
  postgres = [[
SELECT a.pid AS id, a.usename AS "user", a.state AS state,
       CAST(EXTRACT(EPOCH FROM (now() - a.xact_start)) AS integer) AS seconds,
       left(a.query, 120) AS query
FROM pg_catalog.pg_stat_activity a
WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.xact_start IS NOT NULL
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
              WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation')
ORDER BY a.xact_start LIMIT 3]],
  -- an open InnoDB transaction holds the metadata locks of what it read
  mysql = [[
SELECT t.trx_mysql_thread_id AS id, p.USER AS user, p.COMMAND AS state,
       TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS seconds,
       LEFT(COALESCE(t.trx_query, p.INFO, ''), 120) AS query
FROM information_schema.INNODB_TRX t
LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
WHERE t.trx_mysql_thread_id <> CONNECTION_ID()
ORDER BY t.trx_started LIMIT 3]],
}

--- The sessions that most likely hold the lock: a list of
--- { id, user, state, seconds, query }; empty where the engine cannot tell.
function M.blockers(conn)
  local sql = BLOCKERS[conn.dialect]
  if not sql then return {} end
  local ok, rows = pcall(conn.rows, conn, sql)
  if not ok then
    log.debug("lock.blockers", "could not list the sessions holding locks: " .. tostring(rows))
    return {}
  end
  return rows
end

--- "session 1234 (n9e, idle in transaction for 12 s: SELECT ...)", ...
function M.describe(blockers)
  local out = {}
  for _, b in ipairs(blockers) do
    local what = {}
    if b.user and b.user ~= "" then what[#what + 1] = tostring(b.user) end
    if b.state and b.state ~= "" then
      what[#what + 1] = ("%s for %s s"):format(tostring(b.state):lower(), tostring(b.seconds or "?"))
    end
    local q = b.query and tostring(b.query) or ""
    local detail = table.concat(what, ", ") .. (q ~= "" and (": " .. q:gsub("%s+", " ")) or "")
    out[#out + 1] = ("session %s%s"):format(tostring(math.tointeger(b.id) or b.id),
                                            detail ~= "" and (" (" .. detail .. ")") or "")
  end
  return table.concat(out, "; ")
end

--- Seconds to wait before retry `attempt` (1, 2, ...): doubling from
--- BACKOFF_FIRST up to BACKOFF_MAX, each between half and all of that, so
--- that several waiting runners do not come back at the same moment.
function M.backoff(attempt)
  local full = math.min(M.BACKOFF_MAX, M.BACKOFF_FIRST * 2 ^ (attempt - 1))
  return full / 2 + math.random() * full / 2
end

--- Wait before a retry, saying why.
function M.wait_before_retry(s, attempt, retries, report, blockers)
  local delay = M.backoff(attempt)
  local who = #blockers > 0 and ("; held by " .. M.describe(blockers)) or ""
  log.warn("lock.wait", ("version %s: a lock was not granted in time (%s)%s; retry %d of %d in %.1f s")
    :format(s.version, report.cause or report.message, who, attempt, retries, delay),
    { version = s.version, step = report.step, attempt = attempt, retries = retries,
      delay_s = delay, blockers = blockers })
  sys.sleep(delay)
end

return M
