-- `serve` driven over real HTTP (curl on loopback) against the engine named
-- by $N9E_TEST_ENGINE: every endpoint with every role, jobs, streaming,
-- one mutating job at a time (in one server and across two), bad requests,
-- slow clients, the audit log, SIGHUP and SIGTERM.
local json = require("cjson")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")

local q = testing.shell_quote

local work, db
local servers = {}

local function target_args() return testing.target_args(db) end

local function write(name, text)
  assert(sys.mkdir_p((work .. "/" .. name):match("^(.*)/")))
  assert(sys.write_file(work .. "/" .. name, text))
end

local function read(name)
  local f = io.open(work .. "/" .. name)
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

local function sh(cmd)
  local p = io.popen(("cd %s && %s 2>&1"):format(q(work), cmd))
  local out = p:read("a")
  local _, _, code = p:close()
  return code, out
end

-- 1.2.0's convert keeps the lock for about two seconds of CPU.
local SCRIPTS = {
  ["s/v1.lua"] = [[return { version = "1.0.0", description = "one",
  up = function(db) db:exec("CREATE TABLE a (id INTEGER, v VARCHAR(32))") end,
  down = function(db) db:exec("DROP TABLE a") end }]],
  ["s/v2.lua"] = [[return { version = "1.1.0", description = "two",
  up = function(db) db:exec("INSERT INTO a (id, v) VALUES (1, 'one')") end,
  verify = function(db) db:assert_count("a", 1, "id = ?", 1) end,
  down = function(db) db:exec("DELETE FROM a WHERE id = 1") end }]],
  ["s/v3.lua"] = [[return { version = "1.2.0", description = "slow",
  up = function(db) db:exec("CREATE TABLE c (id INTEGER)") end,
  convert = function(db) local t = os.clock() while os.clock() - t < 2 do end end,
  down = function(db) db:exec("DROP TABLE c") end }]],
}

local function make_token(name, role, versions)
  local code, out = sh(("%s token %s --role %s %s --tokens tokens.txt"):format(
    q(BIN), name, role, versions and ("--versions " .. versions) or ""))
  assert.are.equal(0, code, out)
  assert.truthy(out:find(("token %s (%s"):format(name, role), 1, true), out)
  return assert(out:match("n9m_%x+"), out)
end

--- Starts serve in the background (on the test database, or on the
--- --db ... of target); returns { url, pid, n, stop() }.
local function serve(extra, target)
  local n = #servers + 1
  os.execute(("cd %s && ( %s serve --tokens tokens.txt --listen 127.0.0.1:0 --scripts s %s "
    .. "--log-file audit.jsonl %s >serve%d.out 2>serve%d.err & echo $! >serve%d.pid; wait $!; "
    .. "echo $? >serve%d.rc ) >/dev/null 2>&1 &"):format(q(work), q(BIN), target or target_args(), extra or "",
                                                         n, n, n, n))
  local url
  for _ = 1, 200 do
    local out = read("serve" .. n .. ".out") or ""
    url = out:match("serving on (http://[%d.]+:%d+)")
    if url or read("serve" .. n .. ".rc") then break end
    sys.sleep(0.05)
  end
  assert(url, "serve did not start: " .. tostring(read("serve" .. n .. ".err")))
  local s = { url = url, n = n, pid = assert(tonumber(read("serve" .. n .. ".pid"))) }
  function s.signal(sig) os.execute(("kill -%s %d"):format(sig, s.pid)) end
  function s.wait_exit(seconds)
    for _ = 1, seconds * 20 do
      local rc = read("serve" .. n .. ".rc")
      if rc and rc:match("%d") then return tonumber(rc) end
      sys.sleep(0.05)
    end
    return nil
  end
  function s.stop()
    if not read("serve" .. n .. ".rc") then s.signal("TERM") end
    return s.wait_exit(30)
  end
  servers[n] = s
  return s
end

--- One request with curl: returns status, body (decoded when JSON), raw
--- body, response headers.
local function http(s, method, path, token, body, headers)
  local args = { "curl", "-s", "-S", "-o", "body.out", "-D", "headers.out", "-w", "'%{http_code}'",
                 "-X", method }
  if token then args[#args + 1] = "-H " .. q("Authorization: Bearer " .. token) end
  for _, h in ipairs(headers or {}) do args[#args + 1] = "-H " .. q(h) end
  if body then
    write("request.body", body)
    args[#args + 1] = "-H 'Content-Type: application/json' --data-binary @request.body"
  end
  args[#args + 1] = q(s.url .. path)
  local code, out = sh(table.concat(args, " "))
  assert.are.equal(0, code, out)
  local raw = read("body.out") or ""
  local ok, doc = pcall(json.decode, raw)
  return tonumber(out), ok and doc or nil, raw, read("headers.out") or ""
end

--- Polls a job until it is done; returns its document.
local function finished(s, token, id)
  for _ = 1, 600 do
    local status, doc = http(s, "GET", ("/v1/jobs/%d"):format(id), token)
    assert.are.equal(200, status)
    if doc.state == "done" then return doc end
    sys.sleep(0.1)
  end
  error("job " .. id .. " did not finish")
end

local function versions()
  local out = {}
  for _, r in ipairs(testing.history(db)) do
    if r.outcome == "applied" then out[#out + 1] = r.version end
  end
  return table.concat(out, ",")
end

local function audit()
  local list = {}
  for line in (read("audit.jsonl") or ""):gmatch("[^\n]+") do list[#list + 1] = json.decode(line) end
  return list
end

local T = {}

before_each(function()
  work = testing.tmpname(".api")
  assert(sys.mkdir_p(work))
  for name, text in pairs(SCRIPTS) do write(name, text) end
  db = testing.db()
  T.viewer = make_token("viewer1", "viewer")
  T.operator = make_token("op1", "operator")
  T.admin = make_token("admin1", "admin")
end)

after_each(function()
  -- every server stops cleanly on SIGTERM (under ASan: no error, no leak)
  local bad = {}
  for _, s in ipairs(servers) do
    local rc = s.stop()
    if rc ~= 0 then bad[#bad + 1] = ("serve %d exited %s: %s"):format(s.n, tostring(rc), read("serve" .. s.n .. ".err")) end
  end
  servers = {}
  getmetatable(db).__close(db)
  os.execute("rm -rf " .. q(work))
  assert.are.same({}, bad)
end)

describe("token", function()
  it("stores only a SHA-256 of each token, in a 0600 file", function()
    local text = read("tokens.txt")
    for _, t in pairs(T) do
      assert.matches("^n9m_%x+$", t)
      assert.is_nil(text:find(t, 1, true))
      assert.truthy(text:find("sha256:" .. sys.sha256(t), 1, true))
    end
    local _, mode = sh("stat -c %a tokens.txt")
    assert.are.equal("600", mode:match("%d+"))
  end)

  it("refuses a duplicate name, an unknown role and a bad range", function()
    local code, out = sh(q(BIN) .. " token op1 --role viewer --tokens tokens.txt")
    assert.are.equal(2, code)
    assert.matches("a token named op1 already exists", out)
    code, out = sh(q(BIN) .. " token x --role root --tokens tokens.txt")
    assert.are.equal(2, code)
    assert.matches("%-%-role viewer, operator or admin", out)
    code, out = sh(q(BIN) .. " token x --role viewer --versions 9.0.0..1.0.0 --tokens tokens.txt")
    assert.are.equal(2, code)
    assert.matches("the range is empty", out)
  end)

  it("serve refuses a token file with a token in plain text, naming the line", function()
    write("plain.txt", "# ours\nci operator n9m_0123456789abcdef\n")
    local code, out = sh(("%s serve --tokens plain.txt --listen 127.0.0.1:0 %s"):format(q(BIN), target_args()))
    assert.are.equal(2, code)
    assert.matches("plain.txt:2: the third field must be sha256:", out)
  end)
end)

describe("serve on " .. testing.engine(), function()
  -- endpoint, method, body, least role, success status
  local ENDPOINTS = {
    { "/v1/status", "GET", nil, "viewer", 200 },
    { "/v1/plan?to=1.1.0", "GET", nil, "viewer", 200 },
    { "/v1/history", "GET", nil, "viewer", 200 },
    { "/v1/log", "GET", nil, "viewer", 200 },
    { "/v1/jobs", "GET", nil, "viewer", 200 },
    { "/v1/check", "POST", "{}", "operator", 200 },
    { "/v1/verify", "POST", "", "operator", 202 },
    { "/v1/rehearse", "POST", '{"to":"1.1.0"}', "operator", 202 },
    { "/v1/run", "POST", '{"to":"1.1.0"}', "operator", 202 },
    { "/v1/rollback", "POST", '{"to":"1.0.0"}', "admin", 202 },
    { "/v1/baseline", "POST", '{"version":"1.0.0"}', "admin", 202 },
    { "/v1/repair", "POST", "{}", "admin", 202 },
  }
  local RANK = { viewer = 1, operator = 2, admin = 3 }

  it("answers every endpoint for every role: 401 without a valid token, 403 below the role", function()
    local s = serve()
    for _, e in ipairs(ENDPOINTS) do
      local path, method, body, need = e[1], e[2], e[3], e[4]
      local status, doc, _, headers = http(s, method, path, nil, body)
      assert.are.equal(401, status, path)
      assert.matches("missing bearer token", doc.error)
      assert.matches("WWW%-Authenticate: Bearer", headers)
      status, doc = http(s, method, path, "n9m_" .. string.rep("0", 64), body)
      assert.are.equal(401, status, path)
      assert.are.equal("invalid token", doc.error)
      for role, token in pairs(T) do
        if RANK[role] < RANK[need] then
          status, doc = http(s, method, path, token, body)
          assert.are.equal(403, status, path .. " as " .. role)
          assert.matches("needs role " .. need, doc.error)
        end
      end
    end
    assert.are.equal("", versions()) -- nothing ran

    -- the reads, with every role that may
    for _, e in ipairs(ENDPOINTS) do
      if e[2] == "GET" then
        for role, token in pairs(T) do
          local status, doc = http(s, "GET", e[1], token)
          assert.are.equal(200, status, e[1] .. " as " .. role)
          assert.is_true(doc.ok, e[1])
        end
      end
    end
    local _, plan = http(s, "GET", "/v1/plan?to=1.1.0", T.viewer)
    assert.are.equal("1.1.0", plan.target)
    assert.are.same({ "1.0.0", "1.1.0" }, { plan.pending[1].version, plan.pending[2].version })

    -- check, then the jobs in an order that gives each something to do
    local status, doc = http(s, "POST", "/v1/check", T.operator, "{}")
    assert.are.equal(200, status)
    assert.are.equal("check", doc.command)
    assert.are.equal(0, doc.exit)

    status, doc = http(s, "POST", "/v1/run", T.operator, '{"to":"1.1.0"}')
    assert.are.equal(202, status)
    local job = finished(s, T.operator, doc.job.id)
    assert.are.equal(0, job.exit)
    assert.are.equal("op1", job.who)
    assert.are.equal("1.1.0", job.result.current)
    assert.are.equal("1.0.0,1.1.0", versions())

    status, doc = http(s, "POST", "/v1/verify", T.admin, "")
    assert.are.equal(202, status)
    job = finished(s, T.admin, doc.job.id)
    assert.are.equal(0, job.exit)
    assert.are.same({ "1.0.0", "1.1.0" }, job.result.checked)

    status, doc = http(s, "POST", "/v1/rollback", T.admin, '{"to":"1.0.0"}')
    assert.are.equal(202, status)
    job = finished(s, T.admin, doc.job.id)
    assert.are.equal(0, job.exit)
    assert.are.equal("1.0.0", job.result.current)
    assert.are.equal(0, db:scalar("SELECT COUNT(*) FROM a"))

    status, doc = http(s, "POST", "/v1/repair", T.admin, "{}")
    assert.are.equal(202, status)
    job = finished(s, T.admin, doc.job.id)
    assert.are.equal(0, job.exit)
    assert.are.same({}, job.result.recovered)

    -- baseline on a database that has history: the command's own refusal
    status, doc = http(s, "POST", "/v1/baseline", T.admin, '{"version":"1.0.0"}')
    assert.are.equal(202, status)
    job = finished(s, T.admin, doc.job.id)
    local code, cli = sh(("%s baseline 1.0.0 --scripts s --json %s"):format(q(BIN), target_args()))
    assert.are.equal(code, job.exit)
    assert.are.equal(json.decode(cli:match("{.*}")).error, job.result.error)

    local _, list = http(s, "GET", "/v1/jobs", T.viewer)
    assert.are.equal(5, #list.jobs)
    assert.are.same({ "baseline", "repair", "rollback", "verify", "run" },
                    { list.jobs[1].command, list.jobs[2].command, list.jobs[3].command, list.jobs[4].command,
                      list.jobs[5].command })
    _, doc = http(s, "GET", "/v1/history", T.viewer)
    assert.are.equal("1.1.0", doc.rows[#doc.rows].version)
    assert.are.equal("rollback", doc.rows[#doc.rows].kind)
  end)

  it("rehearses the plan as a job on a copy, and the database stays as it was", function()
    local s = serve()
    local status, doc = http(s, "POST", "/v1/rehearse", T.operator, '{"to":"1.1.0"}')
    assert.are.equal(202, status)
    local job = finished(s, T.operator, doc.job.id)
    assert.are.equal(0, job.exit, json.encode(job.result))
    assert.are.equal("rehearse", job.result.command)
    assert.are.equal("applied", job.result.outcome)
    assert.are.equal("1.1.0", job.result.current)
    assert.is_true(job.result.copy.dropped)
    assert.is_true(#job.result.steps >= 2)
    assert.are.equal("", versions()) -- nothing ran on the database itself
    status, doc = http(s, "POST", "/v1/rehearse", T.viewer, "{}")
    assert.are.equal(403, status)
    assert.matches("needs role operator", doc.error)
  end)

  it("streams a job as JSON lines ending in its result", function()
    local s = serve()
    local status, _, raw, headers = http(s, "POST", "/v1/run", T.operator, "{}", { "Accept: application/x-ndjson" })
    assert.are.equal(200, status)
    assert.matches("Content%-Type: application/x%-ndjson", headers)
    local lines, applied = {}, {}
    for line in raw:gmatch("[^\n]+") do
      local e = json.decode(line)
      lines[#lines + 1] = e
      if e.event == "version.applied" then applied[#applied + 1] = e.version end
    end
    assert.are.same({ "1.0.0", "1.1.0", "1.2.0" }, applied)
    local last = lines[#lines]
    assert.are.equal("job.done", last.event)
    assert.are.equal(0, last.exit)
    assert.are.equal("1.2.0", last.result.current)
    assert.are.equal("1.0.0,1.1.0,1.2.0", versions())
  end)

  it("runs one mutating job at a time: 409 in the same server, reads still answered", function()
    local s = serve()
    local status, doc = http(s, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(202, status)
    local id = doc.job.id
    status, doc = http(s, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(409, status)
    assert.are.equal(id, doc.running_job)
    status = http(s, "POST", "/v1/rollback", T.admin, '{"to":"1.0.0"}')
    assert.are.equal(409, status)
    status, doc = http(s, "GET", "/v1/status", T.viewer)
    assert.are.equal(200, status)
    assert.are.equal("status", doc.command)
    assert.are.equal("running", select(2, http(s, "GET", ("/v1/jobs/%d"):format(id), T.viewer)).state)
    assert.are.equal(0, finished(s, T.operator, id).exit)
    assert.are.equal("1.0.0,1.1.0,1.2.0", versions())
  end)

  it("runs one mutating job at a time across two servers (the database lock)", function()
    local a, b = serve(), serve()
    local status, doc = http(a, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(202, status)
    local id = doc.job.id
    assert.are.equal("running", doc.job.state) -- a 202 means its job holds the lock
    status, doc = http(b, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(409, status, json.encode(doc))
    assert.matches("another runner holds the migration lock", doc.error)
    assert.are.equal(0, finished(a, T.operator, id).exit)
    status, doc = http(b, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(202, status)
    local job = finished(b, T.operator, doc.job.id)
    assert.are.equal(0, job.exit)
    assert.are.equal("up_to_date", job.result.outcome)
  end)

  it("keeps a version-limited token inside its range", function()
    local limited = make_token("ci-old", "operator", "..1.0.0")
    local s = serve()
    local status, doc = http(s, "POST", "/v1/run", limited, "{}") -- target: the newest, 1.2.0
    assert.are.equal(403, status)
    assert.matches("limited to versions %.%.1%.0%.0; run 1%.2%.0 is outside", doc.error)
    status, doc = http(s, "POST", "/v1/run", limited, '{"to":"1.1.0"}')
    assert.are.equal(403, status)
    assert.matches("run 1%.1%.0 is outside", doc.error)
    status, doc = http(s, "POST", "/v1/run", limited, '{"to":"1.0.0"}')
    assert.are.equal(202, status)
    assert.are.equal(0, finished(s, limited, doc.job.id).exit)
    assert.are.equal("1.0.0", versions())
  end)

  it("answers bad requests with a 4xx JSON error and keeps serving", function()
    local s = serve()
    local cases = {
      { "POST", "/v1/run", '{"to":', 400, "malformed JSON body" },
      { "POST", "/v1/run", '{"bogus":1}', 400, 'unknown field "bogus" %(allowed: to%)' },
      { "POST", "/v1/run", "[1,2]", 400, "must be a JSON object" },
      { "POST", "/v1/run", '"x"', 400, "must be a JSON object" },
      { "POST", "/v1/run", '{"to":5}', 400, "to must be a version string" },
      { "POST", "/v1/run", '{"to":"banana"}', 400, "is not a version" },
      { "POST", "/v1/rollback", "{}", 400, 'needs the field "to"' },
      { "GET", "/v1/run", nil, 405, "takes POST, not GET" },
      { "DELETE", "/v1/status", nil, 405, "takes GET, not DELETE" },
      { "GET", "/v1/nothing", nil, 404, "no such endpoint" },
      { "GET", "/v1/jobs/999", nil, 404, "no job 999" },
      { "GET", "/v1/status?x=1", nil, 400, 'unknown query parameter "x"' },
      { "GET", "/v1/plan?to=nope", nil, 400, "is not a version" },
      { "POST", "/v1/check?to=1.0.0", "{}", 400, "JSON body, not in the query string" },
    }
    for _, c in ipairs(cases) do
      local status, doc, raw = http(s, c[1], c[2], T.admin, c[3])
      assert.are.equal(c[4], status, c[1] .. " " .. c[2] .. " " .. raw)
      assert.is_false(doc.ok)
      assert.matches(c[5], doc.error)
    end
    local _, _, _, headers = http(s, "GET", "/v1/run", T.admin)
    assert.matches("Allow: POST", headers)

    -- bodies over 16 KiB: declared, and sent chunked without a length
    write("big.json", '{"to":"' .. string.rep("1", 200000) .. '"}')
    local code, out = sh(("curl -s -w '%%{http_code}' -H %s --data-binary @big.json %s/v1/run"):format(
      q("Authorization: Bearer " .. T.admin), s.url))
    assert.are.equal(0, code)
    assert.matches("larger than 16384 bytes.*413$", out)
    code, out = sh(("curl -s -w '%%{http_code}' -H %s -H 'Transfer-Encoding: chunked' --data-binary @big.json "
      .. "%s/v1/run"):format(q("Authorization: Bearer " .. T.admin), s.url))
    assert.are.equal(0, code)
    assert.matches("larger than 16384 bytes.*413$", out)
    assert.are.equal(200, (http(s, "GET", "/healthz")))
    assert.are.equal("", versions())
  end)

  it("closes a connection that stalls, while others are served", function()
    local s = serve("--client-timeout 1")
    local port = s.url:match(":(%d+)$")
    -- a client that sends half a request line and then nothing
    os.execute(("cd %s && ( timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/%s; printf \"POST /v1/run HTTP/1.1\\r\\n"
      .. "Host: x\\r\\n\" >&3; cat <&3 >/dev/null'; echo $? >slow.rc ) &"):format(q(work), port))
    sys.sleep(0.2)
    local status = http(s, "GET", "/v1/status", T.viewer)
    assert.are.equal(200, status)
    local rc
    for _ = 1, 150 do
      rc = read("slow.rc")
      if rc and rc:match("%d") then break end
      sys.sleep(0.1)
    end
    assert.are.equal("0", rc and rc:match("%d+"), "the stalled connection was not closed") -- 124: timeout
    assert.are.equal(200, (http(s, "GET", "/healthz")))
  end)

  it("audits every request and job, never a token", function()
    local s = serve()
    http(s, "GET", "/v1/status", T.viewer)
    http(s, "POST", "/v1/run", T.viewer, "{}")
    http(s, "GET", "/v1/status", "n9m_bad")
    local _, doc = http(s, "POST", "/v1/run", T.operator, '{"to":"1.0.0"}')
    finished(s, T.operator, doc.job.id)
    local seen, jobs = {}, {}
    for _, r in ipairs(audit()) do
      if r.event == "api.request" then
        seen[#seen + 1] = ("%s %s %s %d"):format(r.who == json.null and "-" or r.who, r.method, r.path, r.status)
      elseif r.event == "api.job" then
        jobs[#jobs + 1] = ("%s %s %d"):format(r.who, r.command, r.exit)
      end
    end
    assert.are.same({ "viewer1 GET /v1/status 200", "viewer1 POST /v1/run 403", "- GET /v1/status 401",
                      "op1 POST /v1/run 202" }, { seen[1], seen[2], seen[3], seen[4] })
    assert.are.same({ "op1 run 0" }, jobs)
    local text = read("audit.jsonl")
    for _, t in pairs(T) do assert.is_nil(text:find(t, 1, true)) end
    assert.is_nil(text:find("n9m_bad", 1, true))
  end)

  it("rereads the token file on SIGHUP and finishes a running job on SIGTERM", function()
    local s = serve()
    local late = make_token("late", "operator")
    assert.are.equal(401, (http(s, "GET", "/v1/status", late)))
    s.signal("HUP")
    local status
    for _ = 1, 50 do
      status = http(s, "GET", "/v1/status", late)
      if status == 200 then break end
      sys.sleep(0.1)
    end
    assert.are.equal(200, status)

    local _, doc = http(s, "POST", "/v1/run", late, "{}")
    assert.are.equal("running", doc.job.state)
    s.signal("TERM")
    assert.are.equal(0, s.wait_exit(60))
    assert.are.equal("1.0.0,1.1.0,1.2.0", versions())
    assert.matches("waiting for 1 running job", read("serve" .. s.n .. ".err"))
  end)
end)

-- The Prometheus text format 0.0.4, parsed strictly: every line is a
-- comment (# HELP, # TYPE or another) or `name{labels} value`; each
-- family has one TYPE and one HELP before its samples; no series twice.
local function parse_exposition(text)
  assert.are.equal("\n", text:sub(-1), "the text ends with a line feed")
  local types, helps, series, samples = {}, {}, {}, {}
  local function family_of(name)
    local base = name:match("^(.*)_bucket$") or name:match("^(.*)_sum$") or name:match("^(.*)_count$")
    if base and types[base] == "histogram" then return base end
    return name
  end
  local ESCAPES = { ["\\"] = "\\", ['"'] = '"', n = "\n" }
  local n = 0
  for line in text:gmatch("([^\n]*)\n") do
    n = n + 1
    local where = ("line %d: %s"):format(n, line)
    local kind, name, rest = line:match("^# (%u+) ([%a_:][%w_:]*) (.*)$")
    if kind == "TYPE" then
      assert.is_nil(types[name], where)
      assert.truthy(({ counter = 1, gauge = 1, histogram = 1, summary = 1, untyped = 1 })[rest], where)
      types[name] = rest
    elseif kind == "HELP" then
      assert.is_nil(helps[name], where)
      assert.is_nil(rest:gsub("\\[\\n]", ""):find("\\", 1, true), where) -- only \\ and \n
      helps[name] = rest
    elseif line:sub(1, 1) ~= "#" then
      local sname, body = line:match("^([%a_:][%w_:]*)(.*)$")
      assert.truthy(sname, where)
      local labels, key = {}, {}
      if body:sub(1, 1) == "{" then
        local i = 2
        while body:sub(i, i) ~= "}" do
          local lname, j = body:match('^([%a_][%w_]*)="()', i)
          assert.truthy(lname, where)
          local value = {}
          while true do
            local c = body:sub(j, j)
            assert.are_not.equal("", c, where)
            if c == "\\" then
              value[#value + 1] = assert(ESCAPES[body:sub(j + 1, j + 1)], where)
              j = j + 2
            elseif c == '"' then
              j = j + 1
              break
            else
              value[#value + 1] = c
              j = j + 1
            end
          end
          assert.is_nil(labels[lname], where)
          labels[lname] = table.concat(value)
          key[#key + 1] = lname .. "=" .. labels[lname]
          if body:sub(j, j) == "," then j = j + 1 end
          i = j
        end
        body = body:sub(i + 1)
      end
      local text_value = body:match("^ (%S+)$")
      local value = ({ ["+Inf"] = math.huge, ["-Inf"] = -math.huge })[text_value] or tonumber(text_value)
      assert.truthy(value, where)
      local fam = family_of(sname)
      assert.truthy(types[fam], where .. " (no # TYPE before it)")
      assert.truthy(helps[fam], where .. " (no # HELP before it)")
      table.sort(key)
      local id = sname .. "{" .. table.concat(key, ",") .. "}"
      assert.is_nil(series[id], where .. " (a second time)")
      series[id] = true
      samples[sname] = samples[sname] or {}
      table.insert(samples[sname], { labels = labels, value = value })
    end
  end
  return { types = types, samples = samples }
end

--- The value of the one sample of name whose labels include labels; nil
--- when there is none.
local function sample(m, name, labels)
  local found
  for _, smp in ipairs(m.samples[name] or {}) do
    local match = true
    for k, v in pairs(labels or {}) do
      if smp.labels[k] ~= v then match = false end
    end
    if match then
      assert.is_nil(found, name .. ": more than one sample matches")
      found = smp.value
    end
  end
  return found
end

describe("metrics on " .. testing.engine(), function()
  local SERVER_ENGINE = testing.engine() ~= "sqlite"

  --- GET /metrics as viewer: the parsed exposition, and the raw text.
  local function scrape(s)
    local status, _, raw, headers = http(s, "GET", "/metrics", T.viewer)
    assert.are.equal(200, status, raw)
    assert.matches("\r\nContent%-Type: text/plain; version=0%.0%.4; charset=utf%-8\r\n", headers)
    return parse_exposition(raw), raw
  end

  -- convert changes 4 of 5 rows, and takes a while
  local CONVERT = [[return { version = "1.3.0", description = "convert",
  up = function(db)
    db:exec("CREATE TABLE d (id INTEGER PRIMARY KEY, v INTEGER)")
    db:exec("INSERT INTO d (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)")
  end,
  convert = function(db)
    db:exec("UPDATE d SET v = v * 10 WHERE id <= 4")
    local t = os.clock() while os.clock() - t < 0.2 do end
  end,
  verify = function(db) db:assert_count("d", 4, "v >= 10") end }]]

  it("shows the upgrade's state from the database: fresh, during and after a run, after a failure", function()
    write("s/v4.lua", CONVERT)
    local s = serve()
    local status, doc, _, headers = http(s, "GET", "/metrics")
    assert.are.equal(401, status)
    assert.matches("missing bearer token", doc.error)
    assert.matches("WWW%-Authenticate: Bearer", headers)
    assert.are.equal(401, (http(s, "GET", "/metrics", "n9m_" .. string.rep("0", 64))))
    assert.are.equal(405, (http(s, "POST", "/metrics", T.admin, "{}")))

    -- a fresh database: read, not created or changed
    local m = scrape(s)
    for _, f in ipairs({ "up", "build_info", "current_version_info", "latest_version_info", "pending_versions",
                         "plan_problems", "last_attempt_outcome", "last_attempt_timestamp_seconds",
                         "last_attempt_duration_seconds", "last_attempt_step_duration_seconds",
                         "history_rows_total", "steps_total", "step_duration_seconds", "lock_timeouts_total",
                         "rows_converted_total", "unrestored_versions" }) do
      assert.truthy(m.types["n9e_migrate_" .. f], f)
    end
    assert.are.equal("histogram", m.types.n9e_migrate_step_duration_seconds)
    assert.are.equal("counter", m.types.n9e_migrate_rows_converted_total)
    assert.are.equal(1, sample(m, "n9e_migrate_up"))
    assert.is_nil(m.samples.n9e_migrate_current_version_info)
    assert.are.equal(1, sample(m, "n9e_migrate_latest_version_info", { version = "1.3.0" }))
    assert.are.equal(4, sample(m, "n9e_migrate_pending_versions"))
    assert.is_nil(m.samples.n9e_migrate_last_attempt_outcome)
    assert.are.equal(0, sample(m, "n9e_migrate_history_rows_total", { kind = "migrate", outcome = "rolled_back" }))
    assert.are.equal(0, sample(m, "n9e_migrate_rows_converted_total"))
    assert.are.equal(0, sample(m, "n9e_migrate_unrestored_versions"))
    assert.are.equal(SERVER_ENGINE and 0 or nil, sample(m, "n9e_migrate_lock_held"))
    assert.are.same({}, db:tables())

    -- during a run (1.2.0's convert takes 2 s): answered at once, not
    -- after the job; the job still running afterwards means the lock was
    -- held all through the scrape
    local t0 = sys.now()
    local _, run, raw = http(s, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal("running", run.job.state, raw)
    m = scrape(s)
    local _, job, jraw = http(s, "GET", ("/v1/jobs/%d"):format(run.job.id), T.viewer)
    assert.are.equal("running", job.state, jraw)
    assert.are.equal(1, sample(m, "n9e_migrate_up"))
    assert.are.equal(SERVER_ENGINE and 1 or nil, sample(m, "n9e_migrate_lock_held"))
    assert.are.equal(0, finished(s, T.operator, run.job.id).exit)

    m = scrape(s)
    assert.are.equal(1, sample(m, "n9e_migrate_current_version_info", { version = "1.3.0" }))
    assert.are.equal(0, sample(m, "n9e_migrate_pending_versions"))
    local last = { kind = "migrate", version = "1.3.0" }
    for outcome, want in pairs({ applied = 1, rolled_back = 0, failed = 0 }) do
      last.outcome = outcome
      assert.are.equal(want, sample(m, "n9e_migrate_last_attempt_outcome", last), outcome)
    end
    local started = sample(m, "n9e_migrate_last_attempt_timestamp_seconds")
    assert.is_true(started >= t0 - 1 and started <= sys.now() + 1, tostring(started))
    -- the convert spins 0.2 s of os.clock, the process's CPU time: with the
    -- server's other threads busy that can pass in half the wall time
    assert.is_true(sample(m, "n9e_migrate_last_attempt_duration_seconds") >= 0.09)
    assert.is_true(sample(m, "n9e_migrate_last_attempt_step_duration_seconds",
                          { version = "1.3.0", step = "convert", outcome = "ok" }) >= 0.09)
    for _, step in ipairs({ "up", "verify" }) do
      assert.truthy(sample(m, "n9e_migrate_last_attempt_step_duration_seconds", { version = "1.3.0", step = step }))
    end
    assert.are.equal(4, sample(m, "n9e_migrate_history_rows_total", { kind = "migrate", outcome = "applied" }))
    assert.are.equal(4, sample(m, "n9e_migrate_rows_converted_total"))
    assert.are.equal(2, sample(m, "n9e_migrate_steps_total", { step = "convert", outcome = "ok" }))
    assert.are.equal(4, sample(m, "n9e_migrate_steps_total", { step = "up", outcome = "ok" }))
    assert.are.equal(2, sample(m, "n9e_migrate_step_duration_seconds_count", { step = "convert" }))
    -- the step log's own numbers (1.2.0's convert spins on os.clock, the
    -- process's CPU time: other threads shorten it)
    local logged = tonumber(db:scalar("SELECT SUM(duration_ms) FROM n9e_migrate_steps WHERE step = 'convert'"))
    assert.are.equal(logged / 1000, sample(m, "n9e_migrate_step_duration_seconds_sum", { step = "convert" }))
    assert.is_true(logged >= 200)
    local below = 0
    for _, b in ipairs(m.samples.n9e_migrate_step_duration_seconds_bucket) do
      if b.labels.step == "convert" then
        assert.is_true(b.value >= below, "buckets are cumulative")
        below = b.value
        if b.labels.le == "1" then
          assert.are.equal(tonumber(db:scalar("SELECT COUNT(*) FROM n9e_migrate_steps WHERE step = 'convert' "
                                              .. "AND duration_ms <= 1000")), b.value)
        end
      end
    end
    assert.are.equal(2, below) -- le="+Inf" is the count
    assert.are.equal(SERVER_ENGINE and 0 or nil, sample(m, "n9e_migrate_lock_held"))

    -- a version that fails is rolled back, and counted
    write("s/v5.lua", [[return { version = "1.4.0", description = "fails",
  up = function(db) db:exec("CREATE TABLE e (id INTEGER)") error("not today") end }]])
    _, run = http(s, "POST", "/v1/run", T.operator, "{}")
    assert.are.equal(1, finished(s, T.operator, run.job.id).exit)
    m = scrape(s)
    last = { kind = "migrate", version = "1.4.0", outcome = "rolled_back" }
    assert.are.equal(1, sample(m, "n9e_migrate_last_attempt_outcome", last))
    last.outcome = "applied"
    assert.are.equal(0, sample(m, "n9e_migrate_last_attempt_outcome", last))
    assert.are.equal(1, sample(m, "n9e_migrate_history_rows_total", { kind = "migrate", outcome = "rolled_back" }))
    assert.are.equal(1, sample(m, "n9e_migrate_steps_total", { step = "up", outcome = "failed" }))
    assert.truthy(sample(m, "n9e_migrate_last_attempt_step_duration_seconds",
                         { version = "1.4.0", step = "up", outcome = "failed" }))
    assert.are.equal(1, sample(m, "n9e_migrate_current_version_info", { version = "1.3.0" }))
    assert.are.equal(1, sample(m, "n9e_migrate_pending_versions"))
    assert.are.equal(0, sample(m, "n9e_migrate_unrestored_versions"))
  end)

  it("answers 200 with n9e_migrate_up 0 when the database cannot be read, the reason only in the log", function()
    local target
    if SERVER_ENGINE then -- nothing listens on port 1
      target = "--db " .. q(db.dsn:gsub(":%d+/", ":1/", 1))
      if db.password_file then target = target .. " --password-file " .. q(db.password_file) end
    else
      write("broken.db", string.rep("this is not an SQLite database\n", 200))
      target = "--db " .. q("sqlite:" .. work .. "/broken.db")
    end
    local s = serve(nil, target)
    local m, raw = scrape(s)
    assert.are.equal(0, sample(m, "n9e_migrate_up"))
    assert.truthy(sample(m, "n9e_migrate_build_info"))
    assert.is_nil(m.samples.n9e_migrate_pending_versions)
    assert.is_nil(raw:lower():find("refused", 1, true) or raw:lower():find("not a database", 1, true))
    local warned
    for _, r in ipairs(audit()) do
      if r.event == "api.metrics" then warned = r.msg end
    end
    assert.matches("the database could not be read", warned)
    assert.are.equal(200, (http(s, "GET", "/healthz")))
  end)

  it("counts a version interrupted before its history row as unrestored until it is restored", function()
    local s = serve()
    -- each version recorded on its own (MySQL would otherwise still hold
    -- 1.0.0's history row for its group, and undo it too)
    local code, out = sh(("N9E_MIGRATE_FAILPOINT=before_history:1.1.0 %s run --scripts s --group-ms 0 %s"):format(
      q(BIN), target_args()))
    assert.are.equal(137, code, out) -- SIGKILL: what a crash or an OOM kill leaves
    local m
    for _ = 1, 50 do -- the server notices the dead session, and frees its lock
      m = scrape(s)
      if sample(m, "n9e_migrate_lock_held") ~= 1 then break end
      sys.sleep(0.1)
    end
    -- MySQL: the journal of 1.1.0 is open; PostgreSQL and SQLite rolled
    -- the version's transaction back with the session (SQLite's run is
    -- one transaction: 1.0.0 went with it)
    local mysql = testing.engine() == "mysql"
    assert.are.equal(mysql and 1 or 0, sample(m, "n9e_migrate_unrestored_versions"))
    assert.are.equal(SERVER_ENGINE and 1 or nil, sample(m, "n9e_migrate_current_version_info", { version = "1.0.0" }))
    if mysql then
      code, out = sh(("%s repair --scripts s %s"):format(q(BIN), target_args()))
      assert.are.equal(0, code, out)
      assert.are.equal(0, sample(scrape(s), "n9e_migrate_unrestored_versions"))
    end
  end)

  if SERVER_ENGINE then -- SQLite: the run's write lock is taken up front; no statement waits for one
    it("counts the statements of another instance's run that gave up waiting for a lock", function()
      os.remove(work .. "/s/v3.lua")
      write("s/v4.lua", [[return { version = "1.3.0", description = "alter a",
  up = function(db) db:exec("ALTER TABLE a ADD COLUMN w INTEGER") end }]])
      local code, out = sh(("%s run --scripts s --to 1.1.0 %s"):format(q(BIN), target_args()))
      assert.are.equal(0, code, out)
      local s = serve()
      local holder = db.open()
      holder:begin()
      holder:scalar("SELECT COUNT(*) FROM a") -- holds a lock on a until it ends
      code, out = sh(("%s run --scripts s --ddl-lock-timeout 1 --lock-retries 1 %s"):format(q(BIN), target_args()))
      holder:rollback()
      holder:close()
      assert.are.equal(1, code, out)
      assert.matches("gave up after 2 attempt%(s%)", out)
      local m = scrape(s)
      assert.are.equal(2, sample(m, "n9e_migrate_lock_timeouts_total"))
      assert.are.equal(2, sample(m, "n9e_migrate_steps_total", { step = "up", outcome = "lock_timeout" }))
      assert.are.equal(1, sample(m, "n9e_migrate_last_attempt_outcome",
                                 { kind = "migrate", version = "1.3.0", outcome = "rolled_back" }))
      assert.are.equal(1, sample(m, "n9e_migrate_history_rows_total", { kind = "migrate", outcome = "rolled_back" }))
      assert.is_true(sample(m, "n9e_migrate_last_attempt_step_duration_seconds",
                            { version = "1.3.0", step = "up", outcome = "lock_timeout" }) >= 0.9)
    end)
  end
end)
