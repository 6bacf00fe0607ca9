--- The HTTP API of `serve`: routing, authentication, roles, request
--- validation, audit.  runner/http.c owns the sockets, threads and jobs; it
--- calls M.handle in a fresh state per request and M.run_job in a fresh
--- state per job.  Every command runs through cli.main with --json, so the
--- API returns the same documents and exit codes as the command line.
local cli = require("migrate.cli")
local errors = require("migrate.errors")
local json = require("migrate.json")
local log = require("migrate.log")
local sys = require("n9e.sys")
local tokens = require("migrate.tokens")
local version = require("migrate.version")

local M = {}

-- route -> { methods, action (the permission), query = allowed keys,
--            body = allowed fields, job = "exclusive" | "shared" }
local ROUTES = {
  ["/v1/status"] = { method = "GET", action = "status", query = {} },
  ["/v1/plan"] = { method = "GET", action = "plan", query = { to = "version" } },
  ["/v1/history"] = { method = "GET", action = "history", query = {} },
  ["/v1/log"] = { method = "GET", action = "log", query = {} },
  ["/v1/jobs"] = { method = "GET", action = "jobs", query = {} },
  ["/metrics"] = { method = "GET", action = "metrics", query = {} },
  ["/v1/check"] = { method = "POST", action = "check", body = { to = "version", expect = "version" } },
  ["/v1/run"] = { method = "POST", action = "run", body = { to = "version" }, job = "exclusive" },
  ["/v1/verify"] = { method = "POST", action = "verify", body = {}, job = "shared" },
  -- on a throwaway copy: the database is only read, so no range applies
  ["/v1/rehearse"] = { method = "POST", action = "rehearse", body = { to = "version" }, job = "shared" },
  ["/v1/rollback"] = { method = "POST", action = "rollback", body = { to = "version" }, required = "to",
                       job = "exclusive" },
  ["/v1/baseline"] = { method = "POST", action = "baseline", body = { version = "version" },
                       required = "version", job = "exclusive" },
  ["/v1/repair"] = { method = "POST", action = "repair", body = {}, job = "exclusive" },
}
local JOB_ROUTE = { method = "GET", action = "jobs", query = { since = "count" } }

-- server options that are the process's, not a command's
local SERVER_ONLY = { ["log-file"] = true, ["log-level"] = true, tokens = true, listen = true,
                      ["client-timeout"] = true, ["lock-timeout"] = true, json = true, to = true }

local function reply(status, doc, extra)
  local r = extra or {}
  r.status, r.body = status, json.encode(doc)
  return r
end

local function fail(status, message, fields)
  local doc = { ok = false, error = message }
  for k, v in pairs(fields or {}) do doc[k] = v end
  return reply(status, doc)
end

--- The command line for one command: the server's own options (database,
--- scripts, limits) plus the request's.
local function command_args(server, command, opts, args)
  local a = { command = command, args = args or {}, opts = {}, opts_list = {}, lua_path = server.lua_path }
  for k, v in pairs(server.opts or {}) do
    if not SERVER_ONLY[k] then a.opts[k] = v end
  end
  for k, list in pairs(server.opts_list or {}) do
    if not SERVER_ONLY[k] then a.opts_list[k] = { table.unpack(list) } end
  end
  a.opts.json = "true"
  -- a job never queues behind another runner: it gets the lock now or the
  -- request gets 409
  a.opts["lock-timeout"] = "0"
  for k, v in pairs(opts or {}) do a.opts[k] = v end
  return a
end

--- Run one command as the command line would; returns its JSON document
--- (a table), exit code, and the document's text.  Its human-readable stderr is dropped: the
--- document has the same facts.
local function execute(server, command, opts, args)
  local out = {}
  local sink = { write = function(self, ...)
    for _, s in ipairs({ ... }) do out[#out + 1] = s end
    return self
  end }
  local discard = { write = function(self) return self end }
  cli.set_output(sink, discard)
  local ok, code = pcall(cli.main, command_args(server, command, opts, args))
  cli.set_output(io.stdout, io.stderr)
  if not ok then
    return { ok = false, exit = 1, error = "internal error: " .. errors.text(code) }, 1
  end
  local text = (table.concat(out):match("[^\n]+"))
  local ok_doc, doc = pcall(json.decode, text or "")
  if not ok_doc or type(doc) ~= "table" then
    doc = { ok = code == 0, exit = code }
    text = json.encode(doc)
  end
  return doc, code, text
end
M.execute = execute

local function check_value(kind, name, v)
  if kind == "version" then
    if type(v) ~= "string" then return ("%s must be a version string"):format(name) end
    local n, why = version.normalize(v)
    if not n then return ("%s: %s"):format(name, why) end
  elseif kind == "count" then
    if not tostring(v):match("^%d+$") then return ("%s must be a non-negative integer"):format(name) end
  end
  return nil
end

local function allowed_list(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return #t > 0 and table.concat(t, ", ") or "none"
end

--- The request's parameters (query for GET, JSON body for POST), checked
--- against the route; returns params or nil, message.
local function parameters(route, req)
  local params = {}
  if route.method == "GET" then
    if req.body and req.body ~= "" then return nil, "GET takes no body" end
    for k, v in pairs(req.query or {}) do
      if not route.query[k] then
        return nil, ("unknown query parameter %q (allowed: %s)"):format(k, allowed_list(route.query))
      end
      local why = check_value(route.query[k], k, v)
      if why then return nil, why end
      params[k] = v
    end
    return params
  end
  if next(req.query or {}) then
    return nil, ("%s takes its parameters as a JSON body, not in the query string"):format(req.path)
  end
  local body = req.body or ""
  if body:match("^%s*$") then body = "{}" end
  local ok, doc = pcall(json.decode, body)
  if not ok then return nil, "malformed JSON body: " .. tostring(doc):gsub("^.-: ", "") end
  if type(doc) ~= "table" or (next(doc) == nil and body:match("^%s*%[")) or #doc > 0 then
    return nil, "the body must be a JSON object"
  end
  for k, v in pairs(doc) do
    if type(k) ~= "string" or not route.body[k] then
      return nil, ("unknown field %q (allowed: %s)"):format(tostring(k), allowed_list(route.body))
    end
    if v ~= json.null then
      local why = check_value(route.body[k], k, v)
      if why then return nil, why end
      params[k] = v
    end
  end
  if route.required and not params[route.required] then
    return nil, ("%s needs the field %q"):format(req.path, route.required)
  end
  return params
end

--- The version a mutating request would end at, for a token limited to a
--- range: the given one, or what `plan` says the target is.
local function target_of(server, action, params)
  if action == "baseline" then return params.version end
  if action == "rollback" then return params.to end
  if action == "run" then
    if params.to then return params.to end
    local doc = execute(server, "plan", {})
    return doc.target
  end
  return nil
end

local function job_doc(j, since)
  local events = json.array()
  for i, line in ipairs(j.events or {}) do events[i] = json.raw(line) end
  return { id = j.id, command = j.command, who = j.who, state = j.state, exit = j.exit,
           started_at = j.started and log.iso(j.started) or nil,
           finished_at = j.finished and log.iso(j.finished) or nil,
           since = since, next = j.next, dropped_events = j.dropped, events = since and events or nil,
           result = j.result and json.raw(j.result) or nil, href = "/v1/jobs/" .. j.id }
end

local function start_job(route, params, who)
  local srv = require("n9e.server")
  local spec = { command = route.action, who = who.name, opts = {}, args = {} }
  if params.to then spec.opts.to = params.to end
  if params.version then spec.args = { params.version } end
  local id, state, exit, busy_command = srv.start_job(route.action, json.encode(spec), who.name,
                                                      route.job == "exclusive")
  if not id and state == "stopping" then return nil, fail(503, "the server is stopping") end
  if not id then
    return nil, fail(409, ("job %d (%s) is running; one mutating job at a time"):format(exit, busy_command),
                     { running_job = exit })
  end
  if state == "done" and exit == errors.LOCK then
    local j = srv.job(id, 0)
    local r = j and j.result and select(2, pcall(json.decode, j.result))
    return nil, fail(409, "another runner holds the migration lock" ..
      (type(r) == "table" and r.error and (": " .. r.error) or ""), { job = id })
  end
  return id
end

--- GET /metrics: the exposition text, from the database opened read-only
--- with the server's options.  A database that cannot be read is still
--- answered 200 (with n9e_migrate_up 0), so that an alert on it can fire;
--- why is in the log, not in a label.
local function metrics_reply(server)
  local metrics = require("migrate.metrics")
  local ok, families = pcall(cli.reading, command_args(server, "metrics"), function(conn, list)
    return metrics.collect(conn, list, require("migrate.apply").LOCK_KEY)
  end)
  if not ok then
    log.warn("api.metrics", "metrics: the database could not be read: " .. errors.text(families))
    families = metrics.unreachable()
  end
  return { status = 200, body = metrics.render(families), content_type = metrics.CONTENT_TYPE }
end

local function dispatch(server, req)
  local path = req.path or ""
  local route = ROUTES[path]
  local job_id = path:match("^/v1/jobs/(%d+)$")
  if job_id then route = JOB_ROUTE end
  if path == "/healthz" then
    if req.method ~= "GET" then return fail(405, "use GET", nil), nil, { allow = "GET" } end
    return reply(200, { ok = true, version = sys.version }), nil
  end
  if not route then return fail(404, ("no such endpoint %s"):format(path)) end

  local who = tokens.authenticate(server.tokens, req.authorization)
  if not who then
    return fail(401, req.authorization and "invalid token" or "missing bearer token (Authorization: Bearer ...)",
                nil), nil, { www_authenticate = 'Bearer realm="n9e-lua-migrate"' }
  end
  if req.method ~= route.method then
    return fail(405, ("%s takes %s, not %s"):format(path, route.method, req.method)), who,
           { allow = route.method }
  end
  if not tokens.allows(who.role, route.action) then
    return fail(403, ("token %s (role %s) may not %s; that needs role %s"):format(
      who.name, who.role, route.action, tokens.role_for(route.action))), who
  end
  local params, why = parameters(route, req)
  if not params then return fail(400, why), who end

  if who.versions and (route.action == "run" or route.action == "rollback" or route.action == "baseline") then
    local target = target_of(server, route.action, params)
    if not target then
      return fail(403, ("token %s is limited to versions %s, and the target of %s is unknown (give \"to\")")
        :format(who.name, tokens.range_text(who.versions), route.action)), who
    end
    if not tokens.in_range(who, target) then
      return fail(403, ("token %s is limited to versions %s; %s %s is outside"):format(
        who.name, tokens.range_text(who.versions), route.action, target)), who
    end
  end

  if job_id then
    local j = require("n9e.server").job(tonumber(job_id), tonumber(params.since or 0))
    if not j then return fail(404, ("no job %s (jobs are kept in memory, the newest 64)"):format(job_id)), who end
    return reply(200, job_doc(j, tonumber(params.since or 0))), who
  end
  if route.action == "jobs" then
    local list = json.array()
    for i, j in ipairs(require("n9e.server").jobs()) do list[i] = job_doc(j) end
    return reply(200, { ok = true, jobs = list }), who
  end
  if route.action == "metrics" then return metrics_reply(server), who end
  if route.job then
    local id, refusal = start_job(route, params, who)
    if not id then return refusal, who end
    local stream = (req.accept or ""):find("application/x-ndjson", 1, true) ~= nil
    if stream then return { status = 200, stream = id }, who, nil, id end
    local j = require("n9e.server").job(id, 0)
    return reply(202, { ok = true, job = job_doc(j, 0) }, { location = "/v1/jobs/" .. id }), who, nil, id
  end
  local opts = {}
  if params.to then opts.to = params.to end
  if params.expect then opts.expect = params.expect end
  local _, code, text = execute(server, route.action, opts)
  return { status = code == errors.USAGE and 400 or 200, body = text }, who
end

--- One request.  req: method, path, query (table), authorization, accept,
--- body, remote; server: the serve command's parsed arguments plus
--- `tokens` (the parsed token file).  Returns { status, body, allow,
--- www_authenticate, location, stream = job id, content_type (when not
--- JSON) }.
function M.handle(req, server)
  local started = sys.monotonic()
  server.tokens = tokens.parse(server.tokens_text or "", "tokens")
  local ok, resp, who, headers, job = pcall(dispatch, server, req)
  if not ok then
    log.error("api.internal", "internal error: " .. errors.text(resp), { path = req.path })
    resp, who = fail(500, "internal error (see the server log)"), nil
  end
  for k, v in pairs(headers or {}) do resp[k] = v end
  local ms = math.floor((sys.monotonic() - started) * 1000 + 0.5)
  log.info("api.request", ("%s %s %s -> %d"):format(who and who.name or "-", req.method, req.path, resp.status),
           { who = who and who.name or json.null, role = who and who.role or json.null,
             method = req.method, path = req.path, status = resp.status, job = job,
             remote = req.remote, duration_ms = ms })
  return resp
end

--- One job, on its own thread and state.  Returns exit code, result JSON.
function M.run_job(spec_text, server)
  local spec = json.decode(spec_text)
  local job = require("n9e.job")
  log.sink = function(rec, line)
    job.event(line)
    if rec.event == "lock.acquired" then job.locked() end
  end
  local _, code, text = execute(server, spec.command, spec.opts, spec.args)
  log.sink = nil
  log.info("api.job", ("job %d (%s by %s) finished with exit %d"):format(job.id(), spec.command, spec.who, code),
           { job = job.id(), command = spec.command, who = spec.who, exit = code })
  return code, text
end

--- serve's start and SIGHUP: check the token file's text (raises a usage
--- error naming the line), and at start apply the process-wide log options.
--- Returns the number of tokens.
function M.start(server, text, source, reload)
  local list = tokens.parse(text, source)
  if #list == 0 then
    errors.raise(errors.USAGE, ("%s: no tokens; add one with `n9e-lua-migrate token NAME --role ROLE "
      .. "--tokens %s`"):format(source, source))
  end
  if not reload then cli.log_options(server.opts or {}) end
  log.info(reload and "api.reload" or "api.start", ("%d token(s) from %s"):format(#list, source),
           { tokens = #list })
  return #list
end

return M
