-- The real chain killed (SIGKILL) at points across it and run again ends in
-- the same state as an uninterrupted run: same schema, same rows.  Drives
-- the binary (N9E_BIN) on the engine named by $N9E_TEST_ENGINE, starting
-- from Nightingale's own oldest reference schema with rows the three data
-- conversions move.
local testing = require("migrate.testing")
local schema = require("migrate.schema")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")
local ENGINE = testing.engine()
local START = ENGINE == "sqlite" and "v7.0.0" or "v6.7.3"

local q = testing.shell_quote

local function mig(db, args, env)
  local target = "--db " .. q(db.dsn or ("sqlite:" .. db.path))
  if db.password_file then target = target .. " --password-file " .. q(db.password_file) end
  local p = io.popen(("%s %s %s %s -q 2>&1"):format(env or "", q(BIN), args, target))
  local out = p:read("a")
  local _, how, code = p:close()
  return how == "signal" and 128 + code or code, out
end

local function prepare()
  local db = testing.db()
  testing.load_reference(db, START)
  db:exec("INSERT INTO busi_group (id, name, label_enable, label_value) VALUES (101, 'bg-label', 1, 'prod')")
  for i = 1, 40 do
    db:exec("INSERT INTO target (id, group_id, ident, note, tags, update_at) VALUES (?, ?, ?, '', ?, 1)",
            500 + i, i % 2 == 0 and 101 or 0, ("host-%03d"):format(i), i % 3 == 0 and "zone=x " or "")
    db:exec("INSERT INTO alert_rule (id, group_id, cate, datasource_ids, cluster, name, severity, disabled, "
      .. "prom_for_duration, rule_config, prom_ql, prom_eval_interval, notify_recovered, annotations, "
      .. "extra_config) VALUES (?, 1, 'prometheus', ?, '', ?, 2, 0, 60, '{}', 'up', 15, 1, '{}', '{}')",
      600 + i, ("[%d,%d]"):format(i, i % 4 == 0 and 0 or i + 1), "rule " .. i)
  end
  db:exec("INSERT INTO configs (id, ckey, cval) VALUES (2001, 'embedded-dashboards', ?)",
          '[{"id":1,"name":"Grafana","url":"http://grafana.local"}]')
  return db
end

-- clock-valued columns differ between two runs by design
local CLOCKS = { update_at = true, create_at = true, created_at = true, updated_at = true }

local function state(db)
  local s = { schema = schema.describe(db.conn), rows = {} }
  for t, d in pairs(s.schema) do
    local cols = {}
    for c in pairs(d.columns) do
      if not CLOCKS[c] then cols[#cols + 1] = c end
    end
    table.sort(cols)
    s.rows[t] = db:checksum(t, cols)
  end
  local versions = {}
  for _, r in ipairs(testing.history(db)) do
    if r.outcome == "applied" then versions[#versions + 1] = r.kind .. ":" .. r.version end
  end
  s.history = versions
  return s
end

describe("the chain on " .. ENGINE .. " killed part-way", function()
  local expected
  setup(function()
    local db = prepare()
    local code, out = mig(db, "run")
    assert(code == 0, out)
    expected = state(db)
    getmetatable(db).__close(db)
  end)

  for _, point in ipairs({ "after_plan", "exec:up:2", "exec:convert:2", "after_version:7.4.0",
                           "before_history:8.0.0", "after_version:9.0.0" }) do
    it("ends in the same state after SIGKILL at " .. point .. " and a second run", function()
      local db = prepare()
      local ok, err = pcall(function()
        local code = mig(db, "run", "N9E_MIGRATE_FAILPOINT=" .. q(point))
        assert.are.equal(137, code)
        local code2, out = mig(db, "run")
        assert.are.equal(0, code2, out)
        local got = state(db)
        assert.are.same({}, schema.diff(expected.schema, got.schema))
        assert.are.same(expected.rows, got.rows)
        assert.are.same(expected.history, got.history)
      end)
      getmetatable(db).__close(db)
      if not ok then error(err, 0) end
    end)
  end
end)

