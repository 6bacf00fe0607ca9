--- Prechecks: what must hold before a plan may run, as structured results
--- { name, status = "ok"|"refused"|"warning"|"skipped", detail, fix }.
--- `check` prints them; `run` refuses (exit 3, nothing written) when any
--- is refused, listing every reason.  `--skip-check NAME` turns one named
--- check into "skipped"; run records that in history.
local errors = require("migrate.errors")
local sys = require("n9e.sys")
local version = require("migrate.version")

local M = {}

-- The oldest servers whose SQL the runner and the scripts rely on.
local MINIMUM = {
  sqlite = { "3.35.0", "ALTER TABLE ... DROP COLUMN" },
  postgres = { "11.0.0", "CREATE INDEX CONCURRENTLY IF NOT EXISTS, hashtextextended" },
  mysql = { "8.0.0", "ALTER TABLE ... RENAME COLUMN / RENAME INDEX (Nightingale's 8.4.0, 7.7.2)" },
}

--- "15.20 (Debian ...)", "10.11.19-MariaDB-0+deb12u1", "3.40.1" -> "15.20.0"
local function numeric_version(text)
  local a, b, c = tostring(text):match("^(%d+)%.?(%d*)%.?(%d*)")
  if not a then return nil end
  return ("%s.%s.%s"):format(a, b ~= "" and b or "0", c ~= "" and c or "0")
end
M.numeric_version = numeric_version

local function result(name, status, detail, fix)
  return { name = name, status = status, detail = detail, fix = fix }
end

local function check_server(conn)
  local have = conn:server_version()
  local v = numeric_version(have)
  local min = MINIMUM[conn.dialect]
  if conn.dialect == "mysql" and tostring(have):match("MariaDB") then
    min = { "10.5.2", "ALTER TABLE ... RENAME COLUMN / RENAME INDEX (Nightingale's 8.4.0, 7.7.2)" }
  end
  if not v then
    return result("server", "warning", ("cannot read the server version from %q"):format(tostring(have)))
  end
  if version.lt(v, min[1]) then
    return result("server", "refused", ("%s %s is older than %s (needed for %s)")
      :format(conn.dialect, have, min[1], min[2]), "upgrade the database server first")
  end
  return result("server", "ok", ("%s %s reachable"):format(conn.dialect, have))
end

local function grants_cover(grants, needed)
  local text = table.concat(grants, "\n"):upper()
  if text:find("ALL PRIVILEGES", 1, true) then return {} end
  local missing = {}
  for _, p in ipairs(needed) do
    if not text:find(p, 1, true) then missing[#missing + 1] = p end
  end
  return missing
end

local function check_privileges(conn, sqlite_path)
  if conn.dialect == "sqlite" then
    local dir = (sqlite_path or "."):match("^(.*)/[^/]*$") or "."
    local problems = {}
    if sqlite_path and sys.stat(sqlite_path) and not sys.writable(sqlite_path) then
      problems[#problems + 1] = sqlite_path .. " is not writable"
    end
    if not sys.writable(dir) then
      problems[#problems + 1] = dir .. " is not writable (SQLite needs it for its journal)"
    end
    if #problems > 0 then
      return result("privileges", "refused", table.concat(problems, "; "),
                    "run as the user that owns the database file and its directory")
    end
    return result("privileges", "ok", "database file and directory writable")
  end
  if conn.dialect == "postgres" then
    local row = conn:first("SELECT has_database_privilege(current_database(), 'CREATE') AS db, "
                           .. "has_schema_privilege(current_schema(), 'CREATE') AS schema, "
                           .. "current_user AS who, current_schema() AS sch")
    local missing = {}
    if not row.db then missing[#missing + 1] = "CREATE on the database" end
    if not row.schema then missing[#missing + 1] = "CREATE on schema " .. tostring(row.sch) end
    if #missing > 0 then
      return result("privileges", "refused", ("%s lacks %s"):format(row.who, table.concat(missing, ", ")),
                    ("GRANT CREATE ON DATABASE/SCHEMA ... TO %s, or run as the schema owner"):format(row.who))
    end
    return result("privileges", "ok", ("%s may create in schema %s"):format(row.who, row.sch))
  end
  local grants = {}
  for row in conn:query("SHOW GRANTS FOR CURRENT_USER()") do
    local _, g = next(row)
    grants[#grants + 1] = tostring(g)
  end
  local missing = grants_cover(grants, { "CREATE", "ALTER", "DROP", "INDEX", "INSERT", "UPDATE",
                                         "DELETE", "SELECT" })
  if #missing > 0 then
    return result("privileges", "refused", "missing " .. table.concat(missing, ", "),
                  "GRANT " .. table.concat(missing, ", ") .. " ON <database>.* TO the migration user")
  end
  return result("privileges", "ok", "CREATE, ALTER, DROP, INDEX and DML granted")
end

--- Bytes the tables a plan rewrites take now (scripts declare `rewrites`).
local function rewrite_size(conn, pending)
  local tables, total = {}, 0
  for _, s in ipairs(pending) do
    for _, t in ipairs(s.module.rewrites or {}) do tables[t] = true end
  end
  for t in pairs(tables) do
    local size
    if conn.dialect == "postgres" then
      size = conn:scalar("SELECT pg_total_relation_size(to_regclass(?))", t)
    elseif conn.dialect == "mysql" then
      size = conn:scalar("SELECT data_length + index_length FROM information_schema.tables "
                         .. "WHERE table_schema = DATABASE() AND table_name = ?", t)
    else
      -- SQLite: the whole file bounds any one table
      size = (conn:scalar("PRAGMA page_count") or 0) * (conn:scalar("PRAGMA page_size") or 0)
    end
    total = total + (tonumber(size) or 0)
  end
  return total
end

local function check_disk(conn, plan, opts)
  local path = opts.disk_path
  if not path and conn.dialect == "sqlite" then
    path = (opts.sqlite_path or "."):match("^(.*)/[^/]*$") or "."
  end
  if not path then
    return result("disk", "warning", "the server's disk cannot be measured from here",
                  "pass --disk-path with the server's data directory when it is local")
  end
  local free, err = sys.disk_free(path)
  if not free then return result("disk", "warning", "cannot measure free space: " .. tostring(err)) end
  local rewrite = rewrite_size(conn, plan.pending)
  -- a rewrite may need a full copy of each table, and then some
  local need = rewrite * 2 + opts.min_free
  local detail = ("%d MiB free at %s; the plan rewrites %d MiB, needs %d MiB")
    :format(free // 1048576, path, rewrite // 1048576, need // 1048576)
  if free < need then
    return result("disk", "refused", detail, "free space or move the database before upgrading")
  end
  return result("disk", "ok", detail)
end

local function check_compatibility(plan)
  local problems = {}
  for _, s in ipairs(plan.pending) do
    local min = s.module.min_from
    if min and plan.current and version.lt(plan.current, min) then
      problems[#problems + 1] = ("%s upgrades only from %s or later (the database is at %s)")
        :format(s.version, min, plan.current)
    end
  end
  if #problems > 0 then
    return result("compatibility", "refused", table.concat(problems, "; "),
                  "upgrade to the required version with an older release first")
  end
  return result("compatibility", "ok", ("%s -> %s"):format(plan.current or "empty", plan.target or "none"))
end

--- Every built-in check plus the plan's refusals; script prechecks are
--- added by the caller (they need the sandbox).  opts: skip = {name=true},
--- disk_path, sqlite_path, min_free (bytes), backup_dir (run --backup:
--- the `backup` check of migrate/backup.lua).
function M.run(conn, plan, opts)
  local out = {}
  local function add(r)
    if opts.skip[r.name] then
      r.status, r.detail = "skipped", "skipped by --skip-check (" .. (r.detail or "") .. ")"
    end
    out[#out + 1] = r
  end
  add(check_server(conn))
  if #plan.refusals > 0 then
    add(result("plan", "refused", table.concat(plan.refusals, "; "),
               "see the reasons; checksum drift means the script changed after it was applied"))
  else
    add(result("plan", "ok", ("%d version(s) pending"):format(#plan.pending)))
  end
  add(check_compatibility(plan))
  local ok, priv = pcall(check_privileges, conn, opts.sqlite_path)
  add(ok and priv or result("privileges", "warning", "cannot read privileges: " .. errors.text(priv)))
  add(check_disk(conn, plan, opts))
  if opts.backup_dir then add(require("migrate.backup").precheck(conn, opts.backup_dir)) end
  return out
end

--- The refusals among results, as text lines.
function M.refusals(results)
  local out = {}
  for _, r in ipairs(results) do
    if r.status == "refused" then
      out[#out + 1] = ("%s: %s%s"):format(r.name, r.detail, r.fix and (" (fix: " .. r.fix .. ")") or "")
    end
  end
  return out
end

return M
