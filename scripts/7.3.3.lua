-- Nightingale v7.3.3: alert_cur_event/alert_his_event.trigger_value wide
-- enough for long values.
-- Upstream: full-schema files only (no migrate.sql chunk, no AutoMigrate
-- struct).  v7.3.2 widened trigger_value from varchar(255) to
-- varchar(2048) in every engine's file; on MySQL that made both CREATE
-- TABLEs fail ("Row size too large", utf8mb4), fixed in v7.3.3 by `text`.
-- Per engine, as the v9.1.1 files still declare it:
--   MySQL      text NOT NULL           (a-n9e.sql v7.3.3 .. v9.1.1)
--   PostgreSQL varchar(2048) NOT NULL  (a-n9e-for-Postgres.sql v7.3.2 .. v9.1.1;
--                                       widening a varchar rewrites nothing)
--   SQLite     nothing: its files say varchar(2048) since v7.3.2, but SQLite
--              does not enforce varchar lengths and ddl.alter_column leaves
--              SQLite declarations alone, so a v7.0.0 database keeps
--              varchar(255) and stores long values all the same.
-- Databases Nightingale upgraded itself keep varchar(255) (nothing migrates
-- it); this brings them to what a fresh install of the release has.
local ddl = require("migrate.ddl")

local TRIGGER_VALUE = { mysql = "text not null", postgres = { type = "varchar(2048)", notnull = true } }
local EXPECT = { mysql = "text", postgres = "varchar(2048)" }

return {
  version = "7.3.3",
  description = "trigger_value widened on the event tables (MySQL text, PostgreSQL varchar(2048))",
  rewrites = { "alert_cur_event", "alert_his_event" },

  up = function(db)
    ddl.alter_column(db, "alert_cur_event", "trigger_value", TRIGGER_VALUE)
    ddl.alter_column(db, "alert_his_event", "trigger_value", TRIGGER_VALUE)
  end,

  verify = function(db)
    local want = EXPECT[db.dialect] or true
    ddl.expect(db, { alert_cur_event = { columns = { trigger_value = want } },
                     alert_his_event = { columns = { trigger_value = want } } })
  end,

  -- no down: narrowing back to varchar(255) could cut stored values; the
  -- wider column is what every later release has
  down = function() end,
}
