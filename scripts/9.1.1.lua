-- Nightingale v9.1.1: no schema change on any engine (release-markers.txt
-- lists no migrate.sql chunk for it, and its full-schema files equal what
-- 9.1.0 leaves).  The script exists so that a database brought to the
-- release this binary targets says so: `status` shows 9.1.1, and
-- `run --to 9.1.1` names a version the binary knows.
return {
  version = "9.1.1",
  description = "Nightingale v9.1.1 (no schema change)",
  up = function() end,
  down = function() end,
}
