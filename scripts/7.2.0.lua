-- Nightingale v7.2.0: a record of every notification sent, and
-- datasource.is_default without NOT NULL.
-- Upstream: migrate.sql chunk /* v7.2.0 */ (MySQL CREATE TABLE
-- notification_record) and gorm AutoMigrate of models.NotificaitonRecord
-- [sic], which at once makes sub_id and status nullable (the chunk says
-- NOT NULL): the table is created here in the model's shape, as the
-- v7.7.2 MySQL a-n9e.sql (regenerated from a gorm-built database) and the
-- v8.0.0 PostgreSQL/SQLite files declare it (their notify_rule_id column
-- is v8's).  AutoMigrate of migrate.Datasource (IsDefault `type:boolean`,
-- the `not null` removed in v7.2.0 after ccfos/nightingale#2076): on MySQL
-- is_default becomes a nullable boolean (tinyint(1)) without default, as
-- in the v7.7.2 MySQL file.  PostgreSQL keeps the files' `boolean not null
-- default false` (every PostgreSQL file through v9.1.1) and SQLite its
-- file's declaration (ddl.alter_column leaves SQLite columns alone).
local ddl = require("migrate.ddl")

local NOTIFICATION_RECORD = {
  mysql = [[
CREATE TABLE notification_record (
    `id` BIGINT PRIMARY KEY AUTO_INCREMENT,
    `event_id`  bigint NOT NULL COMMENT 'event history id',
    `sub_id`  bigint COMMENT 'subscribed rule id',
    `channel` varchar(255) NOT NULL COMMENT 'notification channel name',
    `status` bigint COMMENT 'notification status',
    `target` varchar(1024) NOT NULL COMMENT 'notification target',
    `details` varchar(2048) DEFAULT '' COMMENT 'notification other info',
    `created_at` bigint NOT NULL COMMENT 'create time',
    INDEX idx_evt (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
  postgres = [[
CREATE TABLE notification_record (
    id BIGSERIAL PRIMARY KEY,
    event_id bigint NOT NULL,
    sub_id bigint DEFAULT NULL,
    channel varchar(255) NOT NULL,
    status bigint DEFAULT NULL,
    target varchar(1024) NOT NULL,
    details varchar(2048) DEFAULT '',
    created_at bigint NOT NULL
);
CREATE INDEX idx_evt ON notification_record (event_id)]],
  sqlite = [[
CREATE TABLE `notification_record` (
    `id` integer primary key autoincrement,
    `event_id` integer not null,
    `sub_id` integer,
    `channel` varchar(255) not null,
    `status` integer,
    `target` varchar(1024) not null,
    `details` varchar(2048) default '',
    `created_at` integer not null
);
CREATE INDEX idx_evt ON notification_record (event_id)]],
}

local COLUMNS = { "id", "event_id", "sub_id", "channel", "status", "target", "details", "created_at" }

return {
  version = "7.2.0",
  description = "notification_record table; datasource.is_default nullable (MySQL)",

  up = function(db)
    ddl.create_table(db, "notification_record", NOTIFICATION_RECORD)
    ddl.add_index(db, "notification_record", "idx_evt", { "event_id" })
    ddl.alter_column(db, "datasource", "is_default", { mysql = "tinyint(1) COMMENT 'is default datasource'" })
  end,

  verify = function(db)
    local cols = {}
    for _, c in ipairs(COLUMNS) do cols[c] = true end
    ddl.expect(db, { notification_record = { columns = cols, indexes = { idx_evt = { "event_id" } } } })
    for _, c in ipairs(db:columns("notification_record")) do
      assert(not ((c.name == "sub_id" or c.name == "status") and c.notnull),
             "notification_record." .. c.name .. " must be nullable (model NotificaitonRecord)")
    end
    if db.dialect == "mysql" then
      for _, c in ipairs(db:columns("datasource")) do
        assert(not (c.name == "is_default" and c.notnull), "datasource.is_default must be nullable")
      end
    end
  end,

  -- is_default stays nullable: NOT NULL again could fail on rows with NULL
  down = function(db)
    if db:table_exists("notification_record") then db:exec("DROP TABLE notification_record") end
  end,
}
