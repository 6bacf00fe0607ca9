--- Nightingale's data conversions, for the convert and verify steps of the
--- release scripts that need them:
---
---   v7.4.0  busi_groups            target.group_id -> target_busi_group (+ busigroup tag)
---   v7.7.0  datasource_queries     datasource_ids -> datasource_queries (alert_rule, recording_rule)
---   v8.0.0  embedded_products      configs 'embedded-dashboards' -> embedded_product rows
---
--- Every function takes the step's `db` handle and uses only what that
--- handle offers (exec, query, first, scalar, quote_ident, columns,
--- checksum, dialect, null).  Values reach SQL only as `?` parameters,
--- identifiers only through db:quote_ident.  Tables are read in keyset
--- batches (`WHERE id > ? ORDER BY id LIMIT n`), each batch read completely
--- before it is written back (no write runs while a cursor is open), so
--- memory stays flat however large the table.
---
--- Conversions are idempotent and resumable: each batch's statements are
--- ordered so that a run interrupted anywhere leaves rows that are either
--- converted or not, never half, and a second run picks up the rest; on
--- converted data they change nothing.
local cjson = require("cjson")
local json = require("migrate.json")
local sys = require("n9e.sys")

local M = {}

--- Rows per keyset batch (and per multi-row statement).
M.BATCH = 500

-- helpers ----------------------------------------------------------------

local function is_null(db, v) return v == nil or v == db.null end

local function int(v) return math.tointeger(tonumber(v)) end

--- Calls fn(rows) for consecutive batches of at most `size` rows of
--- `sql`, a SELECT that has `id > ?` as its first placeholder, `LIMIT ?`
--- as its last, `ORDER BY id`, and selects `id`; params fill the
--- placeholders in between.  A batch is fetched completely (the cursor is
--- closed) before fn runs, so fn may write the same table.
local function each_batch(db, sql, params, size, fn)
  -- below every id, signed or unsigned: the first batch starts anywhere
  local last = math.mininteger
  while true do
    local args = { last }
    table.move(params, 1, #params, 2, args)
    args[#args + 1] = size
    local rows = {}
    for row in db:query(sql, table.unpack(args, 1, #args)) do rows[#rows + 1] = row end
    if #rows == 0 then return end
    fn(rows)
    if #rows < size then return end
    last = int(rows[#rows].id)
  end
end

--- `CASE id WHEN ? THEN ? ... ELSE <col> END` for changes = {{id, value}, ...},
--- appending its parameters to params.
local function case_by_id(db, col, changes, params)
  local parts = { "CASE " .. db:quote_ident("id") }
  for _, c in ipairs(changes) do
    parts[#parts + 1] = "WHEN ? THEN ?"
    params[#params + 1] = c[1]
    params[#params + 1] = c[2]
  end
  parts[#parts + 1] = "ELSE " .. db:quote_ident(col) .. " END"
  return table.concat(parts, " ")
end

--- "a, b, c" examples for error messages, at most `max` of them.
local function sample(list, max)
  local out = {}
  for i = 1, math.min(#list, max or 5) do out[i] = tostring(list[i]) end
  return table.concat(out, ", ") .. (#list > (max or 5) and ", ..." or "")
end

--- Order-independent aggregate of strings, the same construction as
--- db:checksum (sha256 per item, first 8 bytes summed mod 2^64), for sets
--- that SQL cannot select (rows classified by decoding JSON).
local function digest_add(acc, text)
  local h = sys.sha256(text)
  acc.rows = acc.rows + 1
  acc.n = acc.n + (tonumber(h:sub(1, 8), 16) << 32 | tonumber(h:sub(9, 16), 16))
end

local function digest_new() return { rows = 0, n = 0 } end
local function digest_result(acc) return { rows = acc.rows, sum = ("%016x"):format(acc.n) } end

--- The integer a db:checksum sum stands for (16 hex digits).
local function sum_value(hex) return tonumber(hex:sub(1, 8), 16) << 32 | tonumber(hex:sub(9, 16), 16) end

--- Raise the collected problems as one error, from the caller's caller.
local function raise(what, problems)
  if #problems > 0 then error(what .. ": " .. table.concat(problems, "; "), 3) end
end

-- v7.4.0: business groups -------------------------------------------------

--- n9e_data.add_tag(tags, key, value) -> the tags string (space-separated `k=v` tags, sorted, with a trailing
--- space, as Nightingale stores them) with `key=value` added, or nil when
--- it already has a `key=` tag.  Lua compares strings with strcoll, which
--- in the runtime's C locale is byte order: the order Go's sort.Strings
--- gives Nightingale.
local function add_tag(tags, key, value)
  local prefix, list = key .. "=", {}
  for tag in tags:gmatch("%S+") do
    if tag:sub(1, #prefix) == prefix then return nil end
    list[#list + 1] = tag
  end
  list[#list + 1] = prefix .. value
  table.sort(list)
  return table.concat(list, " ") .. " "
end
M.add_tag = add_tag

--- n9e_data.busi_groups(db [, opts]) -> { moved = n, tagged = n, associated = n }
--- v7.4.0: a host's business group moves from target.group_id to the
--- association table target_busi_group.  For every target with
--- group_id <> 0: the (ident, group_id) pair is inserted into
--- target_busi_group (update_at = now) unless it is there already, then
--- group_id is set to 0 and, when that busi_group has label_enable = 1 and
--- the host has no `<key>=` tag yet, the tag `<key>=<label_value>` is added.
--- A group_id naming no busi_group still gets its association (Nightingale
--- does not check) but no tag.  opts: label_key (default "busigroup"),
--- batch (rows per batch, default M.BATCH), now (unix seconds, default
--- os.time()).  moved: targets converted by this call; tagged: of those,
--- the ones given a tag; associated: association rows inserted.
function M.busi_groups(db, opts)
  opts = opts or {}
  local key = opts.label_key or "busigroup"
  local size = opts.batch or M.BATCH
  local now = opts.now or os.time()
  local T, G, TBG = db:quote_ident("target"), db:quote_ident("busi_group"), db:quote_ident("target_busi_group")
  local select_sql = ("SELECT t.id, t.ident, t.group_id, t.tags, g.id AS gid, g.label_enable, g.label_value "
    .. "FROM %s t LEFT JOIN %s g ON g.id = t.group_id WHERE t.id > ? AND t.group_id <> ? "
    .. "ORDER BY t.id LIMIT ?"):format(T, G)
  -- the batch's pairs that are not associated yet, in one statement
  local insert_sql = ("INSERT INTO %s (target_ident, group_id, update_at) "
    .. "SELECT t.ident, t.group_id, ? FROM %s t WHERE t.id > ? AND t.id <= ? AND t.group_id <> ? "
    .. "AND NOT EXISTS (SELECT 1 FROM %s b WHERE b.target_ident = t.ident AND b.group_id = t.group_id)")
    :format(TBG, T, TBG)
  local summary = { moved = 0, tagged = 0, associated = 0 }
  local from = math.mininteger
  each_batch(db, select_sql, { 0 }, size, function(rows)
    local to = int(rows[#rows].id)
    local retag = {}
    for _, r in ipairs(rows) do
      if not is_null(db, r.gid) and int(r.label_enable) == 1 then
        local value = is_null(db, r.label_value) and "" or tostring(r.label_value)
        local tags = add_tag(is_null(db, r.tags) and "" or r.tags, key, value)
        if tags then retag[#retag + 1] = { int(r.id), tags } end
      end
    end
    -- associations first, then group_id = 0 with the tags in the same
    -- statement: interrupted in between, the rows still have their
    -- group_id and the next run finds their pairs present and goes on
    summary.associated = summary.associated + db:exec(insert_sql, now, from, to, 0)
    local params, set = { 0 }, ""
    if #retag > 0 then set = ", tags = " .. case_by_id(db, "tags", retag, params) end
    params[#params + 1] = from
    params[#params + 1] = to
    params[#params + 1] = 0
    summary.moved = summary.moved + db:exec(("UPDATE %s SET group_id = ?%s WHERE id > ? AND id <= ? AND group_id <> ?")
                                              :format(T, set), table.unpack(params))
    summary.tagged = summary.tagged + #retag
    from = to
  end)
  return summary
end

--- The columns of target a conversion must leave as they are.
local function kept_target_columns(db)
  local cols = {}
  for _, c in ipairs(db:columns("target")) do
    if c.name ~= "group_id" and c.name ~= "tags" then cols[#cols + 1] = c.name end
  end
  return cols
end

--- n9e_data.busi_groups_snapshot(db) -> before
--- What verify_busi_groups compares with; take it in convert just before
--- busi_groups.  Checksums only, so it is small however many targets:
--- targets (row count), columns + kept (checksum of target's other
--- columns), associations (checksum of target_busi_group's pairs), pairs
--- (checksum of the (ident, group_id) pairs the conversion will add) and
--- moving (targets with group_id <> 0).
function M.busi_groups_snapshot(db)
  local T, TBG = db:quote_ident("target"), db:quote_ident("target_busi_group")
  local cols = kept_target_columns(db)
  return {
    targets = int(db:scalar("SELECT count(*) AS n FROM " .. T)),
    moving = int(db:scalar("SELECT count(*) AS n FROM " .. T .. " WHERE group_id <> ?", 0)),
    columns = cols,
    kept = db:checksum("target", cols),
    associations = db:checksum("target_busi_group", { "target_ident", "group_id" }),
    pairs = db:checksum("target", { "ident", "group_id" },
                        ("group_id <> ? AND NOT EXISTS (SELECT 1 FROM %s b WHERE b.target_ident = %s.ident "
                         .. "AND b.group_id = %s.group_id)"):format(TBG, T, T), 0),
  }
end

--- n9e_data.verify_busi_groups(db [, before]) -> true, or raises
--- Read-only.  Always: no target has group_id <> 0 (such a target is not
--- converted: nothing in target_busi_group stands for its group).  With
--- before (a busi_groups_snapshot result): target has as many rows as
--- before, its columns other than group_id and tags are unchanged, and
--- target_busi_group holds exactly its pairs from before plus every pair
--- that was on target (so none was lost, changed or added twice).
--- Raises "verify_busi_groups: ..." naming every problem found.
function M.verify_busi_groups(db, before)
  local T = db:quote_ident("target")
  local problems = {}
  local left = int(db:scalar("SELECT count(*) AS n FROM " .. T .. " WHERE group_id <> ?", 0))
  if left > 0 then
    local names = {}
    for r in db:query("SELECT ident, group_id FROM " .. T .. " WHERE group_id <> ? ORDER BY id", 0) do
      names[#names + 1] = ("%s (group %s)"):format(r.ident, tostring(r.group_id))
      if #names > 5 then break end
    end
    problems[#problems + 1] = ("%d target(s) still have group_id <> 0, not converted: %s"):format(left, sample(names))
  end
  if before then
    local n = int(db:scalar("SELECT count(*) AS n FROM " .. T))
    if n ~= before.targets then
      problems[#problems + 1] = ("target has %d row(s), expected %d"):format(n, before.targets)
    end
    local kept = db:checksum("target", before.columns)
    if n == before.targets and kept.sum ~= before.kept.sum then
      problems[#problems + 1] = ("target columns other than group_id and tags changed (%s)")
        :format(table.concat(before.columns, ","))
    end
    local want_rows = before.associations.rows + before.pairs.rows
    local want_sum = ("%016x"):format(sum_value(before.associations.sum) + sum_value(before.pairs.sum))
    local have = db:checksum("target_busi_group", { "target_ident", "group_id" })
    if have.rows ~= want_rows then
      problems[#problems + 1] = ("target_busi_group has %d row(s), expected %d (%d before + %d moved from target)")
        :format(have.rows, want_rows, before.associations.rows, before.pairs.rows)
    elseif have.sum ~= want_sum then
      problems[#problems + 1] = "target_busi_group pairs differ from target's (ident, group_id) before the conversion"
    end
  end
  raise("verify_busi_groups", problems)
  return true
end

-- v7.7.0: datasource queries ----------------------------------------------

local RULE_TABLES = { alert_rule = true, recording_rule = true }

local function rule_table(tbl)
  if not RULE_TABLES[tbl] then
    error(("datasource_queries: table must be alert_rule or recording_rule, not %s"):format(tostring(tbl)), 3)
  end
  return tbl
end

--- The ids of a datasource_ids text: a list of integers ({} for NULL or
--- ''), or nil when it is not a JSON array of integers.
local function parse_ids(db, text)
  if is_null(db, text) or text == "" then return {} end
  local ok, v = pcall(cjson.decode, text)
  if not ok or type(v) ~= "table" then return nil end
  local n = #v
  for k in pairs(v) do -- an object is not a list
    if math.type(k) ~= "integer" or k < 1 or k > n then return nil end
  end
  local ids = {}
  for i = 1, n do
    -- cjson decodes every number as a float; 2.5 or "2" is no id
    local id = type(v[i]) == "number" and math.tointeger(v[i])
    if not id then return nil end
    ids[i] = id
  end
  return ids
end

--- The query Nightingale derives from ids: match_type 0 over the ids; an
--- id 0 means every datasource: match_type 2 over the ids before it.
local function expected_query(ids)
  for i, id in ipairs(ids) do
    if id == 0 then return 2, table.move(ids, 1, i - 1, 1, {}) end
  end
  return 0, ids
end

--- The JSON text of that query.  Keys in Nightingale's (Go struct) order,
--- written by hand because cjson orders keys at random; the values list
--- through migrate.json so that an empty one is [] and not {}.
local function encode_query(match_type, values)
  return ('[{"match_type":%d,"op":"in","values":%s}]'):format(match_type, json.encode(json.array(values)))
end

local function empty_queries(db, text)
  return is_null(db, text) or text == "" or text == "[]"
end

--- Whether datasource_queries text q is what ids convert to: decoded, one
--- query with the expected match_type, op "in" and values equal to the ids.
local function queries_match(q, ids)
  local ok, v = pcall(cjson.decode, q)
  if not ok or type(v) ~= "table" or #v ~= 1 or type(v[1]) ~= "table" then return false end
  local mt, values = expected_query(ids)
  local got = v[1]
  if got.match_type ~= mt or got.op ~= "in" or type(got.values) ~= "table" or #got.values ~= #values then
    return false
  end
  for i, id in ipairs(values) do
    if got.values[i] ~= id then return false end -- 1.0 == 1 in Lua
  end
  return true
end

--- What the conversion makes of one row: "pending" (needs converting), "ok"
--- (converted), "kept" (already has other queries: left alone), "none"
--- (no ids) or "invalid" (datasource_ids is not a JSON array of integers).
local function classify(db, row)
  local ids = parse_ids(db, row.datasource_ids)
  if not ids then return "invalid" end
  if #ids == 0 then return "none" end
  if empty_queries(db, row.datasource_queries) then return "pending", ids end
  if queries_match(row.datasource_queries, ids) then return "ok", ids end
  return "kept", ids
end

--- n9e_data.datasource_queries(db, tbl [, opts]) -> { converted = n, invalid = n, invalid_ids = {id, ...} }
--- v7.7.0, tbl "alert_rule" or "recording_rule": every row whose
--- datasource_queries is NULL, '' or '[]' and whose datasource_ids is a
--- non-empty JSON array of integers gets datasource_queries =
--- [{"match_type":0,"op":"in","values":[ids]}], or, when the ids hold 0
--- (every datasource), match_type 2 over the ids before the 0.
--- datasource_ids stays as it is (older readers use it).  A
--- datasource_ids that is not such an array is left alone and counted in
--- invalid (invalid_ids: the first 100 row ids).  opts.batch: rows per
--- batch (default M.BATCH).
function M.datasource_queries(db, tbl, opts)
  local name = db:quote_ident(rule_table(tbl))
  local size = (opts and opts.batch) or M.BATCH
  local sql = ("SELECT id, datasource_ids, datasource_queries FROM %s WHERE id > ? "
    .. "AND (datasource_queries IS NULL OR datasource_queries IN (?, ?)) ORDER BY id LIMIT ?"):format(name)
  local summary = { converted = 0, invalid = 0, invalid_ids = {} }
  each_batch(db, sql, { "", "[]" }, size, function(rows)
    local changes, ids_in = {}, {}
    for _, r in ipairs(rows) do
      local state, ids = classify(db, r)
      if state == "pending" then
        changes[#changes + 1] = { int(r.id), encode_query(expected_query(ids)) }
        ids_in[#ids_in + 1] = "?"
      elseif state == "invalid" then
        summary.invalid = summary.invalid + 1
        if #summary.invalid_ids < 100 then summary.invalid_ids[#summary.invalid_ids + 1] = int(r.id) end
      end
    end
    if #changes == 0 then return end
    -- one statement per batch: a batch is converted entirely or not at all
    local params = {}
    local set = case_by_id(db, "datasource_queries", changes, params)
    for _, c in ipairs(changes) do params[#params + 1] = c[1] end
    summary.converted = summary.converted + db:exec(("UPDATE %s SET datasource_queries = %s WHERE id IN (%s)")
                                                      :format(name, set, table.concat(ids_in, ", ")),
                                                    table.unpack(params))
  end)
  return summary
end

--- Stream tbl's rows through classify: fn(row, state) for every row.
local function each_rule(db, tbl, fn)
  local sql = ("SELECT id, datasource_ids, datasource_queries FROM %s WHERE id > ? ORDER BY id LIMIT ?")
    :format(db:quote_ident(tbl))
  each_batch(db, sql, {}, M.BATCH, function(rows)
    for _, r in ipairs(rows) do fn(r, (classify(db, r))) end
  end)
end

local function kept_item(r) return tostring(int(r.id)) .. "\0" .. tostring(r.datasource_queries) end

--- n9e_data.datasource_queries_snapshot(db, tbl) -> before
--- What verify_datasource_queries compares with; take it in convert just
--- before datasource_queries.  ids: checksum of (id, datasource_ids);
--- kept: aggregate of the rows whose datasource_queries is already set to
--- something other than what their ids convert to (left alone).
function M.datasource_queries_snapshot(db, tbl)
  rule_table(tbl)
  local kept = digest_new()
  each_rule(db, tbl, function(r, state)
    if state == "kept" then digest_add(kept, kept_item(r)) end
  end)
  return { ids = db:checksum(tbl, { "id", "datasource_ids" }), kept = digest_result(kept) }
end

--- n9e_data.verify_datasource_queries(db, tbl [, before]) -> true, or raises
--- Read-only.  Every row whose datasource_ids is a non-empty JSON array
--- of integers has a datasource_queries that decodes to the query those
--- ids convert to (match_type, op "in", values).  With before (a
--- datasource_queries_snapshot result): datasource_ids is unchanged
--- (checksum) and rows that held other queries before the conversion are
--- exempt, as long as exactly those rows still hold exactly those queries.
--- Without before every such row is a problem.  Raises
--- "verify_datasource_queries(tbl): ..." naming every problem found.
function M.verify_datasource_queries(db, tbl, before)
  rule_table(tbl)
  local pending, kept_ids, kept = {}, {}, digest_new()
  each_rule(db, tbl, function(r, state)
    if state == "pending" then
      pending[#pending + 1] = int(r.id)
    elseif state == "kept" then
      digest_add(kept, kept_item(r))
      if #kept_ids < 6 then kept_ids[#kept_ids + 1] = int(r.id) end
    end
  end)
  kept = digest_result(kept)
  local problems = {}
  if #pending > 0 then
    problems[#problems + 1] = ("%d row(s) with datasource_ids have no datasource_queries, not converted: id %s")
      :format(#pending, sample(pending))
  end
  local allowed = before and before.kept or { rows = 0, sum = ("%016x"):format(0) }
  if kept.rows ~= allowed.rows or kept.sum ~= allowed.sum then
    problems[#problems + 1] = ("%d row(s) have a datasource_queries that does not match datasource_ids (%d "
      .. "expected: rows that had other queries before the conversion)%s")
      :format(kept.rows, allowed.rows, #kept_ids > 0 and (": id " .. sample(kept_ids)) or "")
  end
  if before then
    local ids = db:checksum(tbl, { "id", "datasource_ids" })
    if ids.rows ~= before.ids.rows then
      problems[#problems + 1] = ("%s has %d row(s), expected %d"):format(tbl, ids.rows, before.ids.rows)
    elseif ids.sum ~= before.ids.sum then
      problems[#problems + 1] = "datasource_ids changed"
    end
  end
  raise(("verify_datasource_queries(%s)"):format(tbl), problems)
  return true
end

-- v8.0.0: embedded products -----------------------------------------------

local CONFIG_KEY = "embedded-dashboards"

--- The built-in 'embedded-dashboards' config as a list of
--- { name =, url = }, or nil and why not ("no_config", "invalid_json",
--- "empty_list").  Like Go's json.Unmarshal into Nightingale's struct, a
--- list element that is not an object, or a name or url that is not a
--- string, makes the whole value invalid; a missing one reads as "".
local function embedded_list(db)
  local row = db:first("SELECT cval FROM " .. db:quote_ident("configs") .. " WHERE ckey = ? AND external = ? "
                       .. "ORDER BY id", CONFIG_KEY, 0)
  if not row or is_null(db, row.cval) then return nil, "no_config" end
  local ok, v = pcall(cjson.decode, row.cval)
  if not ok or type(v) ~= "table" then return nil, "invalid_json" end
  local n = #v
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return nil, "invalid_json" end
  end
  if n == 0 then return nil, "empty_list" end
  local list = {}
  for i = 1, n do
    local e = v[i]
    if type(e) ~= "table" then return nil, "invalid_json" end
    local item = {}
    for _, f in ipairs({ "name", "url" }) do
      local x = e[f]
      if x == nil or x == cjson.null then x = "" end
      if type(x) ~= "string" then return nil, "invalid_json" end
      item[f] = x
    end
    list[i] = item
  end
  return list
end

--- Placeholders per embedded_product row in the INSERT below.
local PRODUCT_PARAMS = 8

--- n9e_data.embedded_products(db [, opts]) -> { inserted = n, skipped = reason | nil }
--- v8.0.0: only while embedded_product is empty, every element of the
--- configs row ckey = 'embedded-dashboards', external = 0 (a JSON array of
--- {"id","name","url"}) becomes an embedded_product row: name, url,
--- is_private false, team_ids "[]", created and updated now by 'system'.
--- All rows go in one statement, so an interrupted run leaves the table
--- empty and the next run starts over.  A missing config, a value that is
--- not valid JSON or an empty list changes nothing; skipped then says why
--- ("not_empty", "no_config", "invalid_json", "empty_list").  opts.now:
--- unix seconds (default os.time()).
function M.embedded_products(db, opts)
  local P = db:quote_ident("embedded_product")
  if db:first("SELECT id FROM " .. P) then return { inserted = 0, skipped = "not_empty" } end
  local list, why = embedded_list(db)
  if not list then return { inserted = 0, skipped = why } end
  -- one statement: the engines' parameter limits (SQLite 32766, PostgreSQL
  -- and MySQL 65535) bound it; a menu of this size is not expected
  local max_rows = 32766 // PRODUCT_PARAMS
  if #list > max_rows then
    error(("embedded_products: %d embedded dashboards, at most %d supported"):format(#list, max_rows), 2)
  end
  local now = (opts and opts.now) or os.time()
  local tuples, params = {}, {}
  for i, e in ipairs(list) do
    tuples[i] = "(?, ?, ?, ?, ?, ?, ?, ?)"
    table.move({ e.name, e.url, false, "[]", now, "system", now, "system" }, 1, PRODUCT_PARAMS, #params + 1, params)
  end
  local n = db:exec(("INSERT INTO %s (name, url, is_private, team_ids, create_at, create_by, update_at, update_by) "
                     .. "VALUES %s"):format(P, table.concat(tuples, ", ")), table.unpack(params))
  return { inserted = n }
end

--- n9e_data.verify_embedded_products(db) -> true, or raises
--- Read-only.  When the 'embedded-dashboards' config holds a valid,
--- non-empty list, embedded_product has, for each distinct (name, url) of
--- the list, exactly as many rows with that name and url as the list has
--- elements.  Raises "verify_embedded_products: ..." naming every
--- problem found.
function M.verify_embedded_products(db)
  local list = embedded_list(db)
  if not list then return true end
  local want, order = {}, {}
  for _, e in ipairs(list) do
    local k = e.name .. "\0" .. e.url
    if not want[k] then order[#order + 1] = e; want[k] = 0 end
    want[k] = want[k] + 1
  end
  local problems = {}
  local sql = "SELECT count(*) AS n FROM " .. db:quote_ident("embedded_product") .. " WHERE name = ? AND url = ?"
  for _, e in ipairs(order) do
    local have, need = int(db:scalar(sql, e.name, e.url)), want[e.name .. "\0" .. e.url]
    if have ~= need then
      problems[#problems + 1] = ("embedded_product has %d row(s) named %q with url %q, expected %d")
        :format(have, e.name, e.url, need)
    end
  end
  raise("verify_embedded_products", problems)
  return true
end

return M
