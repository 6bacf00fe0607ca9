-- Nightingale v7.3.2: built-in payloads point at their component by id.
-- Upstream: gorm AutoMigrate of the shadow struct migrate.BuiltinPayloads
-- (ComponentID `type:bigint;index:idx_component;not null;default:0`; the
-- index name exists already, idx_component(component), so AutoMigrate adds
-- none) and of models.BuiltinComponent, whose Ident became
-- `uniqueIndex:idx_ident`; the MySQL file shows both from v7.3.2 (column)
-- and v7.7.2 (UNIQUE KEY idx_ident).  No migrate.sql chunk.  Definitions:
-- v7.7.2 MySQL a-n9e.sql; PostgreSQL translated (its files never got the
-- column; AutoMigrate adds it); SQLite docker/sqlite.sql of v8.0.0.
-- The unique idx_ident is MySQL only: the PostgreSQL and SQLite files keep
-- their non-unique ident indexes (idx_ident, idx_builtin_components_ident).
--
-- convert: Nightingale's start-up step models.InitBuiltinPayloads
-- (center/integration/init.go, v7.3.2+): every payload whose component_id
-- is 0 or NULL gets the id of the builtin_components row whose ident is the
-- payload's `component`.  Done once here, checked: no such row is left and
-- no other column of builtin_payloads changes.
local ddl = require("migrate.ddl")

local UNMAPPED = "(component_id = 0 OR component_id IS NULL) AND component IN (SELECT ident FROM builtin_components)"
local KEEP = { "id", "uuid", "type", "component", "cate", "name", "tags", "content", "created_at", "updated_at" }

local function ident_index(db)
  for _, i in ipairs(db:indexes("builtin_components")) do
    if i.name == "idx_ident" then return i end
  end
end

return {
  version = "7.3.2",
  description = "builtin_payloads.component_id (+ backfill); unique builtin_components.idx_ident (MySQL)",
  rewrites = { "builtin_payloads" },

  precheck = function(db)
    -- runs before any pending version: on a database still below v7.0.0
    -- the table does not exist yet, and has no rows to check
    if db.dialect ~= "mysql" or not db:table_exists("builtin_components") then return true end
    local dup = db:scalar("SELECT ident FROM builtin_components GROUP BY ident HAVING count(*) > 1")
    if dup then
      return false, ("builtin_components has several rows with ident '%s': idx_ident becomes UNIQUE; "
                     .. "delete the duplicates first"):format(dup)
    end
    return true
  end,

  up = function(db)
    ddl.add_column(db, "builtin_payloads", "component_id", {
      mysql = "bigint NOT NULL DEFAULT 0 COMMENT '''component_id of payload'''",
      postgres = "bigint NOT NULL DEFAULT 0",
      sqlite = "integer not null default 0" })
    if db.dialect == "mysql" then
      local i = ident_index(db)
      if i and not i.unique then ddl.drop_index(db, "builtin_components", "idx_ident") end
      ddl.add_index(db, "builtin_components", "idx_ident", { "ident" }, { unique = true })
    end
  end,

  convert = function(db, ctx)
    local before = db:checksum("builtin_payloads", KEEP)
    local n = db:exec("UPDATE builtin_payloads SET component_id = (SELECT MIN(c.id) FROM builtin_components c "
                      .. "WHERE c.ident = builtin_payloads.component) WHERE " .. UNMAPPED)
    ctx.log.info(("builtin_payloads: component_id set on %d row(s)"):format(n))
    db:assert_count("builtin_payloads", 0, UNMAPPED)
    db:assert_checksum(before, "builtin_payloads", KEEP)
  end,

  -- The backfill is not checked here: Nightingale itself adds payloads
  -- later, and its own start-up fills their component_id.
  verify = function(db)
    ddl.expect(db, { builtin_payloads = { columns = { component_id = { mysql = "bigint", postgres = "bigint",
                                                                        sqlite = "int" } } } })
  end,

  -- the unique idx_ident stays (a narrower index would only lose a check)
  down = function(db)
    if db:column_exists("builtin_payloads", "component_id") then
      db:exec("ALTER TABLE builtin_payloads DROP COLUMN component_id")
    end
  end,
}
