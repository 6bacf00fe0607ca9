-- Nightingale v9.1.0: notification record indexes for the notify-rule event
-- query and the daily clean-up; longer AI descriptions.
--
-- Upstream (ccfos/nightingale; both chunks first shipped in v9.1.0):
--   * migrate.sql /* v9 2026-08-05 notification_record indexes … */ and
--     migrate.go migrateNotificationRecordIndexes (run at start, online:
--     MySQL ALGORITHM=INPLACE, LOCK=NONE; PostgreSQL CREATE INDEX
--     CONCURRENTLY; SQLite plain), the v9.1.0 full-schema files of all
--     three engines (idx_nr_rule_created_evt, idx_nr_created_at);
--   * migrate.sql /* v9 2026-08-01 widen ai_llm_config/ai_agent description
--     to text … */: MODIFY description text (nullable, no default).  Tables
--     that Nightingale's AutoMigrate created hold longtext (MySQL) or text
--     (PostgreSQL) already and are left alone: only varchar is widened.
--     SQLite stores any length in a varchar and keeps its declaration.
--
-- notification_record is large and written continuously.  MySQL: online
-- builds, written as CREATE INDEX … ALGORITHM=INPLACE LOCK=NONE so that the
-- MySQL journal inverts them with DROP INDEX instead of copying the table.
-- PostgreSQL: plain CREATE INDEX inside the version's transaction (writes
-- to notification_record wait for the build); CONCURRENTLY would need
-- `transaction = false`, which the column widening below cannot run under.
local ddl = require("migrate.ddl")

local NR_INDEXES = {
  { "idx_nr_rule_created_evt", { "notify_rule_id", "created_at", "event_id" } },
  { "idx_nr_created_at", { "created_at" } },
}

local function online(name, cols)
  local q = {}
  for k, c in ipairs(cols) do q[k] = "`" .. c .. "`" end
  return { mysql = ("CREATE INDEX `%s` ON `notification_record` (%s) ALGORITHM=INPLACE LOCK=NONE")
                     :format(name, table.concat(q, ", ")) }
end

local DESCRIPTIONS = { "ai_llm_config", "ai_agent" }

-- the column's type as the catalog spells it, lower case, or nil
local function column_type(db, tbl, col)
  local c = ddl.column(db, tbl, col)
  return c and c.type:lower()
end

return {
  version = "9.1.0",
  description = "notification_record idx_nr_rule_created_evt and idx_nr_created_at; AI descriptions as text",

  up = function(db)
    for _, i in ipairs(NR_INDEXES) do
      ddl.add_index(db, "notification_record", i[1], i[2], { def = online(i[1], i[2]) })
    end
    for _, t in ipairs(DESCRIPTIONS) do
      local ty = column_type(db, t, "description") or ""
      if ty:match("^varchar") or ty:match("^character varying") then
        ddl.alter_column(db, t, "description", {
          mysql = "text COMMENT 'description'",
          postgres = { type = "text", notnull = false, default = false },
        })
      end
    end
  end,

  verify = function(db)
    local idx = {}
    for _, i in ipairs(NR_INDEXES) do idx[i[1]] = i[2] end
    local text = { mysql = "text", postgres = "text", sqlite = true }
    ddl.expect(db, {
      notification_record = { indexes = idx },
      ai_llm_config = { columns = { description = text } },
      ai_agent = { columns = { description = text } },
    })
  end,

  -- Drops the two indexes (on MySQL the journal copies notification_record
  -- first: a DROP INDEX has no derived inverse).  The descriptions stay
  -- text: narrowing could cut them, and v9.0.0 reads text as well.
  down = function(db)
    for k = #NR_INDEXES, 1, -1 do ddl.drop_index(db, "notification_record", NR_INDEXES[k][1]) end
  end,
}
