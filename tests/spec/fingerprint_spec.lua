-- Recognising the Nightingale release of an unmanaged database
-- (migrate.fingerprint), on the engine named by $N9E_TEST_ENGINE: every
-- reference schema Nightingale ships (tests/reference/), hand-altered ones,
-- and synthetic descriptions built from the marker table itself.
local fingerprint = require("migrate.fingerprint")
local testing = require("migrate.testing")
local version = require("migrate.version")

local ENGINE = testing.engine()
local ENGINES = { "mysql", "postgres", "sqlite" }

-- The project's script versions (9.1.1 changed no schema).
local SCRIPT_VERSIONS = { "6.7.3", "7.0.0", "7.1.0", "7.2.0", "7.3.0", "7.3.2", "7.4.0", "7.5.0", "7.7.0", "7.7.2",
                          "8.0.0", "8.1.0", "8.4.0", "8.4.1", "8.5.0", "8.5.1", "9.0.0", "9.1.0" }

-- What each reference file loads as, per engine (nil: no file for that
-- engine at that tag).  Why, in short (the module comment has the whole
-- argument):
--   v7.0.0 PostgreSQL: its files never carry original_tags or
--     recording_rule.cron_pattern (optional there); all else of 7.0.0 is in.
--   v7.0.0 SQLite: the project's SQLite 7.0.0 baseline is this very file.
--   v7.7.2 PostgreSQL/SQLite: stale files, a 7.0.0 schema without target.os,
--     notification_record, host_tags, target_busi_group (which their v8.0.0
--     files have) plus the v7.3.2 trigger_value widening: between 7.0.0 and
--     7.3.2, baseline 7.0.0 (the idempotent scripts add the rest).
--   v9.1.1: 9.1.1 changed no schema; 9.1.0 is the last script version with
--     changes.  The nine tables no v9.1.1 file has (ai_*, saved_view, ...)
--     and the v8 notification tables the SQLite file lacks are evidence only.
local REFERENCES = {
  { tag = "v6.7.3",
    mysql = { status = "exact", version = "6.7.3" },
    postgres = { status = "exact", version = "6.7.3" } },
  { tag = "v7.0.0",
    mysql = { status = "exact", version = "7.0.0" },
    postgres = { status = "exact", version = "7.0.0" },
    sqlite = { status = "exact", version = "7.0.0" } },
  { tag = "v7.7.2",
    mysql = { status = "exact", version = "7.7.2" },
    postgres = { status = "between", version = "7.0.0", lower = "7.0.0", upper = "7.3.2" },
    sqlite = { status = "between", version = "7.0.0", lower = "7.0.0", upper = "7.3.2" } },
  { tag = "v8.0.0",
    mysql = { status = "exact", version = "8.0.0" },
    postgres = { status = "exact", version = "8.0.0" },
    sqlite = { status = "exact", version = "8.0.0" } },
  { tag = "v9.1.1",
    mysql = { status = "exact", version = "9.1.0" },
    postgres = { status = "exact", version = "9.1.0" },
    sqlite = { status = "exact", version = "9.1.0" } },
}

-- Run fn(db) on a throwaway database of the test engine, loaded with
-- reference tag when one is given; the database is dropped afterwards.
local function with_db(tag, fn)
  local db = testing.db()
  local ok, err = pcall(function()
    if tag then testing.load_reference(db, tag) end
    fn(db)
  end)
  getmetatable(db).__close(db)
  if not ok then error(err, 0) end
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do
    if v == x then return true end
  end
  return false
end

local function summary(r)
  return { status = r.status, version = r.version, lower = r.lower, upper = r.upper }
end

-- A description (schema.describe shape) holding exactly the markers the
-- engine requires of every release up to `upto`.
local function synthesize(engine, upto)
  local desc = {}
  local function tab(name)
    desc[name] = desc[name] or { columns = {}, indexes = {} }
    return desc[name]
  end
  local function column(t, c, spec)
    t.columns[c] = t.columns[c] or spec or { type = "text", notnull = false, pk = false }
  end
  for _, rel in ipairs(fingerprint.MARKERS) do
    if version.lt(upto, rel.version) then break end
    for _, m in ipairs(rel.markers) do
      if fingerprint.role(m, engine) == "required" then
        local t = tab(m.table)
        if m.kind == "table" then
          for _, c in ipairs(m.columns) do column(t, c) end
        elseif m.kind == "column" then
          column(t, m.column)
        elseif m.kind == "nullable" then
          t.columns[m.column] = { type = "varchar(1024)", notnull = false, pk = false }
        elseif m.kind == "type" then
          t.columns[m.column] = { type = m.types[1], notnull = false, pk = false }
        elseif m.kind == "index" then
          for _, c in ipairs(m.columns) do column(t, c) end
          t.indexes["synthetic_" .. m.name:gsub("%W", "_")] = { unique = m.unique or false, columns = m.columns }
        end -- no_index: the table exists (made above) and has no such index
      end
    end
  end
  return desc
end

describe("fingerprint (" .. ENGINE .. ")", function()
  describe("the marker table", function()
    it("has one entry per script version, in release order", function()
      local seen = {}
      for _, rel in ipairs(fingerprint.MARKERS) do seen[#seen + 1] = rel.version end
      assert.are.same(SCRIPT_VERSIONS, seen)
    end)

    it("names every marker once and only uses known kinds and engines", function()
      local names = {}
      local kinds = { table = true, column = true, index = true, no_index = true, nullable = true, type = true }
      for _, rel in ipairs(fingerprint.MARKERS) do
        for _, m in ipairs(rel.markers) do
          assert.is_string(m.name)
          assert.is_nil(names[m.name], "marker named twice: " .. m.name)
          names[m.name] = rel.version
          assert.is_true(kinds[m.kind] == true, m.name .. ": kind " .. tostring(m.kind))
          assert.is_string(m.table)
          for _, e in ipairs(m.optional or {}) do assert.is_true(contains(ENGINES, e), m.name) end
          for _, e in ipairs(m.only or {}) do assert.is_true(contains(ENGINES, e), m.name) end
          if m.optional then assert.is_string(m.note, m.name .. " is optional without a reason") end
        end
      end
    end)

    it("recognises every release it can prove from exactly its own markers, on every engine", function()
      for _, engine in ipairs(ENGINES) do
        local last_provable
        for _, rel in ipairs(fingerprint.MARKERS) do
          local required = 0
          for _, m in ipairs(rel.markers) do
            if fingerprint.role(m, engine) == "required" then required = required + 1 end
          end
          if required > 0 and not version.lt(rel.version, fingerprint.FLOOR[engine]) then
            last_provable = rel.version
          end
          local r = fingerprint.identify(nil, { engine = engine, description = synthesize(engine, rel.version) })
          if last_provable then
            -- a release without required markers reads as the one before it
            assert.are.same({ status = "exact", version = last_provable }, summary(r),
                            engine .. " " .. rel.version .. ": " .. r.detail)
          else
            assert.are.equal("unknown", r.status, engine .. " " .. rel.version) -- SQLite below 7.0.0
          end
        end
      end
    end)
  end)

  describe("Nightingale's own reference schemas", function()
    for _, ref in ipairs(REFERENCES) do
      local want = ref[ENGINE]
      if want then
        it(("loads %s as %s %s"):format(ref.tag, want.status, want.lower and (want.lower .. "-" .. want.upper)
                                                                     or want.version), function()
          with_db(ref.tag, function(db)
            local r = fingerprint.identify(db)
            assert.are.same(want, summary(r), fingerprint.explain(r))
            assert.are.equal(ENGINE, r.engine)
            assert.is_true(#r.matched > 0)
            assert.are.same({}, r.conflicts)
            assert.is_true(#r.closest >= 1 and #r.closest <= 3)
            if want.status == "exact" then
              assert.are.same({}, r.missing)
              assert.are.same({ version = want.version, score = 1, missing = {}, unexpected = {} }, r.closest[1])
            else
              assert.is_true(#r.missing > 0)
              assert.are.equal(want.lower, r.closest[1].version)
              assert.is_true(r.closest[1].score < 1)
            end
          end)
        end)
      end
    end
  end)

  it("calls an empty database unknown", function()
    with_db(nil, function(db)
      local r = fingerprint.identify(db)
      assert.are.equal("unknown", r.status)
      assert.matches("empty", r.detail)
      assert.is_nil(r.version)
      assert.matches("not recognised", fingerprint.explain(r))
    end)
  end)

  it("refuses a schema that is not Nightingale and lists the closest releases with low scores", function()
    with_db(nil, function(db)
      db:exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(64))")
      db:exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER)")
      local r = fingerprint.identify(db)
      assert.are.equal("unknown", r.status)
      assert.is_nil(r.version)
      assert.matches("not a Nightingale schema", r.detail)
      assert.is_true(contains(r.missing, "table users"))
      assert.are.equal(3, #r.closest)
      for _, c in ipairs(r.closest) do
        assert.is_true(c.score < 0.2, c.version .. " scores " .. c.score)
        assert.is_true(#c.missing > 0)
      end
      local text = fingerprint.explain(r)
      assert.matches("closest releases", text)
      assert.matches(r.closest[1].version, text, 1, true)
    end)
  end)

  it("refuses contradicting markers: a foreign table under a Nightingale name", function()
    with_db("v8.0.0", function(db)
      db:exec("DROP TABLE dash_annotation")
      db:exec("CREATE TABLE dash_annotation (id INTEGER PRIMARY KEY, foo VARCHAR(10))")
      local r = fingerprint.identify(db)
      assert.are.equal("unknown", r.status)
      assert.is_nil(r.version)
      assert.matches("contradicting", r.detail)
      assert.are.equal(1, #r.conflicts)
      assert.matches("dash_annotation exists but lacks columns dashboard_id, panel_id", r.conflicts[1], 1, true)
      assert.is_true(#r.closest > 0)
      assert.matches("contradiction: table dash_annotation", fingerprint.explain(r), 1, true)
    end)
  end)

  it("reads a v7.0.0 database with a 9.0.0 column added by hand as between", function()
    with_db("v7.0.0", function(db)
      db:exec("ALTER TABLE alert_rule ADD COLUMN time_zone VARCHAR(64)")
      local r = fingerprint.identify(db)
      assert.are.same({ status = "between", version = "7.0.0", lower = "7.0.0", upper = "9.0.0" }, summary(r))
      assert.is_true(contains(r.matched, "column alert_rule.time_zone"))
      assert.is_true(contains(r.missing, "column target.os"))
      assert.is_true(contains(r.missing, "column datasource.weight"))
      assert.are.equal("7.0.0", r.closest[1].version)
      assert.are.same({ "column alert_rule.time_zone" }, r.closest[1].unexpected)
      local text = fingerprint.explain(r)
      assert.matches("between 7.0.0 and 9.0.0 (record 7.0.0 as the baseline)", text, 1, true)
      assert.matches("markers missing", text, 1, true)
    end)
  end)

  it("reads a half-applied release as between: v9.1.1 without one of the two 9.1.0 indexes", function()
    with_db("v9.1.1", function(db)
      for _, i in ipairs(db:indexes("notification_record")) do
        if #i.columns == 1 and i.columns[1] == "created_at" then
          db:exec("DROP INDEX " .. db:quote_ident(i.name) .. (ENGINE == "mysql" and " ON notification_record" or ""))
        end
      end
      local r = fingerprint.identify(db)
      assert.are.same({ status = "between", version = "9.0.0", lower = "9.0.0", upper = "9.1.0" }, summary(r))
      assert.are.same({ "index notification_record(created_at)" }, r.missing)
    end)
  end)

  it("reads a v7.0.0 schema without builtin_metrics as below 7.0.0 (SQLite: nothing below to record)", function()
    with_db("v7.0.0", function(db)
      db:exec("DROP TABLE builtin_metrics")
      local r = fingerprint.identify(db)
      if ENGINE == "sqlite" then
        assert.are.equal("unknown", r.status)
        assert.is_nil(r.version)
        assert.matches("7.0.0", r.detail, 1, true)
        assert.are.same({ "table builtin_metrics" }, r.missing)
        assert.are.equal("7.0.0", r.closest[1].version)
      else
        assert.are.same({ status = "between", version = "6.7.3", lower = "6.7.3", upper = "7.0.0" }, summary(r))
        assert.are.same({ "table builtin_metrics" }, r.missing)
      end
    end)
  end)

  it("finds an index by its columns whatever its name", function()
    with_db("v7.0.0", function(db)
      -- the 7.1.0 column and index under a name neither gorm nor the files use
      db:exec("ALTER TABLE target ADD COLUMN os VARCHAR(31) DEFAULT ''")
      db:exec("CREATE INDEX made_by_hand ON target (os)")
      local r = fingerprint.identify(db)
      assert.are.same({ status = "exact", version = "7.1.0" }, summary(r))
    end)
  end)
end)
