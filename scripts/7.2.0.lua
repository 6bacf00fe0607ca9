-- Nightingale v7.2.0: a record of every notification sent.
-- Upstream: migrate.sql chunk /* v7.2.0 */ (MySQL) and the model
-- NotificaitonRecord [sic]; the SQLite shape is the one of the v8.0.0 and
-- later SQLite full schemas (sub_id and status nullable, as the model).
return {
  version = "7.2.0",
  description = "notification_record table",
  dialects = { "sqlite" },

  up = function(db)
    db:exec([[
CREATE TABLE IF NOT EXISTS notification_record (
    id integer primary key autoincrement,
    event_id integer not null,
    sub_id integer,
    channel varchar(255) not null,
    status integer,
    target varchar(1024) not null,
    details varchar(2048) default '',
    created_at integer not null
)]])
    db:exec("CREATE INDEX IF NOT EXISTS idx_evt ON notification_record (event_id)")
  end,

  verify = function(db)
    local want = { "id", "event_id", "sub_id", "channel", "status", "target", "details", "created_at" }
    for _, col in ipairs(want) do
      assert(db:column_exists("notification_record", col), "notification_record." .. col .. " is missing")
    end
    assert(db:index_exists("notification_record", "idx_evt"), "index idx_evt is missing")
  end,

  down = function(db)
    db:exec("DROP TABLE IF EXISTS notification_record")
  end,
}
