-- Nightingale v8.0.0 (2025-07-02): notify rules, channels and message
-- templates, event pipelines, embedded products, user and source tokens,
-- dashboard annotations.
--
-- Upstream (ccfos/nightingale at v8.0.0, c9cf1cfdd271):
--   * migrate.sql chunks /* v8.0.0-beta.1 2024-12-13 */ … /* v8.0.0-beta.13 */,
--     /* v8.0.0 2025-05-15 */, /* v8.0.0 2025-05-29 */ and /* Add translation
--     column for builtin metrics */ (relabelled /* v8.0.0 2025-07-03 */ in
--     v8.4.1), all first shipped in v8.0.0 (release-markers.txt).  The
--     /* v7.7.0 2024-11-13 */ chunk (datasource_queries) shipped here too but
--     belongs to the 7.7.0 script.
--   * gorm AutoMigrate of v8.0.0 (models/migrate/migrate.go): the shadow
--     structs AlertRule, AlertSubscribe, AlertHisEvent/AlertCurEvent,
--     Datasource, EsIndexPatternMigrate, MessageTemplate, NotifyRule,
--     NotifyChannelConfig and the models UserToken, DashAnnotation,
--     EventPipeline, EmbeddedProduct, SourceToken, NotificationRecord,
--     BuiltinComponent (PostgresBuiltinComponent on PostgreSQL); then
--     DropUniqueFiledLimit drops builtin_components.idx_ident (unique) and
--     builtin_metrics.idx_collector_typ_name by those names.
--   * definitions: tests/reference/v8.0.0/ of each engine.  The v8.0.0
--     SQLite file lacks the notification tables and most v8 columns and the
--     PostgreSQL file lacks the alert_rule/alert_subscribe/event columns:
--     AutoMigrate creates them there, so they are created here with the
--     MySQL DDL translated (see the project's drift file).
--   * PostgreSQL keeps its unique builtin_metrics_lang_collector_typ_name_key
--     (v9.1.1 file): Nightingale drops the unique index by the MySQL name only.
--
-- Data: Nightingale's models.MigrateEP (run at start while embedded_product
-- is empty) copies the configs row 'embedded-dashboards' (a JSON list of
-- {id, name, url}) into embedded_product rows; here that is the audited
-- convert step below (migrate.n9e_data.embedded_products) and its verify.
local ddl = require("migrate.ddl")
local n9e_data = require("migrate.n9e_data")

-- set by convert in this run; a later standalone `verify` does not hold
-- the products to the old config row (operators edit products in the UI)
local converted

-- New tables, created with the columns they had in v8.0.0 (later columns are
-- added by later versions).  MySQL and PostgreSQL: the v8.0.0 files;
-- SQLite: dash_annotation from its v8.0.0 file, the rest translated from the
-- MySQL file (integer primary key autoincrement, tinyint(1) for flags as the
-- SQLite file does, index names prefixed with the table: SQLite index names
-- are per database, as the PostgreSQL file's idx_source_token_type_id_token).
local TABLES = {
  { name = "dash_annotation", columns = { "id", "dashboard_id", "panel_id", "tags", "description", "config",
      "time_start", "time_end", "create_at", "create_by", "update_at", "update_by" },
    indexes = { mysql = { idx_dashboard_id = { "dashboard_id" } } },
    mysql = [[
CREATE TABLE `dash_annotation` (
    `id` bigint unsigned not null auto_increment,
    `dashboard_id` bigint not null comment 'dashboard id',
    `panel_id` varchar(191) not null comment 'panel id',
    `tags` text comment 'tags array json string',
    `description` text comment 'annotation description',
    `config` text comment 'annotation config',
    `time_start` bigint not null default 0 comment 'start timestamp',
    `time_end` bigint not null default 0 comment 'end timestamp',
    `create_at` bigint not null default 0 comment 'create time',
    `create_by` varchar(64) not null default '' comment 'creator',
    `update_at` bigint not null default 0 comment 'update time',
    `update_by` varchar(64) not null default '' comment 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_dashboard_id` (`dashboard_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
    postgres = [[
CREATE TABLE dash_annotation (
    id bigserial PRIMARY KEY,
    dashboard_id bigint not null,
    panel_id varchar(191) not null,
    tags text,
    description text,
    config text,
    time_start bigint not null default 0,
    time_end bigint not null default 0,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default ''
)]],
    sqlite = [[
CREATE TABLE `dash_annotation` (
    `id` integer primary key autoincrement,
    `dashboard_id` bigint not null,
    `panel_id` varchar(191) not null,
    `tags` text,
    `description` text,
    `config` text,
    `time_start` bigint not null default 0,
    `time_end` bigint not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  { name = "user_token", columns = { "id", "username", "token_name", "token", "create_at", "last_used" },
    mysql = [[
CREATE TABLE `user_token` (
    `id` bigint NOT NULL AUTO_INCREMENT,
    `username` varchar(255) NOT NULL DEFAULT '',
    `token_name` varchar(255) NOT NULL DEFAULT '',
    `token` varchar(255) NOT NULL DEFAULT '',
    `create_at` bigint NOT NULL DEFAULT 0,
    `last_used` bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
    postgres = [[
CREATE TABLE user_token (
    id BIGSERIAL PRIMARY KEY,
    username varchar(255) NOT NULL DEFAULT '',
    token_name varchar(255) NOT NULL DEFAULT '',
    token varchar(255) NOT NULL DEFAULT '',
    create_at bigint NOT NULL DEFAULT 0,
    last_used bigint NOT NULL DEFAULT 0
)]],
    sqlite = [[
CREATE TABLE `user_token` (
    `id` integer primary key autoincrement,
    `username` varchar(255) NOT NULL DEFAULT '',
    `token_name` varchar(255) NOT NULL DEFAULT '',
    `token` varchar(255) NOT NULL DEFAULT '',
    `create_at` bigint NOT NULL DEFAULT 0,
    `last_used` bigint NOT NULL DEFAULT 0
)]] },

  { name = "notify_rule", columns = { "id", "name", "description", "enable", "user_group_ids", "notify_configs",
      "pipeline_configs", "create_at", "create_by", "update_at", "update_by" },
    mysql = [[
CREATE TABLE `notify_rule` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(255) not null,
    `description` text,
    `enable` tinyint(1) not null default 0,
    `user_group_ids` varchar(255) not null default '',
    `notify_configs` text,
    `pipeline_configs` text,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    postgres = [[
CREATE TABLE notify_rule (
    id bigserial PRIMARY KEY,
    name varchar(255) NOT NULL,
    description text,
    enable smallint NOT NULL DEFAULT 0,
    user_group_ids varchar(255) NOT NULL DEFAULT '',
    notify_configs text,
    pipeline_configs text,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
)]],
    sqlite = [[
CREATE TABLE `notify_rule` (
    `id` integer primary key autoincrement,
    `name` varchar(255) not null,
    `description` text,
    `enable` tinyint(1) not null default 0,
    `user_group_ids` varchar(255) not null default '',
    `notify_configs` text,
    `pipeline_configs` text,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  { name = "notify_channel", columns = { "id", "name", "ident", "description", "enable", "param_config",
      "request_type", "request_config", "weight", "create_at", "create_by", "update_at", "update_by" },
    mysql = [[
CREATE TABLE `notify_channel` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(255) not null,
    `ident` varchar(255) not null,
    `description` text,
    `enable` tinyint(1) not null default 0,
    `param_config` text,
    `request_type` varchar(50) not null,
    `request_config` text,
    `weight` int not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    postgres = [[
CREATE TABLE notify_channel (
    id bigserial PRIMARY KEY,
    name varchar(255) NOT NULL,
    ident varchar(255) NOT NULL,
    description text,
    enable smallint NOT NULL DEFAULT 0,
    param_config text,
    request_type varchar(50) NOT NULL,
    request_config text,
    weight int NOT NULL DEFAULT 0,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
)]],
    sqlite = [[
CREATE TABLE `notify_channel` (
    `id` integer primary key autoincrement,
    `name` varchar(255) not null,
    `ident` varchar(255) not null,
    `description` text,
    `enable` tinyint(1) not null default 0,
    `param_config` text,
    `request_type` varchar(50) not null,
    `request_config` text,
    `weight` int not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  { name = "message_template", columns = { "id", "name", "ident", "content", "user_group_ids",
      "notify_channel_ident", "private", "weight", "create_at", "create_by", "update_at", "update_by" },
    mysql = [[
CREATE TABLE `message_template` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(64) not null,
    `ident` varchar(64) not null,
    `content` text,
    `user_group_ids` varchar(64),
    `notify_channel_ident` varchar(64) not null default '',
    `private` int not null default 0,
    `weight` int not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    postgres = [[
CREATE TABLE message_template (
    id bigserial PRIMARY KEY,
    name varchar(64) NOT NULL,
    ident varchar(64) NOT NULL,
    content text,
    user_group_ids varchar(64),
    notify_channel_ident varchar(64) NOT NULL DEFAULT '',
    private int NOT NULL DEFAULT 0,
    weight int NOT NULL DEFAULT 0,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
)]],
    sqlite = [[
CREATE TABLE `message_template` (
    `id` integer primary key autoincrement,
    `name` varchar(64) not null,
    `ident` varchar(64) not null,
    `content` text,
    `user_group_ids` varchar(64),
    `notify_channel_ident` varchar(64) not null default '',
    `private` int not null default 0,
    `weight` int not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  -- v8.0.0 names attribute_filters/processors; 8.4.0 renames them where
  -- Nightingale's files do (MySQL) and where no file exists (SQLite).
  { name = "event_pipeline", columns = { "id", "name", "team_ids", "description", "filter_enable",
      "label_filters", "create_at", "create_by", "update_at", "update_by" },
    mysql = [[
CREATE TABLE `event_pipeline` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(128) not null,
    `team_ids` text,
    `description` varchar(255) not null default '',
    `filter_enable` tinyint(1) not null default 0,
    `label_filters` text,
    `attribute_filters` text,
    `processors` text,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4]],
    postgres = [[
CREATE TABLE event_pipeline (
    id bigserial PRIMARY KEY,
    name varchar(128) NOT NULL,
    team_ids text,
    description varchar(255) NOT NULL DEFAULT '',
    filter_enable smallint NOT NULL DEFAULT 0,
    label_filters text,
    attribute_filters text,
    processors text,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
)]],
    sqlite = [[
CREATE TABLE `event_pipeline` (
    `id` integer primary key autoincrement,
    `name` varchar(128) not null,
    `team_ids` text,
    `description` varchar(255) not null default '',
    `filter_enable` tinyint(1) not null default 0,
    `label_filters` text,
    `attribute_filters` text,
    `processors` text,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  { name = "embedded_product", columns = { "id", "name", "url", "is_private", "team_ids", "create_at",
      "create_by", "update_at", "update_by" },
    mysql = [[
CREATE TABLE `embedded_product` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `name` varchar(255) DEFAULT NULL,
    `url` varchar(255) DEFAULT NULL,
    `is_private` boolean DEFAULT NULL,
    `team_ids` varchar(255),
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
    postgres = [[
CREATE TABLE embedded_product (
    id bigserial PRIMARY KEY,
    name varchar(255) DEFAULT NULL,
    url varchar(255) DEFAULT NULL,
    is_private boolean DEFAULT NULL,
    team_ids varchar(255),
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
)]],
    sqlite = [[
CREATE TABLE `embedded_product` (
    `id` integer primary key autoincrement,
    `name` varchar(255) DEFAULT NULL,
    `url` varchar(255) DEFAULT NULL,
    `is_private` tinyint(1) DEFAULT NULL,
    `team_ids` varchar(255),
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default ''
)]] },

  { name = "source_token", columns = { "id", "source_type", "source_id", "token", "expire_at", "create_at",
      "create_by" },
    indexes = { mysql = { idx_source_type_id_token = { "source_type", "source_id", "token" } },
                postgres = { idx_source_token_type_id_token = { "source_type", "source_id", "token" } },
                sqlite = { idx_source_token_type_id_token = { "source_type", "source_id", "token" } } },
    mysql = [[
CREATE TABLE `source_token` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `source_type` varchar(64) NOT NULL DEFAULT '' COMMENT 'source type',
    `source_id` varchar(255) NOT NULL DEFAULT '' COMMENT 'source identifier',
    `token` varchar(255) NOT NULL DEFAULT '' COMMENT 'access token',
    `expire_at` bigint NOT NULL DEFAULT 0 COMMENT 'expire timestamp',
    `create_at` bigint NOT NULL DEFAULT 0 COMMENT 'create timestamp',
    `create_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    PRIMARY KEY (`id`),
    KEY `idx_source_type_id_token` (`source_type`, `source_id`, `token`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
    postgres = [[
CREATE TABLE source_token (
    id bigserial PRIMARY KEY,
    source_type varchar(64) NOT NULL DEFAULT '',
    source_id varchar(255) NOT NULL DEFAULT '',
    token varchar(255) NOT NULL DEFAULT '',
    expire_at bigint NOT NULL DEFAULT 0,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_source_token_type_id_token ON source_token (source_type, source_id, token)]],
    sqlite = [[
CREATE TABLE `source_token` (
    `id` integer primary key autoincrement,
    `source_type` varchar(64) NOT NULL DEFAULT '',
    `source_id` varchar(255) NOT NULL DEFAULT '',
    `token` varchar(255) NOT NULL DEFAULT '',
    `expire_at` bigint NOT NULL DEFAULT 0,
    `create_at` bigint NOT NULL DEFAULT 0,
    `create_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_source_token_type_id_token` ON `source_token` (`source_type`, `source_id`, `token`)]] },
}

-- Columns added to existing tables: { table, column, definition, portable
-- type for verify }.  Definitions from each engine's v8.0.0 file where it
-- has the column, else migrate.sql's MySQL DDL.  Also listed: columns of the
-- new tables that beta databases created by AutoMigrate may still lack.
local COLUMNS = {
  { "alert_rule", "cron_pattern", "varchar(64)", "varchar(64)" },
  { "alert_rule", "notify_rule_ids", "varchar(1024) DEFAULT ''", "varchar(1024)" },
  { "alert_rule", "notify_version", "int DEFAULT 0", "int" },
  { "alert_subscribe", "notify_rule_ids", "varchar(1024) DEFAULT ''", "varchar(1024)" },
  { "alert_subscribe", "notify_version", "int DEFAULT 0", "int" },
  -- the two largest tables: one clause each (no comma), so the MySQL journal
  -- inverts the statement instead of copying the table first
  { "alert_cur_event", "notify_rule_ids", { mysql = "text COMMENT 'notify rule ids'", postgres = "text",
                                            sqlite = "text" }, "text" },
  { "alert_his_event", "notify_rule_ids", { mysql = "text COMMENT 'notify rule ids'", postgres = "text",
                                            sqlite = "text" }, "text" },
  { "builtin_components", "disabled", { mysql = "int NOT NULL DEFAULT 0 COMMENT '''is disabled or not'''",
                                        postgres = "int not null default 0", sqlite = "int NOT NULL DEFAULT 0" },
    "int" },
  { "builtin_metrics", "translation", { mysql = "TEXT COMMENT 'translation of metric'", postgres = "text",
                                        sqlite = "text" }, "text" },
  { "es_index_pattern", "cross_cluster_enabled", "int not null default 0", "int" },
  { "es_index_pattern", "note", { mysql = "varchar(1024) not null default ''",
                                  postgres = "varchar(4096) not null default ''",
                                  sqlite = "varchar(1024) not null default ''" },
    { mysql = "varchar(1024)", postgres = "varchar(4096)", sqlite = "varchar(1024)" } },
  { "datasource", "identifier", "varchar(255) not null default ''", "varchar(255)" },
  { "notification_record", "notify_rule_id", { mysql = "BIGINT NOT NULL DEFAULT 0",
                                               postgres = "BIGINT NOT NULL DEFAULT 0",
                                               sqlite = "integer not null default 0" },
    { mysql = "bigint", postgres = "bigint", sqlite = "int" } },
  { "notify_rule", "pipeline_configs", "text", "text" },
  { "notify_channel", "weight", "int not null default 0", "int" },
  { "message_template", "weight", "int not null default 0", "int" },
}

-- builtin_components(ident): v8 drops the unique index (DropUniqueFiledLimit
-- idx_ident) and keeps a plain one, under each file's name.
local IDENT_INDEX = { mysql = "ident", postgres = "idx_ident", sqlite = "idx_builtin_components_ident" }

-- MySQL file only (v8.0.0-beta.8.3): indexes the other engines' files lack.
local MYSQL_INDEXES = {
  { "alerting_engines", "idx_inst", { "instance" } },
  { "alerting_engines", "idx_clock", { "clock" } },
  { "builtin_metrics", "idx_uuid", { "uuid" } },
}

-- The v8.0.0 SQLite file names unique indexes that the v7 file expressed
-- as column constraints (or not at all), and brings back the legacy
-- `chart` table; a database created from the v7 file gets both here.
local SQLITE_UNIQUE = {
  { "board", "idx_board_group_id_name", { "group_id", "name" } },
  { "datasource", "idx_datasource_name", { "name" } },
  { "es_index_pattern", "idx_es_index_pattern_datasource_id_name", { "datasource_id", "name" } },
  { "notify_tpl", "idx_notify_tpl_channel", { "channel" } },
  { "sso_config", "idx_sso_config_name", { "name" } },
  { "target", "idx_target_ident", { "ident" } },
  { "users", "idx_users_username", { "username" } },
}
local SQLITE_CHART = [[
CREATE TABLE `chart` (
    `id` integer primary key autoincrement,
    `group_id` integer not null,
    `configs` text,
    `weight` integer not null default 0
);
CREATE INDEX idx_chart_group_id ON `chart` (group_id)]]

local function unique_ident_indexes(db)
  local out = {}
  for _, i in ipairs(db:indexes("builtin_components")) do
    if i.unique and #i.columns == 1 and i.columns[1] == "ident" and i.name ~= "PRIMARY"
       and not i.name:match("^sqlite_autoindex_") then
      out[#out + 1] = i.name
    end
  end
  return out
end

return {
  version = "8.0.0",
  description = "notify rules/channels/templates, event pipelines, embedded products, tokens, annotations",

  up = function(db)
    local d = db.dialect
    for _, t in ipairs(TABLES) do ddl.create_table(db, t.name, t) end
    for _, c in ipairs(COLUMNS) do ddl.add_column(db, c[1], c[2], c[3]) end

    -- builtin_components.logo holds whole images: MySQL mediumtext (model
    -- BuiltinComponent), PostgreSQL text NULL (model PostgresBuiltinComponent,
    -- AutoMigrate applies it; the PostgreSQL file keeps VARCHAR(191) NOT NULL).
    -- SQLite keeps its declaration (SQLite does not enforce varchar lengths).
    ddl.alter_column(db, "builtin_components", "logo", {
      mysql = "mediumtext COMMENT '''logo of component'''",
      postgres = { type = "text", notnull = false },
    })
    for _, name in ipairs(unique_ident_indexes(db)) do ddl.drop_index(db, "builtin_components", name) end
    ddl.add_index(db, "builtin_components", IDENT_INDEX[d], { "ident" })

    -- v8.0.0-beta.13: the unique (lang, collector, typ, name) goes, by name
    ddl.drop_index(db, "builtin_metrics", "idx_collector_typ_name")

    if d == "mysql" then
      for _, i in ipairs(MYSQL_INDEXES) do ddl.add_index(db, i[1], i[2], i[3]) end
    end
    if d == "sqlite" then
      for _, i in ipairs(SQLITE_UNIQUE) do ddl.add_index(db, i[1], i[2], i[3], { unique = true }) end
      ddl.create_table(db, "chart", { sqlite = SQLITE_CHART })
    end
  end,

  convert = function(db, ctx)
    local r = n9e_data.embedded_products(db)
    converted = r.inserted > 0
    ctx.log.info(("embedded dashboards -> embedded_product: %d row(s)%s"):format(r.inserted,
                 r.skipped and (" (" .. r.skipped .. ")") or ""))
  end,

  verify = function(db)
    if converted then n9e_data.verify_embedded_products(db) end
    local d = db.dialect
    local spec = {}
    for _, t in ipairs(TABLES) do
      local cols = {}
      for _, c in ipairs(t.columns) do cols[c] = true end
      spec[t.name] = { columns = cols, indexes = t.indexes and t.indexes[d] }
    end
    for _, c in ipairs(COLUMNS) do
      spec[c[1]] = spec[c[1]] or { columns = {} }
      spec[c[1]].columns[c[2]] = ddl.pick(db, c[4])
    end
    spec.builtin_components.columns.logo = d ~= "sqlite" and "text" or true
    spec.builtin_components.indexes = { [IDENT_INDEX[d]] = { "ident" } }
    if d == "mysql" then
      for _, i in ipairs(MYSQL_INDEXES) do
        spec[i[1]] = spec[i[1]] or { columns = {} }
        spec[i[1]].indexes = spec[i[1]].indexes or {}
        spec[i[1]].indexes[i[2]] = i[3]
      end
    end
    if d == "sqlite" then
      for _, i in ipairs(SQLITE_UNIQUE) do
        spec[i[1]] = spec[i[1]] or { columns = {} }
        spec[i[1]].indexes = spec[i[1]].indexes or {}
        spec[i[1]].indexes[i[2]] = i[3]
      end
      spec.chart = { columns = { id = true, group_id = true, configs = true, weight = true } }
    end
    ddl.expect(db, spec)
    assert(#unique_ident_indexes(db) == 0, "builtin_components(ident) still has a unique index")
    assert(not db:index_exists("builtin_metrics", "idx_collector_typ_name"),
           "builtin_metrics.idx_collector_typ_name (unique) is still there")
  end,

  -- Drops what this version added.  Not restored: the narrower
  -- builtin_components.logo (narrowing could cut logos) and the unique
  -- indexes on builtin_components(ident) and builtin_metrics (rows v8
  -- allowed could violate them); v7.7.2 works with the schema as it is.
  down = function(db)
    if db.dialect == "mysql" then
      for _, i in ipairs(MYSQL_INDEXES) do ddl.drop_index(db, i[1], i[2]) end
    end
    if db.dialect == "sqlite" then
      for _, i in ipairs(SQLITE_UNIQUE) do ddl.drop_index(db, i[1], i[2]) end
      if db:table_exists("chart") then db:exec("DROP TABLE chart") end
    end
    local created = {}
    for _, t in ipairs(TABLES) do created[t.name] = true end
    for k = #COLUMNS, 1, -1 do
      local c = COLUMNS[k]
      if not created[c[1]] and db:column_exists(c[1], c[2]) then
        db:exec(("ALTER TABLE %s DROP COLUMN %s"):format(db:quote_ident(c[1]), db:quote_ident(c[2])))
      end
    end
    for k = #TABLES, 1, -1 do
      db:exec("DROP TABLE IF EXISTS " .. db:quote_ident(TABLES[k].name))
    end
  end,
}
