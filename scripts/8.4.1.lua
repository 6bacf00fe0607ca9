-- Nightingale v8.4.1: event pipelines attached to alert rules.
--
-- Upstream: migrate.sql chunk /* v8.4.1 2025-11-10 */ (ALTER TABLE
-- alert_rule ADD COLUMN pipeline_configs text), first shipped in v8.4.1,
-- and the AlertRule shadow struct of AutoMigrate (PipelineConfigs,
-- type:text, serializer:json); in none of the v9.1.1 full-schema files
-- (drift file).  The other chunks that first appear in v8.4.1's
-- migrate.sql belong to earlier versions: /* v8.0.0 2025-07-03 */
-- (builtin_metrics.translation, 8.0.0) and /* v8.4.0 2025-10-15 */
-- (notify_rule.extra_config, 8.4.0).
local ddl = require("migrate.ddl")

return {
  version = "8.4.1",
  description = "alert_rule.pipeline_configs",

  up = function(db)
    ddl.add_column(db, "alert_rule", "pipeline_configs",
                   { mysql = "text COMMENT 'pipeline configs'", postgres = "text", sqlite = "text" })
  end,

  verify = function(db)
    ddl.expect(db, { alert_rule = { columns = { pipeline_configs = "text" } } })
  end,

  down = function(db)
    if db:column_exists("alert_rule", "pipeline_configs") then
      db:exec("ALTER TABLE alert_rule DROP COLUMN pipeline_configs")
    end
  end,
}
