-- Nightingale v7.5.0: ibex's task_host_doing under gorm's index names.
-- Upstream: models/migrate/migrate.go MigrateIbexTables switches from
-- ibex's TaskHostDoing to the shadow struct migrate.TaskHostDoing (Id
-- `index;primaryKey:false`, Host `size:128;not null;index`); gorm names
-- those indexes idx_task_host_doing_id and idx_task_host_doing_host and
-- looks them up by name, so on a MySQL database created from a-n9e.sql
-- (keys named `id` and `host`) every start with [Ibex] Enable would build a
-- second pair.  The indexes are renamed to gorm's names (v7.7.2 MySQL
-- a-n9e.sql has exactly these); no column changes (host is varchar(128)
-- in every file already).  No migrate.sql chunk.
-- MySQL only: the SQLite file names them idx_task_host_doing_id/_host
-- already; PostgreSQL keeps the b-ibex-for-Postgres.sql names
-- (task_host_doing_id_idx, task_host_doing_host_idx), unchanged in every
-- PostgreSQL release file.
local ddl = require("migrate.ddl")

return {
  version = "7.5.0",
  description = "task_host_doing indexes under gorm's names (MySQL)",
  dialects = { "mysql" },

  up = function(db)
    ddl.add_index(db, "task_host_doing", "idx_task_host_doing_id", { "id" })
    ddl.add_index(db, "task_host_doing", "idx_task_host_doing_host", { "host" })
  end,

  verify = function(db)
    ddl.expect(db, { task_host_doing = { columns = { id = "bigint", host = "varchar(128)" },
                                         indexes = { idx_task_host_doing_id = { "id" },
                                                     idx_task_host_doing_host = { "host" } } } })
  end,

  down = function(db)
    ddl.rename_index(db, "task_host_doing", "idx_task_host_doing_id", "id")
    ddl.rename_index(db, "task_host_doing", "idx_task_host_doing_host", "host")
  end,
}
