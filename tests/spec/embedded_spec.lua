-- What the build embeds: every file of lua/ and scripts/, with the
-- SHA-256 of its source taken at build time (history compares it with
-- the checksum of applied scripts, so it must be the source's own).
local sys = require("n9e.sys")

describe("embedded files", function()
  it("carry the SHA-256 of their own source", function()
    local names = sys.embedded("")
    assert.is_true(#names > 20)
    for _, name in ipairs(names) do
      local text, sum = sys.embedded_read(name)
      assert.are.equal(sys.sha256(text), sum, name)
    end
  end)

  it("load as chunks named by their file, with line numbers in errors", function()
    local scripts = require("migrate.scripts")
    local list = scripts.load_all({ dialect = "sqlite", allowed_paths = {} })
    assert.is_true(#list > 10)
    for _, s in ipairs(list) do
      assert.matches("^scripts/.+%.lua$", s.name)
      assert.are.equal(debug.getinfo(s.module.up, "S").source, "@" .. s.name)
      assert.is_true(debug.getinfo(s.module.up, "S").linedefined > 0)
    end
    -- the library too (unless --lua-path points elsewhere)
    local info = debug.getinfo(require("migrate.version").parse, "S")
    if info.source:match("^@lua/") then
      assert.are.equal("@lua/migrate/version.lua", info.source)
      assert.is_true(info.linedefined > 0)
    end
  end)
end)
