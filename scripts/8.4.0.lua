-- Nightingale v8.4.0: event pipeline column names, notify rule extra config,
-- longer phone numbers.
--
-- Upstream (ccfos/nightingale):
--   * event_pipeline.attribute_filters / processors are renamed to
--     attr_filters / processor_configs in the MySQL full schema between
--     v8.3.1 and v8.4.0 (the gorm columns of models.EventPipeline
--     AttrFilters / ProcessorConfigs).  The PostgreSQL file keeps the old
--     names through v9.1.1, so PostgreSQL keeps them here too (drift file);
--     SQLite has no file for the table and follows the model, as MySQL.
--   * notify_rule.extra_config: migrate.sql chunk /* v8.4.0 2025-10-15 */
--     (first in the v8.4.1 tag's migrate.sql) and the NotifyRule shadow
--     struct of AutoMigrate; in no full-schema file.
--   * users.phone varchar(16) -> varchar(1024) NOT NULL DEFAULT '': the Users
--     shadow struct of AutoMigrate from v8.4.0 (NOTES §4), which alters the
--     column at every start; the full-schema files keep varchar(16) (drift
--     file).  SQLite does not enforce varchar lengths: its declaration stays.
-- References: tests/reference/v8.0.0 and v9.1.1 of each engine.
local ddl = require("migrate.ddl")

local RENAMES = { { "attribute_filters", "attr_filters" }, { "processors", "processor_configs" } }

local function renames_here(db) return db.dialect ~= "postgres" end

return {
  version = "8.4.0",
  description = "event_pipeline attr_filters/processor_configs, notify_rule.extra_config, users.phone varchar(1024)",

  up = function(db)
    if renames_here(db) then
      for _, r in ipairs(RENAMES) do ddl.rename_column(db, "event_pipeline", r[1], r[2]) end
    end
    ddl.add_column(db, "notify_rule", "extra_config",
                   { mysql = "text COMMENT 'extra config'", postgres = "text", sqlite = "text" })
    ddl.alter_column(db, "users", "phone", {
      mysql = "varchar(1024) NOT NULL DEFAULT ''",
      postgres = { type = "varchar(1024)", notnull = true, default = "''" },
    })
  end,

  verify = function(db)
    local ep = renames_here(db) and { attr_filters = "text", processor_configs = "text" }
                                or { attribute_filters = "text", processors = "text" }
    ddl.expect(db, {
      event_pipeline = { columns = ep },
      notify_rule = { columns = { extra_config = "text" } },
      users = { columns = { phone = { mysql = "varchar(1024)", postgres = "varchar(1024)", sqlite = true } } },
    })
    if renames_here(db) then
      assert(not db:column_exists("event_pipeline", "attribute_filters"), "event_pipeline.attribute_filters remains")
      assert(not db:column_exists("event_pipeline", "processors"), "event_pipeline.processors remains")
    end
  end,

  -- Renames back and drops extra_config; phone goes back to varchar(16) only
  -- while every stored value fits (otherwise the down refuses).
  down = function(db)
    if renames_here(db) then
      for _, r in ipairs(RENAMES) do ddl.rename_column(db, "event_pipeline", r[2], r[1]) end
    end
    if db:column_exists("notify_rule", "extra_config") then
      db:exec("ALTER TABLE notify_rule DROP COLUMN extra_config")
    end
    if db.dialect ~= "sqlite" then
      local long = db:scalar("SELECT COUNT(*) FROM users WHERE " ..
                             (db.dialect == "mysql" and "CHAR_LENGTH(phone)" or "LENGTH(phone)") .. " > 16")
      assert(tonumber(long) == 0, ("users.phone: %s values are longer than 16 characters, "
                                   .. "varchar(16) would cut them"):format(tostring(long)))
      ddl.alter_column(db, "users", "phone", {
        mysql = "varchar(16) NOT NULL DEFAULT ''",
        postgres = { type = "varchar(16)", notnull = true, default = "''" },
      })
    end
  end,
}
