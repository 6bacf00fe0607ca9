-- `serve` driven over real HTTP (curl on loopback) against the engine named
-- by $N9E_TEST_ENGINE: every endpoint with every role, jobs, streaming,
-- one mutating job at a time (in one server and across two), bad requests,
-- slow clients, the audit log, SIGHUP and SIGTERM.
local json = require("cjson")
local testing = require("migrate.testing")
local sys = require("n9e.sys")

local BIN = assert(os.getenv("N9E_BIN"), "set N9E_BIN to the n9e-lua-migrate binary")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local work, db
local servers = {}

local function target_args()
  local a = "--db " .. q(db.dsn)
  if db.password_file then a = a .. " --password-file " .. q(db.password_file) end
  return a
end

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

--- Starts serve in the background; returns { url, pid, n, stop() }.
local function serve(extra)
  local n = #servers + 1
  os.execute(("cd %s && ( %s serve --tokens tokens.txt --listen 127.0.0.1:0 --scripts s %s "
    .. "--log-file audit.jsonl %s >serve%d.out 2>serve%d.err & echo $! >serve%d.pid; wait $!; "
    .. "echo $? >serve%d.rc ) >/dev/null 2>&1 &"):format(q(work), q(BIN), target_args(), extra or "", n, n, n, n))
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
