-- Nightingale v7.1.0: hosts report their operating system.
-- Upstream: migrate.sql chunk /* v7.1.0 */ (ALTER TABLE target ADD COLUMN
-- os VARCHAR(31) DEFAULT '' COMMENT 'os type') and gorm AutoMigrate of the
-- shadow struct migrate.Target (OS `gorm:"...;index:idx_os"`), which is what
-- creates the index on every engine.  Definitions: MySQL a-n9e.sql of
-- v7.7.2 (the column since v7.2.0), PostgreSQL a-n9e-for-Postgres.sql of
-- v8.0.0 (first PostgreSQL file with it), SQLite docker/sqlite.sql of
-- v8.0.0.  Idempotent: Nightingale itself may have added both at start-up.
local ddl = require("migrate.ddl")

return {
  version = "7.1.0",
  description = "target.os column and idx_os index",

  up = function(db)
    ddl.add_column(db, "target", "os", { mysql = "VARCHAR(31) DEFAULT '' COMMENT 'os type'",
                                         postgres = "varchar(31) default ''",
                                         sqlite = "varchar(31) default ''" })
    ddl.add_index(db, "target", "idx_os", { "os" })
  end,

  verify = function(db)
    ddl.expect(db, { target = { columns = { os = "varchar(31)" }, indexes = { idx_os = { "os" } } } })
  end,

  down = function(db)
    ddl.drop_index(db, "target", "idx_os")
    if db:column_exists("target", "os") then db:exec("ALTER TABLE target DROP COLUMN os") end
  end,
}
