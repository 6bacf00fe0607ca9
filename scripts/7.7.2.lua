-- Nightingale v7.7.2 (tag v7.7.2, commit d0f690cf6ac6d5132c340c46e35a5f18da01f070,
-- 2024-12-02), the last v7 release.  Three parts:
--
-- 1. migrate.sql chunk /* v7.7.2 2024-12-02 */ and the matching
--    AutoMigrate tags (migrate.AlertSubscribe RuleIds `type:varchar(1024)`,
--    BusiGroups `type:varchar(4096)`): alert_subscribe.rule_ids and
--    busi_groups become nullable without default (MySQL, PostgreSQL;
--    ddl.alter_column leaves SQLite declarations alone and SQLite does not
--    need it: its files keep NOT NULL DEFAULT '[]', which Nightingale fills).
-- 2. MySQL: the schema Nightingale's models create, as the v7.7.2
--    a-n9e.sql shows it (regenerated from a gorm-built database): gorm's
--    index names (AutoMigrate looks indexes up by name and would otherwise
--    build a second copy of each: idx_last_eval_time, idx_event_id,
--    idx_builtinmetric_name, idx_metricfilter_name, idx_task_meta_creator/
--    _created, idx_task_scheduler_health_scheduler, idx_id_host on
--    task_host_0..99), the models' nullability and types (users.belong,
--    last_active_time; configs.cval/external/encrypted/create_at/update_at;
--    notify_tpl.create_*/update_*; sso_config.update_at;
--    alert_rule/alert_subscribe.extra_config; task_meta.batch/tolerance/
--    timeout bigint; chart_share.datasource_id signed; builtin_components.id
--    unsigned), builtin_metrics.lang default 'zh'.
--    builtin_metrics.uuid (models.BuiltinMetric, bigint NOT NULL DEFAULT 0)
--    on every engine; the name index under gorm's name on SQLite too (its
--    files have no builtin_metrics index at all).  PostgreSQL keeps its
--    files' index names: they are what every PostgreSQL release file has.
-- 3. Every engine: what Nightingale's AutoMigrate ensures at every start
--    since v7.0.0 (see 7.0.0), again, for databases adopted with `baseline`
--    from a v7.0.0 file that lacks it (PostgreSQL, SQLite files; the MySQL
--    v7.0.0 file lacks the target indexes and board.public_cate): checked
--    here, where every engine's running v7.7.2 schema has them.
local ddl = require("migrate.ddl")

-- 1. the v7.7.2 chunk
local NULLABLE = {
  { "alert_subscribe", "rule_ids", { mysql = "varchar(1024)", postgres = { notnull = false, default = false } } },
  { "alert_subscribe", "busi_groups", { mysql = "varchar(4096)", postgres = { notnull = false, default = false } } },
}

-- 2. MySQL columns as the v7.7.2 a-n9e.sql declares them (display widths
-- written out so that ddl.alter_column sees an unchanged type as such on
-- MariaDB and on MySQL 8, which drops them)
local MYSQL_COLUMNS = {
  { "users", "belong", [[varchar(191) DEFAULT '' COMMENT 'belong']] },
  { "users", "last_active_time", [[bigint(20) DEFAULT 0 COMMENT 'last_active_time']] },
  { "configs", "cval", [[text COMMENT 'config value']] },
  { "configs", "external", [[bigint(20) DEFAULT 0 COMMENT '0\\:built-in 1\\:external']] },
  { "configs", "encrypted", [[bigint(20) DEFAULT 0 COMMENT '0\\:plaintext 1\\:ciphertext']] },
  { "configs", "create_at", [[bigint(20) DEFAULT 0 COMMENT 'create_at']] },
  { "configs", "update_at", [[bigint(20) DEFAULT 0 COMMENT 'update_at']] },
  { "notify_tpl", "create_at", [[bigint(20) DEFAULT 0 COMMENT 'create_at']] },
  { "notify_tpl", "create_by", [[varchar(64) DEFAULT '' COMMENT 'cerate_by']] },
  { "notify_tpl", "update_at", [[bigint(20) DEFAULT 0 COMMENT 'update_at']] },
  { "notify_tpl", "update_by", [[varchar(64) DEFAULT '' COMMENT 'update_by']] },
  { "sso_config", "update_at", [[bigint(20) DEFAULT 0 COMMENT 'update_at']] },
  { "alert_rule", "extra_config", [[text]] },
  { "alert_subscribe", "extra_config", [[text]] },
  { "chart_share", "datasource_id", [[bigint(20) NOT NULL DEFAULT 0 COMMENT 'datasource id']] },
  { "builtin_metrics", "lang", [[varchar(191) NOT NULL DEFAULT 'zh' COMMENT '''language''']] },
  { "task_meta", "batch", [[bigint(20) not null default 0]] },
  { "task_meta", "tolerance", [[bigint(20) not null default 0]] },
  { "task_meta", "timeout", [[bigint(20) not null default 0]] },
}

-- 2. MySQL indexes under gorm's names: ddl.add_index renames the index
-- the file created on the same columns ({table, name, columns, unique})
local MYSQL_INDEXES = {
  { "alert_his_event", "idx_last_eval_time", { "last_eval_time" } },
  { "task_record", "idx_event_id", { "event_id" } },
  { "builtin_metrics", "idx_builtinmetric_name", { "name" } },
  { "metric_filter", "idx_metricfilter_name", { "name" } },
  { "task_meta", "idx_task_meta_creator", { "creator" } },
  { "task_meta", "idx_task_meta_created", { "created" } },
  { "task_scheduler_health", "idx_task_scheduler_health_scheduler", { "scheduler" }, true },
}
for i = 0, 99 do MYSQL_INDEXES[#MYSQL_INDEXES + 1] = { "task_host_" .. i, "idx_id_host", { "id", "host" }, true } end

local BUILTIN_METRICS_UUID = { mysql = [[bigint NOT NULL DEFAULT 0 COMMENT '''uuid''']],
                               postgres = "BIGINT NOT NULL DEFAULT 0", sqlite = "bigint not null default 0" }

-- 3. AutoMigrate since v7.0.0 (the same lists as 7.0.0's)
local AM_COLUMNS = {
  { "recording_rule", "cron_pattern", { mysql = "varchar(255) default '' comment 'cron pattern'",
                                        postgres = "varchar(255) default ''", sqlite = "varchar(255) default ''" } },
  { "alert_cur_event", "original_tags", { mysql = "text comment 'labels key=val,,k2=v2'",
                                          postgres = "text", sqlite = "text" } },
  { "alert_his_event", "original_tags", { mysql = "text comment 'labels key=val,,k2=v2'",
                                          postgres = "text", sqlite = "text" } },
  { "board", "public_cate", { mysql = "bigint NOT NULL DEFAULT 0 COMMENT '0 anonymous 1 login 2 busi'",
                              postgres = "bigint NOT NULL DEFAULT 0", sqlite = "bigint not null default 0" } },
  { "builtin_payloads", "uuid", { mysql = "bigint(20) NOT NULL COMMENT '''uuid of payload'''",
                                  postgres = "BIGINT NOT NULL DEFAULT 0", sqlite = "bigint not null default 0" } },
}
local AM_INDEXES = {
  { "target", "idx_host_ip", { "host_ip" } },
  { "target", "idx_agent_version", { "agent_version" } },
  { "target", "idx_engine_name", { "engine_name" } },
  { "builtin_payloads", "idx_uuid", { "uuid" } },
  { "builtin_metrics", "idx_collector", { "collector" }, "sqlite" },
  { "builtin_metrics", "idx_typ", { "typ" }, "sqlite" },
  { "builtin_metrics", "idx_lang", { "lang" }, "sqlite" },
  { "builtin_metrics", "idx_builtinmetric_name", { "name" }, "sqlite" },
}
local CKEY_UNIQUE = { mysql = "ckey", postgres = "configs_ckey_key" }

local function applies(i, dialect) return not i[4] or i[4] == dialect end

return {
  version = "7.7.2",
  description = "alert_subscribe.rule_ids/busi_groups nullable; MySQL brought to the v7.7.2 models; "
    .. "builtin_metrics.uuid; AutoMigrate additions ensured",
  -- MySQL: every MODIFY and index rename is preceded by a copy of the table
  rewrites = { "alert_his_event", "task_record", "alert_rule", "alert_subscribe", "configs", "users" },
  -- MySQL: two changes of signedness narrow a column's range (lint):
  -- chart_share.datasource_id bigint unsigned -> bigint (ids of 2^63 and
  -- more would not fit) and builtin_components.id bigint -> bigint
  -- unsigned (negative ids would not).  Nightingale's ids are neither,
  -- but the types narrow, as its v7.7.2 models have them.
  destructive = true,

  up = function(db)
    for _, c in ipairs(NULLABLE) do ddl.alter_column(db, c[1], c[2], c[3]) end
    ddl.add_column(db, "builtin_metrics", "uuid", BUILTIN_METRICS_UUID)
    if db.dialect == "mysql" then
      for _, c in ipairs(MYSQL_COLUMNS) do ddl.alter_column(db, c[1], c[2], { mysql = c[3] }) end
      -- signedness: ddl.alter_column compares type prefixes, bigint(20) is
      -- a prefix of bigint(20) unsigned, so this one is looked at here
      local id = ddl.column(db, "builtin_components", "id")
      if id and not id.type:find("unsigned", 1, true) then
        db:exec("ALTER TABLE builtin_components MODIFY COLUMN id bigint unsigned NOT NULL AUTO_INCREMENT "
                .. "COMMENT 'unique identifier'")
      end
      for _, i in ipairs(MYSQL_INDEXES) do ddl.add_index(db, i[1], i[2], i[3], { unique = i[4] }) end
    end
    for _, c in ipairs(AM_COLUMNS) do ddl.add_column(db, c[1], c[2], c[3]) end
    for _, i in ipairs(AM_INDEXES) do
      if applies(i, db.dialect) then ddl.add_index(db, i[1], i[2], i[3]) end
    end
    if CKEY_UNIQUE[db.dialect] then ddl.drop_index(db, "configs", CKEY_UNIQUE[db.dialect]) end
  end,

  verify = function(db)
    local d = db.dialect
    -- SQLite stores any value in any declared type, and Nightingale's own
    -- SQLite files declare these columns differently from release to
    -- release (original_tags varchar(8192), uuid integer): presence only
    local function typed(t) return d == "sqlite" or t end
    local spec = {
      builtin_metrics = { columns = { uuid = typed("bigint") }, indexes = {} },
      recording_rule = { columns = { cron_pattern = typed("varchar(255)") } },
      alert_cur_event = { columns = { original_tags = typed("text") } },
      alert_his_event = { columns = { original_tags = typed("text") } },
      board = { columns = { public_cate = typed("bigint") } },
      builtin_payloads = { columns = { uuid = typed("bigint") }, indexes = {} },
      target = { indexes = {} },
    }
    for _, i in ipairs(AM_INDEXES) do
      if applies(i, d) then spec[i[1]].indexes[i[2]] = i[3] end
    end
    if d == "mysql" then
      for _, i in ipairs(MYSQL_INDEXES) do
        spec[i[1]] = spec[i[1]] or { indexes = {} }
        spec[i[1]].indexes = spec[i[1]].indexes or {}
        spec[i[1]].indexes[i[2]] = i[3]
      end
      spec.users = { columns = { belong = "varchar(191)" } }
      spec.configs = { columns = { external = "bigint", encrypted = "bigint" } }
      spec.task_meta.columns = { batch = "bigint", tolerance = "bigint", timeout = "bigint" }
    end
    ddl.expect(db, spec)
    if d ~= "sqlite" then
      for _, c in ipairs(NULLABLE) do
        local have = ddl.column(db, c[1], c[2])
        assert(have and not have.notnull and have.default == nil,
               ("%s.%s must be nullable without default"):format(c[1], c[2]))
      end
      for _, i in ipairs(db:indexes("configs")) do
        assert(not (i.unique and table.concat(i.columns, ",") == "ckey"), "configs.ckey is still unique")
      end
    end
  end,

  -- Undoes what only v7.7.2 needs: builtin_metrics.uuid and MySQL's gorm
  -- index names (back to the file's), builtin_metrics.lang default ''.
  -- Loosened nullability and widened types stay (older releases read them
  -- alike); the AutoMigrate additions of part 3 belong to 7.0.0.
  down = function(db)
    if db.dialect == "mysql" then
      local file_names = { idx_last_eval_time = "last_eval_time", idx_event_id = "event_id",
                           idx_builtinmetric_name = "idx_name",
                           idx_metricfilter_name = "idx_name", idx_task_meta_creator = "creator",
                           idx_task_meta_created = "created", idx_task_scheduler_health_scheduler = "scheduler",
                           idx_id_host = "id" }
      for _, i in ipairs(MYSQL_INDEXES) do ddl.rename_index(db, i[1], i[2], file_names[i[2]]) end
      ddl.alter_column(db, "builtin_metrics", "lang",
                       { mysql = "varchar(191) NOT NULL DEFAULT '' COMMENT 'language of metric'" })
    end
    if db:column_exists("builtin_metrics", "uuid") then db:exec("ALTER TABLE builtin_metrics DROP COLUMN uuid") end
  end,
}
