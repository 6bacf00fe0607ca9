/*
 * test_driver_sqlite.c -- the SQLite engine through the db_driver vtable
 * only (no Lua): connection, binding and reading back every value type,
 * statement checks, scripts, streaming cursors, transactions and
 * savepoints, the run-wide lock, read-only mode, identifier quoting,
 * catalog listings and engine errors.
 *
 * Each test gets a fresh database file from mkstemp() in $TMPDIR (or /tmp);
 * the teardown closes every connection and removes the file.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h> /* result-code constants only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "lazy.h"

#include <dlfcn.h>

static const db_driver *D = &driver_sqlite;

typedef struct {
    char path[512];
    db_conn *c;  /* main connection to path */
    db_conn *c2; /* optional second connection */
} fixture;

/* ---- helpers ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static db_conn *connect_path(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    db_target t = {.engine = "sqlite", .path = buf};
    db_conn *c = NULL;
    db_error err = {0};
    if (D->connect(&t, &c, &err) != DB_OK)
        fail_msg("connect(%s): %s", path, err.message);
    assert_non_null(c);
    return c;
}

static void unlink_db(const char *path)
{
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    char p[600];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(f->path, sizeof f->path, "%s/n9e-driver-test-XXXXXX", dir);
    int fd = mkstemp(f->path);
    if (fd < 0) {
        free(f);
        return -1;
    }
    close(fd); /* SQLite treats the empty file as a new database */
    *state = f;
    f->c = connect_path(f->path);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    D->close(f->c2);
    D->close(f->c);
    unlink_db(f->path);
    free(f);
    return 0;
}

static void xexec(db_conn *c, const char *sql)
{
    db_error err = {0};
    if (D->exec(c, sql, NULL, 0, NULL, &err) != DB_OK)
        fail_msg("exec(%s): %s", sql, err.message);
}

static void xscript(db_conn *c, const char *sql)
{
    db_error err = {0};
    if (D->exec_script(c, sql, &err) != DB_OK)
        fail_msg("exec_script(%s): %s", sql, err.message);
}

/* The single integer a query returns. */
static int64_t scalar(db_conn *c, const char *sql)
{
    db_cursor *cur = NULL;
    db_error err = {0};
    if (D->query(c, sql, NULL, 0, &cur, &err) != DB_OK)
        fail_msg("query(%s): %s", sql, err.message);
    if (D->next(cur, &err) != DB_OK) {
        D->cursor_close(cur);
        fail_msg("query(%s) returned no row: %s", sql, err.message);
    }
    db_value v;
    D->value(cur, 0, &v);
    int64_t r = v.i;
    int type = v.type;
    int rc = D->next(cur, &err);
    D->cursor_close(cur);
    assert_int_equal(type, DBV_INT);
    assert_int_equal(rc, DB_DONE);
    return r;
}

static db_value v_null(void) { return (db_value){.type = DBV_NULL}; }
static db_value v_int(int64_t i) { return (db_value){.type = DBV_INT, .i = i}; }
static db_value v_float(double d) { return (db_value){.type = DBV_FLOAT, .f = d}; }
static db_value v_bool(int b) { return (db_value){.type = DBV_BOOL, .i = b}; }
static db_value v_text(const char *s, size_t n) { return (db_value){.type = DBV_TEXT, .s = s, .len = n}; }
static db_value v_blob(const void *s, size_t n)
{
    return (db_value){.type = DBV_BLOB, .s = s, .len = n};
}

static void assert_text(const db_value *v, db_value_type type, const char *s, size_t n)
{
    assert_int_equal(v->type, type);
    assert_int_equal(v->len, n);
    if (n)
        assert_memory_equal(v->s, s, n);
}

/* ---- connect -------------------------------------------------------------- */

static void test_connect_file_and_memory(void **state)
{
    fixture *f = *state;
    assert_string_equal(D->dialect, "sqlite");
    assert_ptr_equal(driver_for("sqlite"), &driver_sqlite);
    assert_null(driver_for("no-such-engine"));
    assert_null(driver_for(NULL));
    const char *ver = D->server_version(f->c);
    assert_non_null(ver);
    assert_true(ver[0] == '3' && ver[1] == '.');

    /* A file database persists across connections. */
    xexec(f->c, "CREATE TABLE persisted(x)");
    xexec(f->c, "INSERT INTO persisted VALUES (1)");
    D->close(f->c);
    f->c = connect_path(f->path);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM persisted"), 1);

    /* Two :memory: connections are separate, private databases. */
    db_conn *m1 = connect_path(":memory:");
    db_conn *m2 = connect_path(":memory:");
    xexec(m1, "CREATE TABLE only_here(x)");
    xexec(m1, "INSERT INTO only_here VALUES (42)");
    assert_int_equal(scalar(m1, "SELECT x FROM only_here"), 42);
    assert_int_equal(scalar(m2, "SELECT count(*) FROM sqlite_schema"), 0);
    D->close(m1);
    D->close(m2);
    D->close(NULL); /* closing nothing is harmless */
}

static void test_connect_error(void **state)
{
    fixture *f = *state;
    char bad[600];
    snprintf(bad, sizeof bad, "%s/sub/n9e.db", f->path); /* path is a file */
    db_target t = {.engine = "sqlite", .path = bad};
    db_conn *c = NULL;
    db_error err = {0};
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    assert_null(c);
    assert_true(err.code != 0);
    if (!strstr(err.message, "unable to open"))
        fail_msg("unexpected message: %s", err.message);
}

/* ---- values ------------------------------------------------------------- */

static const char TEXT_NUL[] = {'a', '\0', 'b', '\0'};
static const unsigned char BLOB_BYTES[] = {0x00, 0xff, 0x10, 0x00, 0x80};

static void test_bind_and_read_every_type(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE v(k INTEGER PRIMARY KEY, x)"); /* x: no affinity */
    const db_value vals[] = {
        v_null(),
        v_int(0),
        v_int(INT64_MIN),
        v_int(INT64_MAX),
        v_int(-1),
        v_float(3.25),
        v_float(-1e300),
        v_float(0.1),
        v_text(TEXT_NUL, sizeof TEXT_NUL),
        v_text("", 0),
        v_text("h\xc3\xa9llo", 6),
        v_blob(BLOB_BYTES, sizeof BLOB_BYTES),
        v_blob("", 0),
        v_bool(1),
        v_bool(0),
    };
    const int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++) {
        db_value p[2] = {v_int(k), vals[k]};
        int64_t affected = -1;
        db_error err = {0};
        if (D->exec(f->c, "INSERT INTO v(k, x) VALUES (?, ?)", p, 2, &affected, &err) != DB_OK)
            fail_msg("insert %d: %s", k, err.message);
        assert_int_equal(affected, 1);
    }

    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT k, x, typeof(x) AS t FROM v ORDER BY k", NULL, 0,
                              &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 3);
    assert_string_equal(D->colname(cur, 0), "k");
    assert_string_equal(D->colname(cur, 1), "x");
    assert_string_equal(D->colname(cur, 2), "t");
    static const char *const typeof_expect[] = {
        "null", "integer", "integer", "integer", "integer", "real", "real", "real",
        "text", "text",    "text",    "blob",    "blob",    "integer", "integer",
    };
    int k = 0;
    int rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        db_value key, x, t;
        D->value(cur, 0, &key);
        D->value(cur, 1, &x);
        D->value(cur, 2, &t);
        assert_int_equal(key.type, DBV_INT);
        assert_int_equal(key.i, k);
        assert_text(&t, DBV_TEXT, typeof_expect[k], strlen(typeof_expect[k]));
        switch (k) {
        case 0: assert_int_equal(x.type, DBV_NULL); break;
        case 1:
        case 2:
        case 3:
        case 4:
            assert_int_equal(x.type, DBV_INT);
            assert_true(x.i == vals[k].i); /* exact, incl. INT64_MIN/MAX */
            break;
        case 5:
        case 6:
        case 7:
            assert_int_equal(x.type, DBV_FLOAT);
            assert_true(x.f == vals[k].f); /* bit-exact round trip */
            break;
        case 8: assert_text(&x, DBV_TEXT, TEXT_NUL, sizeof TEXT_NUL); break;
        case 9: assert_text(&x, DBV_TEXT, "", 0); break;
        case 10: assert_text(&x, DBV_TEXT, "h\xc3\xa9llo", 6); break;
        case 11: assert_text(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES); break;
        case 12: assert_text(&x, DBV_BLOB, "", 0); break;
        case 13: /* SQLite has no boolean: true/false are stored as 1/0 */
            assert_int_equal(x.type, DBV_INT);
            assert_int_equal(x.i, 1);
            break;
        case 14:
            assert_int_equal(x.type, DBV_INT);
            assert_int_equal(x.i, 0);
            break;
        default: fail_msg("unexpected row %d", k);
        }
        k++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(k, n);

    /* The same values bound straight into a SELECT come back unchanged. */
    const db_value direct[] = {v_null(), v_int(INT64_MIN), v_float(-2.5),
                               v_text(TEXT_NUL, sizeof TEXT_NUL),
                               v_blob(BLOB_BYTES, sizeof BLOB_BYTES), v_bool(1)};
    assert_int_equal(D->query(f->c, "SELECT ?, ?, ?, ?, ?, ?", direct, 6, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    db_value x;
    D->value(cur, 0, &x);
    assert_int_equal(x.type, DBV_NULL);
    D->value(cur, 1, &x);
    assert_int_equal(x.type, DBV_INT);
    assert_true(x.i == INT64_MIN);
    D->value(cur, 2, &x);
    assert_int_equal(x.type, DBV_FLOAT);
    assert_true(x.f == -2.5);
    D->value(cur, 3, &x);
    assert_text(&x, DBV_TEXT, TEXT_NUL, sizeof TEXT_NUL);
    D->value(cur, 4, &x);
    assert_text(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES);
    D->value(cur, 5, &x);
    assert_int_equal(x.type, DBV_INT);
    assert_int_equal(x.i, 1);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* Bound text is compared as a value, never spliced into SQL. */
    db_value evil = v_text("x'); DROP TABLE v; --", 21);
    assert_int_equal(D->query(f->c, "SELECT count(*) FROM v WHERE x = ?", &evil, 1, &cur, &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->value(cur, 0, &x);
    assert_int_equal(x.i, 0);
    D->cursor_close(cur);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM v"), n);
}

static void test_affected_rows(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE a(x); INSERT INTO a VALUES (1),(2),(3),(4),(5);");
    int64_t affected = -1;
    db_error err = {0};
    db_value p = v_int(3);
    assert_int_equal(D->exec(f->c, "UPDATE a SET x = x + 10 WHERE x <= ?", &p, 1, &affected,
                             &err),
                     DB_OK);
    assert_int_equal(affected, 3);
    assert_int_equal(D->exec(f->c, "DELETE FROM a WHERE x > 10", NULL, 0, &affected, &err),
                     DB_OK);
    assert_int_equal(affected, 3);
    assert_int_equal(D->exec(f->c, "DELETE FROM a WHERE x > 1000", NULL, 0, &affected, &err),
                     DB_OK);
    assert_int_equal(affected, 0);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM a"), 2);
}

/* ---- statement checks --------------------------------------------------- */

static void test_placeholder_count_mismatch(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE p(a, b)");
    db_error err = {0};
    db_value one = v_int(1);
    assert_int_equal(D->exec(f->c, "INSERT INTO p VALUES (?, ?)", &one, 1, NULL, &err), DB_ERR);
    if (!strstr(err.message, "2 placeholder") || !strstr(err.message, "1 value"))
        fail_msg("message does not name the counts: %s", err.message);

    db_value three[3] = {v_int(1), v_int(2), v_int(3)};
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO p VALUES (?, ?)", three, 3, NULL, &err), DB_ERR);
    if (!strstr(err.message, "2 placeholder") || !strstr(err.message, "3 value"))
        fail_msg("message does not name the counts: %s", err.message);

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT ? + ? + ?", three, 2, &cur, &err), DB_ERR);
    assert_null(cur);
    if (!strstr(err.message, "3 placeholder") || !strstr(err.message, "2 value"))
        fail_msg("message does not name the counts: %s", err.message);

    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT 1", &one, 1, &cur, &err), DB_ERR);
    assert_non_null(strstr(err.message, "0 placeholder"));

    assert_int_equal(scalar(f->c, "SELECT count(*) FROM p"), 0);
}

static void test_exec_refuses_two_statements(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    assert_int_equal(D->exec(f->c, "CREATE TABLE a(x); CREATE TABLE b(y)", NULL, 0, NULL, &err),
                     DB_ERR);
    if (!strstr(err.message, "exec_script"))
        fail_msg("message does not point at exec_script: %s", err.message);
    /* Not even the first statement ran. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sqlite_schema"), 0);

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT 1; SELECT 2", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "exec_script"));

    /* Trailing separators and blanks are not a second statement. */
    xexec(f->c, "CREATE TABLE c(x);  \n;\t");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sqlite_schema"), 1);

    /* Nothing to run is an error too. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "empty statement"));
}

static void test_exec_script(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE s(x INTEGER NOT NULL);\n"
                  "INSERT INTO s VALUES (1);\n"
                  "INSERT INTO s VALUES (2);\n"
                  "CREATE INDEX s_x ON s(x);\n"
                  "INSERT INTO s SELECT x + 10 FROM s;\n");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 4);
    assert_int_equal(scalar(f->c, "SELECT sum(x) FROM s"), 1 + 2 + 11 + 12);

    /* A failing statement stops the script there and reports why. */
    db_error err = {0};
    assert_int_equal(D->exec_script(f->c,
                                    "INSERT INTO s VALUES (100);"
                                    "INSERT INTO missing VALUES (1);"
                                    "INSERT INTO s VALUES (200);",
                                    &err),
                     DB_ERR);
    if (!strstr(err.message, "no such table: missing"))
        fail_msg("unexpected message: %s", err.message);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x = 100"), 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x = 200"), 0);
}

/* ---- streaming ---------------------------------------------------------- */

#define STREAM_ROWS 200000

static void test_streaming_cursor_with_writes(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE sink(n INTEGER NOT NULL)");
    db_error err = {0};
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);

    db_cursor *cur = NULL;
    db_value limit = v_int(STREAM_ROWS);
    assert_int_equal(D->query(f->c,
                              "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL "
                              "SELECT n + 1 FROM c WHERE n < ?) SELECT n FROM c",
                              &limit, 1, &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 1);
    assert_string_equal(D->colname(cur, 0), "n");
    int64_t expect = 1;
    int rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        db_value v;
        D->value(cur, 0, &v);
        if (v.type != DBV_INT || v.i != expect) {
            D->cursor_close(cur);
            fail_msg("row %lld: got type %d value %lld", (long long)expect, v.type,
                     (long long)v.i);
        }
        /* Another statement on the same connection while the cursor is open. */
        db_value p = v_int(v.i * 2);
        if (D->exec(f->c, "INSERT INTO sink(n) VALUES (?)", &p, 1, NULL, &err) != DB_OK) {
            D->cursor_close(cur);
            fail_msg("insert during iteration at row %lld: %s", (long long)expect,
                     err.message);
        }
        expect++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(expect - 1, STREAM_ROWS);
    assert_int_equal(D->commit(f->c, &err), DB_OK);

    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sink"), STREAM_ROWS);
    assert_int_equal(scalar(f->c, "SELECT sum(n) FROM sink"),
                     (int64_t)STREAM_ROWS * (STREAM_ROWS + 1));
}

/* A cursor closed early releases its statement: the table can be dropped. */
static void test_cursor_close_early(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE e(x); INSERT INTO e VALUES (1),(2),(3),(4);");
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT x FROM e ORDER BY x", NULL, 0, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->cursor_close(cur);
    D->cursor_close(NULL);
    xexec(f->c, "DROP TABLE e");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sqlite_schema"), 0);
}

/* ---- transactions ------------------------------------------------------- */

static void test_transactions_and_savepoints(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE t(x)");
    assert_false(D->in_transaction(f->c));

    /* begin / savepoint / rollback_to / release / commit */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (1)");
    assert_int_equal(D->savepoint(f->c, "sp\"1", &err), DB_OK); /* quoted name */
    xexec(f->c, "INSERT INTO t VALUES (2)");
    xexec(f->c, "INSERT INTO t VALUES (3)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);
    assert_int_equal(D->rollback_to(f->c, "sp\"1", &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 1);
    assert_true(D->in_transaction(f->c)); /* rollback_to keeps the transaction */
    xexec(f->c, "INSERT INTO t VALUES (4)");
    assert_int_equal(D->savepoint(f->c, "inner", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (5)");
    assert_int_equal(D->release(f->c, "inner", &err), DB_OK); /* keeps 5 */
    assert_int_equal(D->release(f->c, "sp\"1", &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);
    assert_int_equal(scalar(f->c, "SELECT sum(x) FROM t"), 1 + 4 + 5);

    /* rollback discards everything since begin, savepoints included */
    assert_int_equal(D->begin(f->c, 1, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (6)");
    assert_int_equal(D->savepoint(f->c, "s", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (7)");
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);

    /* The committed data is visible from another connection. */
    f->c2 = connect_path(f->path);
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM t"), 3);

    /* Errors: unknown savepoint, nested begin, commit without a transaction. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->rollback_to(f->c, "nope", &err), DB_ERR);
    assert_non_null(strstr(err.message, "no such savepoint"));
    memset(&err, 0, sizeof err);
    assert_int_equal(D->begin(f->c, 0, &err), DB_ERR);
    assert_non_null(strstr(err.message, "within a transaction"));
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->commit(f->c, &err), DB_ERR);
    assert_non_null(strstr(err.message, "no transaction is active"));
    assert_false(D->in_transaction(f->c));
}

/* ---- lock ---------------------------------------------------------------- */

static void test_lock(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE l(x)");
    f->c2 = connect_path(f->path);

    assert_int_equal(D->lock(f->c, "n9e-migrate", 1.0, &err), DB_OK);
    assert_true(D->in_transaction(f->c)); /* the lock is the write transaction */
    assert_null(D->lock_held); /* which only an attempt to write could see */

    double t0 = now();
    memset(&err, 0, sizeof err);
    int rc = D->lock(f->c2, "n9e-migrate", 0.2, &err);
    double waited = now() - t0;
    assert_int_equal(rc, DB_TIMEOUT);
    assert_false(D->in_transaction(f->c2));
    if (waited < 0.18 || waited > 2.0)
        fail_msg("lock(timeout=0.2) gave up after %.3f s", waited);

    /* Releasing the first lock lets the second connection take it; then
     * the first one is refused at once with a zero timeout. */
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(D->lock(f->c2, "n9e-migrate", 0.2, &err), DB_OK);
    t0 = now();
    assert_int_equal(D->lock(f->c, "n9e-migrate", 0, &err), DB_TIMEOUT);
    assert_true(now() - t0 < 0.15);
    xexec(f->c2, "INSERT INTO l VALUES (1)");
    assert_int_equal(D->commit(f->c2, &err), DB_OK); /* the protocol's own commit */
    assert_int_equal(D->unlock(f->c2, "n9e-migrate", &err), DB_OK); /* then a no-op */
    assert_false(D->in_transaction(f->c2));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM l"), 1);

    /* Taking the lock inside an open transaction is an error, not a timeout. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->lock(f->c, "n9e-migrate", 0.2, &err), DB_ERR);
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
}

/* ---- read-only ------------------------------------------------------------ */

static void test_read_only(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE r(x)");
    xexec(f->c, "INSERT INTO r VALUES (1)");
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO r VALUES (2)", NULL, 0, NULL, &err), DB_ERR);
    if (!strstr(err.message, "readonly"))
        fail_msg("unexpected message: %s", err.message);
    assert_int_equal(err.code & 0xff, SQLITE_READONLY);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec_script(f->c, "DELETE FROM r; CREATE TABLE r2(y);", &err), DB_ERR);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "CREATE TABLE r3(y)", NULL, 0, NULL, &err), DB_ERR);
    /* The switch cannot be flipped back from inside, nor a file attached. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "PRAGMA query_only = OFF", NULL, 0, NULL, &err), DB_ERR);
    if (!strstr(err.message, "not authorized"))
        fail_msg("unexpected message: %s", err.message);
    assert_int_equal(D->exec(f->c, "PRAGMA query_only(0)", NULL, 0, NULL, &err), DB_ERR);
    assert_int_equal(D->exec(f->c, "ATTACH ':memory:' AS other", NULL, 0, NULL, &err), DB_ERR);
    assert_int_equal(D->exec(f->c, "INSERT INTO r VALUES (3)", NULL, 0, NULL, &err), DB_ERR);
    /* Reads still work, pragmas that read included. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM pragma_table_info('r')"), 1);
    assert_int_equal(D->exec(f->c, "PRAGMA table_info(r)", NULL, 0, NULL, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sqlite_schema"), 1);

    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (2)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 2);
}

/* ---- quote_ident --------------------------------------------------------- */

static void check_quote(db_conn *c, const char *in, const char *expect)
{
    db_error err = {0};
    char *q = D->quote_ident(c, in, &err);
    assert_non_null(q);
    assert_string_equal(q, expect);
    free(q);
}

static void test_quote_ident(void **state)
{
    fixture *f = *state;
    check_quote(f->c, "a\"b", "\"a\"\"b\"");
    check_quote(f->c, "plain", "\"plain\"");
    check_quote(f->c, "\"", "\"\"\"\"");
    check_quote(f->c, "sp ace;--", "\"sp ace;--\"");

    /* The quoted name is usable and names exactly that table. */
    db_error err = {0};
    char *q = D->quote_ident(f->c, "we\"ird tbl", &err);
    assert_non_null(q);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s(x)", q);
    xexec(f->c, sql);
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (7)", q);
    xexec(f->c, sql);
    snprintf(sql, sizeof sql, "SELECT x FROM %s", q);
    assert_int_equal(scalar(f->c, sql), 7);
    free(q);

    db_cursor *cur = NULL;
    assert_int_equal(D->catalog(f->c, DB_CATALOG_TABLES, NULL, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    db_value v;
    D->value(cur, 0, &v);
    assert_text(&v, DBV_TEXT, "we\"ird tbl", strlen("we\"ird tbl"));
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);
}

/* ---- catalog ------------------------------------------------------------- */

typedef struct {
    const char *s; /* NULL: expect SQL NULL */
    int64_t i;
    int is_int;
} cell;

#define S(x) {(x), 0, 0}
#define I(x) {NULL, (x), 1}
#define N {NULL, 0, 0}

static void check_catalog(db_conn *c, db_catalog_kind kind, const char *table,
                          const char *const *cols, int ncols, const cell *rows, int nrows)
{
    db_cursor *cur = NULL;
    db_error err = {0};
    if (D->catalog(c, kind, table, &cur, &err) != DB_OK)
        fail_msg("catalog(%d, %s): %s", (int)kind, table ? table : "-", err.message);
    assert_int_equal(D->ncols(cur), ncols);
    for (int i = 0; i < ncols; i++)
        assert_string_equal(D->colname(cur, i), cols[i]);
    int r = 0, rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        assert_true(r < nrows);
        for (int i = 0; i < ncols; i++) {
            const cell *want = &rows[r * ncols + i];
            db_value v;
            D->value(cur, i, &v);
            if (want->is_int) {
                assert_int_equal(v.type, DBV_INT);
                assert_int_equal(v.i, want->i);
            } else if (want->s) {
                if (v.type != DBV_TEXT || v.len != strlen(want->s) ||
                    memcmp(v.s, want->s, v.len) != 0)
                    fail_msg("catalog row %d col %s: expected '%s', got type %d '%.*s'", r,
                             cols[i], want->s, v.type, (int)v.len, v.s ? v.s : "");
            } else {
                assert_int_equal(v.type, DBV_NULL);
            }
        }
        r++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(r, nrows);
}

static void test_catalog(void **state)
{
    fixture *f = *state;
    xscript(f->c,
            "CREATE TABLE users(\n"
            "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n" /* creates sqlite_sequence */
            "  name TEXT NOT NULL DEFAULT 'anon',\n"
            "  email TEXT UNIQUE,\n"
            "  age INT);\n"
            "CREATE INDEX idx_users_name_age ON users(name, age);\n"
            "CREATE UNIQUE INDEX ux_users_email_name ON users(email, name);\n"
            "CREATE TABLE alerts(rule_id BIGINT NOT NULL, note VARCHAR(64) DEFAULT NULL,\n"
            "                    PRIMARY KEY (rule_id, note));\n"
            "INSERT INTO users(name) VALUES ('x');\n");

    static const char *const tcols[] = {"name"};
    static const cell tables[] = {S("alerts"), S("users")}; /* no sqlite_* tables */
    check_catalog(f->c, DB_CATALOG_TABLES, NULL, tcols, 1, tables, 2);

    static const char *const ccols[] = {"name", "type", "notnull", "dflt", "pk"};
    static const cell users_cols[] = {
        S("id"),    S("INTEGER"), I(0), N,         I(1),
        S("name"),  S("TEXT"),    I(1), S("'anon'"), I(0),
        S("email"), S("TEXT"),    I(0), N,         I(0),
        S("age"),   S("INT"),     I(0), N,         I(0),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "users", ccols, 5, users_cols, 4);
    static const cell alerts_cols[] = {
        S("rule_id"), S("BIGINT"),      I(1), N,         I(1),
        S("note"),    S("VARCHAR(64)"), I(0), S("NULL"), I(2),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "alerts", ccols, 5, alerts_cols, 2);
    check_catalog(f->c, DB_CATALOG_COLUMNS, "no_such_table", ccols, 5, NULL, 0);

    static const char *const icols[] = {"name", "unique", "columns"};
    static const cell users_idx[] = {
        S("idx_users_name_age"),       I(0), S("name,age"),
        S("sqlite_autoindex_users_1"), I(1), S("email"),
        S("ux_users_email_name"),      I(1), S("email,name"),
    };
    check_catalog(f->c, DB_CATALOG_INDEXES, "users", icols, 3, users_idx, 3);
    /* The primary key's own index is not listed. */
    check_catalog(f->c, DB_CATALOG_INDEXES, "alerts", icols, 3, NULL, 0);
}

/* ---- engine errors -------------------------------------------------------- */

static void test_engine_errors(void **state)
{
    fixture *f = *state;
    db_error err;

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, &err), DB_ERR);
    if (!strstr(err.message, "no such table: nope"))
        fail_msg("unexpected message: %s", err.message);
    assert_int_equal(err.code, SQLITE_ERROR);
    assert_string_equal(err.sqlstate, "");

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT x FROM nope", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "no such table: nope"));

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELEC 1", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "syntax error"));

    /* Constraint violation: the extended code survives. */
    xexec(f->c, "CREATE TABLE u(x UNIQUE)");
    xexec(f->c, "INSERT INTO u VALUES (1)");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO u VALUES (1)", NULL, 0, NULL, &err), DB_ERR);
    assert_int_equal(err.code, SQLITE_CONSTRAINT_UNIQUE);
    assert_non_null(strstr(err.message, "UNIQUE constraint failed: u.x"));

    /* A failure while stepping a cursor surfaces from next(). */
    assert_int_equal(D->query(f->c, "SELECT abs(-9223372036854775807 - 1)", NULL, 0, &cur, &err),
                     DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->next(cur, &err), DB_ERR);
    assert_non_null(strstr(err.message, "integer overflow"));
    D->cursor_close(cur);

    /* A NULL error pointer is allowed. */
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, NULL), DB_ERR);

    /* The connection is still fine afterwards. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM u"), 1);
}

/* The online backup: a copy of the committed state (even while this
 * connection holds the run's write transaction), made 0600 and never
 * over an existing file; and back into the live connection, which must be
 * outside a transaction.  Under valgrind: every handle released. */
static void test_online_backup(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    char copy[600];
    snprintf(copy, sizeof copy, "%s.copy", f->path);
    unlink(copy);
    xscript(f->c, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)");
    assert_int_equal(D->lock(f->c, "k", 1, &err), DB_OK); /* the lock: BEGIN IMMEDIATE */
    xexec(f->c, "INSERT INTO t VALUES (3)");                /* not committed: not in the copy */
    assert_int_equal(D->backup_to(f->c, copy, 1, &err), DB_OK);
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    struct stat st;
    assert_int_equal(stat(copy, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(D->backup_to(f->c, copy, 1, &err), DB_ERR); /* exists */
    assert_non_null(strstr(err.message, "File exists"));

    xscript(f->c, "DROP TABLE t; CREATE TABLE later (y INTEGER)");
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->restore_from(f->c, copy, 1, &err), DB_ERR);
    assert_non_null(strstr(err.message, "outside a transaction"));
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_int_equal(D->restore_from(f->c, copy, 1, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 2);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sqlite_schema WHERE name = 'later'"), 0);

    /* another connection holding the write lock: the restore gives up */
    f->c2 = connect_path(f->path);
    assert_int_equal(D->lock(f->c2, "k", 1, &err), DB_OK);
    double t0 = now();
    assert_int_equal(D->restore_from(f->c, copy, 0.3, &err), DB_ERR);
    assert_true(now() - t0 >= 0.25);
    assert_int_equal(err.code & 0xff, SQLITE_BUSY);
    assert_int_equal(D->rollback(f->c2, &err), DB_OK);

    assert_int_equal(D->restore_from(f->c, "/n9e/no/such/file", 1, &err), DB_ERR);
    unlink(copy);
}

/* libpq and libmicrohttpd are opened on first use, not at start: a SQLite
 * connection leaves them unloaded; and a library that cannot be opened,
 * or lacks a function, says which and what package has it. */
static void test_client_libraries_on_first_use(void **state)
{
    fixture *f = *state;
    assert_int_equal(scalar(f->c, "SELECT 1"), 1);
    assert_null(dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD));
    assert_null(dlopen("libmicrohttpd.so.12", RTLD_LAZY | RTLD_NOLOAD));

    lazy_lib missing = {.soname = "libn9e-no-such-library.so.0", .package = "n9e-nothing"};
    assert_null(lazy_open(&missing));
    assert_non_null(strstr(missing.why, "cannot load libn9e-no-such-library.so.0 (Debian package n9e-nothing)"));
    lazy_lib libm = {.soname = "libm.so.6", .package = "libc6"};
    void *h = lazy_open(&libm);
    assert_non_null(h);
    assert_non_null(lazy_sym(&libm, h, "cos"));
    assert_null(lazy_sym(&libm, h, "n9e_no_such_function"));
    assert_string_equal(libm.why, "libm.so.6 has no n9e_no_such_function (too old?)");
    dlclose(h);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_connect_file_and_memory),
        T(test_connect_error),
        T(test_bind_and_read_every_type),
        T(test_affected_rows),
        T(test_placeholder_count_mismatch),
        T(test_exec_refuses_two_statements),
        T(test_exec_script),
        T(test_streaming_cursor_with_writes),
        T(test_cursor_close_early),
        T(test_transactions_and_savepoints),
        T(test_lock),
        T(test_read_only),
        T(test_quote_ident),
        T(test_catalog),
        T(test_engine_errors),
        T(test_online_backup),
        T(test_client_libraries_on_first_use),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
