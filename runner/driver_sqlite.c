/*
 * driver_sqlite.c -- the embedded default engine, on libsqlite3.
 *
 * SQLite has no server-side advisory lock: the run-wide lock is the write
 * transaction itself (BEGIN IMMEDIATE), waited for with the busy timeout.
 * Statements are prepared, bound and stepped; a cursor is a live statement,
 * so memory stays flat however many rows a query returns, and other
 * statements may run on the same connection while it is open.
 */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct db_conn {
    sqlite3 *db;
    int busy_ms; /* the busy timeout in force (sqlite has no getter) */
};

struct db_cursor {
    sqlite3_stmt *stmt;
    sqlite3 *db;
};

static void set_err(db_error *err, int code, const char *msg)
{
    if (!err)
        return;
    err->sqlstate[0] = '\0';
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", msg ? msg : "unknown error");
}

static int fail(sqlite3 *db, db_error *err)
{
    set_err(err, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
    return DB_ERR;
}

static int sq_connect(const db_target *t, db_conn **out, db_error *err)
{
    sqlite3 *db = NULL;
    const char *path = t->path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI;
    if (t->read_only) {
        /* Reading must not create the file: a database that does not exist
         * yet reads as an empty one. */
        flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
        if (strncmp(path, "file:", 5) != 0 && access(path, F_OK) != 0)
            path = ":memory:";
    }
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return DB_ERR;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    struct db_conn *c = calloc(1, sizeof *c);
    if (!c) {
        sqlite3_close(db);
        set_err(err, SQLITE_NOMEM, "out of memory");
        return DB_ERR;
    }
    c->db = db;
    c->busy_ms = 5000;
    *out = c;
    return DB_OK;
}

static void sq_close(db_conn *c)
{
    if (!c)
        return;
    /* sqlite3_close_v2 defers until every statement is finalized; lua_db
     * closes cursors first, so this is the plain close in practice. */
    sqlite3_close_v2(c->db);
    free(c);
}

static int bind_all(sqlite3 *db, sqlite3_stmt *st, const db_value *p, int n, db_error *err)
{
    int want = sqlite3_bind_parameter_count(st);
    if (want != n) {
        char msg[128];
        snprintf(msg, sizeof msg, "statement has %d placeholder(s) but %d value(s) were given",
                 want, n);
        set_err(err, SQLITE_RANGE, msg);
        return DB_ERR;
    }
    for (int i = 0; i < n; i++) {
        int rc;
        switch (p[i].type) {
        case DBV_NULL: rc = sqlite3_bind_null(st, i + 1); break;
        case DBV_INT:
        case DBV_BOOL: rc = sqlite3_bind_int64(st, i + 1, p[i].i); break;
        case DBV_FLOAT: rc = sqlite3_bind_double(st, i + 1, p[i].f); break;
        case DBV_TEXT:
            rc = sqlite3_bind_text64(st, i + 1, p[i].s, p[i].len, SQLITE_TRANSIENT, SQLITE_UTF8);
            break;
        case DBV_BLOB:
        default: rc = sqlite3_bind_blob64(st, i + 1, p[i].s, p[i].len, SQLITE_TRANSIENT); break;
        }
        if (rc != SQLITE_OK)
            return fail(db, err);
    }
    return DB_OK;
}

/* Prepare exactly one statement.  Whatever follows it must prepare to
 * nothing (blanks, ';', comments), so that a second statement is never
 * silently dropped. */
static int prepare_one(sqlite3 *db, const char *sql, sqlite3_stmt **st, db_error *err)
{
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, st, &tail) != SQLITE_OK)
        return fail(db, err);
    if (!*st) {
        set_err(err, SQLITE_MISUSE, "empty statement");
        return DB_ERR;
    }
    while (tail && *tail) {
        sqlite3_stmt *next = NULL;
        const char *rest = NULL;
        int rc = sqlite3_prepare_v2(db, tail, -1, &next, &rest);
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next) {
            sqlite3_finalize(*st);
            *st = NULL;
            set_err(err, SQLITE_MISUSE,
                    "more than one statement given; use exec_script for several statements");
            return DB_ERR;
        }
        if (rest == tail)
            break;
        tail = rest;
    }
    return DB_OK;
}

static int sq_exec(db_conn *c, const char *sql, const db_value *p, int n, int64_t *affected,
                   db_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prepare_one(c->db, sql, &st, err) != DB_OK)
        return DB_ERR;
    int rc = bind_all(c->db, st, p, n, err);
    if (rc == DB_OK) {
        /* sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE:
         * report it only if this statement changed something. */
        sqlite3_int64 before = sqlite3_total_changes64(c->db);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (s != SQLITE_DONE)
            rc = fail(c->db, err);
        else if (affected)
            *affected = sqlite3_total_changes64(c->db) == before ? 0 : sqlite3_changes64(c->db);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_exec_script(db_conn *c, const char *sql, db_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        set_err(err, sqlite3_extended_errcode(c->db), msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return DB_ERR;
    }
    return DB_OK;
}

static int sq_query(db_conn *c, const char *sql, const db_value *p, int n, db_cursor **out,
                    db_error *err)
{
    sqlite3_stmt *st = NULL;
    if (prepare_one(c->db, sql, &st, err) != DB_OK)
        return DB_ERR;
    if (bind_all(c->db, st, p, n, err) != DB_OK) {
        sqlite3_finalize(st);
        return DB_ERR;
    }
    struct db_cursor *cur = calloc(1, sizeof *cur);
    if (!cur) {
        sqlite3_finalize(st);
        set_err(err, SQLITE_NOMEM, "out of memory");
        return DB_ERR;
    }
    cur->stmt = st;
    cur->db = c->db;
    *out = cur;
    return DB_OK;
}

static int sq_next(db_cursor *cur, db_error *err)
{
    int s = sqlite3_step(cur->stmt);
    if (s == SQLITE_ROW)
        return DB_OK;
    if (s == SQLITE_DONE)
        return DB_DONE;
    return fail(cur->db, err);
}

static int sq_ncols(db_cursor *cur) { return sqlite3_column_count(cur->stmt); }

static const char *sq_colname(db_cursor *cur, int i) { return sqlite3_column_name(cur->stmt, i); }

static void sq_value(db_cursor *cur, int i, db_value *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_column_type(cur->stmt, i)) {
    case SQLITE_INTEGER:
        v->type = DBV_INT;
        v->i = sqlite3_column_int64(cur->stmt, i);
        break;
    case SQLITE_FLOAT:
        v->type = DBV_FLOAT;
        v->f = sqlite3_column_double(cur->stmt, i);
        break;
    case SQLITE_TEXT:
        v->type = DBV_TEXT;
        v->s = (const char *)sqlite3_column_text(cur->stmt, i);
        v->len = (size_t)sqlite3_column_bytes(cur->stmt, i);
        break;
    case SQLITE_BLOB:
        v->type = DBV_BLOB;
        v->s = sqlite3_column_blob(cur->stmt, i);
        v->len = (size_t)sqlite3_column_bytes(cur->stmt, i);
        break;
    default: v->type = DBV_NULL; break;
    }
}

static void sq_cursor_close(db_cursor *cur)
{
    if (!cur)
        return;
    sqlite3_finalize(cur->stmt);
    free(cur);
}

static int simple(db_conn *c, const char *sql, db_error *err)
{
    return sq_exec_script(c, sql, err);
}

static int sq_begin(db_conn *c, int immediate, db_error *err)
{
    return simple(c, immediate ? "BEGIN IMMEDIATE" : "BEGIN", err);
}
static int sq_commit(db_conn *c, db_error *err) { return simple(c, "COMMIT", err); }
static int sq_rollback(db_conn *c, db_error *err) { return simple(c, "ROLLBACK", err); }

static int savepoint_cmd(db_conn *c, const char *verb, const char *name, db_error *err)
{
    char *sql = sqlite3_mprintf("%s \"%w\"", verb, name);
    if (!sql) {
        set_err(err, SQLITE_NOMEM, "out of memory");
        return DB_ERR;
    }
    int rc = simple(c, sql, err);
    sqlite3_free(sql);
    return rc;
}
static int sq_savepoint(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "SAVEPOINT", n, e);
}
static int sq_release(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "RELEASE", n, e);
}
static int sq_rollback_to(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "ROLLBACK TO", n, e);
}
static int sq_in_transaction(db_conn *c) { return !sqlite3_get_autocommit(c->db); }

/* The lock is the write transaction: wait up to timeout for BEGIN IMMEDIATE. */
static int sq_lock(db_conn *c, const char *key, double timeout_s, db_error *err)
{
    (void)key;
    int ms = timeout_s <= 0 ? 0 : (timeout_s > 2e6 ? 2000000000 : (int)(timeout_s * 1000));
    sqlite3_busy_timeout(c->db, ms);
    c->busy_ms = ms;
    if (sq_begin(c, 1, err) == DB_OK)
        return DB_OK;
    int code = err ? err->code : 0;
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return DB_TIMEOUT;
    return DB_ERR;
}

/* The transaction that is the lock is ended by the apply protocol's own
 * commit or rollback; unlock only ends one that is still open. */
static int sq_unlock(db_conn *c, const char *key, db_error *err)
{
    (void)key;
    if (sq_in_transaction(c))
        return sq_rollback(c, err);
    return DB_OK;
}

/* query_only alone is a switch the code under it could flip back
 * ("PRAGMA query_only = OFF"), and ATTACH creates files even then.  While
 * read-only, the authorizer refuses both at prepare time: pragmas may only
 * be read, except the few that take a table or index name as argument. */
static int read_only_authorizer(void *unused, int action, const char *arg1, const char *arg2,
                                const char *db_name, const char *trigger)
{
    (void)unused, (void)db_name, (void)trigger;
    static const char *const readers[] = {
        "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", NULL,
    };
    switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (!arg2)
            return SQLITE_OK;
        for (const char *const *r = readers; *r; r++)
            if (arg1 && sqlite3_stricmp(arg1, *r) == 0)
                return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_OK;
    }
}

static int sq_set_read_only(db_conn *c, int on, db_error *err)
{
    if (on) {
        if (simple(c, "PRAGMA query_only = ON", err) != DB_OK)
            return DB_ERR;
        sqlite3_set_authorizer(c->db, read_only_authorizer, NULL);
        return DB_OK;
    }
    sqlite3_set_authorizer(c->db, NULL, NULL);
    return simple(c, "PRAGMA query_only = OFF", err);
}

static char *sq_quote_ident(db_conn *c, const char *name, db_error *err)
{
    (void)c;
    char *q = sqlite3_mprintf("\"%w\"", name);
    char *out = q ? strdup(q) : NULL;
    sqlite3_free(q);
    if (!out)
        set_err(err, SQLITE_NOMEM, "out of memory");
    return out;
}

static const char *sq_server_version(db_conn *c)
{
    (void)c;
    return sqlite3_libversion();
}

static int sq_catalog(db_conn *c, db_catalog_kind kind, const char *table, db_cursor **out,
                      db_error *err)
{
    static const char *const sql[] = {
        [DB_CATALOG_TABLES] = "SELECT name FROM sqlite_schema WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        [DB_CATALOG_COLUMNS] = "SELECT name, type, \"notnull\", dflt_value AS dflt, pk "
                               "FROM pragma_table_info(?) ORDER BY cid",
        [DB_CATALOG_INDEXES] =
            "SELECT il.name AS name, il.\"unique\" AS \"unique\", "
            "(SELECT group_concat(name, ',') FROM "
            "  (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) AS columns "
            "FROM pragma_index_list(?) il WHERE il.origin <> 'pk' ORDER BY il.name",
    };
    db_value arg = {.type = DBV_TEXT, .s = table, .len = table ? strlen(table) : 0};
    if (kind == DB_CATALOG_TABLES && table)
        return sq_query(c,
                        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? "
                        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                        &arg, 1, out, err);
    return sq_query(c, sql[kind], &arg, kind == DB_CATALOG_TABLES ? 0 : 1, out, err);
}

/* ---- online backup ------------------------------------------------------ */

static int timeout_ms(double s)
{
    return s <= 0 ? 0 : (s > 2e6 ? 2000000000 : (int)(s * 1000));
}

/* Copy every page of src's main database into dst's, in one step: the
 * source is read in one read transaction, so the copy is of one committed
 * state; the destination is written in one write transaction.  Each
 * side's busy handler waits for its locks (SQLITE_BUSY after ms);
 * SQLITE_LOCKED, which no busy handler sees (a shared-cache lock), is
 * retried until the same deadline. */
static int copy_pages(sqlite3 *dst, sqlite3 *src, int ms, db_error *err)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return fail(dst, err);
    int rc, waited = 0;
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_LOCKED && waited < ms) {
        sqlite3_sleep(20);
        waited += 20;
    }
    int done = rc == SQLITE_DONE;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errstr(rc));
    rc = sqlite3_backup_finish(b);
    if (!done) {
        /* the step's code names the problem; the connection may say more */
        int code = sqlite3_extended_errcode(dst);
        set_err(err, code != SQLITE_OK ? code : SQLITE_ERROR,
                code != SQLITE_OK ? sqlite3_errmsg(dst) : msg);
        return DB_ERR;
    }
    return rc == SQLITE_OK ? DB_OK : fail(dst, err);
}

static int open_aside(const char *path, int flags, int ms, sqlite3 **out, db_error *err)
{
    int rc = sqlite3_open_v2(path, out, flags, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, rc, *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
        sqlite3_close(*out);
        *out = NULL;
        return DB_ERR;
    }
    sqlite3_extended_result_codes(*out, 1);
    sqlite3_busy_timeout(*out, ms);
    return DB_OK;
}

/* The source is a connection of its own to the same file: this one may
 * hold the run's write transaction (the migration lock), and the backup
 * API cannot read a database its own connection is writing.  Nothing
 * has been written in it yet, so the committed state is the state the
 * run sees.  The new file is made 0600 first (it holds every row). */
static int sq_backup_to(db_conn *c, const char *path, double timeout_s, db_error *err)
{
    const char *file = sqlite3_db_filename(c->db, "main");
    if (!file || !*file) {
        set_err(err, SQLITE_MISUSE, "an in-memory database has no file to back up");
        return DB_ERR;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
        set_err(err, SQLITE_CANTOPEN, msg);
        return DB_ERR;
    }
    close(fd);
    int ms = timeout_ms(timeout_s);
    sqlite3 *src = NULL, *dst = NULL;
    int rc = open_aside(file, SQLITE_OPEN_READONLY, ms, &src, err);
    if (rc == DB_OK)
        rc = open_aside(path, SQLITE_OPEN_READWRITE, ms, &dst, err);
    if (rc == DB_OK)
        rc = copy_pages(dst, src, ms, err);
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != DB_OK)
        unlink(path);
    return rc;
}

/* The live connection is the destination: its schema is reloaded by
 * SQLite afterwards, and other connections see the new content at their
 * next transaction. */
static int sq_restore_from(db_conn *c, const char *path, double timeout_s, db_error *err)
{
    if (sq_in_transaction(c)) {
        set_err(err, SQLITE_MISUSE, "restore_from needs the connection outside a transaction");
        return DB_ERR;
    }
    int ms = timeout_ms(timeout_s);
    sqlite3 *src = NULL;
    if (open_aside(path, SQLITE_OPEN_READONLY, ms, &src, err) != DB_OK)
        return DB_ERR;
    sqlite3_busy_timeout(c->db, ms);
    int rc = copy_pages(c->db, src, ms, err);
    sqlite3_busy_timeout(c->db, c->busy_ms);
    sqlite3_close(src);
    return rc;
}

const db_driver driver_sqlite = {
    .dialect = "sqlite",
    .connect = sq_connect,
    .close = sq_close,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .next = sq_next,
    .ncols = sq_ncols,
    .colname = sq_colname,
    .value = sq_value,
    .cursor_close = sq_cursor_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .in_transaction = sq_in_transaction,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .set_read_only = sq_set_read_only,
    .quote_ident = sq_quote_ident,
    .server_version = sq_server_version,
    .catalog = sq_catalog,
    .backup_to = sq_backup_to,
    .restore_from = sq_restore_from,
};
