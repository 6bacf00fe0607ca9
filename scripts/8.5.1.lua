-- Nightingale v8.5.1: workflow pipelines (nodes, connections, executions),
-- metric types for built-in metrics, saved views.
--
-- Upstream (ccfos/nightingale; all three chunks first shipped in v8.5.1):
--   * migrate.sql /* v9 2026-01-09 */: event_pipeline typ, use_case,
--     trigger_mode, disabled, nodes, connections, input_variables,
--     label_filters (label_filters is already in every v8 file: ensured
--     only), and table event_pipeline_execution;
--   * migrate.sql /* v8.5.0 builtin_metrics new fields */ and the v8.5.1
--     full-schema files of all engines: builtin_metrics expression_type,
--     metric_type, extra_fields (definitions from tests/reference/v9.1.1);
--   * migrate.sql /* v9 2026-01-16 saved_view */: tables saved_view and
--     user_view_favorite;
--   * AutoMigrate: models.EventPipeline, EventPipelineExecution
--     (PostgresEventPipelineExecution), SavedView, UserViewFavorite.
-- The three tables and the event_pipeline columns are in none of the v9.1.1
-- full-schema files (drift file).  PostgreSQL/SQLite definitions are
-- migrate.sql's MySQL DDL translated: mediumtext -> text, bigint
-- AUTO_INCREMENT -> BIGSERIAL / integer primary key autoincrement; the
-- disabled flag is boolean on PostgreSQL (the model's type:boolean, as the
-- PostgreSQL file's v8+ flags notify_rule.enable and embedded_product.hide)
-- and tinyint(1) on SQLite (as the SQLite file's flags); index names are
-- prefixed with the table there, index names being per schema/database.
local ddl = require("migrate.ddl")

local TABLES = {
  { name = "event_pipeline_execution",
    columns = { "id", "pipeline_id", "pipeline_name", "event_id", "mode", "status", "node_results",
                "error_message", "error_node", "created_at", "finished_at", "duration_ms", "trigger_by",
                "inputs_snapshot" },
    indexes = {
      mysql = { idx_pipeline_id = { "pipeline_id" }, idx_event_id = { "event_id" }, idx_mode = { "mode" },
                idx_status = { "status" }, idx_created_at = { "created_at" } },
      other = { idx_event_pipeline_execution_pipeline_id = { "pipeline_id" },
                idx_event_pipeline_execution_event_id = { "event_id" },
                idx_event_pipeline_execution_mode = { "mode" },
                idx_event_pipeline_execution_status = { "status" },
                idx_event_pipeline_execution_created_at = { "created_at" } },
    },
    mysql = [[
CREATE TABLE `event_pipeline_execution` (
    `id` varchar(36) NOT NULL COMMENT 'execution id',
    `pipeline_id` bigint NOT NULL COMMENT 'pipeline id',
    `pipeline_name` varchar(128) DEFAULT '' COMMENT 'pipeline name snapshot',
    `event_id` bigint DEFAULT 0 COMMENT 'related alert event id',
    `mode` varchar(16) NOT NULL DEFAULT 'event' COMMENT 'trigger mode: event/api/cron',
    `status` varchar(16) NOT NULL DEFAULT 'running' COMMENT 'status: running/success/failed',
    `node_results` mediumtext COMMENT 'node execution results (JSON)',
    `error_message` varchar(1024) DEFAULT '' COMMENT 'error message',
    `error_node` varchar(36) DEFAULT '' COMMENT 'error node id',
    `created_at` bigint NOT NULL DEFAULT 0 COMMENT 'start timestamp',
    `finished_at` bigint DEFAULT 0 COMMENT 'finish timestamp',
    `duration_ms` bigint DEFAULT 0 COMMENT 'duration in milliseconds',
    `trigger_by` varchar(64) DEFAULT '' COMMENT 'trigger by',
    `inputs_snapshot` text COMMENT 'inputs snapshot',
    PRIMARY KEY (`id`),
    KEY `idx_pipeline_id` (`pipeline_id`),
    KEY `idx_event_id` (`event_id`),
    KEY `idx_mode` (`mode`),
    KEY `idx_status` (`status`),
    KEY `idx_created_at` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='event pipeline execution records']],
    postgres = [[
CREATE TABLE event_pipeline_execution (
    id varchar(36) NOT NULL PRIMARY KEY,
    pipeline_id bigint NOT NULL,
    pipeline_name varchar(128) DEFAULT '',
    event_id bigint DEFAULT 0,
    mode varchar(16) NOT NULL DEFAULT 'event',
    status varchar(16) NOT NULL DEFAULT 'running',
    node_results text,
    error_message varchar(1024) DEFAULT '',
    error_node varchar(36) DEFAULT '',
    created_at bigint NOT NULL DEFAULT 0,
    finished_at bigint DEFAULT 0,
    duration_ms bigint DEFAULT 0,
    trigger_by varchar(64) DEFAULT '',
    inputs_snapshot text
);
CREATE INDEX idx_event_pipeline_execution_pipeline_id ON event_pipeline_execution (pipeline_id);
CREATE INDEX idx_event_pipeline_execution_event_id ON event_pipeline_execution (event_id);
CREATE INDEX idx_event_pipeline_execution_mode ON event_pipeline_execution (mode);
CREATE INDEX idx_event_pipeline_execution_status ON event_pipeline_execution (status);
CREATE INDEX idx_event_pipeline_execution_created_at ON event_pipeline_execution (created_at)]],
    sqlite = [[
CREATE TABLE `event_pipeline_execution` (
    `id` varchar(36) NOT NULL PRIMARY KEY,
    `pipeline_id` bigint NOT NULL,
    `pipeline_name` varchar(128) DEFAULT '',
    `event_id` bigint DEFAULT 0,
    `mode` varchar(16) NOT NULL DEFAULT 'event',
    `status` varchar(16) NOT NULL DEFAULT 'running',
    `node_results` text,
    `error_message` varchar(1024) DEFAULT '',
    `error_node` varchar(36) DEFAULT '',
    `created_at` bigint NOT NULL DEFAULT 0,
    `finished_at` bigint DEFAULT 0,
    `duration_ms` bigint DEFAULT 0,
    `trigger_by` varchar(64) DEFAULT '',
    `inputs_snapshot` text
);
CREATE INDEX `idx_event_pipeline_execution_pipeline_id` ON `event_pipeline_execution` (`pipeline_id`);
CREATE INDEX `idx_event_pipeline_execution_event_id` ON `event_pipeline_execution` (`event_id`);
CREATE INDEX `idx_event_pipeline_execution_mode` ON `event_pipeline_execution` (`mode`);
CREATE INDEX `idx_event_pipeline_execution_status` ON `event_pipeline_execution` (`status`);
CREATE INDEX `idx_event_pipeline_execution_created_at` ON `event_pipeline_execution` (`created_at`)]] },

  { name = "saved_view",
    columns = { "id", "name", "page", "filter", "public_cate", "gids", "create_at", "create_by", "update_at",
                "update_by" },
    indexes = { mysql = { idx_page = { "page" }, idx_create_by = { "create_by" } },
                other = { idx_saved_view_page = { "page" }, idx_saved_view_create_by = { "create_by" } } },
    mysql = [[
CREATE TABLE `saved_view` (
    `id` bigint NOT NULL AUTO_INCREMENT,
    `name` varchar(255) NOT NULL COMMENT 'view name',
    `page` varchar(64) NOT NULL COMMENT 'page identifier',
    `filter` text COMMENT 'filter config (JSON)',
    `public_cate` int NOT NULL DEFAULT 0 COMMENT 'public category: 0-self, 1-team, 2-all',
    `gids` text COMMENT 'team group ids (JSON)',
    `create_at` bigint NOT NULL DEFAULT 0 COMMENT 'create timestamp',
    `create_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    `update_at` bigint NOT NULL DEFAULT 0 COMMENT 'update timestamp',
    `update_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_page` (`page`),
    KEY `idx_create_by` (`create_by`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='saved views for pages']],
    postgres = [[
CREATE TABLE saved_view (
    id BIGSERIAL PRIMARY KEY,
    name varchar(255) NOT NULL,
    page varchar(64) NOT NULL,
    filter text,
    public_cate int NOT NULL DEFAULT 0,
    gids text,
    create_at bigint NOT NULL DEFAULT 0,
    create_by varchar(64) NOT NULL DEFAULT '',
    update_at bigint NOT NULL DEFAULT 0,
    update_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_saved_view_page ON saved_view (page);
CREATE INDEX idx_saved_view_create_by ON saved_view (create_by)]],
    sqlite = [[
CREATE TABLE `saved_view` (
    `id` integer primary key autoincrement,
    `name` varchar(255) NOT NULL,
    `page` varchar(64) NOT NULL,
    `filter` text,
    `public_cate` int NOT NULL DEFAULT 0,
    `gids` text,
    `create_at` bigint NOT NULL DEFAULT 0,
    `create_by` varchar(64) NOT NULL DEFAULT '',
    `update_at` bigint NOT NULL DEFAULT 0,
    `update_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_saved_view_page` ON `saved_view` (`page`);
CREATE INDEX `idx_saved_view_create_by` ON `saved_view` (`create_by`)]] },

  { name = "user_view_favorite",
    columns = { "id", "view_id", "user_id", "create_at" },
    indexes = { mysql = { idx_view_id = { "view_id" }, idx_user_id = { "user_id" } },
                other = { idx_user_view_favorite_view_id = { "view_id" },
                          idx_user_view_favorite_user_id = { "user_id" } } },
    mysql = [[
CREATE TABLE `user_view_favorite` (
    `id` bigint NOT NULL AUTO_INCREMENT,
    `view_id` bigint NOT NULL COMMENT 'saved view id',
    `user_id` bigint NOT NULL COMMENT 'user id',
    `create_at` bigint NOT NULL DEFAULT 0 COMMENT 'create timestamp',
    PRIMARY KEY (`id`),
    KEY `idx_view_id` (`view_id`),
    KEY `idx_user_id` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='user favorite views']],
    postgres = [[
CREATE TABLE user_view_favorite (
    id BIGSERIAL PRIMARY KEY,
    view_id bigint NOT NULL,
    user_id bigint NOT NULL,
    create_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX idx_user_view_favorite_view_id ON user_view_favorite (view_id);
CREATE INDEX idx_user_view_favorite_user_id ON user_view_favorite (user_id)]],
    sqlite = [[
CREATE TABLE `user_view_favorite` (
    `id` integer primary key autoincrement,
    `view_id` bigint NOT NULL,
    `user_id` bigint NOT NULL,
    `create_at` bigint NOT NULL DEFAULT 0
);
CREATE INDEX `idx_user_view_favorite_view_id` ON `user_view_favorite` (`view_id`);
CREATE INDEX `idx_user_view_favorite_user_id` ON `user_view_favorite` (`user_id`)]] },
}

-- { table, column, definition, portable type for verify, added here (down drops it) }
local COLUMNS = {
  { "builtin_metrics", "expression_type",
    { mysql = "varchar(32) NOT NULL DEFAULT 'promql' COMMENT '''expression type: metric_name or promql'''",
      postgres = "varchar(32) NOT NULL DEFAULT 'promql'", sqlite = "varchar(32) NOT NULL DEFAULT 'promql'" },
    "varchar(32)", true },
  { "builtin_metrics", "metric_type",
    { mysql = "varchar(191) NOT NULL DEFAULT '' COMMENT '''metric type like counter/gauge'''",
      postgres = "varchar(191) NOT NULL DEFAULT ''", sqlite = "varchar(191) NOT NULL DEFAULT ''" },
    "varchar(191)", true },
  { "builtin_metrics", "extra_fields",
    { mysql = "text COMMENT '''custom extra fields'''", postgres = "text", sqlite = "text" }, "text", true },
  { "event_pipeline", "typ",
    { mysql = "varchar(128) NOT NULL DEFAULT '' COMMENT 'pipeline type: builtin, user-defined'",
      postgres = "varchar(128) NOT NULL DEFAULT ''", sqlite = "varchar(128) NOT NULL DEFAULT ''" },
    "varchar(128)", true },
  { "event_pipeline", "use_case",
    { mysql = "varchar(128) NOT NULL DEFAULT '' COMMENT 'use case: metric_explorer, event_summary, event_pipeline'",
      postgres = "varchar(128) NOT NULL DEFAULT ''", sqlite = "varchar(128) NOT NULL DEFAULT ''" },
    "varchar(128)", true },
  { "event_pipeline", "trigger_mode",
    { mysql = "varchar(128) NOT NULL DEFAULT 'event' COMMENT 'trigger mode: event, api, cron'",
      postgres = "varchar(128) NOT NULL DEFAULT 'event'", sqlite = "varchar(128) NOT NULL DEFAULT 'event'" },
    "varchar(128)", true },
  { "event_pipeline", "disabled",
    { mysql = "tinyint(1) NOT NULL DEFAULT 0 COMMENT 'disabled flag'",
      postgres = "boolean NOT NULL DEFAULT false", sqlite = "tinyint(1) NOT NULL DEFAULT 0" },
    { mysql = "smallint", postgres = "bool", sqlite = "smallint" }, true },
  { "event_pipeline", "nodes", { mysql = "text COMMENT 'workflow nodes (JSON)'", postgres = "text", sqlite = "text" },
    "text", true },
  { "event_pipeline", "connections",
    { mysql = "text COMMENT 'node connections (JSON)'", postgres = "text", sqlite = "text" }, "text", true },
  { "event_pipeline", "input_variables",
    { mysql = "text COMMENT 'input variables (JSON)'", postgres = "text", sqlite = "text" }, "text", true },
  -- in every v8 event_pipeline already; ensured for tables created otherwise
  { "event_pipeline", "label_filters",
    { mysql = "text COMMENT 'label filters (JSON)'", postgres = "text", sqlite = "text" }, "text", false },
}

local function indexes_of(t, dialect)
  return t.indexes[dialect == "mysql" and "mysql" or "other"]
end

return {
  version = "8.5.1",
  description = "event_pipeline workflow columns, event_pipeline_execution, builtin_metrics types, saved views",

  up = function(db)
    for _, t in ipairs(TABLES) do ddl.create_table(db, t.name, t) end
    for _, c in ipairs(COLUMNS) do ddl.add_column(db, c[1], c[2], c[3]) end
  end,

  verify = function(db)
    local d = db.dialect
    local spec = {}
    for _, t in ipairs(TABLES) do
      local cols = {}
      for _, c in ipairs(t.columns) do cols[c] = true end
      spec[t.name] = { columns = cols, indexes = indexes_of(t, d) }
    end
    for _, c in ipairs(COLUMNS) do
      spec[c[1]] = spec[c[1]] or { columns = {} }
      spec[c[1]].columns[c[2]] = type(c[4]) == "table" and c[4][d] or c[4]
    end
    ddl.expect(db, spec)
  end,

  down = function(db)
    for k = #COLUMNS, 1, -1 do
      local c = COLUMNS[k]
      if c[5] and db:column_exists(c[1], c[2]) then
        db:exec(("ALTER TABLE %s DROP COLUMN %s"):format(db:quote_ident(c[1]), db:quote_ident(c[2])))
      end
    end
    for k = #TABLES, 1, -1 do
      db:exec("DROP TABLE IF EXISTS " .. db:quote_ident(TABLES[k].name))
    end
  end,
}
