-- Nightingale v7.1.0: hosts report their operating system.
-- Upstream: migrate.sql chunk /* v7.1.0 */ (ALTER TABLE target ADD COLUMN
-- os VARCHAR(31) DEFAULT '') plus the idx_os index that gorm AutoMigrate
-- adds (models Target.OS `gorm:"index:idx_os"`); the v9.1.1 full schemas
-- of all three engines carry both.  Idempotent: Nightingale itself may have
-- added the column at start-up already.
return {
  version = "7.1.0",
  description = "target.os column and idx_os index",
  dialects = { "sqlite" },

  up = function(db)
    if not db:column_exists("target", "os") then
      db:exec("ALTER TABLE target ADD COLUMN os VARCHAR(31) DEFAULT ''")
    end
    if not db:index_exists("target", "idx_os") then
      db:exec("CREATE INDEX idx_os ON target (os)")
    end
  end,

  verify = function(db)
    assert(db:column_exists("target", "os"), "target.os is missing")
    assert(db:index_exists("target", "idx_os"), "index idx_os on target is missing")
  end,

  down = function(db)
    db:exec("DROP INDEX IF EXISTS idx_os")
    db:exec("ALTER TABLE target DROP COLUMN os")
  end,
}
