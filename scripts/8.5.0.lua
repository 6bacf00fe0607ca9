-- Nightingale v8.5.0: notes on dashboards and built-in payloads.
--
-- Upstream: migrate.sql chunk /* v8.4.2 2025-11-13 */ (board.note,
-- builtin_payloads.note), first shipped in v8.5.0 (there is no v8.4.2
-- release); the Board and BuiltinPayloads shadow structs of AutoMigrate;
-- the full-schema files of all three engines from v8.5.0 (definitions
-- below as in tests/reference/v9.1.1 of each engine).
local ddl = require("migrate.ddl")

local NOTES = {
  board = { mysql = "varchar(1024) NOT NULL DEFAULT '' COMMENT 'note'",
            postgres = "varchar(1024) NOT NULL DEFAULT ''", sqlite = "varchar(1024) NOT NULL DEFAULT ''" },
  builtin_payloads = { mysql = "varchar(1024) NOT NULL DEFAULT '' COMMENT '''note of payload'''",
                       postgres = "VARCHAR(1024) NOT NULL DEFAULT ''", sqlite = "varchar(1024) NOT NULL DEFAULT ''" },
}

return {
  version = "8.5.0",
  description = "board.note and builtin_payloads.note",

  up = function(db)
    ddl.add_column(db, "board", "note", NOTES.board)
    ddl.add_column(db, "builtin_payloads", "note", NOTES.builtin_payloads)
  end,

  verify = function(db)
    ddl.expect(db, {
      board = { columns = { note = "varchar(1024)" } },
      builtin_payloads = { columns = { note = "varchar(1024)" } },
    })
  end,

  down = function(db)
    for _, t in ipairs({ "builtin_payloads", "board" }) do
      if db:column_exists(t, "note") then
        db:exec(("ALTER TABLE %s DROP COLUMN note"):format(db:quote_ident(t)))
      end
    end
  end,
}
