--- Lock impact of DDL: before a version runs, what each of its DDL
--- statements will lock, whether the work grows with the table (a copy,
--- a rewrite, a scan, an index build) and how long that may take on this
--- database; past a size threshold a statement that would block writes
--- for that long is refused, unless the script declares an online
--- strategy or the operator overrides the check (history records it).
---
--- The statements come from a dry run of the script's `up` step: reads
--- go to the database (read-only), statements are recorded instead of
--- sent.  What they do comes from the engines' documented behaviour:
---   PostgreSQL (11+): "Explicit Locking" and ALTER TABLE's notes: which
---     actions take ACCESS EXCLUSIVE, which rewrite the table (a type
---     change that is not binary-coercible, a column with a volatile
---     default), which scan it (SET NOT NULL, a validated constraint), and
---     that CREATE INDEX holds SHARE (writes wait) unless CONCURRENTLY.
---   MySQL 8.0 / MariaDB 10.4+: the online DDL matrices: INSTANT column
---     adds and drops, INPLACE index builds with LOCK=NONE, COPY for type
---     changes, foreign keys and character set conversions.
--- A declared `ALGORITHM=INSTANT` or `LOCK=NONE` is a strategy the server
--- enforces (it refuses the statement rather than lock), so it counts as
--- online whatever the prediction says.
local lex = require("migrate.sql_lex")
local sandbox = require("migrate.sandbox")

local M = {}

M.DEFAULT_BIG_ROWS = 1000000

-- rough throughput for the estimate: a copy or rewrite moves bytes, an
-- index build or a scan reads rows.  Measured on a 1M-row, 100 MB table
-- in the page cache (README "Lock impact"): PostgreSQL 15 rewrote 55 MB/s,
-- indexed 1M rows/s, scanned 14M rows/s; MariaDB 10.11 copied 41 MB/s,
-- indexed 1.5M rows/s.  Index and scan rates are taken 2-3 times lower:
-- a table bigger than memory reads from disk.
local COPY_BYTES_PER_S = 40e6
local SCAN_ROWS_PER_S = 5e6
local INDEX_ROWS_PER_S = 5e5

-- tokens (migrate.sql_lex) ------------------------------------------------------

local is_word, name_of, qualified = lex.word, lex.name, lex.qualified

--- Split toks[from..] at top-level commas (outside parentheses) into
--- lists of tokens; a statement's closing ';' is not part of an action.
local function split_actions(toks, from)
  local last = #toks
  if toks[last] and toks[last].v == ";" then last = last - 1 end
  local actions = {}
  for _, r in ipairs(lex.split(toks, from, last)) do
    actions[#actions + 1] = table.move(toks, r.from, r.to, 1, {})
  end
  return actions
end

local function has_word(toks, w, from)
  for i = from or 1, #toks do
    if is_word(toks[i], w) then return i end
  end
end

--- The type written at toks[i] ("varchar(64)", "character varying(10)").
local function type_text(toks, i)
  return lex.column_type(toks, i) or ""
end

-- PostgreSQL defaults that are evaluated once for ADD COLUMN (no rewrite)
local STABLE_FUNCTIONS = { NOW = true, CURRENT_TIMESTAMP = true, CURRENT_DATE = true, CURRENT_TIME = true,
                           LOCALTIMESTAMP = true, LOCALTIME = true, CURRENT_USER = true, SESSION_USER = true,
                           EXTRACT = true, CAST = true, COALESCE = true, LOWER = true, UPPER = true,
                           TRUE = true, FALSE = true, NULL = true, ARRAY = true }

--- Does a PostgreSQL ADD COLUMN default need a value per row (a rewrite)?
local function volatile_default(toks, at)
  local i = at + 1
  local depth = 0
  while toks[i] do
    local t = toks[i]
    if depth == 0 and t.t == "word" and (t.v == "NOT" or t.v == "NULL" and i > at + 1 or t.v == "CONSTRAINT"
       or t.v == "CHECK" or t.v == "REFERENCES" or t.v == "PRIMARY" or t.v == "UNIQUE") then
      break
    end
    if t.v == "(" then depth = depth + 1 elseif t.v == ")" then depth = depth - 1 end
    -- a function call whose result may differ per row
    if t.t == "word" and toks[i + 1] and toks[i + 1].v == "(" and not STABLE_FUNCTIONS[t.v] then
      return true
    end
    i = i + 1
  end
  return false
end

-- classification ----------------------------------------------------------------

-- how a statement treats the table, worst last
local WORK = { none = 0, brief = 1, online = 2, scan = 3, index = 3, rewrite = 4, copy = 4 }

--- One action of an ALTER TABLE on PostgreSQL -> { work, lock, what }.
local function pg_action(a, column_type)
  local w1, w2 = a[1], a[2]
  if is_word(w1, "ADD") then
    local i = 2
    if is_word(a[i], "COLUMN") then i = i + 1 end
    if is_word(a[i], "CONSTRAINT") then i = i + 2 end
    if is_word(a[i], "PRIMARY", "UNIQUE") then
      return { work = "index", lock = "ACCESS EXCLUSIVE", what = "builds a unique index" }
    end
    if is_word(a[i], "FOREIGN", "CHECK") then
      if has_word(a, "VALID") and has_word(a, "NOT") then
        return { work = "brief", lock = is_word(a[i], "FOREIGN") and "SHARE ROW EXCLUSIVE" or "ACCESS EXCLUSIVE",
                 what = "NOT VALID: existing rows are not checked" }
      end
      return { work = "scan", lock = is_word(a[i], "FOREIGN") and "SHARE ROW EXCLUSIVE" or "ACCESS EXCLUSIVE",
               what = "checks every existing row (add it NOT VALID, then VALIDATE CONSTRAINT)" }
    end
    if is_word(a[i], "IF") then i = i + 3 end
    local ty = type_text(a, i + 1)
    local default_at = has_word(a, "DEFAULT", i + 1)
    if ty:match("serial") or has_word(a, "GENERATED", i + 1) and has_word(a, "STORED", i + 1) then
      return { work = "rewrite", lock = "ACCESS EXCLUSIVE", what = "a value per row: the table is rewritten" }
    end
    if default_at and volatile_default(a, default_at) then
      return { work = "rewrite", lock = "ACCESS EXCLUSIVE",
               what = "a volatile default: the table is rewritten" }
    end
    if has_word(a, "PRIMARY", i + 1) or has_word(a, "UNIQUE", i + 1) then
      return { work = "index", lock = "ACCESS EXCLUSIVE", what = "builds an index" }
    end
    if has_word(a, "CHECK", i + 1) or has_word(a, "REFERENCES", i + 1) then
      return { work = "scan", lock = "ACCESS EXCLUSIVE", what = "checks every existing row" }
    end
    return { work = "brief", lock = "ACCESS EXCLUSIVE", what = "adds a column (catalog only)" }
  end
  if is_word(w1, "DROP") then
    return { work = "brief", lock = "ACCESS EXCLUSIVE", what = "catalog only" }
  end
  if is_word(w1, "RENAME") or is_word(w1, "OWNER") then
    return { work = "brief", lock = "ACCESS EXCLUSIVE", what = "catalog only" }
  end
  if is_word(w1, "VALIDATE") then
    return { work = "online", lock = "SHARE UPDATE EXCLUSIVE", what = "scans; writes go on", declared = true }
  end
  if is_word(w1, "ALTER") then
    local i = is_word(w2, "COLUMN") and 3 or 2
    local col = name_of(a[i])
    local rest = a[i + 1]
    if is_word(rest, "TYPE") or is_word(rest, "SET") and is_word(a[i + 2], "DATA") then
      local ty = type_text(a, is_word(rest, "TYPE") and i + 2 or i + 4)
      local old = column_type and column_type(col)
      local coercible = old and M.pg_binary_coercible(old, ty)
      if coercible then
        return { work = "brief", lock = "ACCESS EXCLUSIVE",
                 what = ("%s -> %s is binary-coercible: no rewrite"):format(old, ty) }
      end
      return { work = "rewrite", lock = "ACCESS EXCLUSIVE",
               what = ("type change %s-> %s rewrites the table and its indexes")
                 :format(old and (old .. " ") or "", ty) }
    end
    if is_word(rest, "SET") and is_word(a[i + 2], "NOT") then
      return { work = "scan", lock = "ACCESS EXCLUSIVE", what = "SET NOT NULL checks every row" }
    end
    return { work = "brief", lock = "ACCESS EXCLUSIVE", what = "catalog only" }
  end
  if is_word(w1, "SET") and (is_word(w2, "TABLESPACE") or is_word(w2, "LOGGED", "UNLOGGED")) then
    return { work = "rewrite", lock = "ACCESS EXCLUSIVE", what = "rewrites the table" }
  end
  if is_word(w1, "SET", "RESET", "ENABLE", "DISABLE", "INHERIT", "NO", "CLUSTER", "REPLICA") then
    return { work = "brief", lock = "SHARE ROW EXCLUSIVE", what = "catalog only" }
  end
  return { work = "rewrite", lock = "ACCESS EXCLUSIVE", what = "not recognised: assumed to rewrite the table" }
end

local function base_len(ty)
  local base, n = ty:match("^([%a ]-)%s*%((%d+)[,)]")
  if not base then return ty, nil end
  return base, tonumber(n)
end

--- PostgreSQL: changing old to new needs no rewrite (the docs' binary
--- coercible cases that matter for migrations).
function M.pg_binary_coercible(old, new)
  old, new = old:lower(), new:lower()
  local ob, on = base_len(old)
  local nb, nn = base_len(new)
  local varchar = { ["character varying"] = true, varchar = true }
  if varchar[ob] and (nb == "text" or varchar[nb] and (not nn or on and nn >= on)) then return true end
  if ob == "text" and varchar[nb] and not nn then return true end
  if (ob == "numeric" or ob == "decimal") and (nb == "numeric" or nb == "decimal") then
    local op, os = old:match("%((%d+),%s*(%d+)%)")
    local np, ns = new:match("%((%d+),%s*(%d+)%)")
    return op ~= nil and np ~= nil and os == ns and tonumber(np) >= tonumber(op)
  end
  return old == new
end

--- MySQL/MariaDB features by server version.
local function mysql_caps(server)
  local s = server or ""
  local mariadb = s:find("MariaDB", 1, true) ~= nil
  local maj, min, patch = s:match("(%d+)%.(%d+)%.(%d+)")
  local v = (tonumber(maj) or 0) * 10000 + (tonumber(min) or 0) * 100 + (tonumber(patch) or 0)
  if mariadb then
    return { instant_add = v >= 100302, instant_add_anywhere = v >= 100400, instant_drop = v >= 100400,
             instant_modify = v >= 100400, mariadb = true }
  end
  return { instant_add = v >= 80012, instant_add_anywhere = v >= 80029, instant_drop = v >= 80029,
           instant_modify = false }
end

-- varchar byte lengths: up to 255 bytes need a 1-byte prefix, then 2;
-- growing within one prefix size is in place (utf8mb4: 4 bytes a char)
local function varchar_prefix(n) return n * 4 < 256 and 1 or 2 end

--- One action of an ALTER TABLE on MySQL/MariaDB -> { work, lock, algorithm, what }.
local function mysql_action(a, caps, column)
  local w1, w2 = a[1], a[2]
  if is_word(w1, "ALGORITHM", "LOCK") then return nil end -- the statement's options
  if is_word(w1, "ADD") then
    local i = 2
    if is_word(a[i], "CONSTRAINT") then
      i = i + 1
      if not is_word(a[i], "PRIMARY", "UNIQUE", "FOREIGN", "CHECK") then i = i + 1 end
    end
    if is_word(a[i], "FULLTEXT", "SPATIAL") then
      return { work = "index", algorithm = "INPLACE", lock = "SHARED",
               what = "builds a full-text/spatial index" }
    end
    if is_word(a[i], "INDEX", "KEY", "UNIQUE") then
      return { work = "online", algorithm = "INPLACE", lock = "NONE", what = "builds an index in place" }
    end
    if is_word(a[i], "PRIMARY") then
      return { work = "online", algorithm = "INPLACE", lock = "NONE", what = "rebuilds the table in place" }
    end
    if is_word(a[i], "FOREIGN") then
      return { work = "copy", algorithm = "COPY", lock = "SHARED",
               what = "with foreign_key_checks on, the table is copied" }
    end
    if is_word(a[i], "CHECK") then
      return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "checks every row while copying" }
    end
    local positioned = has_word(a, "FIRST") or has_word(a, "AFTER")
    if has_word(a, "AUTO_INCREMENT") or (has_word(a, "STORED") or has_word(a, "PERSISTENT")) and has_word(a, "AS") then
      return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "a value per row: the table is copied" }
    end
    if has_word(a, "PRIMARY") or has_word(a, "UNIQUE") then
      return { work = "online", algorithm = "INPLACE", lock = "NONE",
               what = "adds a column and builds an index in place" }
    end
    if caps.instant_add and (not positioned or caps.instant_add_anywhere) then
      return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "adds a column (metadata only)" }
    end
    return { work = "online", algorithm = "INPLACE", lock = "NONE",
             what = "adds a column by rebuilding the table in place" }
  end
  if is_word(w1, "DROP") then
    if is_word(w2, "INDEX", "KEY", "FOREIGN", "CHECK", "CONSTRAINT") then
      return { work = "brief", algorithm = "INPLACE", lock = "NONE", what = "metadata only" }
    end
    if is_word(w2, "PRIMARY") then
      return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "dropping the primary key copies the table" }
    end
    if caps.instant_drop then
      return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "drops a column (metadata only)" }
    end
    return { work = "online", algorithm = "INPLACE", lock = "NONE", what = "drops a column by rebuilding in place" }
  end
  if is_word(w1, "RENAME") then
    return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "metadata only" }
  end
  if is_word(w1, "ALTER") then
    local i = is_word(w2, "COLUMN") and 3 or 2
    if is_word(a[i + 1], "SET", "DROP") and is_word(a[i + 2], "DEFAULT", "VISIBLE", "INVISIBLE") then
      return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "changes a default (metadata only)" }
    end
    if is_word(w2, "INDEX") then
      return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "metadata only" }
    end
  end
  if is_word(w1, "MODIFY", "CHANGE") then
    local i = is_word(w2, "COLUMN") and 3 or 2
    local col = name_of(a[i])
    local new_at = is_word(w1, "CHANGE") and i + 2 or i + 1
    local ty = type_text(a, new_at)
    local have = column and column(col)
    if not have then
      return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "column type change: the table is copied" }
    end
    local old = have.type:lower()
    local notnull = has_word(a, "NOT", new_at) ~= nil and has_word(a, "NULL", new_at) ~= nil
    local ob, on = base_len(old)
    local nb, nn = base_len(ty)
    local same_type = old == ty or (ob == nb and on == nn)
    if same_type and notnull == have.notnull then
      return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "same type: metadata only" }
    end
    if same_type and notnull and not have.notnull then
      return { work = "online", algorithm = "INPLACE", lock = "NONE", what = "NULL -> NOT NULL rebuilds in place" }
    end
    if same_type then
      return caps.instant_modify and { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "NOT NULL -> NULL" }
        or { work = "online", algorithm = "INPLACE", lock = "NONE", what = "NOT NULL -> NULL rebuilds in place" }
    end
    if ob == "varchar" and nb == "varchar" and on and nn and nn >= on and varchar_prefix(on) == varchar_prefix(nn)
       and notnull == have.notnull then
      return { work = "brief", algorithm = caps.instant_modify and "INSTANT" or "INPLACE", lock = "NONE",
               what = ("%s -> %s in place (metadata only)"):format(old, ty) }
    end
    return { work = "copy", algorithm = "COPY", lock = "SHARED",
             what = ("type change %s -> %s copies the table"):format(old, ty) }
  end
  if is_word(w1, "CONVERT") then
    return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "character set conversion copies the table" }
  end
  if is_word(w1, "ENGINE", "FORCE", "ROW_FORMAT", "KEY_BLOCK_SIZE") then
    return { work = "online", algorithm = "INPLACE", lock = "NONE", what = "rebuilds the table in place" }
  end
  if is_word(w1, "COMMENT", "AUTO_INCREMENT", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "STATS_PERSISTENT") then
    return { work = "brief", algorithm = "INSTANT", lock = "NONE", what = "table options (metadata only)" }
  end
  return { work = "copy", algorithm = "COPY", lock = "SHARED", what = "not recognised: assumed to copy the table" }
end

--- The statement's own ALGORITHM= and LOCK= clauses (MySQL), upper-case.
local function declared_options(toks)
  local algorithm, lock
  for i, t in ipairs(toks) do
    if is_word(t, "ALGORITHM", "LOCK") then
      local j = i + 1
      if toks[j] and toks[j].v == "=" then j = j + 1 end
      local v = toks[j] and toks[j].t == "word" and toks[j].v
      if t.v == "ALGORITHM" then algorithm = v else lock = v end
    end
  end
  return algorithm, lock
end

local function worst(list)
  local w
  for _, x in ipairs(list) do
    if not w or WORK[x.work] > WORK[w.work] then w = x end
  end
  return w
end

--- What one statement does to its table, from its text alone (plus, for
--- column changes, the column's current type through column(table, name)).
--- Returns nil for statements that are not DDL on an existing table, else
--- { table, operation, work, lock, algorithm, what, declared }.
function M.classify(dialect, server, sql, column)
  local toks = lex.of(sql)
  local t1, t2 = toks[1], toks[2]
  if not t1 or t1.t ~= "word" then return nil end
  if is_word(t1, "CREATE") then
    local i = 2
    local unique = false
    while is_word(toks[i], "UNIQUE", "FULLTEXT", "SPATIAL") do
      unique = unique or toks[i].v == "UNIQUE"
      if toks[i].v ~= "UNIQUE" then unique = "special" end
      i = i + 1
    end
    if not is_word(toks[i], "INDEX") then return nil end -- CREATE TABLE/VIEW: nothing existing is locked
    i = i + 1
    local concurrently = is_word(toks[i], "CONCURRENTLY")
    if concurrently then i = i + 1 end
    local on = has_word(toks, "ON", i)
    if not on then return nil end
    local j = on + 1
    if is_word(toks[j], "ONLY") then j = j + 1 end
    local tbl = qualified(toks, j)
    local r = { table = tbl, operation = "CREATE INDEX" }
    if dialect == "postgres" then
      if concurrently then
        r.work, r.lock, r.declared = "online", "SHARE UPDATE EXCLUSIVE", true
        r.what = "CONCURRENTLY: builds while writes go on"
      else
        r.work, r.lock = "index", "SHARE"
        r.what = "builds the index (CREATE INDEX CONCURRENTLY would not block writes)"
      end
    elseif dialect == "mysql" then
      local algorithm, lock = declared_options(toks)
      if unique == "special" then
        r.work, r.algorithm, r.lock = "index", "INPLACE", "SHARED"
        r.what = "builds a full-text/spatial index"
      else
        r.work, r.algorithm, r.lock = "online", "INPLACE", "NONE"
        r.what = "builds an index in place"
      end
      if algorithm or lock then
        r.algorithm, r.lock = algorithm or r.algorithm, lock or r.lock
        r.declared = lock == "NONE" or algorithm == "INSTANT"
      end
    else
      r.work, r.lock, r.what = "index", "database write lock", "builds the index"
    end
    return r
  end
  if is_word(t1, "ALTER") and is_word(t2, "TABLE") then
    local i = 3
    if is_word(toks[i], "IF") then i = i + 2 end
    if is_word(toks[i], "ONLY") then i = i + 1 end
    local tbl, after = qualified(toks, i)
    if not tbl then return nil end
    local parts = {}
    for _, a in ipairs(split_actions(toks, after)) do
      local x
      if dialect == "postgres" then
        x = pg_action(a, column and function(c) local h = column(tbl, c); return h and h.type end)
      elseif dialect == "mysql" then
        x = mysql_action(a, mysql_caps(server), column and function(c) return column(tbl, c) end)
      else
        if is_word(a[1], "DROP") then
          x = { work = "rewrite", lock = "database write lock", what = "DROP COLUMN rewrites the table" }
        else
          x = { work = "brief", lock = "database write lock", what = "catalog only" }
        end
      end
      if x then parts[#parts + 1] = x end
    end
    local w = worst(parts)
    if not w then return nil end
    local r = { table = tbl, operation = "ALTER TABLE", work = w.work, lock = w.lock, algorithm = w.algorithm,
                what = w.what, declared = w.declared }
    if dialect == "mysql" then
      local algorithm, lock = declared_options(toks)
      if algorithm or lock then
        r.algorithm, r.lock = algorithm or r.algorithm, lock or r.lock
        r.declared = lock == "NONE" or algorithm == "INSTANT"
        if algorithm == "INSTANT" then r.work = "brief" end
      end
    end
    return r
  end
  return nil
end

-- sizes and verdicts ---------------------------------------------------------------

--- Rows (estimated from the catalog, never counted on the servers) and
--- bytes of a table, or nil when it does not exist yet.
function M.table_size(conn, tbl)
  if conn.dialect == "postgres" then
    local r = conn:first("SELECT c.reltuples::bigint AS n, pg_total_relation_size(c.oid) AS bytes, "
      .. "pg_relation_size(c.oid) AS heap FROM pg_class c WHERE c.oid = to_regclass(?)", conn:quote_ident(tbl))
    if not r then return nil end
    local rows = tonumber(r.n) or -1
    -- never analysed (-1): a conservative guess from the heap's size
    if rows < 0 then rows = math.floor((tonumber(r.heap) or 0) / 64) end
    return rows, tonumber(r.bytes) or 0
  elseif conn.dialect == "mysql" then
    local r = conn:first("SELECT table_rows AS n, data_length + index_length AS bytes FROM information_schema.tables "
      .. "WHERE table_schema = DATABASE() AND table_name = ?", tbl)
    if not r then return nil end
    return tonumber(r.n) or 0, tonumber(r.bytes) or 0
  end
  if not conn:table_exists(tbl) then return nil end
  return tonumber(conn:scalar(("SELECT count(*) FROM %s"):format(conn:quote_ident(tbl)))) or 0, nil
end

local function estimate_s(work, rows, bytes)
  if work == "copy" or work == "rewrite" then
    return bytes and bytes / COPY_BYTES_PER_S or rows / SCAN_ROWS_PER_S * 5
  elseif work == "index" or work == "online" then
    return rows / INDEX_ROWS_PER_S
  elseif work == "scan" then
    return rows / SCAN_ROWS_PER_S
  end
  return 0
end

local function human_bytes(b)
  if not b then return "" end
  if b >= 1073741824 then return (", %.1f GiB"):format(b / 1073741824) end
  if b >= 1048576 then return (", %.1f MiB"):format(b / 1048576) end
  return (", %d KiB"):format(b // 1024)
end

--- A statement's impact on this database: the classification plus
--- rows, bytes, estimate_s, blocks (writes wait while the work runs),
--- and refused (with reason) when big and not declared online.
--- known: { size = {[table] = {rows, bytes} or false}, created = {[table] = true} }.
function M.assess(conn, sql, opts, known)
  local r = M.classify(conn.dialect, conn:server_version(), sql, function(tbl, col)
    if known.created[tbl] or not conn:table_exists(tbl) then return nil end
    for _, c in ipairs(conn:columns(tbl)) do
      if c.name == col then return c end
    end
  end)
  -- a table this plan creates, or one that does not exist, is empty
  if not r or not r.table or known.created[r.table] then return nil end
  r.sql = #sql > 160 and (sql:sub(1, 157) .. "...") or sql
  r.sql = r.sql:gsub("%s+", " ")
  if known.size[r.table] == nil then
    local rows, bytes = M.table_size(conn, r.table)
    known.size[r.table] = rows and { rows = rows, bytes = bytes } or false
  end
  local sz = known.size[r.table]
  if not sz then return nil end
  r.rows, r.bytes = sz.rows, sz.bytes
  local grows = WORK[r.work] >= WORK.online
  r.estimate_s = grows and estimate_s(r.work, r.rows, r.bytes) or 0
  r.blocks = WORK[r.work] >= WORK.scan and not r.declared
  r.big = r.rows >= opts.big_rows
  if r.big and grows and not r.declared and conn.dialect ~= "sqlite" then
    r.refused = true
    if r.blocks then
      -- SHARE (PostgreSQL) and SHARED (MySQL) let reads through
      local who = (r.lock == "SHARE" or r.lock == "SHARED" or r.lock == "SHARE ROW EXCLUSIVE") and "writes"
        or "reads and writes"
      r.reason = ("%s on %s (%d rows): %s; %s would wait %s")
        :format(r.operation, r.table, r.rows, r.what, who, M.duration_text(r.estimate_s))
    else
      r.reason = ("%s on %s (%d rows): %s, but the script does not declare it online: add "
        .. "ALGORITHM=INPLACE, LOCK=NONE so the server refuses rather than locks"):format(r.operation, r.table,
        r.rows, r.what)
    end
  end
  return r
end

--- "under a second", "about 40 s", "about 12 min", "about 2.5 h"
function M.duration_text(s)
  if s < 1 then return "under a second" end
  if s < 120 then return ("about %d s"):format(math.ceil(s)) end
  if s < 7200 then return ("about %d min"):format(math.ceil(s / 60)) end
  return ("about %.1f h"):format(s / 3600)
end

--- One line per statement for check's text output.
function M.describe(r)
  local how = r.algorithm and ("ALGORITHM=%s, LOCK=%s"):format(r.algorithm, r.lock) or r.lock
  local size = r.table and ("%s: %d rows%s"):format(r.table, r.rows, human_bytes(r.bytes)) or ""
  local time = r.estimate_s > 0 and (", " .. M.duration_text(r.estimate_s)) or ""
  return ("%s [%s] %s (%s%s) -- %s"):format(r.refused and "REFUSED" or (r.blocks and "blocks" or
    (WORK[r.work] >= WORK.online and "online" or "brief")), how, r.operation, size, time, r.sql)
end

--- The table a CREATE TABLE statement makes (new and empty), or nil.
--- IF NOT EXISTS may name a table that exists, with rows: asked of conn.
local function created_table(conn, toks)
  if not is_word(toks[1], "CREATE") then return nil end
  local i = has_word(toks, "TABLE")
  if not i or i > 4 then return nil end
  local j = i + 1
  local maybe = is_word(toks[j], "IF")
  if maybe then j = j + 3 end
  local name = qualified(toks, j)
  if name and maybe and conn:table_exists(name) then return nil end
  return name
end

--- The run's own check, statement by statement as they are sent: what
--- the dry run could not see (DDL that depends on an earlier statement's
--- effect) is refused here, before it reaches the server.  state:
--- { big_rows, skip = {names}, known = {size, created} } (shared with
--- the precheck, so sizes are read once per run).  Raises a
--- lock_impact error; the version is rolled back like any failure.
function M.guard(conn, version, sql, state)
  if type(sql) ~= "string" then return end
  local word = sql:match("^%s*(%a+)")
  local toks
  if not word and sql:find("^%s*[-/#]") then -- a leading comment
    toks = lex.of(sql)
    word = toks[1] and toks[1].t == "word" and toks[1].v
  end
  word = word and word:upper()
  if word ~= "ALTER" and word ~= "CREATE" then return end
  local made = created_table(conn, toks or lex.of(sql))
  if made then
    state.known.created[made] = true
    return
  end
  if conn.dialect == "sqlite" or state.skip["lock-impact:" .. version] or state.skip["lock-impact"] then return end
  local r = M.assess(conn, sql, state, state.known)
  if r and r.refused then
    error({ kind = "lock_impact",
            message = ("refused before it ran (check lock-impact:%s): %s"):format(version, r.reason) }, 0)
  end
end

-- the dry run ------------------------------------------------------------------------

local READS = { "query", "rows", "first", "scalar", "quote_ident", "server_version", "tables", "columns",
                "indexes", "table_exists", "column_exists", "index_exists", "catalog", "checksum", "schema",
                "assert_schema", "assert_checksum", "assert_count" }

--- The statements a script's up step would send, from a run of it whose
--- reads go to conn (read-only) and whose statements are recorded.  A
--- table the run creates is empty and unknown to the catalog: later
--- statements on it are no concern, and a catalog probe of it reads false.
local function record_up(conn, s, ctx, guard)
  local statements, created = {}, {}
  local function note(sql)
    if type(sql) ~= "string" then return end
    statements[#statements + 1] = sql
    local made = created_table(conn, lex.of(sql))
    if made then created[made] = true end
  end
  local h = {}
  for _, name in ipairs(READS) do
    local f = conn[name]
    h[name] = function(_, sql, ...)
      if name == "query" or name == "rows" or name == "first" or name == "scalar" then guard(sql) end
      if (name == "columns" or name == "indexes") and created[sql] then return {} end
      if name == "table_exists" and created[sql] then return true end
      if name == "column_exists" and created[sql] then return false end
      return f(conn, sql, ...)
    end
  end
  h.exec = function(_, sql) note(sql); return 0 end
  h.exec_script = function(_, sql)
    for _, stmt in ipairs(require("migrate.journal").split(sql)) do note(stmt) end
  end
  h.tx = function(self, fn) return fn(self) end
  h.rewrite = function() return 0 end
  h.dialect = conn.dialect
  h.null = require("n9e.db").null
  setmetatable(h, { __index = function(_, k)
    error(("db.%s is not available to migration scripts"):format(tostring(k)), 2)
  end })
  local ok, err = sandbox.call(s.module.up, h, ctx)
  return statements, created, ok, err
end

local assess_plan -- below

--- The lock-impact check of every pending version with an up step:
--- results { name = "lock-impact:VERSION", status, detail, fix, statements }.
--- opts: big_rows, skip (names), context(s) -> the step's ctx, guard(sql),
--- describe_error(err, s).
function M.check(conn, plan, opts)
  -- one read-only span for every dry run (on PostgreSQL, inside the run's
  -- transaction, each span costs four round trips)
  conn:set_read_only(true)
  local ok, results = pcall(assess_plan, conn, plan, opts)
  conn:set_read_only(false)
  if not ok then error(results, 0) end
  return results
end

assess_plan = function(conn, plan, opts)
  local results = {}
  -- sizes of the tables met, and the tables earlier pending versions create
  local known = opts.known or { size = {}, created = {} }
  for _, s in ipairs(plan.pending) do
    if s.module.up then
      local list, created, ok, err = record_up(conn, s, opts.context(s), opts.guard)
      -- a table the version creates is new and empty, for its own statements too
      for t in pairs(created) do known.created[t] = true end
      local found, refused = {}, {}
      for _, sql in ipairs(list) do
        local r = M.assess(conn, sql, opts, known)
        if r then
          found[#found + 1] = r
          if r.refused then refused[#refused + 1] = r.reason end
        end
      end
      local name = "lock-impact:" .. s.version
      local res = { name = name, status = "ok", statements = found }
      local blocking = 0
      for _, r in ipairs(found) do if r.blocks then blocking = blocking + 1 end end
      res.detail = ("%d DDL statement(s) on existing tables, %d of them block writes while they work"):format(#found,
                                                                                                          blocking)
      if not ok then
        res.status = "warning"
        res.detail = res.detail .. "; the dry run of up stopped early (" .. opts.describe_error(err, s)
          .. "): later statements are not assessed"
      end
      if #refused > 0 then
        res.status = "refused"
        res.detail = table.concat(refused, "; ")
        res.fix = ("declare an online strategy in the script (MySQL ALGORITHM=INPLACE, LOCK=NONE; PostgreSQL "
          .. "CREATE INDEX CONCURRENTLY in a transaction = false script), run it in a quiet window with "
          .. "--skip-check %s (recorded in history), or raise --big-table-rows"):format(name)
      elseif conn.dialect == "sqlite" and #found > 0 then
        res.detail = res.detail .. " (SQLite: the run holds the database's write lock throughout)"
      end
      if (opts.skip[name] or opts.skip["lock-impact"]) and res.status ~= "ok" then
        res.status, res.detail = "skipped", "skipped by --skip-check (" .. res.detail .. ")"
      end
      if #found > 0 or res.status ~= "ok" then results[#results + 1] = res end
    end
  end
  return results
end

return M
