-- Nightingale v9.0.0 (2026-07-25): AI assistant, agents and skills; time
-- zones for alert rules; sort weights; notify-only mutes; i18n templates.
--
-- Upstream (ccfos/nightingale; chunks first shipped in v9.0.0 per
-- release-markers.txt):
--   * migrate.sql /* v9 2026-01-20 datasource weight */, /* … alert_rule
--     time_zone support */, /* v9 2026-04-08 embedded_product weight … */,
--     /* v9 2026-04-17 embedded_product hide flag */, /* v9 2026-04-20
--     event_pipeline group_id */, /* v9 2026-04-20 AI agent: llm config /
--     agent / skill */ (with its four ai_skill ALTERs, folded into the
--     CREATE), /* v9 2026-04-23 AI skill files */, /* v9 2026-04-29 AI
--     assistant chat history */, /* v9 2026-06-25 es_index_pattern weight
--     … */, /* v9 2026-07-06 message_template lang … */, /* v9 2026-07-10
--     alert_mute mute_type … */, /* v9 2026-07-20 alert_his_event composite
--     index … */;
--   * the v9.0.0 full-schema files (definitions as in tests/reference/v9.1.1
--     of each engine) for time_zone, weights, hide, mute_type, lang and
--     idx_group_last_eval_time;
--   * AutoMigrate only: TaskRecord.AuthLevel / SystemCaller and
--     TaskTpl.AuthLevel shadow structs (in no file), models AILLMConfig,
--     AIAgent, AISkill, AISkillFile (PostgresAISkillFile), AssistantChatRow,
--     (Mysql)AssistantMessageRow.
-- The six AI tables are in none of the v9.1.1 full-schema files (drift
-- file; ccfos/nightingale#3347).  PostgreSQL/SQLite definitions are the
-- MySQL DDL translated: BIGSERIAL / integer primary key autoincrement,
-- mediumtext -> text, flags boolean on PostgreSQL (the models' bools) and
-- tinyint(1) on SQLite; generic index names (idx_name on three tables) are
-- prefixed with the table, index names being per schema/database there.
local ddl = require("migrate.ddl")

local function ai_table(name, columns, indexes, mysql, postgres, sqlite)
  return { name = name, columns = columns, indexes = indexes, mysql = mysql, postgres = postgres, sqlite = sqlite }
end

local TABLES = {
  ai_table("ai_llm_config",
    { "id", "name", "description", "api_type", "api_url", "api_key", "model", "extra_config", "enabled",
      "is_default", "created_at", "created_by", "updated_at", "updated_by" },
    { mysql = { idx_name = { "name" } }, other = { idx_ai_llm_config_name = { "name" } } },
    [[
CREATE TABLE `ai_llm_config` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `name` varchar(255) NOT NULL DEFAULT '' COMMENT 'config name',
    `description` varchar(1024) NOT NULL DEFAULT '' COMMENT 'description',
    `api_type` varchar(64) NOT NULL DEFAULT '' COMMENT 'api type, e.g. openai',
    `api_url` varchar(1024) NOT NULL DEFAULT '' COMMENT 'api base url',
    `api_key` varchar(1024) NOT NULL DEFAULT '' COMMENT 'api key',
    `model` varchar(255) NOT NULL DEFAULT '' COMMENT 'model name',
    `extra_config` text COMMENT 'extra config (JSON)',
    `enabled` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'enabled flag',
    `is_default` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'default llm config flag',
    `created_at` bigint NOT NULL DEFAULT 0 COMMENT 'create time',
    `created_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    `updated_at` bigint NOT NULL DEFAULT 0 COMMENT 'update time',
    `updated_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai llm configs']], [[
CREATE TABLE ai_llm_config (
    id BIGSERIAL PRIMARY KEY,
    name varchar(255) NOT NULL DEFAULT '',
    description varchar(1024) NOT NULL DEFAULT '',
    api_type varchar(64) NOT NULL DEFAULT '',
    api_url varchar(1024) NOT NULL DEFAULT '',
    api_key varchar(1024) NOT NULL DEFAULT '',
    model varchar(255) NOT NULL DEFAULT '',
    extra_config text,
    enabled boolean NOT NULL DEFAULT false,
    is_default boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL DEFAULT 0,
    created_by varchar(64) NOT NULL DEFAULT '',
    updated_at bigint NOT NULL DEFAULT 0,
    updated_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_ai_llm_config_name ON ai_llm_config (name)]], [[
CREATE TABLE `ai_llm_config` (
    `id` integer primary key autoincrement,
    `name` varchar(255) NOT NULL DEFAULT '',
    `description` varchar(1024) NOT NULL DEFAULT '',
    `api_type` varchar(64) NOT NULL DEFAULT '',
    `api_url` varchar(1024) NOT NULL DEFAULT '',
    `api_key` varchar(1024) NOT NULL DEFAULT '',
    `model` varchar(255) NOT NULL DEFAULT '',
    `extra_config` text,
    `enabled` tinyint(1) NOT NULL DEFAULT 0,
    `is_default` tinyint(1) NOT NULL DEFAULT 0,
    `created_at` bigint NOT NULL DEFAULT 0,
    `created_by` varchar(64) NOT NULL DEFAULT '',
    `updated_at` bigint NOT NULL DEFAULT 0,
    `updated_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_ai_llm_config_name` ON `ai_llm_config` (`name`)]]),

  ai_table("ai_agent",
    { "id", "name", "description", "use_case", "llm_config_id", "skill_ids", "mcp_server_ids", "enabled",
      "created_at", "created_by", "updated_at", "updated_by" },
    { mysql = { idx_name = { "name" }, idx_use_case = { "use_case" } },
      other = { idx_ai_agent_name = { "name" }, idx_ai_agent_use_case = { "use_case" } } },
    [[
CREATE TABLE `ai_agent` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `name` varchar(255) NOT NULL DEFAULT '' COMMENT 'agent name',
    `description` varchar(1024) NOT NULL DEFAULT '' COMMENT 'description',
    `use_case` varchar(64) NOT NULL DEFAULT '' COMMENT 'use case, e.g. chat',
    `llm_config_id` bigint NOT NULL DEFAULT 0 COMMENT 'bound ai_llm_config id',
    `skill_ids` text COMMENT 'bound skill ids (JSON)',
    `mcp_server_ids` text COMMENT 'bound mcp server ids (JSON)',
    `enabled` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'enabled flag',
    `created_at` bigint NOT NULL DEFAULT 0 COMMENT 'create time',
    `created_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    `updated_at` bigint NOT NULL DEFAULT 0 COMMENT 'update time',
    `updated_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_name` (`name`),
    KEY `idx_use_case` (`use_case`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai agents']], [[
CREATE TABLE ai_agent (
    id BIGSERIAL PRIMARY KEY,
    name varchar(255) NOT NULL DEFAULT '',
    description varchar(1024) NOT NULL DEFAULT '',
    use_case varchar(64) NOT NULL DEFAULT '',
    llm_config_id bigint NOT NULL DEFAULT 0,
    skill_ids text,
    mcp_server_ids text,
    enabled boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL DEFAULT 0,
    created_by varchar(64) NOT NULL DEFAULT '',
    updated_at bigint NOT NULL DEFAULT 0,
    updated_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_ai_agent_name ON ai_agent (name);
CREATE INDEX idx_ai_agent_use_case ON ai_agent (use_case)]], [[
CREATE TABLE `ai_agent` (
    `id` integer primary key autoincrement,
    `name` varchar(255) NOT NULL DEFAULT '',
    `description` varchar(1024) NOT NULL DEFAULT '',
    `use_case` varchar(64) NOT NULL DEFAULT '',
    `llm_config_id` bigint NOT NULL DEFAULT 0,
    `skill_ids` text,
    `mcp_server_ids` text,
    `enabled` tinyint(1) NOT NULL DEFAULT 0,
    `created_at` bigint NOT NULL DEFAULT 0,
    `created_by` varchar(64) NOT NULL DEFAULT '',
    `updated_at` bigint NOT NULL DEFAULT 0,
    `updated_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_ai_agent_name` ON `ai_agent` (`name`);
CREATE INDEX `idx_ai_agent_use_case` ON `ai_agent` (`use_case`)]]),

  ai_table("ai_skill",
    { "id", "name", "description", "instructions", "license", "compatibility", "metadata", "allowed_tools",
      "enabled", "user_group_ids", "private", "source_type", "git_info", "created_at", "created_by",
      "updated_at", "updated_by" },
    { mysql = { idx_name = { "name" } }, other = { idx_ai_skill_name = { "name" } } },
    [[
CREATE TABLE `ai_skill` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `name` varchar(255) NOT NULL DEFAULT '' COMMENT 'skill name',
    `description` varchar(4096) COMMENT 'description',
    `instructions` text COMMENT 'skill instructions (SKILL.md body)',
    `license` varchar(255) COMMENT 'license',
    `compatibility` varchar(255) COMMENT 'compatibility',
    `metadata` text COMMENT 'metadata (JSON)',
    `allowed_tools` varchar(4096) COMMENT 'allowed tools',
    `enabled` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'enabled flag',
    `user_group_ids` text COMMENT 'authorized team ids (JSON array)',
    `private` int NOT NULL DEFAULT 0 COMMENT 'auth scope: 0-public 1-private',
    `source_type` varchar(16) NOT NULL DEFAULT 'local' COMMENT 'skill source type: local/git',
    `git_info` text COMMENT 'git source info (JSON)',
    `created_at` bigint NOT NULL DEFAULT 0 COMMENT 'create time',
    `created_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    `updated_at` bigint NOT NULL DEFAULT 0 COMMENT 'update time',
    `updated_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai skills']], [[
CREATE TABLE ai_skill (
    id BIGSERIAL PRIMARY KEY,
    name varchar(255) NOT NULL DEFAULT '',
    description varchar(4096),
    instructions text,
    license varchar(255),
    compatibility varchar(255),
    metadata text,
    allowed_tools varchar(4096),
    enabled boolean NOT NULL DEFAULT false,
    user_group_ids text,
    private int NOT NULL DEFAULT 0,
    source_type varchar(16) NOT NULL DEFAULT 'local',
    git_info text,
    created_at bigint NOT NULL DEFAULT 0,
    created_by varchar(64) NOT NULL DEFAULT '',
    updated_at bigint NOT NULL DEFAULT 0,
    updated_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_ai_skill_name ON ai_skill (name)]], [[
CREATE TABLE `ai_skill` (
    `id` integer primary key autoincrement,
    `name` varchar(255) NOT NULL DEFAULT '',
    `description` varchar(4096),
    `instructions` text,
    `license` varchar(255),
    `compatibility` varchar(255),
    `metadata` text,
    `allowed_tools` varchar(4096),
    `enabled` tinyint(1) NOT NULL DEFAULT 0,
    `user_group_ids` text,
    `private` int NOT NULL DEFAULT 0,
    `source_type` varchar(16) NOT NULL DEFAULT 'local',
    `git_info` text,
    `created_at` bigint NOT NULL DEFAULT 0,
    `created_by` varchar(64) NOT NULL DEFAULT '',
    `updated_at` bigint NOT NULL DEFAULT 0,
    `updated_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_ai_skill_name` ON `ai_skill` (`name`)]]),

  ai_table("ai_skill_file",
    { "id", "skill_id", "name", "content", "size", "created_at", "created_by", "updated_at", "updated_by" },
    { mysql = { idx_skill_id = { "skill_id" } }, other = { idx_ai_skill_file_skill_id = { "skill_id" } } },
    [[
CREATE TABLE `ai_skill_file` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `skill_id` bigint NOT NULL DEFAULT 0 COMMENT 'ai_skill id',
    `name` varchar(255) NOT NULL DEFAULT '' COMMENT 'file name',
    `content` mediumtext COMMENT 'file content',
    `size` bigint NOT NULL DEFAULT 0 COMMENT 'content size in bytes',
    `created_at` bigint NOT NULL DEFAULT 0 COMMENT 'create time',
    `created_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'creator',
    `updated_at` bigint NOT NULL DEFAULT 0 COMMENT 'update time',
    `updated_by` varchar(64) NOT NULL DEFAULT '' COMMENT 'updater',
    PRIMARY KEY (`id`),
    KEY `idx_skill_id` (`skill_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai skill files']], [[
CREATE TABLE ai_skill_file (
    id BIGSERIAL PRIMARY KEY,
    skill_id bigint NOT NULL DEFAULT 0,
    name varchar(255) NOT NULL DEFAULT '',
    content text,
    size bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL DEFAULT 0,
    created_by varchar(64) NOT NULL DEFAULT '',
    updated_at bigint NOT NULL DEFAULT 0,
    updated_by varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_ai_skill_file_skill_id ON ai_skill_file (skill_id)]], [[
CREATE TABLE `ai_skill_file` (
    `id` integer primary key autoincrement,
    `skill_id` bigint NOT NULL DEFAULT 0,
    `name` varchar(255) NOT NULL DEFAULT '',
    `content` text,
    `size` bigint NOT NULL DEFAULT 0,
    `created_at` bigint NOT NULL DEFAULT 0,
    `created_by` varchar(64) NOT NULL DEFAULT '',
    `updated_at` bigint NOT NULL DEFAULT 0,
    `updated_by` varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX `idx_ai_skill_file_skill_id` ON `ai_skill_file` (`skill_id`)]]),

  -- uk_chat_*, idx_ac_*, idx_am_*: already table-specific, kept everywhere
  ai_table("ai_assistant_chat",
    { "id", "chat_id", "user_id", "updated_at", "data" },
    { mysql = { uk_chat_id = { "chat_id" }, idx_ac_user_id = { "user_id" }, idx_ac_updated_at = { "updated_at" } } },
    [[
CREATE TABLE `ai_assistant_chat` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `chat_id` varchar(255) NOT NULL COMMENT 'chat id',
    `user_id` bigint NOT NULL DEFAULT 0 COMMENT 'user id',
    `updated_at` bigint NOT NULL DEFAULT 0 COMMENT 'update time',
    `data` text COMMENT 'gzip+base64 encoded chat meta (JSON)',
    PRIMARY KEY (`id`),
    UNIQUE KEY `uk_chat_id` (`chat_id`),
    KEY `idx_ac_user_id` (`user_id`),
    KEY `idx_ac_updated_at` (`updated_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai assistant chats']], [[
CREATE TABLE ai_assistant_chat (
    id BIGSERIAL PRIMARY KEY,
    chat_id varchar(255) NOT NULL,
    user_id bigint NOT NULL DEFAULT 0,
    updated_at bigint NOT NULL DEFAULT 0,
    data text
);
CREATE UNIQUE INDEX uk_chat_id ON ai_assistant_chat (chat_id);
CREATE INDEX idx_ac_user_id ON ai_assistant_chat (user_id);
CREATE INDEX idx_ac_updated_at ON ai_assistant_chat (updated_at)]], [[
CREATE TABLE `ai_assistant_chat` (
    `id` integer primary key autoincrement,
    `chat_id` varchar(255) NOT NULL,
    `user_id` bigint NOT NULL DEFAULT 0,
    `updated_at` bigint NOT NULL DEFAULT 0,
    `data` text
);
CREATE UNIQUE INDEX `uk_chat_id` ON `ai_assistant_chat` (`chat_id`);
CREATE INDEX `idx_ac_user_id` ON `ai_assistant_chat` (`user_id`);
CREATE INDEX `idx_ac_updated_at` ON `ai_assistant_chat` (`updated_at`)]]),

  ai_table("ai_assistant_message",
    { "id", "chat_id", "seq_id", "data", "extra", "status" },
    { mysql = { uk_chat_seq = { "chat_id", "seq_id" }, idx_am_status = { "status" } } },
    [[
CREATE TABLE `ai_assistant_message` (
    `id` bigint unsigned NOT NULL AUTO_INCREMENT,
    `chat_id` varchar(255) NOT NULL COMMENT 'chat id',
    `seq_id` bigint NOT NULL DEFAULT 0 COMMENT 'message seq id within chat',
    `data` mediumtext COMMENT 'gzip+base64 encoded message (JSON)',
    `extra` mediumtext COMMENT 'gzip+base64 encoded extra (JSON)',
    `status` int NOT NULL DEFAULT 0 COMMENT 'message status',
    PRIMARY KEY (`id`),
    UNIQUE KEY `uk_chat_seq` (`chat_id`, `seq_id`),
    KEY `idx_am_status` (`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='ai assistant messages']], [[
CREATE TABLE ai_assistant_message (
    id BIGSERIAL PRIMARY KEY,
    chat_id varchar(255) NOT NULL,
    seq_id bigint NOT NULL DEFAULT 0,
    data text,
    extra text,
    status int NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX uk_chat_seq ON ai_assistant_message (chat_id, seq_id);
CREATE INDEX idx_am_status ON ai_assistant_message (status)]], [[
CREATE TABLE `ai_assistant_message` (
    `id` integer primary key autoincrement,
    `chat_id` varchar(255) NOT NULL,
    `seq_id` bigint NOT NULL DEFAULT 0,
    `data` text,
    `extra` text,
    `status` int NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX `uk_chat_seq` ON `ai_assistant_message` (`chat_id`, `seq_id`);
CREATE INDEX `idx_am_status` ON `ai_assistant_message` (`status`)]]),
}

-- { table, column, definition, portable type for verify, added here (down drops it) }
local COLUMNS = {
  { "alert_rule", "time_zone", "varchar(64) not null default ''", "varchar(64)", true },
  { "datasource", "weight", { mysql = "int not null default 0 COMMENT 'weight for sorting'",
                              postgres = "int not null default 0", sqlite = "int not null default 0" }, "int", true },
  { "embedded_product", "weight", "int not null default 0", "int", true },
  { "embedded_product", "hide", { mysql = "boolean not null default false", postgres = "boolean NOT NULL DEFAULT false",
                                  sqlite = "tinyint(1) not null default 0" },
    { mysql = "smallint", postgres = "bool", sqlite = "smallint" }, true },
  { "es_index_pattern", "weight", "int not null default 0", "int", true },
  { "alert_mute", "mute_type", { mysql = "int not null default 0 comment '0-mute event and notify,1-mute notify only'",
                                 postgres = "int not null default 0", sqlite = "int not null default 0" },
    "int", true },
  { "message_template", "lang", "varchar(32) not null default ''", "varchar(32)", true },
  { "event_pipeline", "group_id", { mysql = "bigint NOT NULL DEFAULT 0 COMMENT 'busi group id'",
                                    postgres = "bigint NOT NULL DEFAULT 0", sqlite = "bigint NOT NULL DEFAULT 0" },
    "bigint", true },
  -- AutoMigrate only (TaskRecord, TaskTpl shadow structs)
  { "task_record", "auth_level", "int NOT NULL DEFAULT 0", "int", true },
  { "task_record", "system_caller", "varchar(64) NOT NULL DEFAULT ''", "varchar(64)", true },
  { "task_tpl", "auth_level", "int NOT NULL DEFAULT 0", "int", true },
  -- the four ALTERs of the AI skill chunk, for ai_skill tables created
  -- before them (Nightingale's AutoMigrate of a v9 beta)
  { "ai_skill", "user_group_ids", { mysql = "text COMMENT 'authorized team ids (JSON array)'", postgres = "text",
                                    sqlite = "text" }, "text", false },
  { "ai_skill", "private", { mysql = "int NOT NULL DEFAULT 0 COMMENT 'auth scope: 0-public 1-private'",
                             postgres = "int NOT NULL DEFAULT 0", sqlite = "int NOT NULL DEFAULT 0" }, "int", false },
  { "ai_skill", "source_type", { mysql = "varchar(16) NOT NULL DEFAULT 'local' COMMENT 'skill source type: local/git'",
                                 postgres = "varchar(16) NOT NULL DEFAULT 'local'",
                                 sqlite = "varchar(16) NOT NULL DEFAULT 'local'" }, "varchar(16)", false },
  { "ai_skill", "git_info", { mysql = "text COMMENT 'git source info (JSON)'", postgres = "text", sqlite = "text" },
    "text", false },
}

-- alert_his_event is the largest table.  Nightingale v9 creates this index
-- in a background goroutine with a plain CREATE INDEX; migrate.sql says
-- "consider gh-ost/pt-osc".  MySQL: an online build (ALGORITHM=INPLACE,
-- LOCK=NONE refuses rather than block writes), written as CREATE INDEX so
-- that the MySQL journal inverts it with a DROP INDEX instead of copying
-- the table first (an ALTER TABLE with several clauses would be copied).
local HIS_INDEX = {
  table = "alert_his_event", name = "idx_group_last_eval_time", columns = { "group_id", "last_eval_time" },
  def = { mysql = "CREATE INDEX `idx_group_last_eval_time` ON `alert_his_event` (`group_id`, `last_eval_time`) "
                  .. "ALGORITHM=INPLACE LOCK=NONE" },
}

local function indexes_of(t, dialect)
  return t.indexes[dialect] or t.indexes.other or t.indexes.mysql
end

return {
  version = "9.0.0",
  description = "AI tables, alert_rule.time_zone, sort weights, alert_mute.mute_type, message_template.lang, "
                .. "task auth levels, alert_his_event(group_id, last_eval_time)",

  up = function(db)
    for _, t in ipairs(TABLES) do ddl.create_table(db, t.name, t) end
    for _, c in ipairs(COLUMNS) do ddl.add_column(db, c[1], c[2], c[3]) end
    ddl.add_index(db, HIS_INDEX.table, HIS_INDEX.name, HIS_INDEX.columns, { def = HIS_INDEX.def })
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
    spec.alert_his_event = { indexes = { [HIS_INDEX.name] = HIS_INDEX.columns } }
    ddl.expect(db, spec)
  end,

  -- Drops what this version added.  On MySQL the journal copies
  -- alert_his_event before dropping its index (a DROP INDEX has no derived
  -- inverse): plan for the disk space of that table.
  down = function(db)
    ddl.drop_index(db, HIS_INDEX.table, HIS_INDEX.name)
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
