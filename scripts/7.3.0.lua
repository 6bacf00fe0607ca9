-- Nightingale v7.3.0: the global labels a host's agent reports.
-- Upstream: migrate.sql chunk /* v7.3.0 2024-08-26 */ (ALTER TABLE target
-- ADD COLUMN host_tags TEXT COMMENT 'global labels set in conf file') and
-- AutoMigrate of migrate.Target (HostTags `type:text;serializer:json`: a
-- JSON array of "k=v" strings).  Definitions: v7.7.2 MySQL a-n9e.sql (the
-- v7.5.0 MySQL file briefly said varchar(512) NOT NULL; the model, and the
-- v7.7.2 file, say text), v8.0.0 PostgreSQL and SQLite files.
local ddl = require("migrate.ddl")

return {
  version = "7.3.0",
  description = "target.host_tags column",

  up = function(db)
    ddl.add_column(db, "target", "host_tags", { mysql = "text COMMENT 'global labels set in conf file'",
                                                postgres = "text", sqlite = "text" })
  end,

  verify = function(db)
    ddl.expect(db, { target = { columns = { host_tags = "text" } } })
  end,

  down = function(db)
    if db:column_exists("target", "host_tags") then db:exec("ALTER TABLE target DROP COLUMN host_tags") end
  end,
}
