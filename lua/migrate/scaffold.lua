--- `new VERSION DESCRIPTION`: a script skeleton and a busted spec for it.
local errors = require("migrate.errors")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

local SCRIPT = [[
-- %s: %s
-- Every step gets `db` (exec/query/tx/quote_ident/... and db.dialect) and
-- `ctx` (version, from, to, log).  Only `version` and `up` are required.
-- The arguments are named _db and _ctx until a step uses them (luacheck,
-- and so `lint`, flags unused arguments): rename them as you fill a step in.
return {
  version = %q,
  description = %q,

  -- precheck = function(db, ctx) return false, "why" end, -- read-only; refuses the run

  up = function(_db, _ctx)
    -- db:exec("ALTER TABLE target ADD COLUMN note2 VARCHAR(255) NOT NULL DEFAULT ''")
  end,

  -- convert = function(db, ctx) end, -- data conversion, after up, same transaction

  verify = function(_db, _ctx)
    -- assert(db:column_exists("target", "note2"), "target.note2 is missing")
  end,

  -- down = function(db, ctx) end, -- compensation for rollback
}
]]

local SPEC = [[
-- Spec for %s.  Run with: n9e-lua-migrate test %s
local testing = require("migrate.testing")

describe(%q, function()
  it("applies and verifies on a fresh SQLite database", function()
    local db <close> = testing.sqlite()
    local result = testing.migrate(db, { scripts = %q, to = %q })
    assert.are.equal("applied", result.outcome)
    assert.are.equal(%q, result.current)
  end)
end)
]]

function M.new(o)
  local v, err = version.normalize(o.version)
  if not v then errors.raise(errors.USAGE, err) end
  if type(o.description) ~= "string" or o.description == "" then
    errors.raise(errors.USAGE, "a description is required: new VERSION \"what it does\"")
  end
  local script = ("%s/%s.lua"):format(o.scripts_dir, v)
  local spec = ("%s/%s_spec.lua"):format(o.spec_dir, v)
  if sys.stat(o.scripts_dir) == "directory" then
    for _, path in ipairs(sys.list_files(o.scripts_dir, ".lua") or {}) do
      local text = sys.read_file(path) or ""
      if text:match("version%s*=%s*[\"']v?" .. v:gsub("%p", "%%%0") .. "[\"']") then
        errors.raise(errors.USAGE, ("version %s already exists in %s"):format(v, path))
      end
    end
  end
  for _, p in ipairs({ script, spec }) do
    if sys.stat(p) then errors.raise(errors.USAGE, p .. " already exists; not overwriting") end
  end
  for _, d in ipairs({ o.scripts_dir, o.spec_dir }) do
    local ok, derr = sys.mkdir_p(d)
    if not ok then errors.raise(errors.USAGE, derr) end
  end
  local ok, werr = sys.write_file(script, SCRIPT:format(v, o.description, v, o.description), true)
  if not ok then errors.raise(errors.USAGE, werr) end
  ok, werr = sys.write_file(spec, SPEC:format(v, spec, v .. " " .. o.description, o.scripts_dir,
                                             v, v), true)
  if not ok then errors.raise(errors.USAGE, werr) end
  return { version = v, script = script, spec = spec }
end

return M
