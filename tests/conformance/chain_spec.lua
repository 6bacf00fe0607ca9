-- Conformance of Nightingale's real chain (scripts/, the binary's built-in
-- scripts) on the engine named by $N9E_TEST_ENGINE: from each reference
-- release Nightingale itself ships (tests/reference/), adopted by schema
-- fingerprint, seeded with representative rows, upgraded to the newest
-- release; then compared with a fresh database loaded from the v9.1.1
-- reference.  Every difference must be listed in tests/conformance/DRIFT.md
-- with its reason; every seeded row is checked.
local testing = require("migrate.testing")
local schema = require("migrate.schema")
local sys = require("n9e.sys")

local ENGINE = testing.engine()
local LATEST = "9.1.1"
local STARTS = ENGINE == "sqlite" and { "v7.0.0", "v7.7.2", "v8.0.0" }
  or { "v6.7.3", "v7.0.0", "v7.7.2", "v8.0.0" }

--- DRIFT.md's table rows: | engine | start | difference | reason |
local function drift_entries()
  local text = assert(sys.read_file("tests/conformance/DRIFT.md"))
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local engine, start, diff, reason = line:match("^|%s*([%w]+)%s*|%s*([%w%.]+)%s*|%s*`(.-)`%s*|%s*(.-)%s*|$")
    if engine and (engine == ENGINE or engine == "all") and reason ~= "" then
      out[#out + 1] = { start = start, diff = diff, used = false }
    end
  end
  return out
end
local DRIFT = drift_entries()

local function explained(start, line)
  for _, d in ipairs(DRIFT) do
    if d.diff == line and (d.start == "all" or d.start == start) then
      d.used = true
      return true
    end
  end
  return false
end

local function count(db, sql, ...)
  return math.tointeger(tonumber(db:scalar(sql, ...)))
end

-- Representative rows, in columns every release since v6.7.3 has.  Where
-- the start release is past a conversion, the rows are seeded the way
-- Nightingale's own start-up left them.
local function seed(db)
  local s = { converted_bg = db:table_exists("target_busi_group"),
              has_dsq = db:column_exists("alert_rule", "datasource_queries"),
              has_ep = db:table_exists("embedded_product") }
  db:exec("INSERT INTO busi_group (id, name, label_enable, label_value) VALUES (101, 'bg-label', 1, 'prod')")
  db:exec("INSERT INTO busi_group (id, name, label_enable, label_value) VALUES (102, 'bg-plain', 0, '')")
  local hosts = {
    { "host-a", 101, "env=dev " }, { "host-b", 102, "" }, { "host-c", 0, "zone=x " },
    { "host-d", 101, "busigroup=legacy " }, { "host-e", 999, "" },
  }
  for i, h in ipairs(hosts) do
    local gid, tags = h[2], h[3]
    if s.converted_bg and gid ~= 0 then
      db:exec("INSERT INTO target_busi_group (id, target_ident, group_id, update_at) VALUES (?, ?, ?, 1)",
              700 + i, h[1], gid)
      if gid == 101 and not tags:find("busigroup=", 1, true) then tags = "busigroup=prod " .. tags end
      gid = 0
    end
    db:exec("INSERT INTO target (id, group_id, ident, note, tags, update_at) VALUES (?, ?, ?, ?, ?, ?)",
            500 + i, gid, h[1], "note " .. h[1], tags, 1700000000 + i)
  end
  local rules = { { 201, "[1,2]" }, { 202, "[0]" }, { 203, "[3,0,4]" }, { 204, "" } }
  for _, r in ipairs(rules) do
    db:exec("INSERT INTO alert_rule (id, group_id, cate, datasource_ids, cluster, name, severity, disabled, "
      .. "prom_for_duration, rule_config, prom_ql, prom_eval_interval, notify_recovered, annotations, "
      .. "extra_config) VALUES (?, 1, 'prometheus', ?, '', ?, 2, 0, 60, '{}', 'up == 0', 15, 1, '{}', '{}')",
      r[1], r[2], "rule " .. r[1])
  end
  db:exec("INSERT INTO recording_rule (id, group_id, datasource_ids, cluster, name, note, prom_ql, "
    .. "prom_eval_interval, query_configs) VALUES (301, 1, '[5]', '', 'rec_metric', 'n', 'sum(up)', 30, '[]')")
  if not s.has_ep then
    db:exec("INSERT INTO configs (id, ckey, cval) VALUES (2001, 'embedded-dashboards', ?)",
            '[{"id":1,"name":"Grafana","url":"http://grafana.local"},'
            .. '{"id":2,"name":"Kibana","url":"http://kibana.local"}]')
  end
  -- explicit ids: Nightingale's files insert their seed rows with ids but
  -- leave PostgreSQL's sequences at 1
  db:exec("INSERT INTO configs (id, ckey, cval) VALUES (2002, 'unrelated-key', 'kept as is')")
  db:exec("INSERT INTO users (id, username, nickname, roles) VALUES (1001, 'alice', 'Alice', 'Standard')")
  return s
end

local function check_data(db, s)
  local function target(ident)
    return db:first("SELECT group_id, tags, note, update_at FROM target WHERE ident = ?", ident)
  end
  -- v7.4.0: business groups moved into target_busi_group (+ label tag)
  local want = {
    ["host-a"] = { tags = "busigroup=prod env=dev ", groups = { 101 } },
    ["host-b"] = { tags = "", groups = { 102 } },
    ["host-c"] = { tags = "zone=x ", groups = {} },
    ["host-d"] = { tags = "busigroup=legacy ", groups = { 101 } },
    ["host-e"] = { tags = "", groups = { 999 } },
  }
  for i, ident in ipairs({ "host-a", "host-b", "host-c", "host-d", "host-e" }) do
    local t = assert(target(ident), ident .. " lost")
    assert.are.equal(0, math.tointeger(tonumber(t.group_id)), ident .. ".group_id")
    assert.are.equal(want[ident].tags, t.tags, ident .. ".tags")
    assert.are.equal("note " .. ident, t.note)
    assert.are.equal(1700000000 + i, math.tointeger(tonumber(t.update_at)))
    local groups = {}
    for r in db:query("SELECT group_id FROM target_busi_group WHERE target_ident = ? ORDER BY group_id", ident) do
      groups[#groups + 1] = math.tointeger(tonumber(r.group_id))
    end
    assert.are.same(want[ident].groups, groups, ident .. " groups")
  end
  -- v7.7.0: datasource ids as datasource queries, when the chain ran it
  local dsq = {
    [201] = '[{"match_type":0,"op":"in","values":[1,2]}]',
    [202] = '[{"match_type":2,"op":"in","values":[]}]',
    [203] = '[{"match_type":2,"op":"in","values":[3]}]',
  }
  for id, ids in pairs({ [201] = "[1,2]", [202] = "[0]", [203] = "[3,0,4]", [204] = "" }) do
    local r = assert(db:first("SELECT datasource_ids, datasource_queries, name FROM alert_rule WHERE id = ?", id))
    assert.are.equal(ids, r.datasource_ids)
    assert.are.equal("rule " .. id, r.name)
    if not s.has_dsq and dsq[id] then
      local got = require("migrate.json").decode(r.datasource_queries)
      assert.are.same(require("migrate.json").decode(dsq[id]), got, "alert_rule " .. id)
    end
  end
  assert.are.equal("[5]", db:scalar("SELECT datasource_ids FROM recording_rule WHERE id = 301"))
  -- v8.0.0: embedded dashboards as products
  if not s.has_ep then
    local names = {}
    for r in db:query("SELECT name, url, create_by FROM embedded_product ORDER BY name") do
      names[#names + 1] = r.name .. "|" .. r.url .. "|" .. r.create_by
    end
    assert.are.same({ "Grafana|http://grafana.local|system", "Kibana|http://kibana.local|system" }, names)
  end
  assert.are.equal("kept as is", db:scalar("SELECT cval FROM configs WHERE ckey = 'unrelated-key'"))
  assert.are.equal("Alice", db:scalar("SELECT nickname FROM users WHERE username = 'alice'"))
  assert.are.equal("root", db:scalar("SELECT username FROM users WHERE id = 1"))
  assert.are.equal(2, count(db, "SELECT count(*) FROM busi_group WHERE id IN (101, 102)"))
end

local reference
setup(function()
  reference = testing.db()
  testing.load_reference(reference, "v" .. LATEST)
  reference.described = schema.describe(reference.conn)
end)
teardown(function() getmetatable(reference).__close(reference) end)

describe("Nightingale chain on " .. ENGINE, function()
  for _, start in ipairs(STARTS) do
    it("upgrades Nightingale's own " .. start .. " database to " .. LATEST .. " like a fresh " .. LATEST, function()
      local db = testing.db()
      local ok, err = pcall(function()
        testing.load_reference(db, start)
        local seeded = seed(db)
        local r = testing.migrate(db, { to = LATEST })
        assert.are.equal(0, r.exit, r.failed and r.failed.message or r.message)
        assert.is_table(r.adopted, "the database was adopted by fingerprint")
        local diffs = schema.diff(reference.described, schema.describe(db.conn))
        local unexplained = {}
        for _, line in ipairs(diffs) do
          if not explained(start, line) then unexplained[#unexplained + 1] = line end
        end
        assert.are.same({}, unexplained, "differences from a fresh " .. LATEST .. " not in DRIFT.md")
        check_data(db, seeded)
        -- a second run is a no-op
        local before = schema.describe(db.conn)
        local rows = #testing.history(db)
        local again = testing.migrate(db, { to = LATEST })
        assert.are.equal("up_to_date", again.outcome)
        assert.are.same({}, schema.diff(before, schema.describe(db.conn)))
        assert.are.equal(rows, #testing.history(db))
      end)
      getmetatable(db).__close(db)
      if not ok then error(err, 0) end
    end)
  end

  it("builds a fresh database to " .. LATEST .. " like the reference, every difference in DRIFT.md", function()
    local db <close> = testing.db()
    local r = testing.migrate(db, { to = LATEST })
    assert.are.equal(0, r.exit, r.failed and r.failed.message or r.message)
    local unexplained = {}
    for _, line in ipairs(schema.diff(reference.described, schema.describe(db.conn))) do
      if not explained("fresh", line) then unexplained[#unexplained + 1] = line end
    end
    assert.are.same({}, unexplained)
  end)

  it("lists no drift in DRIFT.md that no longer happens", function()
    local stale = {}
    for _, d in ipairs(DRIFT) do
      if not d.used then stale[#stale + 1] = d.start .. ": " .. d.diff end
    end
    assert.are.same({}, stale)
  end)
end)
