-- Nightingale v7.7.0: alert and recording rules select datasources by
-- query instead of a list of ids.
-- Upstream: gorm AutoMigrate of the shadow structs migrate.AlertRule and
-- migrate.RecordingRule (DatasourceQueries `type:text;serializer:json`) in
-- v7.7.0; the migrate.sql chunk /* v7.7.0 2024-11-13 */ with the same two
-- ALTERs only ships in v8.0.0 (release-markers.txt).  Definitions: v7.7.2
-- MySQL a-n9e.sql (`text`, nullable); PostgreSQL translated (no PostgreSQL
-- file through v9.1.1 has them; AutoMigrate adds them); SQLite
-- docker/sqlite.sql of v8.0.0.
--
-- Data: Nightingale's FillDatasourceQueries turns datasource_ids into
-- [{"match_type":0,"op":"in","values":[ids]}] (match_type 2 with the ids
-- before a 0, "all datasources") in memory on every read and never writes
-- it back; the convert step persists exactly that for rows whose
-- datasource_queries is empty (migrate.n9e_data.datasource_queries,
-- batched, resumable), keeping datasource_ids for older readers.
local ddl = require("migrate.ddl")
local n9e_data = require("migrate.n9e_data")

local RULE_TABLES = { "alert_rule", "recording_rule" }
-- taken by convert in this run; a later standalone `verify` checks the
-- schema only (rules are edited in the UI afterwards)
local before

local TEXT = { mysql = "text", postgres = "text", sqlite = "text" }

return {
  version = "7.7.0",
  description = "alert_rule.datasource_queries and recording_rule.datasource_queries",

  up = function(db)
    ddl.add_column(db, "alert_rule", "datasource_queries", TEXT)
    ddl.add_column(db, "recording_rule", "datasource_queries", TEXT)
  end,

  convert = function(db, ctx)
    before = {}
    for _, t in ipairs(RULE_TABLES) do
      before[t] = n9e_data.datasource_queries_snapshot(db, t)
      local r = n9e_data.datasource_queries(db, t)
      ctx.log.info(("%s.datasource_ids -> datasource_queries: %d converted, %d left (ids not valid JSON)")
        :format(t, r.converted, r.invalid))
    end
  end,

  verify = function(db)
    ddl.expect(db, { alert_rule = { columns = { datasource_queries = "text" } },
                     recording_rule = { columns = { datasource_queries = "text" } } })
    if before then
      for _, t in ipairs(RULE_TABLES) do n9e_data.verify_datasource_queries(db, t, before[t]) end
    end
  end,

  down = function(db)
    for _, t in ipairs({ "alert_rule", "recording_rule" }) do
      if db:column_exists(t, "datasource_queries") then
        db:exec(("ALTER TABLE %s DROP COLUMN datasource_queries"):format(t))
      end
    end
  end,
}
