--- Recognise which Nightingale release created an unmanaged database (one
--- without n9e_migrate_history) from its schema alone.
---
--- Nightingale keeps no schema version anywhere (see NOTES.md §1.3), so the
--- release is read from markers: catalog facts (a table, a column, an index
--- by its columns, a column's nullability or type) that a release
--- introduced.  `MARKERS` lists them release by release; it is plain data,
--- so it can be audited and printed.
---
--- The rules, in order:
---
--- 1. No tables at all: "unknown" ("empty database").
--- 2. The base markers (tables every Nightingale since 6.7.3 has, each with
---    a few of its columns) are not all there: "unknown", not Nightingale.
--- 3. A marker table exists but lacks the columns Nightingale gives it (a
---    foreign table under a Nightingale name): the markers contradict each
---    other, "unknown".
--- 4. Otherwise the recognised release is the highest release that has at
---    least one required marker on this engine and all of whose required
---    markers, and those of every earlier release, are present.  A release
---    without any required marker on an engine (7.5.0 everywhere: only index
---    names changed; 8.1.0 on MySQL and SQLite: a PostgreSQL-only type fix;
---    8.4.1: only columns no shipped file has) cannot be told from its
---    predecessor, so it is never claimed: the lower release is recorded
---    and the idempotent scripts redo the rest.
--- 5. If any marker of a later release is present too, the database is
---    "between" that release (lower, and `version`, the baseline to record:
---    the project's scripts are idempotent and bring a partly upgraded
---    database forward) and the release of the newest marker found (upper).
---    Otherwise it is "exact".
--- 6. The lowest release the project has scripts for is 6.7.3 on MySQL and
---    PostgreSQL and 7.0.0 on SQLite (Nightingale ran on SQLite only from
---    v7.0.0-beta.9): a SQLite database that has the base but not all of
---    7.0.0 is "unknown", there is nothing below it to record.
---
--- Required, optional, evidence.  Nightingale's own full-schema files are
--- stale on some engines, and the project takes some of them as the
--- definition of a release on that engine (the SQLite 7.0.0 script *is*
--- Nightingale's v7.0.0 sqlite.sql).  So a marker may be `optional` on some
--- engines (or on all): there its absence proves nothing, and its presence
--- still counts as evidence of its release (it can make a database
--- "between").  The choice per marker follows what the reference files of
--- tests/reference/ contain on each engine:
---
---   * optional on an engine where no shipped file of that engine, through
---     v9.1.1, ever carries it (only gorm AutoMigrate adds it when n9e
---     starts): e.g. original_tags and alert_rule.cron_pattern on
---     PostgreSQL, the v8 notification tables on SQLite;
---   * optional on SQLite for the 7.0.0 columns the v7.0.0 sqlite.sql lacks
---     (the project's SQLite 7.0.0 is that file), and for
---     notification_record.notify_rule_id (SQLite file only from v9.1.0);
---   * optional everywhere ("evidence only") for what only migrate.sql or
---     AutoMigrate creates and no file has (the nine v8.5.1/v9 tables
---     ai_*, event_pipeline_execution, saved_view, user_view_favorite, and
---     columns such as alert_rule.pipeline_configs), and for the v7.3.2
---     file-only widening of trigger_value (an upgraded database keeps
---     varchar(255), a file-made one since v7.3.2 has it wider).
---
---   Markers that the stale files only gain later are *required*: the v7.7.2
---   PostgreSQL and SQLite files lack target.os, notification_record,
---   target.host_tags and target_busi_group, which their v8.0.0 files have,
---   so they are really 7.0.0 schemas with the v7.3.2 widening ("between
---   7.0.0 and 7.3.2"), not 7.7.2.
---
--- What each reference file loads as (tests/spec/fingerprint_spec.lua
--- asserts every line):
---
---   | tag    | MySQL           | PostgreSQL           | SQLite               |
---   | v6.7.3 | exact 6.7.3     | exact 6.7.3          | (no file)            |
---   | v7.0.0 | exact 7.0.0     | exact 7.0.0 (1)      | exact 7.0.0 (2)      |
---   | v7.7.2 | exact 7.7.2     | between 7.0.0, 7.3.2 | between 7.0.0, 7.3.2 |
---   | v8.0.0 | exact 8.0.0     | exact 8.0.0          | exact 8.0.0          |
---   | v9.1.1 | exact 9.1.0 (3) | exact 9.1.0 (3)      | exact 9.1.0 (3)      |
---
---   (1) the PostgreSQL files never get original_tags or
---   recording_rule.cron_pattern, so they are optional there; every other
---   7.0.0 marker is present.  (2) the project's SQLite 7.0.0 is this very
---   file.  (3) 9.1.1 changed no schema; 9.1.0 is the last script version
---   with schema changes.
local schema = require("migrate.schema")
local version = require("migrate.version")

local M = {}

local ENGINES = { "mysql", "postgres", "sqlite" }

--- The lowest release the project ships a script for, per engine.
M.FLOOR = { mysql = "6.7.3", postgres = "6.7.3", sqlite = "7.0.0" }

-- Marker constructors.  Each returns a plain table:
--   { name, kind, table, column?, columns?, unique?, types?,
--     optional? (list of engines, or ENGINES), only? (list of engines),
--     note? (why it is optional or limited) }
-- kind: "table" (exists with `columns`; lacking one of them is a
-- contradiction), "column", "index" (an index on exactly `columns`, in
-- order, whatever its name; `unique` when set must match), "no_index" (the
-- table exists and has no such index: required only, never evidence),
-- "nullable" (nullable and without default), "type" (portable type is one
-- of `types`).
local function with(m, o)
  for k, v in pairs(o or {}) do m[k] = v end
  return m
end

local function tbl(name, columns, o)
  return with({ name = "table " .. name, kind = "table", table = name, columns = columns }, o)
end

local function split(tc)
  return tc:match("^([%w_]+)%.([%w_]+)$")
end

local function col(tc, o)
  local t, c = split(tc)
  return with({ name = "column " .. tc, kind = "column", table = t, column = c }, o)
end

local function idx(t, columns, o)
  local name = ("%sindex %s(%s)"):format(o and o.unique and "unique " or "", t, table.concat(columns, ","))
  return with({ name = name, kind = "index", table = t, columns = columns }, o)
end

local function no_unique_idx(t, columns, o)
  return with({ name = ("no unique index %s(%s)"):format(t, table.concat(columns, ",")), kind = "no_index",
                table = t, columns = columns, unique = true }, o)
end

local function nullable(tc, o)
  local t, c = split(tc)
  return with({ name = tc .. " nullable without default", kind = "nullable", table = t, column = c }, o)
end

local function typed(tc, types, o)
  local t, c = split(tc)
  return with({ name = ("%s of type %s"):format(tc, table.concat(types, " or ")), kind = "type",
                table = t, column = c, types = types }, o)
end

-- Reasons, shared by many markers.
local PG_NEVER = "no PostgreSQL file (through v9.1.1) has it; only AutoMigrate adds it at start"
local SQLITE_NEVER = "no SQLite file (through v9.1.1) has it; only AutoMigrate adds it at start"
local BOTH_NEVER = "no PostgreSQL or SQLite file (through v9.1.1) has it; only AutoMigrate adds it at start"
local NO_FILE = "in no shipped full-schema file (migrate.sql or AutoMigrate only)"
local SQLITE_700 = "the v7.0.0 sqlite.sql lacks it, and the project's SQLite 7.0.0 baseline is that file"
local PG = { "postgres" }
local SQ = { "sqlite" }
local PG_SQ = { "postgres", "sqlite" }

--- The marker table: one entry per script version, in release order, each
--- { version, note?, markers = { ... } } (see the constructors above for a
--- marker's fields).  Sources: NOTES.md §3 "Fingerprints" and the
--- per-release changes of §3/§4, checked against tests/reference/.
M.MARKERS = {
  { version = "6.7.3", note = "base: any Nightingale from v6.7.3 on", markers = {
    tbl("users", { "username", "roles" }),
    tbl("user_group", { "name" }),
    tbl("busi_group", { "name" }),
    tbl("role_operation", { "role_name", "operation" }),
    tbl("configs", { "ckey", "cval" }),
    tbl("alert_rule", { "group_id", "prom_ql" }),
    tbl("alert_mute", { "group_id" }),
    tbl("alert_subscribe", { "rule_id" }),
    tbl("alert_cur_event", { "hash" }),
    tbl("alert_his_event", { "hash" }),
    tbl("recording_rule", { "prom_ql" }),
    tbl("target", { "ident" }),
    tbl("board", { "group_id" }),
    tbl("datasource", { "plugin_type" }),
    tbl("notify_tpl", { "channel" }),
    tbl("metric_view", { "configs" }),
    tbl("alerting_engines", { "instance", "engine_cluster" }),
  } },
  { version = "7.0.0", markers = {
    tbl("builtin_metrics", { "collector", "typ", "name" }),
    tbl("metric_filter", { "name", "configs" }),
    tbl("board_busigroup", { "busi_group_id", "board_id" }),
    tbl("builtin_components", { "ident" }),
    tbl("builtin_payloads", { "component", "content" }),
    col("users.last_active_time"),
    idx("alert_his_event", { "last_eval_time" }),
    col("builtin_payloads.uuid", { optional = SQ, note = SQLITE_700 }),
    col("recording_rule.cron_pattern", { optional = PG_SQ, note = PG_NEVER .. "; " .. SQLITE_700 }),
    col("alert_cur_event.original_tags", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_his_event.original_tags", { optional = PG_SQ, note = PG_NEVER .. "; " .. SQLITE_700 }),
  } },
  { version = "7.1.0", markers = {
    col("target.os"),
    idx("target", { "os" }),
  } },
  { version = "7.2.0", markers = {
    tbl("notification_record", { "event_id", "channel", "created_at" }),
    idx("notification_record", { "event_id" }),
  } },
  { version = "7.3.0", markers = {
    col("target.host_tags"),
  } },
  { version = "7.3.2", markers = {
    col("builtin_payloads.component_id", { optional = PG, note = PG_NEVER }),
    typed("alert_his_event.trigger_value", { "varchar(2048)", "text" },
          { optional = ENGINES, note = "the v7.3.2+ files widen it; upgraded databases keep varchar(255)" }),
    typed("alert_cur_event.trigger_value", { "varchar(2048)", "text" },
          { optional = ENGINES, note = "the v7.3.2+ files widen it; upgraded databases keep varchar(255)" }),
  } },
  { version = "7.4.0", markers = {
    tbl("target_busi_group", { "target_ident", "group_id" }),
    idx("target_busi_group", { "target_ident", "group_id" }, { unique = true }),
  } },
  { version = "7.5.0", note = "AutoMigrate of the ibex task_host_doing struct: index names only, no marker",
    markers = {} },
  { version = "7.7.0", markers = {
    col("alert_rule.datasource_queries", { optional = PG, note = PG_NEVER }),
    col("recording_rule.datasource_queries", { optional = PG, note = PG_NEVER }),
  } },
  { version = "7.7.2", markers = {
    nullable("alert_subscribe.rule_ids", { optional = PG_SQ, note = BOTH_NEVER }),
    nullable("alert_subscribe.busi_groups", { optional = PG_SQ, note = BOTH_NEVER }),
  } },
  { version = "8.0.0", markers = {
    col("alert_rule.cron_pattern", { optional = PG, note = PG_NEVER }),
    col("es_index_pattern.cross_cluster_enabled"),
    tbl("dash_annotation", { "dashboard_id", "panel_id" }),
    no_unique_idx("builtin_metrics", { "lang", "collector", "typ", "name" },
                  { optional = PG, note = "the PostgreSQL files keep it as a constraint that n9e does not drop" }),
    col("builtin_components.disabled", { optional = SQ, note = SQLITE_NEVER }),
    col("es_index_pattern.note", { optional = SQ, note = SQLITE_NEVER }),
    col("datasource.identifier", { optional = SQ, note = SQLITE_NEVER }),
    tbl("user_token", { "username", "token" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("notify_rule", { "name", "notify_configs" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("notify_channel", { "ident", "request_type" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("message_template", { "ident", "content" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("event_pipeline", { "name", "team_ids" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("embedded_product", { "name", "url" }, { optional = SQ, note = SQLITE_NEVER }),
    tbl("source_token", { "source_type", "token" }, { optional = SQ, note = SQLITE_NEVER }),
    col("notify_rule.pipeline_configs", { optional = SQ, note = SQLITE_NEVER }),
    col("notify_channel.weight", { optional = SQ, note = SQLITE_NEVER }),
    col("message_template.weight", { optional = SQ, note = SQLITE_NEVER }),
    col("notification_record.notify_rule_id", { optional = SQ, note = "the SQLite file has it only from v9.1.0" }),
    col("alert_rule.notify_rule_ids", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_rule.notify_version", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_subscribe.notify_rule_ids", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_subscribe.notify_version", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_cur_event.notify_rule_ids", { optional = PG_SQ, note = BOTH_NEVER }),
    col("alert_his_event.notify_rule_ids", { optional = PG_SQ, note = BOTH_NEVER }),
    col("builtin_metrics.translation", { optional = ENGINES, note = NO_FILE }),
  } },
  { version = "8.1.0", note = "PostgreSQL only: notify_rule/notify_channel.enable smallint -> boolean", markers = {
    typed("notify_rule.enable", { "bool" }, { only = PG }),
    typed("notify_channel.enable", { "bool" }, { only = PG }),
  } },
  { version = "8.4.0", markers = {
    col("event_pipeline.attr_filters", { optional = PG_SQ, note = "renamed in the MySQL file only" }),
    col("event_pipeline.processor_configs", { optional = PG_SQ, note = "renamed in the MySQL file only" }),
    col("notify_rule.extra_config", { optional = ENGINES, note = NO_FILE }),
    typed("users.phone", { "varchar(1024)" }, { optional = ENGINES, note = "widened by AutoMigrate only" }),
  } },
  { version = "8.4.1", note = "alert_rule.pipeline_configs, in no shipped file: evidence only", markers = {
    col("alert_rule.pipeline_configs", { optional = ENGINES, note = NO_FILE }),
  } },
  { version = "8.5.0", markers = {
    col("board.note"),
    col("builtin_payloads.note"),
  } },
  { version = "8.5.1", markers = {
    col("builtin_metrics.expression_type"),
    col("builtin_metrics.metric_type"),
    col("builtin_metrics.extra_fields"),
    tbl("event_pipeline_execution", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("saved_view", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("user_view_favorite", { "id" }, { optional = ENGINES, note = NO_FILE }),
  } },
  { version = "9.0.0", markers = {
    col("alert_rule.time_zone"),
    col("datasource.weight"),
    col("es_index_pattern.weight"),
    col("alert_mute.mute_type"),
    idx("alert_his_event", { "group_id", "last_eval_time" }),
    col("embedded_product.weight", { optional = SQ, note = SQLITE_NEVER }),
    col("embedded_product.hide", { optional = SQ, note = SQLITE_NEVER }),
    col("message_template.lang", { optional = SQ, note = SQLITE_NEVER }),
    tbl("ai_llm_config", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("ai_agent", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("ai_skill", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("ai_skill_file", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("ai_assistant_chat", { "id" }, { optional = ENGINES, note = NO_FILE }),
    tbl("ai_assistant_message", { "id" }, { optional = ENGINES, note = NO_FILE }),
    col("event_pipeline.group_id", { optional = ENGINES, note = NO_FILE }),
    col("task_record.auth_level", { optional = ENGINES, note = NO_FILE }),
  } },
  { version = "9.1.0", markers = {
    idx("notification_record", { "created_at" }),
    idx("notification_record", { "notify_rule_id", "created_at", "event_id" }),
  } },
}

local function member(list, x)
  if list == nil then return false end
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end

--- The role of marker m on engine: "required", "evidence" (optional there:
--- presence counts, absence proves nothing) or nil (does not apply).  A
--- negative marker is never evidence.
function M.role(m, engine)
  if m.only and not member(m.only, engine) then return nil end
  if member(m.optional, engine) then
    if m.kind == "no_index" then return nil end
    return "evidence"
  end
  return "required"
end

local function same_columns(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

local function has_index(t, columns, unique)
  for _, i in pairs(t.indexes or {}) do
    if same_columns(i.columns or {}, columns) and (unique == nil or (i.unique and true or false) == unique) then
      return true
    end
  end
  return false
end

-- Evaluate one marker on a description: present (bool) and, for a table
-- that exists without the columns Nightingale gives it, a conflict text.
local function evaluate(m, desc)
  local t = desc[m.table]
  if m.kind == "table" then
    if not t then return false end
    local lacking = {}
    for _, c in ipairs(m.columns or {}) do
      if not (t.columns or {})[c] then lacking[#lacking + 1] = c end
    end
    if #lacking > 0 then
      return false, ("table %s exists but lacks column%s %s that Nightingale gives it")
        :format(m.table, #lacking > 1 and "s" or "", table.concat(lacking, ", "))
    end
    return true
  end
  if not t then return false end
  local c = m.column and (t.columns or {})[m.column]
  if m.kind == "column" then return c ~= nil end
  if m.kind == "index" then return has_index(t, m.columns, m.unique) end
  if m.kind == "no_index" then return not has_index(t, m.columns, m.unique) end
  if m.kind == "nullable" then return c ~= nil and not c.notnull and c.default == nil end
  if m.kind == "type" then return c ~= nil and member(m.types, c.type) end
  error("fingerprint: unknown marker kind " .. tostring(m.kind))
end

local function names(list)
  local out = {}
  for _, m in ipairs(list) do out[#out + 1] = m.name end
  return out
end

local function round(x) return math.floor(x * 1000 + 0.5) / 1000 end

local function span(releases, lo, hi)
  if lo == hi then return releases[lo].version end
  return releases[lo].version .. "–" .. releases[hi].version
end

--- Identify the Nightingale release of conn's schema.  opts (all
--- optional): `description`, a schema.describe() result to use instead of
--- reading the catalog; `engine`, the dialect (default conn.dialect).
--- Returns { status = "exact"|"between"|"unknown", version, lower, upper,
--- engine, matched, missing, conflicts, closest = { {version, score,
--- missing, unexpected}, ... up to 3 }, detail } (see the module comment).
function M.identify(conn, opts)
  opts = opts or {}
  local engine = opts.engine or (conn and conn.dialect)
  assert(M.FLOOR[engine], "fingerprint: unknown engine " .. tostring(engine))
  local desc = opts.description or schema.describe(conn)
  local floor = M.FLOOR[engine]

  local res = { engine = engine, matched = {}, missing = {}, conflicts = {}, closest = {} }
  if next(desc) == nil then
    res.status = "unknown"
    res.detail = "empty database: no tables, nothing to recognise"
    return res
  end

  -- Evaluate every marker that applies on this engine, release by release.
  local releases = {}
  for i, rel in ipairs(M.MARKERS) do
    local r = { version = rel.version, index = i, required = {}, absent = {}, evidence = {} }
    for _, m in ipairs(rel.markers) do
      local role = M.role(m, engine)
      if role then
        local present, conflict = evaluate(m, desc)
        if conflict then res.conflicts[#res.conflicts + 1] = conflict end
        if role == "required" then r.required[#r.required + 1] = m end
        if present then
          if m.kind ~= "no_index" then r.evidence[#r.evidence + 1] = m end
        elseif role == "required" then
          r.absent[#r.absent + 1] = m
        end
      end
    end
    releases[i] = r
  end

  for _, r in ipairs(releases) do -- negative markers prove nothing by being satisfied
    for _, m in ipairs(r.evidence) do res.matched[#res.matched + 1] = m.name end
  end

  -- Candidates: releases this engine has scripts for that can be proved.
  local candidates = {}
  for i, r in ipairs(releases) do
    if #r.required > 0 and not version.lt(r.version, floor) then candidates[#candidates + 1] = i end
  end

  -- Closest matches: for candidate R, the required markers up to R against
  -- what is there, minus the evidence of later releases.
  local scored = {}
  for _, i in ipairs(candidates) do
    local expected, hits, missing, unexpected = 0, 0, {}, {}
    for j = 1, #releases do
      local r = releases[j]
      if j <= i then
        expected = expected + #r.required
        hits = hits + (#r.required - #r.absent)
        for _, m in ipairs(r.absent) do missing[#missing + 1] = m.name end
      else
        for _, m in ipairs(r.evidence) do unexpected[#unexpected + 1] = m.name end
      end
    end
    scored[#scored + 1] = { version = releases[i].version, score = round(hits / (expected + #unexpected)),
                            missing = missing, unexpected = unexpected, index = i }
  end
  table.sort(scored, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    if #a.missing ~= #b.missing then return #a.missing < #b.missing end
    return a.index > b.index
  end)
  for k = 1, math.min(3, #scored) do
    local s = scored[k]
    res.closest[k] = { version = s.version, score = s.score, missing = s.missing, unexpected = s.unexpected }
  end

  -- Rule 2: the base.
  local base = releases[1]
  if #base.absent > 0 then
    res.status = "unknown"
    res.missing = names(base.absent)
    res.detail = ("not a Nightingale schema: %d of the %d base markers (what every release since %s has) are missing")
      :format(#base.absent, #base.required, base.version)
    return res
  end

  -- Rule 3: contradictions.
  if #res.conflicts > 0 then
    res.status = "unknown"
    res.detail = ("contradicting markers: %s%s"):format(res.conflicts[1],
      #res.conflicts > 1 and (" (and %d more)"):format(#res.conflicts - 1) or "")
    return res
  end

  -- Rule 4: the highest complete candidate.
  local lower
  local complete = true
  for i, r in ipairs(releases) do
    if #r.absent > 0 then complete = false end
    if not complete then break end
    if member(candidates, i) then lower = i end
  end
  if not lower then
    local missing = {}
    for _, r in ipairs(releases) do
      if version.lt(floor, r.version) then break end
      for _, m in ipairs(r.absent) do missing[#missing + 1] = m.name end
    end
    res.status = "unknown"
    res.missing = missing
    res.detail = ("Nightingale tables are there, but %s, the first release the project has %s scripts for, "
      .. "is incomplete (%d marker%s missing) and there is nothing earlier to record")
      :format(floor, engine, #missing, #missing == 1 and "" or "s")
    return res
  end

  -- Rule 5: evidence of later releases.
  local upper = lower
  for i = lower + 1, #releases do
    if #releases[i].evidence > 0 then upper = i end
  end
  res.version = releases[lower].version
  if upper == lower then
    res.status = "exact"
    local n = 0
    for i = 1, lower do n = n + #releases[i].required end
    res.detail = ("Nightingale %s: all %d required markers up to %s are present and none of a later release")
      :format(res.version, n, res.version)
    return res
  end
  res.status = "between"
  res.lower, res.upper = releases[lower].version, releases[upper].version
  local found = 0
  for i = lower + 1, upper do
    local r = releases[i]
    for _, m in ipairs(r.absent) do res.missing[#res.missing + 1] = m.name end
    found = found + #r.evidence
  end
  local newest = releases[upper].evidence[#releases[upper].evidence]
  res.detail = ("between Nightingale %s and %s: complete up to %s, plus %d marker%s of %s (newest: %s) "
    .. "with %d required one%s missing")
    :format(res.lower, res.upper, res.lower, found, found == 1 and "" or "s", span(releases, lower + 1, upper),
            newest.name, #res.missing, #res.missing == 1 and "" or "s")
  return res
end

local function listing(items, limit)
  limit = limit or 12
  if #items == 0 then return "none" end
  local shown = {}
  for i = 1, math.min(#items, limit) do shown[i] = items[i] end
  local text = table.concat(shown, ", ")
  if #items > limit then text = text .. (", and %d more"):format(#items - limit) end
  return text
end

--- A multi-line text describing result (from identify), for error
--- messages and `status`-like output.
function M.explain(result)
  local lines = {}
  if result.status == "exact" then
    lines[1] = ("Nightingale release: %s (record %s as the baseline)"):format(result.version, result.version)
  elseif result.status == "between" then
    lines[1] = ("Nightingale release: between %s and %s (record %s as the baseline)")
      :format(result.lower, result.upper, result.version)
  else
    lines[1] = "Nightingale release: not recognised"
  end
  lines[#lines + 1] = "  " .. tostring(result.detail)
  if result.matched and #result.matched > 0 then
    local newest_first = {}
    for i = #result.matched, 1, -1 do newest_first[#newest_first + 1] = result.matched[i] end
    lines[#lines + 1] = ("  markers found (%d, newest first): %s"):format(#result.matched, listing(newest_first))
  end
  if result.missing and #result.missing > 0 then
    lines[#lines + 1] = ("  markers missing (%d): %s"):format(#result.missing, listing(result.missing))
  end
  for _, c in ipairs(result.conflicts or {}) do
    lines[#lines + 1] = "  contradiction: " .. c
  end
  if result.status ~= "exact" and result.closest and #result.closest > 0 then
    lines[#lines + 1] = "  closest releases:"
    for _, c in ipairs(result.closest) do
      lines[#lines + 1] = ("    %-6s score %.3f; missing: %s; unexpected: %s")
        :format(c.version, c.score, listing(c.missing, 6), listing(c.unexpected, 6))
    end
  end
  return table.concat(lines, "\n")
end

return M
