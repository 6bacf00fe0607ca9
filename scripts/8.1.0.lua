-- Nightingale v8.1.0: on PostgreSQL the enable flags of notify rules and
-- channels become boolean.
--
-- Upstream: the PostgreSQL full schema (a-n9e-for-Postgres.sql) changes
-- between v8.0.0 and v8.1.0 from `enable smallint NOT NULL DEFAULT 0` to
-- `enable boolean DEFAULT false` on notify_channel and notify_rule; the
-- models (NotifyRule.Enable, NotifyChannelConfig.Enable) are Go bools, and
-- PostgreSQL users of v8.0.0 hit "unable to encode true into binary format
-- for int2" (ccfos/nightingale#2768, #2776).  No migrate.sql chunk (MySQL keeps
-- tinyint(1)); the SQLite file has no such tables and SQLite stores the
-- 0/1 flags as they are, so this version changes nothing on MySQL and
-- SQLite.  Reference: tests/reference/v9.1.1 PostgreSQL file.
local ddl = require("migrate.ddl")

local TABLES = { "notify_channel", "notify_rule" }

-- the column's type as the catalog spells it, lower case, or nil
local function column_type(db, tbl, col)
  local c = ddl.column(db, tbl, col)
  return c and c.type:lower()
end

return {
  version = "8.1.0",
  description = "PostgreSQL: notify_channel.enable and notify_rule.enable become boolean",
  -- smallint -> boolean keeps only zero / not zero (lint: a lossy type
  -- change); the flags hold 0 and 1, which become false and true
  destructive = true,

  up = function(db)
    if db.dialect ~= "postgres" then return end
    for _, t in ipairs(TABLES) do
      if column_type(db, t, "enable") ~= "boolean" then
        -- the smallint default 0 cannot be cast to boolean: drop it first
        ddl.alter_column(db, t, "enable", { postgres = { default = false } })
      end
      ddl.alter_column(db, t, "enable", {
        postgres = { type = "boolean", using = "enable <> 0", notnull = false, default = "false" },
      })
    end
  end,

  verify = function(db)
    if db.dialect ~= "postgres" then return end
    ddl.expect(db, {
      notify_channel = { columns = { enable = "bool" } },
      notify_rule = { columns = { enable = "bool" } },
    })
  end,

  -- back to v8.0.0's smallint NOT NULL DEFAULT 0 (true -> 1, false/NULL -> 0)
  down = function(db)
    if db.dialect ~= "postgres" then return end
    for _, t in ipairs(TABLES) do
      if column_type(db, t, "enable") == "boolean" then
        local q = db:quote_ident(t)
        db:exec(("UPDATE %s SET enable = false WHERE enable IS NULL"):format(q))
        db:exec(("ALTER TABLE %s ALTER COLUMN enable DROP DEFAULT, "
                 .. "ALTER COLUMN enable TYPE smallint USING CASE WHEN enable THEN 1 ELSE 0 END, "
                 .. "ALTER COLUMN enable SET NOT NULL, ALTER COLUMN enable SET DEFAULT 0"):format(q))
      end
    end
  end,
}
