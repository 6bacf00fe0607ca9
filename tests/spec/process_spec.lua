-- sys.run: the process primitive of the trusted library (backups'
-- dump tools); argv without a shell, bounded capture, no fd leaks.
local sys = require("n9e.sys")
local testing = require("migrate.testing")

local function sh(script, spec)
  spec = spec or {}
  spec.argv = { "sh", "-c", script }
  return sys.run(spec)
end

--- This process's open descriptors, as the kernel lists them.
local function own_fds()
  local pid = assert(sys.read_file("/proc/self/stat")):match("^(%d+)")
  return assert(sys.run({ argv = { "ls", "/proc/" .. pid .. "/fd" } })).stdout
end

describe("sys.run", function()
  it("returns the exit code with stdout and stderr captured apart", function()
    local r = sh("echo out; echo err >&2; exit 7")
    assert.are.equal(7, r.code)
    assert.is_nil(r.signal)
    assert.are.equal("out\n", r.stdout)
    assert.are.equal("err\n", r.stderr)
    assert.is_false(r.stderr_truncated)
  end)

  it("passes argv as given, no shell in between", function()
    local r = sys.run({ argv = { "printf", "[%s]", "a b", "$HOME", "'; rm -rf /'", "" } })
    assert.are.equal(0, r.code)
    assert.are.equal("[a b][$HOME]['; rm -rf /'][]", r.stdout)
  end)

  it("reports a signal that ended the child", function()
    local r = sh("kill -TERM $$")
    assert.is_nil(r.code)
    assert.are.equal(15, r.signal)
  end)

  it("gives the child this process's environment plus the given entries", function()
    local r = sh('printf "%s|%s|%s" "$N9E_RUN_A" "$HOME" "$PATH"', { env = { N9E_RUN_A = "1 2", HOME = "/nowhere" } })
    assert.are.equal(("1 2|/nowhere|%s"):format(os.getenv("PATH")), r.stdout)
    assert.has_error(function() sys.run({ argv = { "true" }, env = { ["A=B"] = "x" } }) end)
    assert.has_error(function() sys.run({ argv = {} }) end)
  end)

  it("reads stdin from a file and writes stdout to a new 0600 file, never over an existing one", function()
    local dir = testing.tmpname(".run")
    assert(sys.mkdir(dir))
    assert(sys.write_file(dir .. "/in", "hello\n"))
    local r = sys.run({ argv = { "tr", "a-z", "A-Z" }, stdin = dir .. "/in", stdout = dir .. "/out" })
    assert.are.equal(0, r.code)
    assert.is_nil(r.stdout)
    assert.are.equal("HELLO\n", sys.read_file(dir .. "/out"))
    assert.are.equal("600\n", sh("stat -c %a " .. dir .. "/out").stdout)
    -- the file exists: the program does not run at all
    local again, err = sys.run({ argv = { "touch", dir .. "/ran" }, stdout = dir .. "/out" })
    assert.is_nil(again)
    assert.matches("File exists", err)
    assert.is_nil(sys.stat(dir .. "/ran"))
    assert.are.equal("HELLO\n", sys.read_file(dir .. "/out"))
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("says when a program cannot be started", function()
    local r, err, code = sys.run({ argv = { "n9e-no-such-program" } })
    assert.is_nil(r)
    assert.are.equal("n9e-no-such-program: not found on PATH", err)
    assert.are.equal(2, code) -- ENOENT
    local plain = testing.tmpname(".txt") -- not executable
    assert(sys.write_file(plain, "text"))
    r, err, code = sys.run({ argv = { plain } })
    assert.is_nil(r)
    assert.are.equal(plain .. ": Permission denied", err)
    assert.are.equal(13, code) -- EACCES
    os.remove(plain)
    r, err = sys.run({ argv = { "cat" }, stdin = "/n9e/no/such/file" })
    assert.is_nil(r)
    assert.matches("^/n9e/no/such/file: No such file", err)
  end)

  it("keeps the last 64 KiB of a long stderr", function()
    local r = sh("i=0; while [ $i -lt 3000 ]; do echo 'line of some sixty-four bytes ......................... '$i >&2;"
                 .. " i=$((i+1)); done; echo END >&2")
    assert.are.equal(0, r.code)
    assert.are.equal(65536, #r.stderr)
    assert.is_true(r.stderr_truncated)
    assert.matches("2999\nEND\n$", r.stderr)
  end)

  it("hands the child only descriptors 0, 1 and 2, and leaks none in this process", function()
    -- io.open's descriptor is not close-on-exec: only closing every
    -- descriptor above 2 keeps it (and database sockets) from the child
    local path = testing.tmpname(".open")
    local open = assert(io.open(path, "w"))
    local before = own_fds()
    for _ = 1, 20 do
      assert.are.equal("0\n1\n2\n", sh("ls /proc/$$/fd").stdout)
      assert.is_nil(sys.run({ argv = { "n9e-no-such-program" } }))
      assert.is_nil(sys.run({ argv = { "true" }, stdin = "/n9e/no/such/file" }))
      sh("exit 3", { stdin = path })
    end
    assert.are.equal(before, own_fds())
    open:close()
    os.remove(path)
  end)
end)

describe("sys.which", function()
  it("finds a program on PATH, or nothing", function()
    assert.matches("/sh$", sys.which("sh"))
    assert.is_nil(sys.which("n9e-no-such-program"))
    assert.are.equal("/bin/sh", sys.which("/bin/sh"))
    local plain = testing.tmpname(".txt")
    assert(sys.write_file(plain, "text"))
    assert.is_nil(sys.which(plain)) -- not executable
    os.remove(plain)
  end)
end)

describe("sys.sha256_file", function()
  it("hashes a file as sys.sha256 hashes its content, and says when it cannot", function()
    local path = testing.tmpname(".bin")
    local data = string.rep("n9e\0", 40000)
    assert(sys.write_file(path, data))
    local hex, size = sys.sha256_file(path)
    assert.are.equal(sys.sha256(data), hex)
    assert.are.equal(#data, size)
    os.remove(path)
    assert.is_nil((sys.sha256_file(path)))
  end)
end)
