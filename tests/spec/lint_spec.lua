-- `lint` rules on crafted script sources: each fires where it should, on
-- the right line, and stays quiet where it should not.  No database.
local lint = require("migrate.lint")
local lint_sql = require("migrate.lint_sql")

--- Lint sources { [name] = text } (luacheck too unless opts.luacheck == false).
local function check(files, opts)
  local sources, names = {}, {}
  for name in pairs(files) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do sources[#sources + 1] = { name = name, text = files[name] } end
  return (lint.check(sources, { no_luacheck = not (opts and opts.luacheck) }))
end

--- The findings of one rule, as "name:line: severity: message".
local function of(findings, rule)
  local out = {}
  for _, f in ipairs(findings) do
    if f.rule == rule then
      out[#out + 1] = ("%s:%s: %s: %s"):format(f.script, tostring(f.line), f.severity, f.message)
    end
  end
  return out
end

local function script(v, body) return ("return {\n  version = %q,\n%s\n}\n"):format(v, body) end

local CREATE_T = script("1.0.0", [[
  up = function(db)
    db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(64), n INT, big BIGINT, note TEXT)")
  end,
  down = function(db) db:exec("DROP TABLE t") end,]])

--- Lint CREATE_T and a 1.1.0 whose up runs these statements, from line 4 on.
local function after_create(statements)
  local up = {}
  for i, sql in ipairs(statements) do up[i] = ("    db:exec(%q)\n"):format(sql) end
  return check({ ["a.lua"] = CREATE_T, ["b.lua"] = script("1.1.0", "  up = function(db)\n" .. table.concat(up)
                                                                    .. "  end,\n  down = function() end,") })
end

-- the findings' texts
local function dropped(at, what, steps)
  return ("%s: error: %s in %s loses data; only `down` may do that, unless the script declares destructive = true")
    :format(at, what, steps or "up")
end
local function narrowed(at, column, old, new, dialect, via)
  return ("%s: error: %s narrows from %s to %s (%s)%s in up: values that do not fit are cut or refused; declare "
          .. "destructive = true if that is intended"):format(at, column, old, new, dialect, via or "")
end
local function unjudged(at, column, new, dialect)
  return ("%s: warning: %s becomes %s (%s) in up, but no earlier script declares its type: lint cannot tell "
          .. "whether that narrows"):format(at, column, new, dialect)
end


describe("lint", function()
  describe("luacheck", function()
    it("reports luacheck's warnings with their line, under the project's settings for scripts", function()
      local f = check({ ["scripts/a.lua"] = "local unused = 1\n" .. script("1.0.0", [[
  up = function(db) db:exec(json.encode({})) end,
  down = function() end,]]) }, { luacheck = true })
      assert.are.same({ "scripts/a.lua:1: error: (W211) unused variable 'unused'" }, of(f, "luacheck"))
    end)

    it("says nothing about a clean script (json is a global of scripts)", function()
      local f = check({ ["scripts/a.lua"] = script("1.0.0", [[
  up = function(db) db:exec("SELECT ?", json.encode({})) end,
  down = function() end,]]) }, { luacheck = true })
      assert.are.same({}, f)
    end)

    it("reports a syntax error as luacheck's and as the loader's", function()
      local f = check({ ["scripts/a.lua"] = "return {\n  version = '1.0.0',\n  up = function( end,\n}\n" },
                      { luacheck = true })
      assert.are.equal(1, #of(f, "luacheck"))
      assert.matches("^scripts/a.lua:3: error: ", of(f, "luacheck")[1])
      assert.matches("^scripts/a.lua:3: error: does not load: ", of(f, "load")[1])
    end)
  end)

  describe("load", function()
    it("reports a script that does not load, and fields the runner refuses", function()
      local f = check({
        ["a.lua"] = "local x = nil\nreturn x.y\n",
        ["b.lua"] = script("1.0.0", "  up = function() end, down = function() end, frobnicate = 1,"),
        ["c.lua"] = script("1.1.0", "  up = function() end, down = function() end, destructive = 'yes',"),
        ["d.lua"] = script("1.2.0", "  up = function() end, irreversible = '  ',"),
      })
      local load = of(f, "load")
      assert.are.equal(4, #load)
      assert.matches("^a.lua:2: error: does not load: ", load[1])
      assert.matches("unknown field 'frobnicate'", load[2])
      assert.matches("destructive must be true or false", load[3])
      assert.matches("irreversible must say why", load[4])
    end)
  end)

  describe("version", function()
    it("reports a version that does not parse, at its line", function()
      local f = check({ ["a.lua"] = "\n" .. script("x.y", "  up = function() end, down = function() end,") })
      assert.are.same({ "a.lua:3: error: 'x.y' is not a version (expected MAJOR.MINOR.PATCH[-PRERELEASE], "
                        .. "e.g. 7.0.1 or 7.0.0-beta.3)" }, of(f, "version"))
    end)

    it("names both files of a duplicate version", function()
      local body = "  up = function() end, down = function() end,"
      local f = check({ ["d/one.lua"] = script("1.0.0", body), ["d/two.lua"] = script("v1.0.0", body) })
      assert.are.same({ "d/two.lua:2: error: scripts d/one.lua and d/two.lua both have version 1.0.0" },
                      of(f, "version"))
    end)

    it("checks a file name that says a version against the declared one", function()
      local body = "  up = function() end, down = function() end,"
      local f = check({ ["s/1.1.0.lua"] = script("1.2.0", body), ["s/1.3.0_add_x.lua"] = script("1.4.0", body),
                        ["s/v1.5.0.lua"] = script("1.5.0", body), ["s/1.6.0_ok.lua"] = script("1.6.0", body),
                        ["s/v2.lua"] = script("2.0.0", body), ["s/7.0.0-beta.3.lua"] = script("7.0.0-beta.3", body) })
      assert.are.same({ "s/1.1.0.lua:2: error: the file name says version 1.1.0 but the script declares 1.2.0",
                        "s/1.3.0_add_x.lua:2: error: the file name says version 1.3.0 but the script declares 1.4.0" },
                      of(f, "version"))
    end)

    it("wants min_from to name an earlier version of the chain", function()
      local body = "  up = function() end, down = function() end,"
      local f = check({
        ["a.lua"] = script("1.0.0", body),
        ["b.lua"] = script("1.1.0", "  min_from = '1.0.0',\n" .. body),
        ["c.lua"] = script("1.2.0", "  min_from = '1.2.0',\n" .. body),
        ["d.lua"] = script("1.3.0", "  min_from = '2.0.0',\n" .. body),
        ["e.lua"] = script("1.4.0", "  min_from = '0.9.0',\n" .. body),
      })
      assert.are.same({
        "c.lua:3: error: min_from 1.2.0 is not below the script's own version 1.2.0: no database could apply it",
        "d.lua:3: error: min_from 2.0.0 is not below the script's own version 1.3.0: no database could apply it",
        "e.lua:3: warning: min_from 0.9.0 is the version of no script here",
      }, of(f, "version"))
    end)
  end)

  describe("destructive", function()
    it("reports DROP TABLE, DROP COLUMN and TRUNCATE outside down, at their lines", function()
      local f = after_create({ "DROP TABLE IF EXISTS legacy", "ALTER TABLE t DROP COLUMN n", "alter table t drop note",
                               "TRUNCATE TABLE t" })
      assert.are.same({ dropped("b.lua:4", "DROP TABLE legacy"), dropped("b.lua:5", "DROP COLUMN t.n"),
                        dropped("b.lua:6", "DROP COLUMN t.note"), dropped("b.lua:7", "TRUNCATE t") },
                      of(f, "destructive"))
    end)

    it("finds them in long strings, concatenations and helpers, on the line of the statement", function()
      local f = check({ ["a.lua"] = [[
local function drop(db, t, c)
  db:exec("ALTER TABLE " .. db:quote_ident(t) .. " DROP COLUMN " .. db:quote_ident(c))
end
local SCHEMA = [==[
CREATE TABLE x (a INT);
-- DROP TABLE y; (a comment)
INSERT INTO x VALUES (1);
DROP TABLE y]==]
return {
  version = "1.0.0",
  up = function(db)
    db:exec_script(SCHEMA)
    drop(db, "x", "a")
  end,
  down = function(db) drop(db, "x", "b") end,
}
]] })
      assert.are.same({ dropped("a.lua:2", "DROP COLUMN", "down and up"), dropped("a.lua:8", "DROP TABLE y") },
                      of(f, "destructive"))
    end)

    it("lets down drop, also through helpers only down uses", function()
      local f = check({ ["a.lua"] = [[
local function drop_all(db) db:exec("DROP TABLE t") end
return {
  version = "1.0.0",
  up = function(db) db:exec("CREATE TABLE t (a INT)") end,
  down = function(db)
    drop_all(db)
    db:exec(("ALTER TABLE %s DROP COLUMN %s"):format("t", "a"))
  end,
}
]] })
      assert.are.same({}, of(f, "destructive"))
    end)

    it("is not fooled by comments, quoted SQL text, descriptions or index drops", function()
      local f = check({ ["a.lua"] = CREATE_T, ["b.lua"] = [[
local ddl = require("migrate.ddl")
-- db:exec("DROP TABLE t")
return {
  version = "1.1.0",
  description = "DROP TABLE t is what this does not do",
  up = function(db)
    db:exec("INSERT INTO t (name) VALUES ('DROP TABLE t; TRUNCATE t')")
    db:exec("UPDATE t SET name = 'x' /* DROP TABLE t */ WHERE n = 1")
    db:exec("DROP INDEX idx_n")
    db:exec("ALTER TABLE t DROP INDEX idx_n, DROP CONSTRAINT c, DROP PRIMARY KEY")
    ddl.drop_index(db, "t", "idx_name")
  end,
  down = function() end,
}
]] })
      assert.are.same({}, of(f, "destructive"))
    end)

    it("lets a script drop the work tables and columns it makes itself", function()
      local f = after_create({ "CREATE TABLE t_work (id INT)", "ALTER TABLE t ADD COLUMN scratch INT",
                               "DROP TABLE t_work", "ALTER TABLE t DROP COLUMN scratch" })
      assert.are.same({}, of(f, "destructive"))
    end)

    it("accepts them in a script that declares destructive = true, and warns when it finds none", function()
      local f = check({ ["a.lua"] = CREATE_T,
                        ["b.lua"] = script("1.1.0", [[
  destructive = true,
  up = function(db) db:exec("ALTER TABLE t DROP COLUMN n") end,
  down = function() end,]]),
                        ["c.lua"] = script("1.2.0", [[
  destructive = true,
  up = function(db) db:exec("ALTER TABLE t ADD COLUMN m INT") end,
  down = function(db) db:exec("ALTER TABLE t DROP COLUMN m") end,]]) })
      assert.are.same({ "c.lua:3: warning: declares destructive = true, but lint finds no destructive statement "
                        .. "outside down (it reads SQL literals and migrate.ddl calls; SQL computed at run time "
                        .. "is not seen)" }, of(f, "destructive"))
    end)

    it("reports type changes that narrow what an earlier script declared, and passes widenings", function()
      local f = after_create({ "ALTER TABLE t MODIFY COLUMN name varchar(255) NOT NULL DEFAULT ''",
                               "ALTER TABLE t MODIFY n bigint", "ALTER TABLE t MODIFY COLUMN big int",
                               "ALTER TABLE t ALTER COLUMN note TYPE varchar(100)",
                               "ALTER TABLE t CHANGE COLUMN name title varchar(16)" })
      assert.are.same({ narrowed("b.lua:6", "t.big", "bigint", "int", "mysql"),
                        narrowed("b.lua:7", "t.note", "text", "varchar(100)", "postgres"),
                        narrowed("b.lua:8", "t.name", "varchar(255)", "varchar(16)", "mysql") },
                      of(f, "destructive"))
    end)

    it("follows migrate.ddl calls through loops over constant lists, per engine", function()
      local f = check({ ["a.lua"] = CREATE_T, ["b.lua"] = [[
local ddl = require("migrate.ddl")
local CHANGES = {
  { "t", "name", { mysql = "varchar(32) NOT NULL", postgres = { type = "text" } } },
  { "t", "n", { mysql = "bigint", postgres = { type = "smallint" } } },
}
return {
  version = "1.1.0",
  up = function(db)
    for _, c in ipairs(CHANGES) do ddl.alter_column(db, c[1], c[2], c[3]) end
  end,
  down = function() end,
}
]] })
      assert.are.same({ narrowed("b.lua:9", "t.n", "int", "smallint", "postgres", " (ddl.alter_column)"),
                        narrowed("b.lua:9", "t.name", "varchar(64)", "varchar(32)", "mysql", " (ddl.alter_column)") },
                      of(f, "destructive"))
    end)

    it("knows the types migrate.ddl.add_column declared", function()
      local narrowing = script("1.1.0", [[
  up = function(db) db:exec("ALTER TABLE t ALTER COLUMN c TYPE varchar(8)") end,
  down = function() end,]])
      local want = { narrowed("b.lua:3", "t.c", "text", "varchar(8)", "postgres") }
      local f = check({ ["a.lua"] = script("1.0.0", [[
  up = function(db)
    require("migrate.ddl").add_column(db, "t", "c", { mysql = "varchar(64) NOT NULL", postgres = "text" })
  end,
  down = function() end,]]), ["b.lua"] = narrowing })
      assert.are.same(want, of(f, "destructive"))
      f = check({ ["a.lua"] = [[
local ddl = require("migrate.ddl")
return { version = "1.0.0", down = function() end,
  up = function(db) ddl.add_column(db, "t", "c", { mysql = "varchar(64) NOT NULL", postgres = "text" }) end }
]], ["b.lua"] = narrowing })
      assert.are.same(want, of(f, "destructive"))
    end)

    it("cannot judge a change to a type it does not know the old one of, except to unbounded text", function()
      local f = check({ ["a.lua"] = script("1.0.0", [[
  up = function(db)
    db:exec("ALTER TABLE other ALTER COLUMN a TYPE text")
    db:exec("ALTER TABLE other MODIFY COLUMN b int")
    db:exec("ALTER TABLE other MODIFY COLUMN c longtext")
    db:exec("ALTER TABLE other MODIFY COLUMN d text")
  end,
  down = function() end,]]) })
      assert.are.same({ unjudged("a.lua:5", "other.b", "int", "mysql"), unjudged("a.lua:7", "other.d", "text", "mysql") },
                      of(f, "destructive"))
    end)
  end)

  describe("type widening", function()
    local function holds(old, new, dialect)
      return lint_sql.holds(lint_sql.type_info(old, dialect), lint_sql.type_info(new, dialect))
    end
    it("passes known widenings and refuses narrowing or lossy changes", function()
      local widen = { { "int", "bigint" }, { "int unsigned", "bigint" }, { "varchar(16)", "varchar(191)" },
                      { "varchar(1024)", "text", "mysql" }, { "text", "mediumtext", "mysql" },
                      { "varchar(255)", "text", "postgres" }, { "smallint", "integer", "postgres" },
                      { "tinyint(1)", "bigint(20)", "mysql" }, { "decimal(10,2)", "decimal(12,4)" },
                      { "date", "datetime" }, { "int", "varchar(64)" } }
      local narrow = { { "bigint", "int" }, { "bigint unsigned", "bigint", "mysql" },
                       { "bigint", "bigint unsigned", "mysql" }, { "text", "varchar(1024)", "mysql" },
                       { "mediumtext", "text", "mysql" }, { "varchar(64)", "varchar(16)" },
                       { "smallint", "boolean", "postgres" }, { "decimal(10,2)", "decimal(10,1)" },
                       { "datetime", "timestamp", "mysql" }, { "varchar(64)", "int" }, { "double", "float", "mysql" } }
      for _, c in ipairs(widen) do assert.is_true(holds(c[1], c[2], c[3]), c[1] .. " -> " .. c[2]) end
      for _, c in ipairs(narrow) do assert.is_false(holds(c[1], c[2], c[3]), c[1] .. " -> " .. c[2]) end
    end)
  end)

  describe("down", function()
    it("wants a down when up only creates, and accepts irreversible = \"why\" instead", function()
      local f = check({
        ["a.lua"] = script("1.0.0", [[
  up = function(db)
    db:exec("CREATE TABLE t (a INT)")
    db:exec("CREATE INDEX i ON t (a)")
  end,]]),
        ["b.lua"] = script("1.1.0", [[
  irreversible = "the first version",
  up = function(db) db:exec("CREATE TABLE u (a INT)") end,]]),
        ["c.lua"] = script("1.2.0", [[
  up = function(db) db:exec("CREATE TABLE v (a INT)") end,
  down = function(db) db:exec("DROP TABLE v") end,]]),
      })
      assert.are.same({ "a.lua:3: error: up only makes changes that can be undone (create index, create table) but "
                        .. "there is no down: write one, or declare irreversible = \"why\"" }, of(f, "down"))
    end)

    it("warns when an up that changes rows has no down, and says nothing about an empty up", function()
      local f = check({
        ["a.lua"] = script("1.0.0", [[
  up = function(db) db:exec("UPDATE t SET a = 1") end,]]),
        ["b.lua"] = script("1.1.0", [[
  up = function() end,]]),
      })
      assert.are.same({ "a.lua:3: warning: no down: rollback below 1.0.0 is refused; write one, or declare "
                        .. "irreversible = \"why\" when it cannot be undone" }, of(f, "down"))
    end)

    it("refuses irreversible together with a down", function()
      local f = check({ ["a.lua"] = script("1.0.0", [[
  irreversible = "never",
  up = function() end,
  down = function() end,]]) })
      assert.are.same({ "a.lua:3: error: declares irreversible but has a down: drop one of them" }, of(f, "down"))
    end)
  end)

  it("finds nothing in the built-in scripts", function()
    local r = lint.run({})
    local lines = {}
    for _, x in ipairs(r.findings) do lines[#lines + 1] = ("%s:%s: [%s] %s"):format(x.script, x.line, x.rule, x.message) end
    assert.are.same({}, lines)
    assert.are.equal(0, r.exit)
    assert.is_true(r.scripts >= 20)
  end)
end)
