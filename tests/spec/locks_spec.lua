-- The lock-wait policy (lua/migrate/locks.lua) on its own; the waits
-- themselves are tested against real servers in tests/cli/engines_spec.lua.
local locks = require("migrate.locks")

describe("locks", function()
  it("backs off doubling from 1 s to 30 s, each wait between half and all of it", function()
    for attempt, full in ipairs({ 1, 2, 4, 8, 16, 30, 30 }) do
      for _ = 1, 50 do
        local d = locks.backoff(attempt)
        assert.is_true(d >= full / 2 and d <= full, ("attempt %d: %g"):format(attempt, d))
      end
    end
  end)

  it("retries lock timeouts and deadlocks only", function()
    assert.is_true(locks.is_conflict({ dialect = "postgres", sqlstate = "55P03" }))
    assert.is_true(locks.is_conflict({ dialect = "postgres", sqlstate = "40P01" }))
    assert.is_false(locks.is_conflict({ dialect = "postgres", sqlstate = "42P01" }))
    assert.is_false(locks.is_conflict({ dialect = "postgres", sqlstate = "57014" })) -- statement_timeout
    assert.is_true(locks.is_conflict({ dialect = "mysql", code = 1205 }))
    assert.is_true(locks.is_conflict({ dialect = "mysql", code = 1213 }))
    assert.is_false(locks.is_conflict({ dialect = "mysql", code = 1146 }))
    assert.is_true(locks.is_conflict({ dialect = "sqlite", code = 517 })) -- SQLITE_BUSY_SNAPSHOT
    assert.is_false(locks.is_conflict({ dialect = "sqlite", code = 1 }))
    assert.is_false(locks.is_conflict("a string error"))
  end)

  it("takes a script's lock_timeout (per step or for all) over the run's", function()
    local opts = { ddl_lock_timeout = 4, lock_retries = 2 }
    assert.are.equal(4, locks.timeout_for(nil, "up", opts))
    assert.are.equal(9, locks.timeout_for({ module = { lock_timeout = 9 } }, "up", opts))
    local per_step = { module = { lock_timeout = { convert = 1 }, lock_retries = 0 } }
    assert.are.equal(1, locks.timeout_for(per_step, "convert", opts))
    assert.are.equal(4, locks.timeout_for(per_step, "up", opts))
    assert.are.equal(0, locks.retries_for(per_step, opts))
    assert.are.equal(2, locks.retries_for(nil, opts))
    assert.are.equal(locks.DEFAULT_TIMEOUT, locks.timeout_for(nil, "up", {}))
  end)

  it("names the sessions holding locks", function()
    assert.are.equal("session 42 (n9e, idle in transaction for 12 s: SELECT 1 FROM t); session 7",
      locks.describe({ { id = 42, user = "n9e", state = "idle in transaction", seconds = 12,
                         query = "SELECT 1\n  FROM t" }, { id = 7 } }))
    assert.are.equal("", locks.describe({}))
  end)
end)
