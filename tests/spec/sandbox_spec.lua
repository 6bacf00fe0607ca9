local sandbox = require("migrate.sandbox")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local function run(src, opts)
  local mod, err = sandbox.load(src, "spec-script.lua", opts)
  if not mod then return nil, err end
  return mod
end

local function refused(src, pattern, opts)
  local mod, err = run(src, opts)
  assert.is_nil(mod)
  assert.matches(pattern, err.message)
  return err
end

describe("script sandbox", function()
  it("runs ordinary Lua and returns the script table", function()
    local mod = run("local t = {} for i = 1, 3 do t[i] = string.rep('x', i) end "
      .. "return { v = table.concat(t, ','), m = math.max(1, 2), j = json.encode({a=1}) }")
    assert.are.same({ v = "x,xx,xxx", m = 2, j = '{"a":1}' }, mod)
  end)

  it("refuses os.execute, io.popen, debug, package, load, require, dofile", function()
    refused("os.execute('true')", "sandbox: os.execute is not available")
    refused("io.popen('ls')", "sandbox: io.popen is not available")
    refused("return debug.traceback()", "sandbox: 'debug' is not available")
    refused("return package.loadlib", "sandbox: 'package' is not available")
    refused("return load('return 1')", "sandbox: 'load' is not available")
    refused("return require('os')", "sandbox: require%('os'%) is not available")
    refused("return require('n9e.sys')", "sandbox: require%('n9e%.sys'%) is not available")
    refused("return dofile('/etc/passwd')", "sandbox: 'dofile' is not available")
    refused("return collectgarbage('count')", "sandbox: 'collectgarbage' is not available")
  end)

  it("lets scripts require the dialect and data-conversion libraries only", function()
    local mod = run("local ddl = require('migrate.ddl') return { f = type(ddl.add_column) }")
    assert.are.same({ f = "function" }, mod)
  end)

  it("names the script and line of a violation", function()
    local err = refused("local x = 1\nlocal y = 2\nos.exit(1)", "os.exit is not available")
    assert.are.equal("spec-script.lua", err.script)
    assert.are.equal(3, err.line)
  end)

  it("has no way to bytecode: string.dump is gone, binary chunks are refused", function()
    refused("return string.dump(function() end)", "string.dump is not available")
    refused("return (''):dump()", "attempt to call a nil value")
    local mod, err = run("\27Lua\84\0garbage")
    assert.is_nil(mod)
    assert.matches("binary chunk", err.message)
  end)

  it("refuses new globals and undefined globals", function()
    refused("x = 1", "assignment to undefined global 'x'")
    refused("return undefined_thing", "'undefined_thing' is not available")
  end)

  it("keeps shared metatables private", function()
    local mod = run("return { s = getmetatable(''), t = getmetatable(setmetatable({}, {k = 1})).k }")
    assert.is_nil(mod.s)
    assert.are.equal(1, mod.t)
  end)

  it("reads files only under allowed paths, and only for reading", function()
    local dir, cleanup = testing.script_dir({ ["data.txt"] = "hello" })
    local mod = run(("local f = io.open(%q) local s = f:read('a') f:close() return { s = s }")
      :format(dir .. "/data.txt"), { allowed_paths = { dir } })
    assert.are.equal("hello", mod.s)
    refused(("return io.open(%q)"):format(dir .. "/data.txt"), "outside allowed paths")
    refused("return io.open('/etc/passwd')", "outside allowed paths", { allowed_paths = { dir } })
    refused(("return io.open(%q)"):format(dir .. "/../" .. dir:match("[^/]+$") .. "/data.txt"),
            "outside allowed paths", { allowed_paths = { dir .. "/sub" } })
    refused(("return io.open(%q, 'w')"):format(dir .. "/data.txt"), "scripts may only read",
            { allowed_paths = { dir } })
    cleanup()
  end)

  it("caps memory while a script runs, and the state recovers", function()
    local csb = require("n9e.sandbox")
    csb.set_limits({ memory = 32 * 1024 * 1024 })
    local err = refused("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end",
                        "memory limit of 33554432 bytes exceeded")
    assert.are.equal("memory", err.kind)
    collectgarbage("collect")
    -- outside a sandboxed call the cap does not apply: the runner can clean up
    local big = string.rep("y", 40 * 1024 * 1024)
    assert.are.equal(40 * 1024 * 1024, #big)
    csb.set_limits({ memory = 512 * 1024 * 1024 })
  end)

  it("stops a runaway loop with the instruction budget, even through pcall", function()
    local csb = require("n9e.sandbox")
    csb.set_limits({ instructions = 2000000 })
    local err = refused("while true do pcall(function() while true do end end) end",
                        "instruction budget of 2000000 exhausted")
    assert.are.equal("instructions", err.kind)
    refused("while true do xpcall(function() while true do end end, function(e) return e end) end",
                  "instruction budget")
    csb.set_limits({ instructions = 0 })
  end)

  it("keeps the budget of an outer call after a nested call failed", function()
    local csb = require("n9e.sandbox")
    csb.set_limits({ instructions = 2000000 })
    local n = 0
    local ok, err = csb.call(function()
      csb.call(function() error("inner", 0) end)
      for _ = 1, 5e7 do n = n + 1 end
    end)
    csb.set_limits({ instructions = 0 })
    assert.is_false(ok)
    assert.are.equal("instructions", err.kind)
    assert.is_true(n < 5e7)
  end)

  it("stops a runaway loop with the time budget", function()
    local csb = require("n9e.sandbox")
    csb.set_limits({ seconds = 0.2 })
    local t0 = sys.monotonic()
    local err = refused("while true do end", "time budget of 0.2 s exhausted")
    local took = sys.monotonic() - t0
    assert.are.equal("time", err.kind)
    assert.is_true(took >= 0.2 and took < 2, "took " .. took)
    csb.set_limits({ seconds = 0 })
  end)
end)
