-- migrate.n9e_data, Nightingale's three data conversions, on the engine
-- named by $N9E_TEST_ENGINE (sqlite by default).  Every call goes through
-- the handle a script step gets (apply.script_handle), read-only for the
-- verify functions, so the library provably uses nothing else; on MySQL
-- the conversions also run under the runner's journal, which undoes them.
local apply = require("migrate.apply")
local journal = require("migrate.journal")
local n9e_data = require("migrate.n9e_data")
local testing = require("migrate.testing")

local ENGINE = testing.engine()
local NULL = require("n9e.db").null
local NOW = 1700000000

-- The tables the conversions touch, with the column types of Nightingale's
-- own schemas (tests/reference/v8.0.0/), trimmed to the columns that
-- matter plus a few that must survive unchanged.  datasource_ids is NOT
-- NULL in Nightingale; it is nullable here so that NULL can be tested.
local DDL = {
  sqlite = {
    [[CREATE TABLE `target` (`id` integer primary key autoincrement, `group_id` bigint not null default 0,
      `ident` varchar(191) not null unique, `note` varchar(255) not null default '',
      `tags` varchar(512) not null default '', `host_ip` varchar(15) default '',
      `update_at` bigint not null default 0)]],
    "CREATE INDEX `idx_target_group_id` ON `target` (`group_id` asc)",
    [[CREATE TABLE `busi_group` (`id` integer primary key autoincrement, `name` varchar(191) not null unique,
      `label_enable` tinyint(1) not null default 0, `label_value` varchar(191) not null default '')]],
    [[CREATE TABLE `target_busi_group` (`id` integer primary key autoincrement,
      `target_ident` varchar(191) not null, `group_id` integer not null, `update_at` integer not null)]],
    "CREATE UNIQUE INDEX idx_target_busi_group ON target_busi_group (target_ident, group_id)",
    [[CREATE TABLE `alert_rule` (`id` integer primary key autoincrement, `name` varchar(255) not null,
      `datasource_ids` varchar(255) default '', `datasource_queries` text)]],
    [[CREATE TABLE `recording_rule` (`id` integer primary key autoincrement, `name` varchar(255) not null,
      `datasource_ids` varchar(255) default '', `datasource_queries` text)]],
    [[CREATE TABLE `configs` (`id` integer primary key autoincrement, `ckey` varchar(191) not null,
      `cval` text not null, `note` varchar(1024) not null default '', `external` tinyint(1) not null default 0,
      `encrypted` tinyint(1) not null default 0, `create_at` bigint not null default 0,
      `create_by` varchar(64) not null default '', `update_at` bigint not null default 0,
      `update_by` varchar(64) not null default '')]],
    -- not in Nightingale's SQLite file (gorm creates it): gorm's types
    [[CREATE TABLE `embedded_product` (`id` integer primary key autoincrement, `name` varchar(255),
      `url` varchar(255), `is_private` numeric, `team_ids` varchar(255), `create_at` integer not null default 0,
      `create_by` varchar(64) not null default '', `update_at` integer not null default 0,
      `update_by` varchar(64) not null default '')]],
  },
  postgres = {
    [[CREATE TABLE target (id bigserial, group_id bigint not null default 0, ident varchar(191) not null,
      note varchar(255) not null default '', tags varchar(512) not null default '',
      host_ip varchar(15) default '', update_at bigint not null default 0, PRIMARY KEY (id), UNIQUE (ident))]],
    "CREATE INDEX ON target (group_id)",
    [[CREATE TABLE busi_group (id bigserial, name varchar(191) not null, label_enable smallint not null default 0,
      label_value varchar(191) not null default '', PRIMARY KEY (id), UNIQUE (name))]],
    [[CREATE TABLE target_busi_group (id BIGSERIAL PRIMARY KEY, target_ident varchar(191) NOT NULL,
      group_id bigint NOT NULL, update_at bigint NOT NULL)]],
    "CREATE UNIQUE INDEX idx_target_group ON target_busi_group (target_ident, group_id)",
    [[CREATE TABLE alert_rule (id bigserial, name varchar(255) not null, datasource_ids varchar(255) default '',
      datasource_queries text, PRIMARY KEY (id))]],
    [[CREATE TABLE recording_rule (id bigserial, name varchar(255) not null, datasource_ids varchar(255) default '',
      datasource_queries text, PRIMARY KEY (id))]],
    [[CREATE TABLE configs (id bigserial, ckey varchar(191) not null, cval text not null default '',
      note varchar(1024) not null default '', external int not null default 0, encrypted int not null default 0,
      create_at bigint not null default 0, create_by varchar(64) not null default '',
      update_at bigint not null default 0, update_by varchar(64) not null default '', PRIMARY KEY (id),
      UNIQUE (ckey))]],
    [[CREATE TABLE embedded_product (id bigserial PRIMARY KEY, name varchar(255) DEFAULT NULL,
      url varchar(255) DEFAULT NULL, is_private boolean DEFAULT NULL, team_ids varchar(255),
      create_at bigint NOT NULL DEFAULT 0, create_by varchar(64) NOT NULL DEFAULT '',
      update_at bigint NOT NULL DEFAULT 0, update_by varchar(64) NOT NULL DEFAULT '')]],
  },
  mysql = {
    [[CREATE TABLE `target` (`id` bigint unsigned not null auto_increment, `group_id` bigint not null default 0,
      `ident` varchar(191) not null, `note` varchar(255) not null default '',
      `tags` varchar(512) not null default '', `host_ip` varchar(15) default '',
      `update_at` bigint not null default 0, PRIMARY KEY (`id`), UNIQUE KEY (`ident`), KEY (`group_id`))
      ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    [[CREATE TABLE `busi_group` (`id` bigint unsigned not null auto_increment, `name` varchar(191) not null,
      `label_enable` tinyint(1) not null default 0, `label_value` varchar(191) not null default '',
      PRIMARY KEY (`id`), UNIQUE KEY (`name`)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    [[CREATE TABLE `target_busi_group` (`id` bigint NOT NULL AUTO_INCREMENT, `target_ident` varchar(191) NOT NULL,
      `group_id` bigint NOT NULL, `update_at` bigint NOT NULL, PRIMARY KEY (`id`),
      UNIQUE KEY `idx_target_group` (`target_ident`,`group_id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
    [[CREATE TABLE `alert_rule` (`id` bigint unsigned not null auto_increment, `name` varchar(255) not null,
      `datasource_ids` varchar(255) default '', `datasource_queries` text, PRIMARY KEY (`id`))
      ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    [[CREATE TABLE `recording_rule` (`id` bigint unsigned not null auto_increment, `name` varchar(255) not null,
      `datasource_ids` varchar(255) default '', `datasource_queries` text, PRIMARY KEY (`id`))
      ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    [[CREATE TABLE `configs` (`id` bigint unsigned not null auto_increment, `ckey` varchar(191) not null,
      `note` varchar(1024) NOT NULL DEFAULT '', `cval` text, `external` bigint DEFAULT 0,
      `encrypted` bigint DEFAULT 0, `create_at` bigint DEFAULT 0, `create_by` varchar(64) NOT NULL DEFAULT '',
      `update_at` bigint DEFAULT 0, `update_by` varchar(64) NOT NULL DEFAULT '', PRIMARY KEY (`id`))
      ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    [[CREATE TABLE `embedded_product` (`id` bigint unsigned NOT NULL AUTO_INCREMENT,
      `name` varchar(255) DEFAULT NULL, `url` varchar(255) DEFAULT NULL, `is_private` boolean DEFAULT NULL,
      `team_ids` varchar(255), `create_at` bigint not null default 0, `create_by` varchar(64) not null default '',
      `update_at` bigint not null default 0, `update_by` varchar(64) not null default '', PRIMARY KEY (`id`))
      ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
  },
}

-- A throwaway database with the tables; fn(db) runs with it, then it goes.
local function with_db(fn)
  local db = testing.db()
  local ok, err = pcall(function()
    for _, sql in ipairs(DDL[db.dialect]) do db:exec(sql) end
    fn(db)
  end)
  getmetatable(db).__close(db)
  if not ok then error(err, 0) end
end

-- The handle a convert step gets.
local function rw(db) return apply.script_handle(db.conn, "convert", nil, { rows = 0 }, false) end

-- Run fn with the handle a verify step gets (read-only, as in run_step):
-- pcall's results.
local function ro(db, fn, ...)
  db.conn:set_read_only(true)
  local res = table.pack(pcall(fn, apply.script_handle(db.conn, "verify", nil, nil, true), ...))
  db.conn:set_read_only(false)
  return table.unpack(res, 1, res.n)
end

-- Raises unless fn (on the read-only handle) raised an error matching each
-- of the plain-text fragments.
local function assert_fails(db, fragments, fn, ...)
  local ok, err = ro(db, fn, ...)
  assert.is_false(ok, "verify passed, expected: " .. table.concat(fragments, " / "))
  for _, f in ipairs(fragments) do assert.matches(f, tostring(err), 1, true) end
end

local function assert_passes(db, fn, ...)
  local ok, err = ro(db, fn, ...)
  assert.is_true(ok, tostring(err))
end

-- Rows of a query as "a|b|c" strings (NULL as \N), in the query's order.
local function dump(db, sql, cols)
  local out = {}
  for r in db:query(sql) do
    local parts = {}
    for i, c in ipairs(cols) do
      local v = r[c]
      if v == nil or v == NULL then v = "\\N" end
      if type(v) == "boolean" then v = v and 1 or 0 end
      parts[i] = tostring(math.tointeger(v) or v)
    end
    out[#out + 1] = table.concat(parts, "|")
  end
  return out
end

-- Insert rows { {v1, v2, ...}, ... } into tbl (cols) in multi-row statements.
local function insert(db, tbl, cols, rows)
  local per = 500
  for first = 1, #rows, per do
    local tuples, params = {}, {}
    for i = first, math.min(first + per - 1, #rows) do
      local marks = {}
      for j = 1, #cols do
        marks[j] = "?"
        local v = rows[i][j]
        if v == nil then v = NULL end
        params[#params + 1] = v
      end
      tuples[#tuples + 1] = "(" .. table.concat(marks, ", ") .. ")"
    end
    db:exec(("INSERT INTO %s (%s) VALUES %s"):format(db:quote_ident(tbl), table.concat(cols, ", "),
                                                      table.concat(tuples, ", ")), table.unpack(params))
  end
end

--------------------------------------------------------------------------
-- v7.4.0 business groups
--------------------------------------------------------------------------

local function seed_groups(db)
  insert(db, "busi_group", { "id", "name", "label_enable", "label_value" }, {
    { 1, "payments", 1, "payments" },
    { 2, "plain", 0, "ignored" },
    { 3, "web", 1, "web" },
  })
  insert(db, "target", { "id", "group_id", "ident", "note", "tags", "host_ip", "update_at" }, {
    { 1, 0, "h-none", "no group", "a=1 ", "10.0.0.1", 11 },
    { 2, 1, "h-lab", "labelled", "app=x zone=b ", "10.0.0.2", 12 },
    { 3, 2, "h-plain", "label off", "a=1 ", "10.0.0.3", 13 },
    { 4, 1, "h-has", "has a busigroup tag", "busigroup=legacy env=prod ", "10.0.0.4", 14 },
    { 5, 99, "h-dangling", "no such group", "", "10.0.0.5", 15 },
    { 6, 3, "h-empty", "no tags", "", "10.0.0.6", 16 },
    { 7, 2, "h-pre", "already associated", "x=y ", "10.0.0.7", 17 },
    { 8, 3, "h-prefix", "similar key", "busigroupx=1 ", "10.0.0.8", 18 },
  })
  -- an association made earlier (by Nightingale's UI, or a previous run)
  insert(db, "target_busi_group", { "target_ident", "group_id", "update_at" }, { { "h-pre", 2, 111 } })
end

local TARGET_SQL = "SELECT id, group_id, ident, note, tags, host_ip, update_at FROM target ORDER BY id"
local TARGET_COLS = { "id", "group_id", "ident", "note", "tags", "host_ip", "update_at" }
local TBG_SQL = "SELECT target_ident, group_id, update_at FROM target_busi_group ORDER BY target_ident, group_id"
local TBG_COLS = { "target_ident", "group_id", "update_at" }

local TARGETS_AFTER = {
  "1|0|h-none|no group|a=1 |10.0.0.1|11",
  "2|0|h-lab|labelled|app=x busigroup=payments zone=b |10.0.0.2|12",
  "3|0|h-plain|label off|a=1 |10.0.0.3|13",
  "4|0|h-has|has a busigroup tag|busigroup=legacy env=prod |10.0.0.4|14",
  "5|0|h-dangling|no such group||10.0.0.5|15",
  "6|0|h-empty|no tags|busigroup=web |10.0.0.6|16",
  "7|0|h-pre|already associated|x=y |10.0.0.7|17",
  "8|0|h-prefix|similar key|busigroup=web busigroupx=1 |10.0.0.8|18",
}
local TBG_AFTER = {
  "h-dangling|99|" .. NOW,
  "h-empty|3|" .. NOW,
  "h-has|1|" .. NOW,
  "h-lab|1|" .. NOW,
  "h-plain|2|" .. NOW,
  "h-pre|2|111",
  "h-prefix|3|" .. NOW,
}

describe("n9e_data.busi_groups (v7.4.0)", function()
  it("adds a tag keeping the tags sorted, unless the key is there", function()
    assert.are.equal("a=1 busigroup=x z=2 ", n9e_data.add_tag("z=2 a=1 ", "busigroup", "x"))
    assert.are.equal("busigroup=x ", n9e_data.add_tag("", "busigroup", "x"))
    assert.is_nil(n9e_data.add_tag("a=1 busigroup=y ", "busigroup", "x"))
    assert.are.equal("Z=1 a=1 team=ops ", n9e_data.add_tag("a=1 Z=1 ", "team", "ops")) -- byte order
  end)

  it("moves groups to target_busi_group, tags labelled groups, and is idempotent", function()
    with_db(function(db)
      seed_groups(db)
      local h = rw(db)
      local before = n9e_data.busi_groups_snapshot(h)
      assert.are.equal(8, before.targets)
      assert.are.equal(7, before.moving)
      assert.are.same({ moved = 7, tagged = 3, associated = 6 }, n9e_data.busi_groups(h, { now = NOW }))
      assert.are.same(TARGETS_AFTER, dump(db, TARGET_SQL, TARGET_COLS))
      assert.are.same(TBG_AFTER, dump(db, TBG_SQL, TBG_COLS))
      assert_passes(db, n9e_data.verify_busi_groups, before)
      assert_passes(db, n9e_data.verify_busi_groups)
      -- a second run changes nothing
      assert.are.same({ moved = 0, tagged = 0, associated = 0 }, n9e_data.busi_groups(h, { now = NOW + 60 }))
      assert.are.same(TARGETS_AFTER, dump(db, TARGET_SQL, TARGET_COLS))
      assert.are.same(TBG_AFTER, dump(db, TBG_SQL, TBG_COLS))
      assert_passes(db, n9e_data.verify_busi_groups, before)
    end)
  end)

  it("honours opts.label_key", function()
    with_db(function(db)
      seed_groups(db)
      assert.are.same({ moved = 7, tagged = 4, associated = 6 },
                      n9e_data.busi_groups(rw(db), { now = NOW, label_key = "bg" }))
      assert.are.equal("app=x bg=payments zone=b ", db:scalar("SELECT tags FROM target WHERE id = 2"))
      assert.are.equal("bg=payments busigroup=legacy env=prod ", db:scalar("SELECT tags FROM target WHERE id = 4"))
    end)
  end)

  it("resumes a conversion interrupted part-way and ends in the same state", function()
    with_db(function(db)
      seed_groups(db)
      local before = n9e_data.busi_groups_snapshot(rw(db))
      -- what an interrupted run leaves: h-lab fully converted, h-plain's
      -- association written but its group_id not yet cleared
      db:exec("INSERT INTO target_busi_group (target_ident, group_id, update_at) VALUES ('h-lab', 1, ?)", NOW)
      db:exec("UPDATE target SET group_id = 0, tags = 'app=x busigroup=payments zone=b ' WHERE id = 2")
      db:exec("INSERT INTO target_busi_group (target_ident, group_id, update_at) VALUES ('h-plain', 2, ?)", NOW)
      assert_fails(db, { "6 target(s) still have group_id <> 0, not converted: h-plain (group 2)" },
                   n9e_data.verify_busi_groups)
      assert.are.same({ moved = 6, tagged = 2, associated = 4 }, n9e_data.busi_groups(rw(db), { now = NOW }))
      assert.are.same(TARGETS_AFTER, dump(db, TARGET_SQL, TARGET_COLS))
      assert.are.same(TBG_AFTER, dump(db, TBG_SQL, TBG_COLS))
      assert_passes(db, n9e_data.verify_busi_groups, before)
    end)
  end)

  it("verify refuses an unconverted database without a snapshot", function()
    with_db(function(db)
      seed_groups(db)
      assert_fails(db, { "verify_busi_groups: 7 target(s) still have group_id <> 0, not converted: "
                         .. "h-lab (group 1), h-plain (group 2), h-has (group 1), h-dangling (group 99), "
                         .. "h-empty (group 3), ..." }, n9e_data.verify_busi_groups)
    end)
  end)

  for _, case in ipairs({
    { what = "an association is lost", sql = "DELETE FROM target_busi_group WHERE target_ident = 'h-empty'",
      err = "target_busi_group has 6 row(s), expected 7 (1 before + 6 moved from target)" },
    { what = "an association names the wrong group",
      sql = "UPDATE target_busi_group SET group_id = 2 WHERE target_ident = 'h-lab'",
      err = "target_busi_group pairs differ from target's (ident, group_id) before the conversion" },
    { what = "a target is lost", sql = "DELETE FROM target WHERE id = 1", err = "target has 7 row(s), expected 8" },
    { what = "another column of target changed", sql = "UPDATE target SET note = 'changed' WHERE id = 6",
      err = "target columns other than group_id and tags changed" },
    { what = "a target has its group_id again", sql = "UPDATE target SET group_id = 3 WHERE id = 6",
      err = "1 target(s) still have group_id <> 0, not converted: h-empty (group 3)" },
  }) do
    it("verify raises when " .. case.what, function()
      with_db(function(db)
        seed_groups(db)
        local before = n9e_data.busi_groups_snapshot(rw(db))
        n9e_data.busi_groups(rw(db), { now = NOW })
        assert_passes(db, n9e_data.verify_busi_groups, before)
        db:exec(case.sql)
        assert_fails(db, { "verify_busi_groups: ", case.err }, n9e_data.verify_busi_groups, before)
      end)
    end)
  end

  it("converts 20,000 targets in keyset batches", function()
    with_db(function(db)
      local N, BATCH = 20000, n9e_data.BATCH
      insert(db, "busi_group", { "id", "name", "label_enable", "label_value" },
             { { 1, "labelled", 1, "big" }, { 2, "plain", 0, "" } })
      do
        local rows = {}
        for i = 1, N do
          -- odd: the labelled group (10,000); even: the plain one, but
          -- every 10th target has no group (2,000)
          rows[i] = { i, i % 2 == 1 and 1 or (i % 10 == 0 and 0 or 2), ("host-%05d"):format(i), "k=v " }
        end
        insert(db, "target", { "id", "group_id", "ident", "tags" }, rows)
      end
      local moving = N - N // 10 -- 18,000
      -- count the SELECTs on target: one per batch
      local h, selects = rw(db), 0
      local counted = setmetatable({
        query = function(_, sql, ...)
          if sql:find("LEFT JOIN", 1, true) then selects = selects + 1 end
          return h:query(sql, ...)
        end,
      }, { __index = h })
      local before = n9e_data.busi_groups_snapshot(h)
      local r = n9e_data.busi_groups(counted, { now = NOW })
      assert.are.same({ moved = moving, tagged = N // 2, associated = moving }, r)
      -- full batches, plus the query that finds nothing left after the last full one
      assert.are.equal(math.ceil(moving / BATCH) + (moving % BATCH == 0 and 1 or 0), selects)
      assert.are.equal(0, math.tointeger(db:scalar("SELECT count(*) AS n FROM target WHERE group_id <> 0")))
      assert.are.equal(moving, math.tointeger(db:scalar("SELECT count(*) AS n FROM target_busi_group")))
      assert.are.equal("busigroup=big k=v ", db:scalar("SELECT tags FROM target WHERE ident = 'host-19999'"))
      assert.are.equal(1, math.tointeger(db:scalar(
        "SELECT group_id FROM target_busi_group WHERE target_ident = 'host-19999'")))
      assert.are.equal("k=v ", db:scalar("SELECT tags FROM target WHERE ident = 'host-19998'"))
      assert_passes(db, n9e_data.verify_busi_groups, before)
    end)
  end)
end)

--------------------------------------------------------------------------
-- v7.7.0 datasource queries
--------------------------------------------------------------------------

local RULES = {
  { 1, "ids 1,2", "[1,2]", nil },
  { 2, "all", "[0]", "" },
  { 3, "some, then all", "[3,0,4]", "[]" },
  { 4, "empty ids", "", nil },
  { 5, "null ids", nil, nil },
  { 6, "empty list", "[]", nil },
  { 7, "invalid json", "[1,", nil },
  { 8, "already filled", "[5]", '[{"match_type":1,"op":"in","values":["prom-.*"]}]' },
  { 9, "spaces", "[ 7, 8 ]", nil },
  { 10, "an object", '{"a":1}', nil },
  { 11, "not an integer", "[1.5]", "" },
  { 12, "converted before", "[6]", '[{"match_type":0,"op":"in","values":[6]}]' },
}
local RULES_AFTER = {
  '1|[1,2]|[{"match_type":0,"op":"in","values":[1,2]}]',
  '2|[0]|[{"match_type":2,"op":"in","values":[]}]',
  '3|[3,0,4]|[{"match_type":2,"op":"in","values":[3]}]',
  "4||\\N",
  "5|\\N|\\N",
  "6|[]|\\N",
  "7|[1,|\\N",
  '8|[5]|[{"match_type":1,"op":"in","values":["prom-.*"]}]',
  '9|[ 7, 8 ]|[{"match_type":0,"op":"in","values":[7,8]}]',
  '10|{"a":1}|\\N',
  "11|[1.5]|",
  '12|[6]|[{"match_type":0,"op":"in","values":[6]}]',
}
local INVALID = { converted = 0, invalid = 3, invalid_ids = { 7, 10, 11 } }

for _, tbl in ipairs({ "alert_rule", "recording_rule" }) do
  local RULE_SQL = "SELECT id, datasource_ids, datasource_queries FROM " .. tbl .. " ORDER BY id"
  local RULE_COLS = { "id", "datasource_ids", "datasource_queries" }
  local function seed_rules(db)
    insert(db, tbl, { "id", "name", "datasource_ids", "datasource_queries" }, RULES)
  end

  describe("n9e_data.datasource_queries (v7.7.0) on " .. tbl, function()
    it("fills datasource_queries from datasource_ids, reports invalid ids, and is idempotent", function()
      with_db(function(db)
        seed_rules(db)
        local h = rw(db)
        local before = n9e_data.datasource_queries_snapshot(h, tbl)
        assert.are.same({ converted = 4, invalid = 3, invalid_ids = { 7, 10, 11 } },
                        n9e_data.datasource_queries(h, tbl))
        assert.are.same(RULES_AFTER, dump(db, RULE_SQL, RULE_COLS))
        assert_passes(db, n9e_data.verify_datasource_queries, tbl, before)
        -- a second run changes nothing (the invalid rows are reported again)
        assert.are.same(INVALID, n9e_data.datasource_queries(h, tbl))
        assert.are.same(RULES_AFTER, dump(db, RULE_SQL, RULE_COLS))
        assert_passes(db, n9e_data.verify_datasource_queries, tbl, before)
        -- without a snapshot, a row whose queries disagree with its ids is a problem
        assert_fails(db, { ("verify_datasource_queries(%s): 1 row(s) have a datasource_queries that does not "
                            .. "match datasource_ids (0 expected: rows that had other queries before the "
                            .. "conversion): id 8"):format(tbl) },
                     n9e_data.verify_datasource_queries, tbl)
      end)
    end)

    it("works in batches smaller than the table", function()
      with_db(function(db)
        seed_rules(db)
        assert.are.same({ converted = 4, invalid = 3, invalid_ids = { 7, 10, 11 } },
                        n9e_data.datasource_queries(rw(db), tbl, { batch = 2 }))
        assert.are.same(RULES_AFTER, dump(db, RULE_SQL, RULE_COLS))
      end)
    end)

    it("resumes a conversion interrupted part-way", function()
      with_db(function(db)
        seed_rules(db)
        local before = n9e_data.datasource_queries_snapshot(rw(db), tbl)
        db:exec("UPDATE " .. tbl .. " SET datasource_queries = ? WHERE id = 1",
                '[{"match_type":0,"op":"in","values":[1,2]}]')
        assert_fails(db, { "3 row(s) with datasource_ids have no datasource_queries, not converted: id 2, 3, 9" },
                     n9e_data.verify_datasource_queries, tbl, before)
        assert.are.same({ converted = 3, invalid = 3, invalid_ids = { 7, 10, 11 } },
                        n9e_data.datasource_queries(rw(db), tbl))
        assert.are.same(RULES_AFTER, dump(db, RULE_SQL, RULE_COLS))
        assert_passes(db, n9e_data.verify_datasource_queries, tbl, before)
      end)
    end)

    it("refuses a table other than the two rule tables", function()
      with_db(function(db)
        local ok, err = pcall(n9e_data.datasource_queries, rw(db), "target")
        assert.is_false(ok)
        assert.matches("datasource_queries: table must be alert_rule or recording_rule, not target", err, 1, true)
      end)
    end)

    for _, case in ipairs({
      { what = "a converted row loses its queries", sql = "UPDATE " .. tbl .. " SET datasource_queries = NULL WHERE id = 3",
        err = "1 row(s) with datasource_ids have no datasource_queries, not converted: id 3" },
      { what = "a converted row gets other values",
        sql = "UPDATE " .. tbl .. [[ SET datasource_queries = '[{"match_type":0,"op":"in","values":[1]}]' WHERE id = 1]],
        err = "2 row(s) have a datasource_queries that does not match datasource_ids (1 expected: rows that had "
              .. "other queries before the conversion): id 1, 8" },
      { what = "a kept row is overwritten",
        sql = "UPDATE " .. tbl .. [[ SET datasource_queries = '[{"match_type":0,"op":"in","values":[5]}]' WHERE id = 8]],
        err = "0 row(s) have a datasource_queries that does not match datasource_ids (1 expected: rows that had "
              .. "other queries before the conversion)" },
      { what = "datasource_ids changed", sql = "UPDATE " .. tbl .. " SET datasource_ids = '[1' WHERE id = 7",
        err = "datasource_ids changed" },
      { what = "a row is lost", sql = "DELETE FROM " .. tbl .. " WHERE id = 2",
        err = tbl .. " has 11 row(s), expected 12" },
    }) do
      it("verify raises when " .. case.what, function()
        with_db(function(db)
          seed_rules(db)
          local before = n9e_data.datasource_queries_snapshot(rw(db), tbl)
          n9e_data.datasource_queries(rw(db), tbl)
          db:exec(case.sql)
          assert_fails(db, { ("verify_datasource_queries(%s): "):format(tbl), case.err },
                       n9e_data.verify_datasource_queries, tbl, before)
        end)
      end)
    end
  end)
end

--------------------------------------------------------------------------
-- v8.0.0 embedded products
--------------------------------------------------------------------------

local DASHBOARDS = '[{"id":"1","name":"Grafana","url":"https://grafana.example/d/1"},'
  .. '{"id":"2","name":"Wiki","url":"https://wiki.example/"},{"id":"3","name":"No url"}]'
local PRODUCT_SQL = "SELECT id, name, url, is_private, team_ids, create_at, create_by, update_at, update_by "
  .. "FROM embedded_product ORDER BY id"
local PRODUCT_COLS = { "name", "url", "is_private", "team_ids", "create_at", "create_by", "update_at", "update_by" }
local PRODUCTS_AFTER = {
  "Grafana|https://grafana.example/d/1|0|[]|" .. NOW .. "|system|" .. NOW .. "|system",
  "Wiki|https://wiki.example/|0|[]|" .. NOW .. "|system|" .. NOW .. "|system",
  "No url||0|[]|" .. NOW .. "|system|" .. NOW .. "|system",
}

local function seed_config(db, cval, external)
  db:exec("INSERT INTO configs (ckey, cval, external) VALUES (?, ?, ?)", "embedded-dashboards", cval, external or 0)
end

describe("n9e_data.embedded_products (v8.0.0)", function()
  it("turns the embedded-dashboards list into embedded_product rows, once", function()
    with_db(function(db)
      seed_config(db, DASHBOARDS)
      local h = rw(db)
      assert_fails(db, { 'verify_embedded_products: embedded_product has 0 row(s) named "Grafana" with url '
                         .. '"https://grafana.example/d/1", expected 1' }, n9e_data.verify_embedded_products)
      assert.are.same({ inserted = 3 }, n9e_data.embedded_products(h, { now = NOW }))
      assert.are.same(PRODUCTS_AFTER, dump(db, PRODUCT_SQL, PRODUCT_COLS))
      assert_passes(db, n9e_data.verify_embedded_products)
      -- a second run changes nothing
      assert.are.same({ inserted = 0, skipped = "not_empty" }, n9e_data.embedded_products(h, { now = NOW + 60 }))
      assert.are.same(PRODUCTS_AFTER, dump(db, PRODUCT_SQL, PRODUCT_COLS))
      -- the config row itself is left as it was
      assert.are.equal(DASHBOARDS, db:scalar("SELECT cval FROM configs WHERE ckey = 'embedded-dashboards'"))
    end)
  end)

  it("starts over after an interrupted run (the rows go in as one statement)", function()
    with_db(function(db)
      seed_config(db, DASHBOARDS)
      local ok = pcall(db.conn.tx, db.conn, function(h)
        n9e_data.embedded_products(h, { now = NOW })
        error("killed")
      end, rw(db))
      assert.is_false(ok)
      assert.are.same({}, dump(db, PRODUCT_SQL, PRODUCT_COLS))
      assert.are.same({ inserted = 3 }, n9e_data.embedded_products(rw(db), { now = NOW }))
      assert.are.same(PRODUCTS_AFTER, dump(db, PRODUCT_SQL, PRODUCT_COLS))
    end)
  end)

  for _, case in ipairs({
    { what = "an empty list", cval = "[]", skipped = "empty_list" },
    { what = "invalid JSON", cval = '[{"name":"x",', skipped = "invalid_json" },
    { what = "an object instead of a list", cval = '{"name":"x"}', skipped = "invalid_json" },
    { what = "a list element that is not an object", cval = '["x"]', skipped = "invalid_json" },
    { what = "only an external config", cval = DASHBOARDS, external = 1, skipped = "no_config" },
  }) do
    it("leaves everything as is for " .. case.what, function()
      with_db(function(db)
        seed_config(db, case.cval, case.external)
        assert.are.same({ inserted = 0, skipped = case.skipped }, n9e_data.embedded_products(rw(db), { now = NOW }))
        assert.are.same({}, dump(db, PRODUCT_SQL, PRODUCT_COLS))
        assert_passes(db, n9e_data.verify_embedded_products) -- nothing to check
      end)
    end)
  end

  it("does nothing once embedded_product has rows", function()
    with_db(function(db)
      seed_config(db, DASHBOARDS)
      db:exec("INSERT INTO embedded_product (name, url, is_private, team_ids, create_by, update_by) "
              .. "VALUES ('Mine', 'https://mine.example/', ?, '[1]', 'root', 'root')", true)
      assert.are.same({ inserted = 0, skipped = "not_empty" }, n9e_data.embedded_products(rw(db), { now = NOW }))
      assert.are.same({ "Mine|https://mine.example/|1|[1]|0|root|0|root" }, dump(db, PRODUCT_SQL, PRODUCT_COLS))
    end)
  end)

  for _, case in ipairs({
    { what = "a product is lost", sql = "DELETE FROM embedded_product WHERE name = 'Wiki'",
      err = 'embedded_product has 0 row(s) named "Wiki" with url "https://wiki.example/", expected 1' },
    { what = "a url changed", sql = "UPDATE embedded_product SET url = 'https://other/' WHERE name = 'Grafana'",
      err = 'embedded_product has 0 row(s) named "Grafana" with url "https://grafana.example/d/1", expected 1' },
    { what = "a product is doubled",
      sql = "INSERT INTO embedded_product (name, url) VALUES ('No url', '')",
      err = 'embedded_product has 2 row(s) named "No url" with url "", expected 1' },
  }) do
    it("verify raises when " .. case.what, function()
      with_db(function(db)
        seed_config(db, DASHBOARDS)
        n9e_data.embedded_products(rw(db), { now = NOW })
        db:exec(case.sql)
        assert_fails(db, { "verify_embedded_products: ", case.err }, n9e_data.verify_embedded_products)
      end)
    end)
  end
end)

--------------------------------------------------------------------------
-- MySQL/MariaDB: the statements pass the journal, which can undo them
--------------------------------------------------------------------------

if ENGINE == "mysql" then
  describe("n9e_data under the MySQL journal", function()
    it("runs all three conversions journaled, and the journal undoes them", function()
      with_db(function(db)
        seed_groups(db)
        insert(db, "alert_rule", { "id", "name", "datasource_ids", "datasource_queries" }, RULES)
        seed_config(db, DASHBOARDS)
        local RULE_SQL = "SELECT id, datasource_ids, datasource_queries FROM alert_rule ORDER BY id"
        local RULE_COLS = { "id", "datasource_ids", "datasource_queries" }
        local targets, tbg, rules = dump(db, TARGET_SQL, TARGET_COLS), dump(db, TBG_SQL, TBG_COLS),
                                    dump(db, RULE_SQL, RULE_COLS)
        local jv = journal.begin(db.conn, "7.4.0")
        local h = apply.script_handle(db.conn, "convert", jv, { rows = 0 }, false)
        assert.are.same({ moved = 7, tagged = 3, associated = 6 }, n9e_data.busi_groups(h, { now = NOW }))
        assert.are.equal(4, n9e_data.datasource_queries(h, "alert_rule").converted)
        assert.are.same({ inserted = 3 }, n9e_data.embedded_products(h, { now = NOW }))
        assert.are.same(TARGETS_AFTER, dump(db, TARGET_SQL, TARGET_COLS))
        assert.are.same(TBG_AFTER, dump(db, TBG_SQL, TBG_COLS))
        assert.are.same(RULES_AFTER, dump(db, RULE_SQL, RULE_COLS))
        assert.are.same(PRODUCTS_AFTER, dump(db, PRODUCT_SQL, PRODUCT_COLS))
        local ok, problems = journal.undo(db.conn, "7.4.0")
        assert.is_true(ok, problems and table.concat(problems, "; "))
        assert.are.same(targets, dump(db, TARGET_SQL, TARGET_COLS))
        assert.are.same(tbg, dump(db, TBG_SQL, TBG_COLS))
        assert.are.same(rules, dump(db, RULE_SQL, RULE_COLS))
        assert.are.same({}, dump(db, PRODUCT_SQL, PRODUCT_COLS))
      end)
    end)
  end)
end
