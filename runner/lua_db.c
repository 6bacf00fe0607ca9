/*
 * lua_db.c -- the `db` object that scripts and the library use.
 *
 * Pattern from Lua's liolib.c: a handle is created closed, then opened; a
 * closed handle is still a valid object that raises "attempt to use a
 * closed connection"; __gc and __close share one release path.  A
 * connection owns its open cursors (an intrusive list) and closes them
 * before itself, so no engine statement outlives its connection whatever
 * order the collector finalizes them in.
 *
 * Errors: SQL failures raise a table {message, sqlstate, code, sql,
 * dialect, where} with a __tostring, so the apply protocol can report the
 * cause precisely; misuse raises through luaL_arg*.
 */
#define _DEFAULT_SOURCE /* mkdtemp, O_CLOEXEC, O_NOFOLLOW */
#include "lua_db.h"

#include "driver.h"
#include "dsn.h"
#include "n9e_config.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONN_MT "n9e.db.connection"
#define CURSOR_MT "n9e.db.cursor"
#define ERROR_MT "n9e.db.error"
#define SECRET_MT "n9e.db.secret_file"
#define MAX_PARAMS 32766 /* SQLite's own limit; the servers allow 65535 */

typedef struct cursor_ud cursor_ud;

typedef struct {
    const db_driver *drv;
    db_conn *conn; /* NULL once closed */
    char *redacted;
    /* what the connection was opened with, password included: the dump
     * tools of a backup connect the same way (target_info, secret_file);
     * the password leaves C memory only into a 0600 file */
    db_target target;
    int has_target;
    cursor_ud *cursors; /* open cursors, closed before the connection */
    /* exec_send: a statement is on its way; every other call waits for it
     * first (raising its error), so nothing reads another's result */
    int pending;
    int sent_in_tx;        /* a transaction was open when it was sent */
    int64_t sent_affected; /* drivers without exec_send: the count, at once */
    int sent_ref; /* registry: {sql, arguments...}, alive until the wait (the
                     driver may still read the bound values) */
    int sent_rows; /* the statement sent is rows_send's: its rows are awaited */
    db_cursor *sent_cursor; /* drivers without query_send: its rows, at once */
    /* a statement another call had to finish before its exec_wait or
     * rows_wait (a rewrite's map that reads): its outcome, for that wait */
    int ready;              /* 0, 1: ready_affected, 2: ready_cursor */
    int64_t ready_affected;
    db_cursor *ready_cursor;
    /* exec_batch_deferred: a batch (the runner's records of a version and
     * its COMMIT) that goes out in front of the next statement, in the
     * same round trip where the driver pipelines (exec), or on its own
     * before any other call.  Registry {batch, label}, or LUA_NOREF. */
    int deferred_ref;
    /* its failure, raised again by every later call but unlock (which
     * ends the run): the statement that followed it never ran, and what
     * came next would run outside the transaction the failure ended.
     * Registry error, or LUA_NOREF. */
    int failed_ref;
} conn_ud;

struct cursor_ud {
    const db_driver *drv;
    db_cursor *cur; /* NULL once closed */
    conn_ud *owner;
    cursor_ud *prev, *next;
    int ncols;
};

/* ---- errors ------------------------------------------------------------ */

static int error_tostring(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (lua_getfield(L, 1, "where") == LUA_TSTRING)
        luaL_addvalue(&b);
    else
        lua_pop(L, 1);
    lua_getfield(L, 1, "message");
    luaL_addstring(&b, lua_isstring(L, -1) ? lua_tostring(L, -1) : "database error");
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "sqlstate") == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        luaL_addstring(&b, " (SQLSTATE ");
        luaL_addvalue(&b);
        luaL_addstring(&b, ")");
    } else {
        lua_pop(L, 1);
    }
    if (lua_getfield(L, 1, "sql") == LUA_TSTRING) {
        luaL_addstring(&b, " in: ");
        luaL_addvalue(&b);
    } else {
        lua_pop(L, 1);
    }
    luaL_pushresult(&b);
    return 1;
}

/* Raise the engine error as a structured table.  The SQL is cut to a short
 * excerpt: it helps locate the statement, and values never appear in it
 * because they are bound. */
static void push_db_error(lua_State *L, const db_driver *drv, const db_error *e, const char *sql)
{
    lua_createtable(L, 0, 7);
    lua_pushstring(L, e->message);
    lua_setfield(L, -2, "message");
    lua_pushstring(L, e->sqlstate);
    lua_setfield(L, -2, "sqlstate");
    lua_pushinteger(L, e->code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, drv->dialect);
    lua_setfield(L, -2, "dialect");
    lua_pushstring(L, "sql");
    lua_setfield(L, -2, "kind");
    if (sql) {
        size_t n = strlen(sql);
        lua_pushlstring(L, sql, n > 200 ? 200 : n);
        if (n > 200) {
            lua_pushliteral(L, "...");
            lua_concat(L, 2);
        }
        lua_setfield(L, -2, "sql");
    }
    luaL_where(L, 1);
    lua_setfield(L, -2, "where");
    luaL_setmetatable(L, ERROR_MT);
}

static int raise_db(lua_State *L, const db_driver *drv, const db_error *e, const char *sql)
{
    push_db_error(L, drv, e, sql);
    return lua_error(L);
}

/* ---- connection -------------------------------------------------------- */

static conn_ud *check_conn(lua_State *L, int i)
{
    conn_ud *c = luaL_checkudata(L, i, CONN_MT);
    if (!c->conn)
        luaL_error(L, "attempt to use a closed connection");
    return c;
}

static int raise_db(lua_State *L, const db_driver *drv, const db_error *e, const char *sql);

/* A script's COMMIT/ROLLBACK would silently break the version's
 * atomicity: refuse it loudly.  Always DB_ERR. */
static int ended_runner_tx(db_error *err)
{
    snprintf(err->message, sizeof err->message,
             "statement ended the runner's transaction; use db:tx() or savepoints instead");
    err->sqlstate[0] = '\0';
    return DB_ERR;
}

/* The sent statement's result: DB_OK with *affected, or DB_ERR with err.
 * Where the driver has no exec_send the statement ran at the send. */
static int wait_sent(conn_ud *c, int64_t *affected, db_error *err)
{
    c->pending = 0;
    int rc = DB_OK;
    if (c->drv->exec_wait)
        rc = c->drv->exec_wait(c->conn, affected, err);
    else
        *affected = c->sent_affected;
    if (rc == DB_OK && c->sent_in_tx && !c->drv->in_transaction(c->conn))
        rc = ended_runner_tx(err);
    return rc;
}

/* The rows of the statement sent by rows_send: DB_OK with *cur (the
 * caller's to close), or DB_ERR with err. */
static int wait_sent_rows(conn_ud *c, db_cursor **cur, db_error *err)
{
    c->pending = 0;
    c->sent_rows = 0;
    *cur = NULL;
    int rc = DB_OK;
    if (c->drv->query_wait)
        rc = c->drv->query_wait(c->conn, cur, err);
    else {
        *cur = c->sent_cursor;
        c->sent_cursor = NULL;
    }
    if (rc == DB_OK && c->sent_in_tx && !c->drv->in_transaction(c->conn)) {
        c->drv->cursor_close(*cur);
        *cur = NULL;
        rc = ended_runner_tx(err);
    }
    return rc;
}

static void forget_sent(lua_State *L, conn_ud *c)
{
    luaL_unref(L, LUA_REGISTRYINDEX, c->sent_ref);
    c->sent_ref = LUA_NOREF;
}

/* Raise the error of a statement that failed after exec_send, with its
 * SQL (pushed first: raise_db does not return). */
static int raise_sent(lua_State *L, conn_ud *c, const db_error *err)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->sent_ref);
    lua_rawgeti(L, -1, 1);
    forget_sent(L, c);
    return raise_db(L, c->drv, err, lua_tostring(L, -1));
}

static void drop_ready(conn_ud *c)
{
    if (c->ready_cursor)
        c->drv->cursor_close(c->ready_cursor);
    c->ready_cursor = NULL;
    c->ready = 0;
}

/* Finish the statement sent by exec_send or rows_send, if any, keeping
 * its outcome for exec_wait/rows_wait; its failure is raised here, by the
 * next call, unless `discard` (rolling back drops its outcome, whatever it
 * was). */
static void settle_sent(lua_State *L, conn_ud *c, int discard)
{
    if (!c->pending)
        return;
    db_error err = {0};
    int rc;
    drop_ready(c);
    if (c->sent_rows) {
        db_cursor *cur;
        rc = wait_sent_rows(c, &cur, &err);
        if (rc == DB_OK && discard)
            c->drv->cursor_close(cur);
        else if (rc == DB_OK)
            c->ready = 2, c->ready_cursor = cur;
    } else {
        int64_t affected = 0;
        rc = wait_sent(c, &affected, &err);
        if (rc == DB_OK && !discard)
            c->ready = 1, c->ready_affected = affected;
    }
    if (rc != DB_OK && !discard)
        raise_sent(L, c, &err);
    forget_sent(L, c);
}

static void clear_failed(lua_State *L, conn_ud *c)
{
    luaL_unref(L, LUA_REGISTRYINDEX, c->failed_ref);
    c->failed_ref = LUA_NOREF;
}

/* The failure of a deferred batch, raised again (see failed_ref). */
static void check_failed(lua_State *L, conn_ud *c)
{
    if (c->failed_ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->failed_ref);
    lua_error(L);
}

static db_stmt *prepare_batch(lua_State *L, int idx, int *n_out);
static int execute_batch(conn_ud *c, const db_stmt *stmts, int n, int *failed, const char **failed_sql,
                         int64_t *last_affected, db_error *err);

/* Raise the failure of a deferred batch, its label first, and keep it for
 * every later call. */
static int raise_deferred(lua_State *L, conn_ud *c, const db_error *err, const char *sql, const char *label)
{
    push_db_error(L, c->drv, err, sql);
    lua_getfield(L, -1, "message");
    lua_pushfstring(L, "%s: %s", label ? label : "a deferred batch", lua_tostring(L, -1));
    lua_setfield(L, -3, "message");
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "deferred");
    lua_pushvalue(L, -1);
    c->failed_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return lua_error(L);
}

/* Push the deferred batch's table and its label (still deferred). */
static void push_deferred(lua_State *L, conn_ud *c)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->deferred_ref);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    lua_remove(L, -3);
}

/* It is on its way: no longer c's (its values stay on the stack). */
static void forget_deferred(lua_State *L, conn_ud *c)
{
    luaL_unref(L, LUA_REGISTRYINDEX, c->deferred_ref);
    c->deferred_ref = LUA_NOREF;
}

/* Send the deferred batch on its own, if there is one. */
static void flush_deferred(lua_State *L, conn_ud *c)
{
    if (c->deferred_ref == LUA_NOREF)
        return;
    int top = lua_gettop(L);
    push_deferred(L, c);
    int n;
    db_stmt *stmts = prepare_batch(L, top + 1, &n);
    forget_deferred(L, c);
    db_error err = {0};
    int failed;
    const char *failed_sql;
    if (execute_batch(c, stmts, n, &failed, &failed_sql, NULL, &err) != DB_OK)
        raise_deferred(L, c, &err, failed_sql, lua_tostring(L, top + 2));
    lua_settop(L, top);
}

static conn_ud *check_idle(lua_State *L, int i)
{
    conn_ud *c = check_conn(L, i);
    check_failed(L, c);
    settle_sent(L, c, 0);
    flush_deferred(L, c);
    return c;
}

/* A rollback drops what was sent and not waited for, but not a deferred
 * batch: that is the end of what came before (a version that made it). */
static conn_ud *check_discarding(lua_State *L, int i)
{
    conn_ud *c = check_conn(L, i);
    check_failed(L, c);
    settle_sent(L, c, 1);
    drop_ready(c);
    flush_deferred(L, c);
    return c;
}

static void cursor_release(cursor_ud *cu)
{
    if (!cu->cur)
        return;
    db_cursor *cur = cu->cur;
    cu->cur = NULL; /* mark first: a release never runs twice */
    cu->drv->cursor_close(cur);
    if (cu->prev)
        cu->prev->next = cu->next;
    else if (cu->owner)
        cu->owner->cursors = cu->next;
    if (cu->next)
        cu->next->prev = cu->prev;
    cu->prev = cu->next = NULL;
    cu->owner = NULL;
}

static void conn_release(lua_State *L, conn_ud *c)
{
    while (c->cursors)
        cursor_release(c->cursors);
    if (c->conn) {
        db_conn *conn = c->conn;
        c->conn = NULL;
        c->drv->close(conn);
    }
    free(c->redacted);
    c->redacted = NULL;
    if (c->has_target)
        dsn_free(&c->target); /* zeroes the password */
    c->has_target = 0;
    forget_sent(L, c);
    forget_deferred(L, c);
    clear_failed(L, c);
    c->pending = 0;
    c->sent_rows = 0;
    if (c->sent_cursor) {
        c->drv->cursor_close(c->sent_cursor);
        c->sent_cursor = NULL;
    }
    drop_ready(c);
}

static int conn_gc(lua_State *L)
{
    conn_release(L, luaL_checkudata(L, 1, CONN_MT));
    return 0;
}

static int conn_close(lua_State *L)
{
    conn_ud *c = luaL_checkudata(L, 1, CONN_MT);
    int was_open = c->conn != NULL;
    conn_release(L, c);
    lua_pushboolean(L, was_open);
    return 1;
}

static int conn_tostring(lua_State *L)
{
    conn_ud *c = luaL_checkudata(L, 1, CONN_MT);
    if (c->conn)
        lua_pushfstring(L, "db (%s)", c->redacted ? c->redacted : c->drv->dialect);
    else
        lua_pushliteral(L, "db (closed)");
    return 1;
}

/* Convert the n Lua arguments from index first on to bound values.  Strings
 * stay owned by the Lua stack for the duration of the call. */
static void collect_params(lua_State *L, int first, int n, db_value *out)
{
    for (int i = 0; i < n; i++) {
        int idx = first + i;
        db_value *v = &out[i];
        memset(v, 0, sizeof *v);
        switch (lua_type(L, idx)) {
        case LUA_TNIL: v->type = DBV_NULL; break;
        case LUA_TLIGHTUSERDATA:
            if (lua_touserdata(L, idx) != NULL)
                luaL_argerror(L, idx, "only db.null may be bound as a userdata");
            v->type = DBV_NULL;
            break;
        case LUA_TBOOLEAN:
            v->type = DBV_BOOL;
            v->i = lua_toboolean(L, idx);
            break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, idx)) {
                v->type = DBV_INT;
                v->i = lua_tointeger(L, idx);
            } else {
                v->type = DBV_FLOAT;
                v->f = lua_tonumber(L, idx);
            }
            break;
        case LUA_TSTRING:
            v->type = DBV_TEXT;
            v->s = lua_tolstring(L, idx, &v->len);
            break;
        default:
            luaL_argerror(L, idx, lua_pushfstring(L, "cannot bind a %s value", luaL_typename(L, idx)));
        }
    }
}

/* The values of arguments 3..top, in a buffer pushed on top of the stack
 * (so argument numbers in error messages stay the caller's). */
static db_value *bind_arguments(lua_State *L, int *n)
{
    *n = lua_gettop(L) - 2;
    if (*n > MAX_PARAMS)
        luaL_error(L, "too many parameters (%d, at most %d)", *n, MAX_PARAMS);
    db_value *vals = lua_newuserdatauv(L, sizeof(db_value) * (size_t)(*n > 0 ? *n : 1), 0);
    collect_params(L, 3, *n, vals);
    return vals;
}

/* After a statement run inside the runner's transaction: raise if it
 * ended that transaction (ended_runner_tx). */
static void raise_if_tx_ended(lua_State *L, conn_ud *c, int was_in_tx, const char *sql)
{
    if (was_in_tx && !c->drv->in_transaction(c->conn)) {
        db_error err = {0};
        ended_runner_tx(&err);
        raise_db(L, c->drv, &err, sql);
    }
}

/* db:exec(sql, ...) -> rows affected */
static int exec_after_deferred(lua_State *L, conn_ud *c);

static int conn_exec(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    check_failed(L, c);
    settle_sent(L, c, 0);
    if (c->deferred_ref != LUA_NOREF && c->drv->exec_batch)
        return exec_after_deferred(L, c);
    flush_deferred(L, c);
    const char *sql = luaL_checkstring(L, 2);
    int n;
    db_value *vals = bind_arguments(L, &n);
    int was_in_tx = c->drv->in_transaction(c->conn);
    db_error err = {0};
    int64_t affected = 0;
    if (c->drv->exec(c->conn, sql, vals, n, &affected, &err) != DB_OK)
        return raise_db(L, c->drv, &err, sql);
    raise_if_tx_ended(L, c, was_in_tx, sql);
    lua_pushinteger(L, (lua_Integer)affected);
    return 1;
}

/* The statements of the batch table at idx (see exec_batch), checked and
 * bound; what they point into stays on the stack above idx.  Raises on a
 * malformed batch, before anything is sent. */
static db_stmt *prepare_batch(lua_State *L, int idx, int *n_out)
{
    int n = (int)luaL_len(L, idx);
    if (n < 1 || n > 64)
        luaL_error(L, "exec_batch: wants 1 to 64 statements");
    db_stmt *stmts = lua_newuserdatauv(L, sizeof(db_stmt) * (size_t)n, 0);
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (lua_geti(L, idx, i + 1) != LUA_TTABLE)
            luaL_error(L, "exec_batch: statement %d is not a table", i + 1);
        lua_getfield(L, -1, "n");
        int count = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : (int)luaL_len(L, -2);
        lua_pop(L, 1);
        if (count < 1 || count - 1 > MAX_PARAMS)
            luaL_error(L, "exec_batch: statement %d has no SQL or too many values", i + 1);
        stmts[i].nparams = count - 1;
        total += count - 1;
        lua_pop(L, 1);
    }
    db_value *vals = lua_newuserdatauv(L, sizeof(db_value) * (size_t)(total > 0 ? total : 1), 0);
    luaL_checkstack(L, total + n + 8, "exec_batch: too many values");
    int used = 0;
    for (int i = 0; i < n; i++) {
        lua_geti(L, idx, i + 1);
        int item = lua_gettop(L);
        for (int k = 1; k <= stmts[i].nparams + 1; k++)
            lua_geti(L, item, k); /* kept on the stack: strings stay alive */
        lua_remove(L, item);
        int sql_at = lua_gettop(L) - stmts[i].nparams;
        stmts[i].sql = lua_type(L, sql_at) == LUA_TSTRING ? lua_tostring(L, sql_at) : NULL;
        if (!stmts[i].sql)
            luaL_error(L, "exec_batch: statement %d has no SQL", i + 1);
        collect_params(L, sql_at + 1, stmts[i].nparams, vals + used);
        stmts[i].params = vals + used;
        used += stmts[i].nparams;
    }
    *n_out = n;
    return stmts;
}

/* Run prepared statements: in one pipeline where the driver has one, one
 * by one otherwise.  On failure *failed is the failed statement's index
 * and *failed_sql its SQL.  Raises nothing. */
static int execute_batch(conn_ud *c, const db_stmt *stmts, int n, int *failed, const char **failed_sql,
                         int64_t *last_affected, db_error *err)
{
    *failed = -1;
    int rc = DB_OK;
    if (c->drv->exec_batch) {
        rc = c->drv->exec_batch(c->conn, stmts, n, failed, last_affected, err);
    } else {
        for (int i = 0; i < n && rc == DB_OK; i++) {
            rc = c->drv->exec(c->conn, stmts[i].sql, stmts[i].params, stmts[i].nparams,
                              i == n - 1 ? last_affected : NULL, err);
            if (rc != DB_OK)
                *failed = i;
        }
    }
    *failed_sql = *failed >= 0 && *failed < n ? stmts[*failed].sql : NULL;
    return rc;
}

/* db:exec_batch{{sql, v1, ..., n = N}, ...}: the statements in order, in
 * one round trip where the driver can (PostgreSQL's pipeline), one by one
 * otherwise; the first failure raises, naming its statement.  n, when
 * given, counts sql and the values (so NULLs may be nil).  For the
 * runner's own records: transaction control may be among them. */
static int conn_exec_batch(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    int n;
    db_stmt *stmts = prepare_batch(L, 2, &n);
    db_error err = {0};
    int failed;
    const char *failed_sql;
    if (execute_batch(c, stmts, n, &failed, &failed_sql, NULL, &err) != DB_OK)
        return raise_db(L, c->drv, &err, failed_sql);
    return 0;
}

/* db:exec_batch_deferred(batch, label): the batch goes out in front of the
 * next statement, in its round trip when that is an exec and the driver
 * pipelines, else on its own before the next call.  The runner ends each
 * PostgreSQL version so (its records, COMMIT, BEGIN): one round trip
 * fewer per version.  Its failure raises at that call, the label first
 * ("the records of version 7.0.1: ..."), and at every call after. */
static int conn_exec_batch_deferred(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *label = luaL_checkstring(L, 3);
    lua_settop(L, 3);
    if (luaL_len(L, 2) > 63) /* one more goes with it */
        return luaL_argerror(L, 2, "wants 1 to 63 statements");
    int n;
    prepare_batch(L, 2, &n); /* a malformed batch raises now, not at the next call */
    lua_settop(L, 3);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, label);
    lua_rawseti(L, -2, 2);
    c->deferred_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* db:flush(): send a deferred batch now (its failure raises). */
static int conn_flush(lua_State *L)
{
    check_idle(L, 1);
    return 0;
}

/* exec with a deferred batch in front, in one pipeline: the batch's
 * statements, then this one.  A failure in the batch is the batch's
 * (raise_deferred); this statement then never ran.  Everything that can
 * raise is done before the batch leaves c, so it is never lost; where the
 * driver refused the lot before sending (err.unsent), it stays deferred. */
static int exec_after_deferred(lua_State *L, conn_ud *c)
{
    luaL_checkstring(L, 2);
    int nargs;
    bind_arguments(L, &nargs); /* the values are checked here, as exec would */
    lua_settop(L, 2 + nargs);
    int was_in_tx = c->drv->in_transaction(c->conn);
    push_deferred(L, c);
    int label = lua_gettop(L), batch = label - 1;
    int nd = (int)luaL_len(L, batch);
    lua_createtable(L, nd + 1, 0);
    int all = lua_gettop(L);
    for (int i = 1; i <= nd; i++) {
        lua_geti(L, batch, i);
        lua_rawseti(L, all, i);
    }
    lua_createtable(L, nargs + 1, 1);
    for (int k = 0; k <= nargs; k++) {
        lua_pushvalue(L, 2 + k);
        lua_rawseti(L, -2, k + 1);
    }
    lua_pushinteger(L, nargs + 1);
    lua_setfield(L, -2, "n");
    lua_rawseti(L, all, nd + 1);
    int n;
    db_stmt *stmts = prepare_batch(L, all, &n);
    db_error err = {0};
    int failed;
    const char *failed_sql;
    int64_t affected = 0;
    int rc = execute_batch(c, stmts, n, &failed, &failed_sql, &affected, &err);
    if (rc != DB_OK && err.unsent && failed >= nd) /* this statement refused: the batch waits on */
        return raise_db(L, c->drv, &err, lua_tostring(L, 2));
    forget_deferred(L, c);
    if (rc != DB_OK && failed >= 0 && failed < nd)
        return raise_deferred(L, c, &err, failed_sql, lua_tostring(L, label));
    if (rc != DB_OK)
        return raise_db(L, c->drv, &err, lua_tostring(L, 2));
    raise_if_tx_ended(L, c, was_in_tx, lua_tostring(L, 2));
    lua_pushinteger(L, (lua_Integer)affected);
    return 1;
}

/* Whether exec_send's next statement may go out behind the one in flight
 * (the driver pipelines it), rather than after it: only inside the
 * transaction both were sent in, which a failure of the first leaves
 * failed, so that nothing runs on after it. */
static int may_send_behind(const conn_ud *c)
{
    return c->pending && !c->sent_rows && c->sent_in_tx && c->drv->exec_send_depth > 1 &&
           c->deferred_ref == LUA_NOREF && c->drv->in_transaction(c->conn);
}

/* The statement in flight, once the one behind it is on its way: its
 * count, or its failure raised after the one behind is read and dropped
 * (it ran in the transaction that failure ended). */
static int64_t wait_ahead(lua_State *L, conn_ud *c, int behind_ref)
{
    db_error err = {0};
    int64_t affected = 0;
    if (wait_sent(c, &affected, &err) != DB_OK) {
        db_error ignored = {0};
        int64_t n;
        c->drv->exec_wait(c->conn, &n, &ignored);
        luaL_unref(L, LUA_REGISTRYINDEX, behind_ref);
        raise_sent(L, c, &err);
    }
    forget_sent(L, c);
    return affected;
}

/* The sending half of exec_send and rows_send: the statement goes out,
 * and its SQL and values stay alive until the wait (the driver may still
 * read the bound values).  Where the driver has no sending half, the
 * statement runs here.  An exec_send's statement still to be waited for
 * is answered first (or, where may_send_behind, while this one is on its
 * way): exec_send returns its count, a rows_send's rows are dropped. */
static int send_statement(lua_State *L, int rows)
{
    conn_ud *c = check_conn(L, 1);
    check_failed(L, c);
    int behind = !rows && may_send_behind(c);
    if (!behind)
        check_idle(L, 1);
    int ahead = behind || (!rows && c->ready == 1); /* a count to return */
    int64_t ahead_affected = c->ready_affected;
    drop_ready(c);
    const char *sql = luaL_checkstring(L, 2);
    int n;
    db_value *vals = bind_arguments(L, &n);
    lua_createtable(L, n + 1, 0);
    for (int i = 0; i <= n; i++) {
        lua_pushvalue(L, 2 + i);
        lua_rawseti(L, -2, i + 1);
    }
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    db_error err = {0};
    int in_tx = behind || c->drv->in_transaction(c->conn);
    const db_driver *d = c->drv;
    int rc;
    int64_t sent_affected = 0;
    if (!rows)
        rc = d->exec_send ? d->exec_send(c->conn, sql, vals, n, &err)
                          : d->exec(c->conn, sql, vals, n, &sent_affected, &err);
    else if (d->query_send)
        rc = d->query_send(c->conn, sql, vals, n, &err);
    else
        rc = d->query_whole ? d->query_whole(c->conn, sql, vals, n, &c->sent_cursor, &err)
                            : d->query(c->conn, sql, vals, n, &c->sent_cursor, &err);
    if (rc != DB_OK) { /* (what is in flight stays so, for its wait) */
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return raise_db(L, c->drv, &err, sql);
    }
    if (behind)
        ahead_affected = wait_ahead(L, c, ref);
    c->pending = 1;
    c->sent_in_tx = in_tx;
    c->sent_affected = sent_affected;
    c->sent_rows = rows;
    c->sent_ref = ref;
    if (!ahead)
        return 0;
    lua_pushinteger(L, (lua_Integer)ahead_affected);
    return 1;
}

/* db:exec_send(sql, ...): exec without waiting for the result, so the
 * caller can work while the server does (db:rewrite maps the next batch
 * meanwhile); db:exec_wait() -> rows affected.  Where the engine's client
 * has no such mode the statement runs here and exec_wait returns its
 * count.  A call in between finishes it; exec_wait still returns it.
 * exec_send with one still to be waited for returns that one's count:
 * on PostgreSQL, inside a transaction, once the new one is on its way
 * behind it, so the server starts it the moment the first ends. */
static int conn_exec_send(lua_State *L) { return send_statement(L, 0); }

static int conn_exec_wait(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    if (!c->pending && c->ready == 1) { /* another call finished it */
        c->ready = 0;
        lua_pushinteger(L, (lua_Integer)c->ready_affected);
        return 1;
    }
    if (!c->pending || c->sent_rows)
        return luaL_error(L, "exec_wait: no statement was sent with exec_send");
    db_error err = {0};
    int64_t affected = 0;
    if (wait_sent(c, &affected, &err) != DB_OK)
        return raise_sent(L, c, &err);
    forget_sent(L, c);
    lua_pushinteger(L, (lua_Integer)affected);
    return 1;
}

static int conn_exec_script(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    db_error err = {0};
    if (c->drv->exec_script(c->conn, sql, &err) != DB_OK)
        return raise_db(L, c->drv, &err, NULL);
    return 0;
}

/* ---- cursors ----------------------------------------------------------- */

static cursor_ud *new_cursor(lua_State *L, conn_ud *c, int conn_idx)
{
    cursor_ud *cu = lua_newuserdatauv(L, sizeof *cu, 1);
    memset(cu, 0, sizeof *cu); /* born closed: consistent on any error */
    cu->drv = c->drv;
    luaL_setmetatable(L, CURSOR_MT);
    lua_pushvalue(L, conn_idx); /* keep the connection alive while we live */
    lua_setiuservalue(L, -2, 1);
    return cu;
}

static void attach_cursor(conn_ud *c, cursor_ud *cu, db_cursor *cur)
{
    cu->cur = cur;
    cu->owner = c;
    cu->ncols = c->drv->ncols(cur);
    cu->next = c->cursors;
    if (c->cursors)
        c->cursors->prev = cu;
    c->cursors = cu;
}

static void push_value(lua_State *L, const db_value *v)
{
    switch (v->type) {
    case DBV_INT: lua_pushinteger(L, (lua_Integer)v->i); break;
    case DBV_BOOL: lua_pushboolean(L, (int)v->i); break;
    case DBV_FLOAT: lua_pushnumber(L, v->f); break;
    case DBV_TEXT:
    case DBV_BLOB: lua_pushlstring(L, v->s, v->len); break;
    default: lua_pushnil(L); break;
    }
}

/* The current row as a table keyed by column name. */
static void push_row(lua_State *L, cursor_ud *cu)
{
    lua_createtable(L, 0, cu->ncols);
    for (int i = 0; i < cu->ncols; i++) {
        db_value v;
        cu->drv->value(cu->cur, i, &v);
        push_value(L, &v);
        lua_setfield(L, -2, cu->drv->colname(cu->cur, i));
    }
}

/* cursor:fetch() -> row table keyed by column name, or nil at the end (the
 * cursor then closes itself). */
static int cursor_fetch(lua_State *L)
{
    cursor_ud *cu = luaL_checkudata(L, 1, CURSOR_MT);
    if (!cu->cur) {
        if (cu->ncols < 0)
            return luaL_error(L, "attempt to use a closed cursor");
        lua_pushnil(L); /* exhausted: keep answering nil */
        return 1;
    }
    if (cu->owner) {
        check_failed(L, cu->owner);
        settle_sent(L, cu->owner, 0);
        flush_deferred(L, cu->owner);
    }
    db_error err = {0};
    int rc = cu->drv->next(cu->cur, &err);
    if (rc == DB_DONE) {
        cursor_release(cu);
        lua_pushnil(L);
        return 1;
    }
    if (rc != DB_OK) {
        const db_driver *drv = cu->drv;
        cursor_release(cu);
        return raise_db(L, drv, &err, NULL);
    }
    push_row(L, cu);
    return 1;
}

static int cursor_close(lua_State *L)
{
    cursor_ud *cu = luaL_checkudata(L, 1, CURSOR_MT);
    int was_open = cu->cur != NULL;
    cursor_release(cu);
    cu->ncols = -1;
    lua_pushboolean(L, was_open);
    return 1;
}

static int cursor_gc(lua_State *L)
{
    cursor_release(luaL_checkudata(L, 1, CURSOR_MT));
    return 0;
}

static int cursor_tostring(lua_State *L)
{
    cursor_ud *cu = luaL_checkudata(L, 1, CURSOR_MT);
    lua_pushstring(L, cu->cur ? "db cursor" : "db cursor (closed)");
    return 1;
}

/* Returns the generic-for quadruple: fetch, cursor, nil, cursor (the last
 * one is the to-be-closed value, so a `break` or an error releases it). */
static int push_iteration(lua_State *L)
{
    lua_pushcfunction(L, cursor_fetch);
    lua_pushvalue(L, -2);
    lua_pushnil(L);
    lua_pushvalue(L, -4);
    return 4;
}

/* db:query(sql, ...) -> iterator over rows */
static int conn_query(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    int n;
    db_value *vals = bind_arguments(L, &n);
    cursor_ud *cu = new_cursor(L, c, 1);
    db_error err = {0};
    db_cursor *cur = NULL;
    if (c->drv->query(c->conn, sql, vals, n, &cur, &err) != DB_OK)
        return raise_db(L, c->drv, &err, sql);
    attach_cursor(c, cu, cur);
    return push_iteration(L);
}

/* Push a table of every row of cur, which cu (at cu_idx) takes over;
 * raises on a failure, with sql. */
static int push_all_rows(lua_State *L, conn_ud *c, cursor_ud *cu, int cu_idx, db_cursor *cur,
                         const char *sql)
{
    attach_cursor(c, cu, cur);
    lua_newtable(L);
    db_error err = {0};
    for (lua_Integer k = 1;; k++) {
        int rc = cu->drv->next(cu->cur, &err);
        if (rc == DB_DONE)
            break;
        if (rc != DB_OK) {
            cursor_release(cu);
            return raise_db(L, c->drv, &err, sql);
        }
        push_row(L, cu);
        lua_rawseti(L, -2, k);
    }
    cursor_release(cu);
    lua_remove(L, cu_idx);
    return 1;
}

/* db:rows(sql, ...) -> { row, ... }: the whole result at once, without a
 * server cursor where the driver can (query_whole), for results the
 * caller bounds with LIMIT.  A batch of db:rewrite read through a MySQL
 * cursor was materialised in a server-side temporary table first. */
static int conn_rows(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    int n;
    db_value *vals = bind_arguments(L, &n);
    cursor_ud *cu = new_cursor(L, c, 1); /* released on any error, by __gc at the latest */
    int cu_idx = lua_gettop(L);
    db_error err = {0};
    db_cursor *cur = NULL;
    int rc = c->drv->query_whole ? c->drv->query_whole(c->conn, sql, vals, n, &cur, &err)
                                 : c->drv->query(c->conn, sql, vals, n, &cur, &err);
    if (rc != DB_OK)
        return raise_db(L, c->drv, &err, sql);
    return push_all_rows(L, c, cu, cu_idx, cur, sql);
}

/* db:rows_send(sql, ...): db:rows without waiting for the rows, which
 * db:rows_wait() returns; as with exec_send, a call in between finishes
 * it (rows_wait still returns them) and the next send drops what nobody
 * waited for.  Where the engine's client has no such mode the query runs
 * here. */
static int conn_rows_send(lua_State *L) { return send_statement(L, 1); }

static int conn_rows_wait(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    if (!c->pending && c->ready == 2) { /* another call finished it */
        cursor_ud *cu = new_cursor(L, c, 1);
        db_cursor *cur = c->ready_cursor;
        c->ready_cursor = NULL;
        c->ready = 0;
        return push_all_rows(L, c, cu, lua_gettop(L), cur, NULL);
    }
    if (!c->pending || !c->sent_rows)
        return luaL_error(L, "rows_wait: no query was sent with rows_send");
    cursor_ud *cu = new_cursor(L, c, 1);
    int cu_idx = lua_gettop(L);
    db_error err = {0};
    db_cursor *cur;
    if (wait_sent_rows(c, &cur, &err) != DB_OK)
        return raise_sent(L, c, &err);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->sent_ref);
    lua_rawgeti(L, -1, 1);
    const char *sql = lua_tostring(L, -1); /* kept alive on the stack below the rows */
    forget_sent(L, c);
    lua_remove(L, -2);
    lua_insert(L, cu_idx); /* sql, cursor */
    return push_all_rows(L, c, cu, cu_idx + 1, cur, sql);
}

/* db:catalog(kind, table) -> iterator over normalised catalog rows */
static int conn_catalog(lua_State *L)
{
    static const char *const kinds[] = {"tables", "columns", "indexes", NULL};
    conn_ud *c = check_idle(L, 1);
    int kind = luaL_checkoption(L, 2, NULL, kinds);
    const char *table = luaL_optstring(L, 3, NULL);
    if (kind != DB_CATALOG_TABLES && !table && !c->drv->catalog_all)
        return luaL_argerror(L, 3, "table name expected");
    cursor_ud *cu = new_cursor(L, c, 1);
    db_error err = {0};
    db_cursor *cur = NULL;
    if (c->drv->catalog(c->conn, (db_catalog_kind)kind, table, &cur, &err) != DB_OK)
        return raise_db(L, c->drv, &err, NULL);
    attach_cursor(c, cu, cur);
    return push_iteration(L);
}

/* ---- transactions, locks, misc ----------------------------------------- */

static int checked(lua_State *L, conn_ud *c, int rc, const db_error *err)
{
    if (rc != DB_OK)
        return raise_db(L, c->drv, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int conn_begin(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    db_error err = {0};
    return checked(L, c, c->drv->begin(c->conn, lua_toboolean(L, 2), &err), &err);
}

static int conn_commit(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    db_error err = {0};
    return checked(L, c, c->drv->commit(c->conn, &err), &err);
}

static int conn_rollback(lua_State *L)
{
    conn_ud *c = check_discarding(L, 1);
    db_error err = {0};
    return checked(L, c, c->drv->rollback(c->conn, &err), &err);
}

typedef int (*named_op)(db_conn *, const char *, db_error *);

static int named(lua_State *L, size_t offset)
{
    conn_ud *c = offset == offsetof(db_driver, rollback_to) ? check_discarding(L, 1) : check_idle(L, 1);
    const char *name = luaL_checkstring(L, 2);
    named_op op = *(const named_op *)((const char *)c->drv + offset);
    db_error err = {0};
    return checked(L, c, op(c->conn, name, &err), &err);
}

static int conn_savepoint(lua_State *L) { return named(L, offsetof(db_driver, savepoint)); }
static int conn_release_sp(lua_State *L) { return named(L, offsetof(db_driver, release)); }
static int conn_rollback_to(lua_State *L) { return named(L, offsetof(db_driver, rollback_to)); }

static int conn_in_transaction(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    lua_pushboolean(L, c->drv->in_transaction(c->conn));
    return 1;
}

/* db:lock(key, timeout_seconds) -> true | false (timed out) */
static int conn_lock(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    const char *key = luaL_checkstring(L, 2);
    double timeout = luaL_checknumber(L, 3);
    db_error err = {0};
    int rc = c->drv->lock(c->conn, key, timeout, &err);
    if (rc == DB_TIMEOUT) {
        lua_pushboolean(L, 0);
        return 1;
    }
    return checked(L, c, rc, &err);
}

/* Unlock ends a run, also one that a deferred batch failed: it rolls back
 * whatever is open, so the connection may be used again after it. */
static int conn_unlock(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    clear_failed(L, c);
    check_idle(L, 1);
    db_error err = {0};
    return checked(L, c, c->drv->unlock(c->conn, luaL_checkstring(L, 2), &err), &err);
}

/* db:lock_held(key) -> whether some session holds it, or nil where the
 * engine cannot tell without taking it (SQLite) */
static int conn_lock_held(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!c->drv->lock_held) {
        lua_pushnil(L);
        return 1;
    }
    db_error err = {0};
    int rc = c->drv->lock_held(c->conn, key, &err);
    if (rc == DB_ERR)
        return raise_db(L, c->drv, &err, NULL);
    lua_pushboolean(L, rc);
    return 1;
}

static int conn_set_read_only(lua_State *L)
{
    conn_ud *c = check_idle(L, 1);
    db_error err = {0};
    return checked(L, c, c->drv->set_read_only(c->conn, lua_toboolean(L, 2), &err), &err);
}

static int conn_quote_ident(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    if (len == 0 || strlen(name) != len)
        return luaL_argerror(L, 2, "identifier must be non-empty and contain no NUL byte");
    db_error err = {0};
    char *q = c->drv->quote_ident(c->conn, name, &err);
    if (!q)
        return raise_db(L, c->drv, &err, NULL);
    lua_pushstring(L, q);
    free(q);
    return 1;
}

static int conn_server_version(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    lua_pushstring(L, c->drv->server_version(c->conn));
    return 1;
}

static int conn_target(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    lua_pushstring(L, c->redacted);
    return 1;
}

/* ---- what a backup needs: the target, the password in a file, SQLite's
 * online backup --------------------------------------------------------- */

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

/* A key of a "k=v&k=v" pair (percent-encoded) is "password"? */
static int is_password_key(const char *p, size_t n)
{
    char key[16];
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] != '='; i++) {
        char ch = p[i];
        if (ch == '%' && i + 2 < n) {
            char hex[3] = {p[i + 1], p[i + 2], 0};
            ch = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= sizeof key)
            return 0;
        key[o++] = ch;
    }
    key[o] = '\0';
    return !strcasecmp(key, "password");
}

/* db:target_info() -> {engine, path, host, port, user, dbname, socket,
 * params, has_password}: what the connection was opened with, for the dump
 * tools of a backup (lua/migrate/backup.lua), never the password: params
 * is the DSN's query ("k=v&k=v", percent-encoded) less any password key. */
static int conn_target_info(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    const db_target *t = &c->target;
    lua_createtable(L, 0, 9);
    if (!c->has_target)
        return 1;
    set_str(L, "engine", t->engine);
    set_str(L, "path", t->path);
    set_str(L, "host", t->host);
    set_str(L, "user", t->user);
    set_str(L, "dbname", t->dbname);
    set_str(L, "socket", t->socket);
    if (t->port > 0) {
        lua_pushinteger(L, t->port);
        lua_setfield(L, -2, "port");
    }
    lua_pushboolean(L, t->password != NULL);
    lua_setfield(L, -2, "has_password");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *p = t->params; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > 0 && !is_password_key(p, n)) {
            if (luaL_bufflen(&b) > 0)
                luaL_addchar(&b, '&');
            luaL_addlstring(&b, p, n);
        }
        p += n + (p[n] == '&');
    }
    luaL_pushresult(&b);
    lua_setfield(L, -2, "params");
    return 1;
}

typedef struct {
    char dir[PATH_MAX - 16]; /* room for the file name in path */
    char path[PATH_MAX];
    int live;
} secret_ud;

static void secret_remove(secret_ud *s)
{
    if (!s->live)
        return;
    s->live = 0;
    unlink(s->path);
    rmdir(s->dir);
}

static int secret_gc(lua_State *L)
{
    secret_remove(luaL_checkudata(L, 1, SECRET_MT));
    return 0;
}

static int secret_path(lua_State *L)
{
    secret_ud *s = luaL_checkudata(L, 1, SECRET_MT);
    if (!s->live)
        return luaL_error(L, "attempt to use a removed secret file");
    lua_pushstring(L, s->path);
    return 1;
}

/* The password as the file kind wants it, in a malloc'd buffer (NULL on
 * OOM).  pgpass: '\' and ':' escaped, matching any host, port, database
 * and user; mysql: a [client] group with the value in double quotes, '\'
 * and '"' escaped and a newline as \n (MariaDB's option file reader
 * undoes exactly these). */
static char *secret_text(const char *kind, const char *pw, size_t *len)
{
    size_t n = strlen(pw);
    char *out = malloc(2 * n + 32), *o = out;
    if (!out)
        return NULL;
    int my = !strcmp(kind, "mysql");
    o += sprintf(o, my ? "[client]\npassword=\"" : "*:*:*:*:");
    for (const char *p = pw; *p; p++) {
        if (*p == '\\' || (my ? *p == '"' : *p == ':'))
            *o++ = '\\';
        if (my && *p == '\n') {
            *o++ = '\\';
            *o++ = 'n';
            continue;
        }
        *o++ = *p;
    }
    o += sprintf(o, my ? "\"\n" : "\n");
    *len = (size_t)(o - out);
    return out;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* db:secret_file(kind) -> handle | nil when the target has no password.
 * kind "pgpass": a libpq password file (for PGPASSFILE); "mysql": an
 * option file (for --defaults-extra-file).  The file is created mode 0600
 * in a new 0700 directory under $TMPDIR (default /tmp); handle:path()
 * names it; handle:remove(), <close> and the collector delete both.  The
 * password goes from this connection's memory into the file and nowhere
 * else: not through a Lua string, not into any argv. */
static int conn_secret_file(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    static const char *const kinds[] = {"pgpass", "mysql", NULL};
    const char *kind = kinds[luaL_checkoption(L, 2, NULL, kinds)];
    const char *pw = c->has_target ? c->target.password : NULL;
    if (!pw) {
        lua_pushnil(L);
        return 1;
    }
    if (strchr(pw, '\n') && strcmp(kind, "mysql") != 0)
        return luaL_error(L, "the password holds a line break, which a %s file cannot hold", kind);
    secret_ud *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SECRET_MT);
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(s->dir, sizeof s->dir, "%s/n9e-migrate-XXXXXX", tmp) >= (int)sizeof s->dir)
        return luaL_error(L, "secret file: TMPDIR is too long");
    if (!mkdtemp(s->dir))
        return luaL_error(L, "secret file: cannot create a directory in %s: %s", tmp, strerror(errno));
    snprintf(s->path, sizeof s->path, "%s/%s", s->dir, !strcmp(kind, "mysql") ? "my.cnf" : "pgpass");
    s->live = 1; /* from here on the collector removes what exists */
    size_t len = 0;
    char *text = secret_text(kind, pw, &len);
    int fd = text ? open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    int e = text ? errno : ENOMEM;
    int bad = fd < 0 || write_all(fd, text, len) != 0;
    if (fd >= 0) {
        e = errno;
        if (close(fd) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
    }
    if (text) {
        memset(text, 0, len);
        free(text);
    }
    if (bad) {
        secret_remove(s);
        return luaL_error(L, "secret file: cannot write %s: %s", s->path, strerror(e));
    }
    return 1;
}

/* db:backup_to(path [, timeout_s]) and db:restore_from(path [, timeout_s]):
 * engines with an online backup (SQLite).  backup_to writes the committed
 * database to a new file; restore_from replaces the database with the
 * file's, both waiting up to timeout_s (default 5) for locks. */
static int conn_backup_op(lua_State *L, int restore)
{
    conn_ud *c = check_idle(L, 1);
    const char *path = luaL_checkstring(L, 2);
    double timeout = luaL_optnumber(L, 3, 5);
    int (*op)(db_conn *, const char *, double, db_error *) =
        restore ? c->drv->restore_from : c->drv->backup_to;
    if (!op)
        return luaL_error(L, "%s: the %s driver has no online backup", restore ? "restore_from" : "backup_to",
                          c->drv->dialect);
    db_error err = {0};
    return checked(L, c, op(c->conn, path, timeout, &err), &err);
}

static int conn_backup_to(lua_State *L) { return conn_backup_op(L, 0); }
static int conn_restore_from(lua_State *L) { return conn_backup_op(L, 1); }

/* __index: `db.dialect` is a field; everything else is a method, looked up
 * in the methods table (upvalue 1), which the Lua library may extend. */
static int conn_index(lua_State *L)
{
    conn_ud *c = luaL_checkudata(L, 1, CONN_MT);
    const char *key = lua_tostring(L, 2);
    if (key && !strcmp(key, "dialect")) {
        lua_pushstring(L, c->drv->dialect);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

static int raise_open(lua_State *L, const char *kind, const char *msg)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    return lua_error(L);
}

static const char *opt_string(lua_State *L, int opts, const char *key)
{
    if (!lua_istable(L, opts))
        return NULL;
    lua_getfield(L, opts, key);
    const char *v = lua_tostring(L, -1); /* stays alive: opts holds it */
    lua_pop(L, 1);
    return v;
}

/* The target from the options: --n9e-config, else the DSN text; then the
 * password from --password-file or $N9E_MIGRATE_PASSWORD.  The DSN of a
 * Nightingale config (it holds the password) never reaches Lua. */
static int resolve_target(lua_State *L, const char *text, int opts, db_target *t, char *msg,
                          size_t len)
{
    const char *config = opt_string(L, opts, "n9e_config");
    int rc;
    if (config) {
        char *dbtype = NULL, *dsn = NULL;
        if (n9e_config_read_db(config, &dbtype, &dsn, msg, len) != 0)
            return -1;
        char inner[256];
        rc = dsn_parse_as(dbtype, dsn, t, inner, sizeof inner);
        if (rc != 0)
            snprintf(msg, len, "%s: [DB] DSN: %s", config, inner);
        free(dbtype);
        memset(dsn, 0, strlen(dsn));
        free(dsn);
    } else {
        rc = dsn_parse(text, t, msg, len);
    }
    if (rc != 0)
        return -1;
    const char *pwfile = opt_string(L, opts, "password_file");
    const char *pwenv = getenv("N9E_MIGRATE_PASSWORD");
    char *pw = NULL;
    if (pwfile && !(pw = dsn_read_password_file(pwfile, msg, len))) {
        dsn_free(t);
        return -1;
    }
    if (pw || (!t->password && pwenv && *pwenv)) {
        rc = dsn_set_password(t, pw ? pw : pwenv);
        if (pw) {
            memset(pw, 0, strlen(pw));
            free(pw);
        }
        if (rc != 0) {
            dsn_free(t);
            snprintf(msg, len, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Point the target at another database of the same server (SQLite: another
 * file), keeping host, user and password: `rehearse` opens its scratch copy
 * this way, so the password never passes through Lua. */
static int retarget(db_target *t, const char *database)
{
    char **field = strcmp(t->engine, "sqlite") == 0 ? &t->path : &t->dbname;
    size_t len = strlen(database) + 1;
    char *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, database, len);
    free(*field);
    *field = copy;
    return 0;
}

/* A closed connection on the stack, released by __gc on any error. */
static conn_ud *new_conn(lua_State *L)
{
    conn_ud *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->sent_ref = LUA_NOREF;
    c->deferred_ref = LUA_NOREF;
    c->failed_ref = LUA_NOREF;
    luaL_setmetatable(L, CONN_MT);
    return c;
}

/* Connect c (drv and redacted set) to t, or raise {kind="connect"}; t is
 * freed first when the caller owns it. */
static void connect_or_raise(lua_State *L, conn_ud *c, db_target *t, int free_on_error)
{
    db_error err = {0};
    db_conn *conn = NULL;
    if (c->drv->connect(t, &conn, &err) == DB_OK) {
        c->conn = conn;
        return;
    }
    if (free_on_error)
        dsn_free(t);
    lua_pushfstring(L, "cannot connect to %s: %s", c->redacted ? c->redacted : "database", err.message);
    raise_open(L, "connect", lua_tostring(L, -1));
}

/* n9e.db.open(dsn [, {read_only=, n9e_config=, password_file=, database=}])
 * -> connection | raises {kind="dsn"|"connect", message} */
static int db_open(lua_State *L)
{
    const char *text = luaL_optstring(L, 1, NULL);
    int read_only = 0;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "read_only");
        read_only = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    conn_ud *c = new_conn(L);
    db_target t;
    char msg[512];
    if (resolve_target(L, text, 2, &t, msg, sizeof msg) != 0) {
        lua_pushfstring(L, "bad connection string: %s", msg);
        return raise_open(L, "dsn", lua_tostring(L, -1));
    }
    const char *database = opt_string(L, 2, "database");
    if (database && retarget(&t, database) != 0) {
        dsn_free(&t);
        return luaL_error(L, "out of memory");
    }
    const db_driver *drv = driver_for(t.engine);
    if (!drv) {
        lua_pushfstring(L, "engine '%s' is not built into this binary", t.engine);
        dsn_free(&t);
        return raise_open(L, "dsn", lua_tostring(L, -1));
    }
    c->drv = drv;
    c->redacted = dsn_redact(&t);
    t.read_only = read_only;
    connect_or_raise(L, c, &t, 1);
    c->target = t; /* owned by the connection from here on */
    c->has_target = 1;
    return 1;
}

/* db:open_reader() -> a second, read-only connection to the same target,
 * password included, without it passing through Lua: db:rewrite on MySQL
 * reads the next batch there while this connection writes the last one. */
static int conn_open_reader(lua_State *L)
{
    conn_ud *c = check_conn(L, 1);
    check_failed(L, c);
    flush_deferred(L, c); /* the reader reads what is committed */
    if (!c->conn || !c->has_target)
        return luaL_error(L, "open_reader: the connection is closed");
    conn_ud *r = new_conn(L);
    r->drv = c->drv;
    r->redacted = c->redacted ? strdup(c->redacted) : NULL;
    db_target t = c->target; /* borrowed: connect copies what it keeps */
    t.read_only = 1;
    connect_or_raise(L, r, &t, 0);
    return 1;
}

/* db.is_error(v): whether v is an error raised by this module. */
static int db_is_error(lua_State *L)
{
    int is = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, ERROR_MT);
        is = lua_rawequal(L, -1, -2);
    }
    lua_pushboolean(L, is);
    return 1;
}

/* A handle's metatable: methods as __index, release as __gc and __close. */
static void register_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction release,
                           lua_CFunction tostring)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__close");
    if (tostring) {
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
}

int luaopen_n9e_db(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"backup_to", conn_backup_to},
        {"begin", conn_begin},
        {"catalog", conn_catalog},
        {"close", conn_close},
        {"commit", conn_commit},
        {"exec", conn_exec},
        {"exec_batch", conn_exec_batch},
        {"exec_batch_deferred", conn_exec_batch_deferred},
        {"flush", conn_flush},
        {"exec_script", conn_exec_script},
        {"exec_send", conn_exec_send},
        {"exec_wait", conn_exec_wait},
        {"in_transaction", conn_in_transaction},
        {"lock", conn_lock},
        {"lock_held", conn_lock_held},
        {"open_reader", conn_open_reader},
        {"query", conn_query},
        {"quote_ident", conn_quote_ident},
        {"rows", conn_rows},
        {"rows_send", conn_rows_send},
        {"rows_wait", conn_rows_wait},
        {"release", conn_release_sp},
        {"restore_from", conn_restore_from},
        {"rollback", conn_rollback},
        {"rollback_to", conn_rollback_to},
        {"savepoint", conn_savepoint},
        {"secret_file", conn_secret_file},
        {"server_version", conn_server_version},
        {"set_read_only", conn_set_read_only},
        {"target", conn_target},
        {"target_info", conn_target_info},
        {"unlock", conn_unlock},
        {NULL, NULL},
    };
    static const luaL_Reg cursor_methods[] = {
        {"close", cursor_close},
        {"fetch", cursor_fetch},
        {NULL, NULL},
    };
    static const luaL_Reg secret_methods[] = {
        {"path", secret_path},
        {"remove", secret_gc},
        {NULL, NULL},
    };

    luaL_newmetatable(L, ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    register_class(L, SECRET_MT, secret_methods, secret_gc, NULL);
    register_class(L, CURSOR_MT, cursor_methods, cursor_gc, cursor_tostring);

    luaL_newlib(L, methods); /* module.methods, extended by lua/migrate/db.lua */
    luaL_newmetatable(L, CONN_MT);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, conn_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, conn_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, conn_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, conn_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    lua_createtable(L, 0, 5);
    lua_insert(L, -2);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, db_open);
    lua_setfield(L, -2, "open");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, db_is_error);
    lua_setfield(L, -2, "is_error");
    return 1;
}
