/*
 * test_driver_pg.c -- the PostgreSQL engine through the db_driver vtable
 * only (no Lua): connecting (parameters, errors that never show the
 * password), '?' rewriting, binding and reading every value type,
 * statement checks, scripts, streaming cursors with writes in between and
 * flat client memory, transactions and savepoints, the advisory lock,
 * read-only mode, identifier quoting, catalog listings and engine errors.
 *
 * Needs a server: N9E_TEST_PG_DSN (postgres://user@host:port/db, no
 * password) and N9E_TEST_PASSWORD, as printed by `tools/servers.sh start`.
 * Without them the test fails rather than skips.  Every test works in a
 * schema of its own (n9e_pgtest_<pid>, put first on search_path through
 * the `options` connection parameter), recreated before each test and
 * dropped at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "dsn.h"

static const db_driver *D = &driver_pg;

static char g_schema[64];
static char g_search_path[128]; /* the URL parameter that selects g_schema */

typedef struct {
    db_conn *c;  /* main connection, search_path = g_schema */
    db_conn *c2; /* optional second connection */
} fixture;

/* ---- helpers ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Percent-encode s for the userinfo part of a URL. */
static void url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    for (; *s && w + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[w++] = (char)ch;
        } else {
            out[w++] = '%';
            out[w++] = hex[ch >> 4];
            out[w++] = hex[ch & 15];
        }
    }
    out[w] = '\0';
}

/* The test DSN with `password` spliced into its userinfo and `params`
 * (may be NULL) appended to its query string. */
static void build_dsn(char *out, size_t cap, const char *password, const char *params)
{
    const char *base = getenv("N9E_TEST_PG_DSN");
    const char *scheme = base ? strstr(base, "://") : NULL;
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    if (!at)
        fail_msg("N9E_TEST_PG_DSN must look like postgres://user@host:port/db");
    char pw[256];
    url_encode(password, pw, sizeof pw);
    int n = snprintf(out, cap, "%.*s:%s%s", (int)(at - base), base, pw, at);
    if (params && *params)
        snprintf(out + n, cap - (size_t)n, "%s%s", strchr(base, '?') ? "&" : "?", params);
}

static const char *password(void) { return getenv("N9E_TEST_PASSWORD"); }

/* Connect to the test server with the given password and URL parameters. */
static int try_connect(const char *pw, const char *params, int read_only, db_conn **out,
                       db_error *err)
{
    char text[1024], msg[256];
    db_target t;
    build_dsn(text, sizeof text, pw, params);
    if (dsn_parse(text, &t, msg, sizeof msg) != 0)
        fail_msg("dsn_parse: %s", msg);
    assert_string_equal(t.engine, "postgres");
    t.read_only = read_only;
    *out = NULL;
    int rc = D->connect(&t, out, err);
    dsn_free(&t);
    return rc;
}

/* A connection working in the test schema. */
static db_conn *connect_test(const char *more_params, int read_only)
{
    char params[512];
    snprintf(params, sizeof params, "sslmode=disable&connect_timeout=5&%s%s%s", g_search_path,
             more_params ? "&" : "", more_params ? more_params : "");
    db_conn *c = NULL;
    db_error err = {0};
    if (try_connect(password(), params, read_only, &c, &err) != DB_OK)
        fail_msg("connect: %s", err.message);
    assert_non_null(c);
    return c;
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

/* The single value of a one-row query. */
static void one_value(db_conn *c, const char *sql, const db_value *p, int n, db_value *out,
                      char *textbuf, size_t textcap)
{
    db_cursor *cur = NULL;
    db_error err = {0};
    if (D->query(c, sql, p, n, &cur, &err) != DB_OK)
        fail_msg("query(%s): %s", sql, err.message);
    if (D->next(cur, &err) != DB_OK) {
        D->cursor_close(cur);
        fail_msg("query(%s) returned no row: %s", sql, err.message);
    }
    D->value(cur, 0, out);
    if (textbuf && (out->type == DBV_TEXT || out->type == DBV_BLOB))
        snprintf(textbuf, textcap, "%.*s", (int)out->len, out->s);
    int rc = D->next(cur, &err);
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
}

static int64_t scalar(db_conn *c, const char *sql)
{
    db_value v;
    one_value(c, sql, NULL, 0, &v, NULL, 0);
    if (v.type != DBV_INT)
        fail_msg("%s: expected an integer, got type %d", sql, v.type);
    return v.i;
}

/* The text of a one-row, one-column query (into a static buffer). */
static const char *scalar_text(db_conn *c, const char *sql)
{
    static char buf[512];
    db_value v;
    one_value(c, sql, NULL, 0, &v, buf, sizeof buf);
    if (v.type != DBV_TEXT)
        fail_msg("%s: expected text, got type %d", sql, v.type);
    return buf;
}

/* Server cursors left open, apart from the one this count runs in. */
static int64_t open_cursors(db_conn *c)
{
    return scalar(c, "SELECT count(*) FROM pg_cursors WHERE statement NOT LIKE '%pg_cursors%'");
}

static db_value v_null(void) { return (db_value){.type = DBV_NULL}; }
static db_value v_int(int64_t i) { return (db_value){.type = DBV_INT, .i = i}; }
static db_value v_float(double d) { return (db_value){.type = DBV_FLOAT, .f = d}; }
static db_value v_bool(int b) { return (db_value){.type = DBV_BOOL, .i = b}; }
static db_value v_text(const char *s) { return (db_value){.type = DBV_TEXT, .s = s, .len = strlen(s)}; }
static db_value v_textn(const char *s, size_t n)
{
    return (db_value){.type = DBV_TEXT, .s = s, .len = n};
}
static db_value v_blob(const void *s, size_t n)
{
    return (db_value){.type = DBV_BLOB, .s = s, .len = n};
}

static void assert_bytes(const db_value *v, db_value_type type, const char *s, size_t n)
{
    if (v->type != type || v->len != n || (n && memcmp(v->s, s, n) != 0))
        fail_msg("expected type %d '%.*s' (%zu bytes), got type %d '%.*s' (%zu bytes)", type,
                 (int)n, s, n, v->type, (int)v->len, v->s ? v->s : "", v->len);
}

static void assert_str(const db_value *v, const char *s) { assert_bytes(v, DBV_TEXT, s, strlen(s)); }

/* Run sql expecting failure with the given SQLSTATE. */
static void expect_fail(db_conn *c, const char *sql, const char *state)
{
    db_error err = {0};
    assert_int_equal(D->exec(c, sql, NULL, 0, NULL, &err), DB_ERR);
    if (strcmp(err.sqlstate, state) != 0)
        fail_msg("%s: expected SQLSTATE %s, got '%s': %s", sql, state, err.sqlstate, err.message);
}

/* ---- fixtures ------------------------------------------------------------ */

/* Connection outside the test schema, for creating and dropping it. */
static db_conn *admin_conn(void)
{
    db_conn *c = NULL;
    db_error err = {0};
    if (try_connect(password(), "sslmode=disable", 0, &c, &err) != DB_OK) {
        fprintf(stderr, "cannot connect to the test server: %s\n", err.message);
        return NULL;
    }
    return c;
}

static int reset_schema(int create)
{
    db_conn *a = admin_conn();
    if (!a)
        return -1;
    char sql[256];
    db_error err = {0};
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
    int rc = D->exec(a, sql, NULL, 0, NULL, &err);
    if (rc == DB_OK && create) {
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", g_schema);
        rc = D->exec(a, sql, NULL, 0, NULL, &err);
    }
    if (rc != DB_OK)
        fprintf(stderr, "%s: %s\n", sql, err.message);
    D->close(a);
    return rc == DB_OK ? 0 : -1;
}

static int setup(void **state)
{
    if (reset_schema(1) != 0)
        return -1;
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    f->c = connect_test(NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    D->close(f->c2);
    D->close(f->c);
    free(f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return reset_schema(0);
}

/* ---- connect ------------------------------------------------------------- */

static void test_connect_and_parameters(void **state)
{
    fixture *f = *state;
    assert_string_equal(D->dialect, "postgres");
    assert_ptr_equal(driver_for("postgres"), &driver_pg);

    const char *ver = D->server_version(f->c);
    assert_non_null(ver);
    assert_true(ver[0] >= '1' && ver[0] <= '9');
    assert_string_equal(ver, scalar_text(f->c, "SHOW server_version"));

    /* Defaults, and the URL parameters (percent-decoded) reach libpq. */
    assert_string_equal(scalar_text(f->c, "SELECT current_setting('application_name')"),
                        "n9e-lua-migrate");
    assert_string_equal(scalar_text(f->c, "SHOW client_encoding"), "UTF8");
    assert_string_equal(scalar_text(f->c, "SELECT current_schema()"), g_schema);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM pg_stat_ssl "
                                  "WHERE pid = pg_backend_pid() AND NOT ssl"),
                     1);
    f->c2 = connect_test("application_name=custom%20name", 0);
    assert_string_equal(scalar_text(f->c2, "SELECT current_setting('application_name')"),
                        "custom name");

    D->close(NULL); /* closing nothing is harmless */
}

static void expect_connect_error(const char *pw, const char *params, const char *want)
{
    db_conn *c = NULL;
    db_error err = {0};
    assert_int_equal(try_connect(pw, params, 0, &c, &err), DB_ERR);
    assert_null(c);
    if (!strstr(err.message, want))
        fail_msg("expected '%s' in: %s", want, err.message);
    if (strcmp(err.sqlstate, "08001") != 0 && strcmp(err.sqlstate, "") != 0)
        fail_msg("unexpected SQLSTATE %s", err.sqlstate);
    if (strstr(err.message, password()) || strstr(err.message, pw))
        fail_msg("the password leaked into: %s", err.message);
}

static void test_connect_errors(void **state)
{
    (void)state;
    char wrong[256];
    snprintf(wrong, sizeof wrong, "%s-wrong", password());
    expect_connect_error(wrong, "sslmode=disable", "password authentication failed");

    /* Nothing listens on port 1; the (right) password is not echoed. */
    char text[1024], msg[256];
    db_target t;
    build_dsn(text, sizeof text, password(), "sslmode=disable&connect_timeout=5");
    assert_int_equal(dsn_parse(text, &t, msg, sizeof msg), 0);
    t.port = 1;
    db_conn *c = NULL;
    db_error err = {0};
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    assert_null(c);
    assert_non_null(strstr(err.message, "port 1"));
    assert_string_equal(err.sqlstate, "08001");
    if (strstr(err.message, password()))
        fail_msg("the password leaked into: %s", err.message);

    dsn_free(&t);

    /* Even where libpq echoes text that contains the password (here the
     * user name), it is masked. */
    build_dsn(text, sizeof text, password(), "sslmode=disable");
    assert_int_equal(dsn_parse(text, &t, msg, sizeof msg), 0);
    free(t.user);
    t.user = strdup(password());
    memset(&err, 0, sizeof err);
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    if (strstr(err.message, password()) || !strstr(err.message, "***"))
        fail_msg("the password is not masked in: %s", err.message);

    expect_connect_error(password(), "no_such_option=1", "invalid connection option");
    expect_connect_error(password(), "sslmode", "key=value");
    expect_connect_error(password(), "application_name=%zz", "percent-escape");
}

static void test_connect_read_only(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE ro(x int)");
    db_conn *r = connect_test(NULL, 1);
    expect_fail(r, "INSERT INTO ro VALUES (1)", "25006");
    expect_fail(r, "CREATE TABLE ro2(x int)", "25006");
    assert_int_equal(scalar(r, "SELECT count(*) FROM ro"), 0);
    /* A handle opened read-only stays so. */
    db_error err = {0};
    assert_int_equal(D->set_read_only(r, 1, &err), DB_OK);
    assert_int_equal(D->set_read_only(r, 0, &err), DB_OK);
    assert_int_equal(D->set_read_only(r, 0, &err), DB_OK);
    expect_fail(r, "INSERT INTO ro VALUES (1)", "25006");
    D->close(r);
}

/* ---- values ------------------------------------------------------------- */

static const unsigned char BLOB_BYTES[] = {0x00, 0xff, 0x10, 0x00, 0x80, '\\', 'x'};

static void test_bind_and_read_every_type(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE v(k int PRIMARY KEY, i8 bigint, f8 double precision, "
                "b boolean, t text, by bytea)");
    static const double floats[] = {0.1, -1e300, 3.25, 5e-324, DBL_MAX, -0.0};
    const int nf = (int)(sizeof floats / sizeof floats[0]);
    for (int k = 0; k < nf; k++) {
        db_value p[2] = {v_int(k), v_float(floats[k])};
        db_error err = {0};
        int64_t affected = -1;
        if (D->exec(f->c, "INSERT INTO v(k, f8) VALUES (?, ?)", p, 2, &affected, &err) != DB_OK)
            fail_msg("insert float %d: %s", k, err.message);
        assert_int_equal(affected, 1);
    }
    db_error err = {0};
    db_value row[] = {v_int(100), v_int(INT64_MIN), v_bool(1), v_text("h\xc3\xa9llo"),
                      v_blob(BLOB_BYTES, sizeof BLOB_BYTES)};
    assert_int_equal(D->exec(f->c, "INSERT INTO v(k, i8, b, t, by) VALUES (?, ?, ?, ?, ?)", row,
                             5, NULL, &err),
                     DB_OK);
    db_value row2[] = {v_int(101), v_int(INT64_MAX), v_bool(0), v_text(""), v_blob(NULL, 0)};
    assert_int_equal(D->exec(f->c, "INSERT INTO v(k, i8, b, t, by) VALUES (?, ?, ?, ?, ?)", row2,
                             5, NULL, &err),
                     DB_OK);
    db_value row3[] = {v_int(102), v_null(), v_null(), v_null(), v_null()};
    assert_int_equal(D->exec(f->c, "INSERT INTO v(k, i8, b, t, by) VALUES (?, ?, ?, ?, ?)", row3,
                             5, NULL, &err),
                     DB_OK);

    /* floats come back bit-exact */
    db_cursor *cur = NULL;
    assert_int_equal(D->query(f->c, "SELECT f8 FROM v WHERE k < 100 ORDER BY k", NULL, 0, &cur,
                              &err),
                     DB_OK);
    for (int k = 0; k < nf; k++) {
        assert_int_equal(D->next(cur, &err), DB_OK);
        db_value x;
        D->value(cur, 0, &x);
        assert_int_equal(x.type, DBV_FLOAT);
        if (memcmp(&x.f, &floats[k], sizeof x.f) != 0)
            fail_msg("float %d: sent %.17g, got %.17g", k, floats[k], x.f);
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    assert_int_equal(D->query(f->c, "SELECT i8, b, t, by FROM v WHERE k >= 100 ORDER BY k", NULL,
                              0, &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 4);
    assert_string_equal(D->colname(cur, 3), "by");
    db_value x;
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->value(cur, 0, &x);
    assert_int_equal(x.type, DBV_INT);
    assert_true(x.i == INT64_MIN);
    D->value(cur, 1, &x);
    assert_int_equal(x.type, DBV_BOOL);
    assert_int_equal(x.i, 1);
    D->value(cur, 2, &x);
    assert_str(&x, "h\xc3\xa9llo");
    D->value(cur, 3, &x);
    assert_bytes(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES);
    /* the decoded bytes stay put until the next next() */
    db_value again;
    D->value(cur, 3, &again);
    assert_ptr_equal(again.s, x.s);
    assert_bytes(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->value(cur, 0, &x);
    assert_true(x.i == INT64_MAX);
    D->value(cur, 1, &x);
    assert_int_equal(x.type, DBV_BOOL);
    assert_int_equal(x.i, 0);
    D->value(cur, 2, &x);
    assert_str(&x, "");
    D->value(cur, 3, &x);
    assert_bytes(&x, DBV_BLOB, "", 0);
    assert_int_equal(D->next(cur, &err), DB_OK);
    for (int i = 0; i < 4; i++) {
        D->value(cur, i, &x);
        assert_int_equal(x.type, DBV_NULL);
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* Bound straight into a SELECT, each value keeps its type. */
    const db_value direct[] = {v_null(), v_int(INT64_MIN), v_float(-2.5), v_text("t\xc3\xa9xt"),
                               v_blob(BLOB_BYTES, sizeof BLOB_BYTES), v_bool(1)};
    assert_int_equal(D->query(f->c, "SELECT ?, ?, ?, ?, ?, ?", direct, 6, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->value(cur, 0, &x);
    assert_int_equal(x.type, DBV_NULL);
    D->value(cur, 1, &x);
    assert_int_equal(x.type, DBV_INT);
    assert_true(x.i == INT64_MIN);
    D->value(cur, 2, &x);
    assert_int_equal(x.type, DBV_FLOAT);
    assert_true(x.f == -2.5);
    D->value(cur, 3, &x);
    assert_str(&x, "t\xc3\xa9xt");
    D->value(cur, 4, &x);
    assert_bytes(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES);
    D->value(cur, 5, &x);
    assert_int_equal(x.type, DBV_BOOL);
    assert_int_equal(x.i, 1);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* Result types by OID: small ints, oid, float4, numeric, specials. */
    assert_int_equal(D->query(f->c,
                              "SELECT 7::int2, 8::int4, 9::oid, 1.5::float4, "
                              "123.4500::numeric(10,4), 'Infinity'::float8, 'NaN'::float8, "
                              "'2024-01-02'::date, '{\"a\": 1}'::jsonb",
                              NULL, 0, &cur, &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    static const int64_t ints[] = {7, 8, 9};
    for (int i = 0; i < 3; i++) {
        D->value(cur, i, &x);
        assert_int_equal(x.type, DBV_INT);
        assert_int_equal(x.i, ints[i]);
    }
    D->value(cur, 3, &x);
    assert_int_equal(x.type, DBV_FLOAT);
    assert_true(x.f == 1.5);
    D->value(cur, 4, &x);
    assert_str(&x, "123.4500"); /* numeric stays exact text */
    D->value(cur, 5, &x);
    assert_int_equal(x.type, DBV_FLOAT);
    assert_true(x.f > DBL_MAX);
    D->value(cur, 6, &x);
    assert_int_equal(x.type, DBV_FLOAT);
    assert_true(x.f != x.f);
    D->value(cur, 7, &x);
    assert_str(&x, "2024-01-02");
    D->value(cur, 8, &x);
    assert_str(&x, "{\"a\": 1}");
    D->value(cur, 99, &x); /* out of range reads as NULL */
    assert_int_equal(x.type, DBV_NULL);
    assert_null(D->colname(cur, 99));
    D->cursor_close(cur);

    /* Special floats as parameters. */
    db_value inf = v_float(-HUGE_VAL);
    one_value(f->c, "SELECT ?::float8 < -1e308", &inf, 1, &x, NULL, 0);
    assert_int_equal(x.type, DBV_BOOL);
    assert_int_equal(x.i, 1);

    /* Bound text is compared as a value, never spliced into SQL. */
    db_value evil = v_text("x'); DROP TABLE v; --");
    one_value(f->c, "SELECT count(*) FROM v WHERE t = ?", &evil, 1, &x, NULL, 0);
    assert_int_equal(x.i, 0);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM v"), nf + 3);

    /* Text PostgreSQL cannot hold is refused: NUL (here), bad UTF-8 (server). */
    static const char nul[] = {'a', '\0', 'b'};
    db_value bad = v_textn(nul, sizeof nul);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO v(k, t) VALUES (200, ?)", &bad, 1, NULL, &err),
                     DB_ERR);
    assert_non_null(strstr(err.message, "NUL"));
    assert_string_equal(err.sqlstate, "22021");
    bad = v_text("\xff\xfe");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO v(k, t) VALUES (200, ?)", &bad, 1, NULL, &err),
                     DB_ERR);
    assert_string_equal(err.sqlstate, "22021");
}

static void test_affected_rows(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE a(x int); INSERT INTO a VALUES (1),(2),(3),(4),(5);");
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
    affected = -1;
    assert_int_equal(D->exec(f->c, "CREATE INDEX a_x ON a(x)", NULL, 0, &affected, &err), DB_OK);
    assert_int_equal(affected, 0); /* no count for DDL */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM a"), 2);
}

/* ---- statement reuse and exec in two halves ----------------------------- */

static int64_t prepared_statements(db_conn *c)
{
    return scalar(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'n9e_stmt_%'");
}

/* A write seen twice is prepared once and then reused: values, types,
 * errors and a changed table all behave as without reuse. */
static void test_statement_reuse(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE r(id int PRIMARY KEY, v text)");
    const char *ins = "INSERT INTO r (id, v) VALUES (?, ?)";
    db_error err = {0};
    int64_t affected = 0;
    for (int i = 1; i <= 5; i++) {
        char txt[16];
        snprintf(txt, sizeof txt, "v%d", i);
        db_value p[2] = {v_int(i), i == 4 ? v_null() : v_text(txt)};
        assert_int_equal(D->exec(f->c, ins, p, 2, &affected, &err), DB_OK);
        assert_int_equal(affected, 1);
    }
    /* prepared at the second execution; a NULL binds untyped, as text does */
    assert_int_equal(prepared_statements(f->c), 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r WHERE v IS NULL"), 1);
    assert_string_equal(scalar_text(f->c, "SELECT string_agg(v, ',' ORDER BY id) FROM r"),
                        "v1,v2,v3,v5");
    /* a failing execution of the prepared statement reports the server's error */
    db_value dup[2] = {v_int(2), v_text("again")};
    assert_int_equal(D->exec(f->c, ins, dup, 2, NULL, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "23505");
    /* the table changes under the prepared statement: the server replans */
    xexec(f->c, "ALTER TABLE r ADD COLUMN w int DEFAULT 7");
    db_value p6[2] = {v_int(6), v_text("v6")};
    assert_int_equal(D->exec(f->c, ins, p6, 2, &affected, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT w FROM r WHERE id = 6"), 7);
    /* reads and statements returning rows are never prepared */
    const char *ret = "UPDATE r SET w = ? WHERE id = 1 RETURNING w";
    for (int i = 0; i < 3; i++) {
        db_value p = v_int(i);
        assert_int_equal(D->exec(f->c, ret, &p, 1, NULL, &err), DB_OK);
    }
    assert_int_equal(prepared_statements(f->c), 1);
    /* a script's DEALLOCATE ALL: the next execution prepares again */
    xexec(f->c, "DEALLOCATE ALL");
    db_value p7[2] = {v_int(7), v_text("v7")};
    assert_int_equal(D->exec(f->c, ins, p7, 2, &affected, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 7);
}

/* exec_batch: one pipeline, in order; prepares ride along from the second
 * sighting; the first failure is reported with its index and stops the rest;
 * a COMMIT of a failed transaction is a failure, as pg_commit says. */
static void test_exec_batch(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE b(id int PRIMARY KEY, v text)");
    const char *ins = "INSERT INTO b (id, v) VALUES (?, ?)";
    db_error err = {0};
    int failed = 0;
    db_value p1[2] = {v_int(1), v_text("one")}, p2[2] = {v_int(2), v_text("two")};
    db_value p3[2] = {v_int(3), v_text("three")};
    db_stmt ok[] = {{"BEGIN", NULL, 0}, {ins, p1, 2}, {ins, p2, 2}, {ins, p3, 2}, {"COMMIT", NULL, 0}};
    int64_t last = -1;
    assert_int_equal(D->exec_batch(f->c, ok, 5, &failed, &last, &err), DB_OK);
    assert_int_equal(failed, -1);
    assert_int_equal(last, 0); /* COMMIT's count */
    assert_int_equal(D->in_transaction(f->c), 0);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM b"), 3);
    assert_int_equal(prepared_statements(f->c), 1); /* prepared along at its second sighting */
    /* a duplicate key in the middle: reported, the rest skipped */
    db_value p4[2] = {v_int(4), v_text("four")}, dup[2] = {v_int(1), v_text("again")};
    db_stmt bad[] = {{"BEGIN", NULL, 0}, {ins, p4, 2}, {ins, dup, 2}, {"INSERT INTO b VALUES (5, 'x')", NULL, 0},
                     {"COMMIT", NULL, 0}};
    assert_int_equal(D->exec_batch(f->c, bad, 5, &failed, NULL, &err), DB_ERR);
    assert_int_equal(failed, 2);
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(D->in_transaction(f->c), 1); /* the caller rolls back */
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM b"), 3);
    /* a COMMIT that rolls back a failed transaction */
    xexec(f->c, "BEGIN");
    assert_int_equal(D->exec(f->c, "SELECT 1/0", NULL, 0, NULL, &err), DB_ERR);
    db_stmt commit[] = {{"COMMIT", NULL, 0}};
    assert_int_equal(D->exec_batch(f->c, commit, 1, &failed, NULL, &err), DB_ERR);
    assert_int_equal(failed, 0);
    assert_string_equal(err.sqlstate, "25P02");
    assert_int_equal(D->in_transaction(f->c), 0);
    /* a placeholder count that does not match: refused before anything is sent */
    db_stmt wrong[] = {{"INSERT INTO b VALUES (6, 'y')", NULL, 0}, {ins, p4, 1}};
    assert_int_equal(D->exec_batch(f->c, wrong, 2, &failed, NULL, &err), DB_ERR);
    assert_int_equal(failed, 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM b"), 3); /* the first was not sent either */
    /* and the connection is usable afterwards */
    assert_int_equal(D->exec(f->c, ins, p4, 2, NULL, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM b"), 4);
    /* the last statement's count: what an exec sent behind a deferred batch returns */
    db_stmt upd[] = {{"BEGIN", NULL, 0}, {"UPDATE b SET v = v || '+' WHERE id < 4", NULL, 0}};
    assert_int_equal(D->exec_batch(f->c, upd, 2, &failed, &last, &err), DB_OK);
    assert_int_equal(last, 3);
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
}

static void test_exec_send_and_wait(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE s(id int PRIMARY KEY, n int)");
    xexec(f->c, "INSERT INTO s SELECT g, 0 FROM generate_series(1, 100) g");
    db_error err = {0};
    int64_t affected = 0;
    xexec(f->c, "BEGIN");
    for (int round = 1; round <= 3; round++) {
        db_value p = v_int(50);
        assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = n + 1 WHERE id <= ?", &p, 1, &err),
                         DB_OK);
        /* a second goes out behind it (pipelined), a third is refused */
        db_value q = v_int(10);
        assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = n + 1 WHERE id <= ?", &q, 1, &err),
                         DB_OK);
        assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = 0", NULL, 0, &err), DB_ERR);
        assert_string_equal(err.message, "too many statements sent and not waited for");
        /* answered in the order sent */
        assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
        assert_int_equal(affected, 50);
        assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
        assert_int_equal(affected, 10);
    }
    assert_int_equal(scalar(f->c, "SELECT sum(n) FROM s"), 180);
    /* the second is on its way while the first still waits for a lock
     * another session holds: sent, not queued behind the answer */
    xexec(f->c, "COMMIT");
    db_conn *other = connect_test(NULL, 0);
    xexec(other, "BEGIN");
    xexec(other, "UPDATE s SET n = n WHERE id = 1");
    xexec(f->c, "BEGIN");
    db_value one = v_int(1), two = v_int(2);
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = n + 100 WHERE id = ?", &one, 1, &err), DB_OK);
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = n + 100 WHERE id = ?", &two, 1, &err), DB_OK);
    assert_int_equal(scalar(other, "SELECT count(*) FROM pg_catalog.pg_stat_activity "
                                   "WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE s SET n = n + 100%'"), 1);
    xexec(other, "COMMIT");
    D->close(other);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
    assert_int_equal(affected, 1);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
    assert_int_equal(affected, 1);
    assert_int_equal(scalar(f->c, "SELECT sum(n) FROM s"), 380);
    /* a failure does not stop the one behind; in the transaction it
     * failed, that one fails too, and the connection is usable after */
    db_value dup1 = v_int(1);
    assert_int_equal(D->exec_send(f->c, "INSERT INTO s VALUES (?, 0)", &dup1, 1, &err), DB_OK);
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = 0", NULL, 0, &err), DB_OK);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "25P02");
    xexec(f->c, "ROLLBACK");
    xexec(f->c, "BEGIN");
    /* a statement that fails reports at the wait; the transaction is failed */
    db_value dup = v_int(1);
    assert_int_equal(D->exec_send(f->c, "INSERT INTO s VALUES (?, 0)", &dup, 1, &err), DB_OK);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR); /* nothing sent */
    xexec(f->c, "ROLLBACK");
    assert_int_equal(scalar(f->c, "SELECT sum(n) FROM s"), 180);
    /* a wrong statement is refused at the send */
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = ? WHERE id = ?", &dup, 1, &err), DB_ERR);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 100);
}

/* query_send/query_wait: a WITH that writes one batch and reads the next,
 * prepared from its second sighting; failures at the wait, the rows owned
 * by the cursor. */
static void test_query_send_and_wait(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE q(id int PRIMARY KEY, v text)");
    xexec(f->c, "INSERT INTO q SELECT g, 'old' FROM generate_series(1, 10) g");
    const char *sql = "WITH w AS (UPDATE q SET v = ? WHERE id = ?) SELECT id, v FROM q WHERE id > ? ORDER BY id";
    db_error err = {0};
    xexec(f->c, "BEGIN");
    for (int round = 1; round <= 3; round++) {
        db_value p[3] = {v_text("new"), v_int(round), v_int(8)};
        assert_int_equal(D->query_send(f->c, sql, p, 3, &err), DB_OK);
        assert_int_equal(D->query_send(f->c, sql, p, 3, &err), DB_ERR); /* one at a time */
        db_cursor *cur = NULL;
        assert_int_equal(D->query_wait(f->c, &cur, &err), DB_OK);
        assert_non_null(cur);
        assert_int_equal(D->ncols(cur), 2);
        assert_string_equal(D->colname(cur, 1), "v");
        int rows = 0;
        while (D->next(cur, &err) == DB_OK) {
            db_value v;
            D->value(cur, 1, &v);
            assert_memory_equal(v.s, "old", 3); /* the snapshot before the write */
            rows++;
        }
        assert_int_equal(rows, 2);
        D->cursor_close(cur);
    }
    assert_int_equal(prepared_statements(f->c), 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM q WHERE v = 'new'"), 3);
    /* a statement without rows, and one that fails: reported at the wait */
    db_cursor *cur = NULL;
    db_value one = v_int(1);
    assert_int_equal(D->query_send(f->c, "UPDATE q SET v = 'x' WHERE id = ?", &one, 1, &err), DB_OK);
    assert_int_equal(D->query_wait(f->c, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_int_equal(D->query_send(f->c, "SELECT 1 / (id - ?) FROM q", &one, 1, &err), DB_OK);
    assert_int_equal(D->query_wait(f->c, &cur, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "22012");
    assert_null(cur);
    assert_int_equal(D->query_wait(f->c, &cur, &err), DB_ERR); /* nothing sent */
    xexec(f->c, "ROLLBACK");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM q WHERE v = 'new'"), 0);
}

/* ---- placeholders ------------------------------------------------------- */

static void test_placeholder_rewriting(void **state)
{
    fixture *f = *state;
    /* Every '?' but the one before "AS p" is text, not a placeholder. */
    static const char sql[] =
        "SELECT '?' AS a, 'it''s ?' AS b, E'\\'?' AS c, e'?\\\\' AS c2, $$?$$ AS d,\n"
        "       $t$ ? $x$ ? $t$ AS e, \"?\".q AS f, 'a\\' AS g, U&'?' AS h,\n"
        "       -- a comment? yes ?\n"
        "       /* block ? /* nested ? */ still ? */\n"
        "       ? AS p, 1 AS x$y$, $q$'?$q$ AS i\n"
        "FROM (SELECT 1 AS q) AS \"?\"";
    static const char *const names[] = {"a", "b", "c", "c2", "d", "e", "f", "g",
                                        "h", "p", "x$y$", "i"};
    static const char *const texts[] = {"?", "it's ?", "'?", "?\\", "?", " ? $x$ ? ", NULL,
                                        "a\\", "?", NULL, NULL, "'?"};
    db_value one = v_int(42);
    db_cursor *cur = NULL;
    db_error err = {0};
    if (D->query(f->c, sql, &one, 1, &cur, &err) != DB_OK)
        fail_msg("query: %s", err.message);
    assert_int_equal(D->ncols(cur), 12);
    assert_int_equal(D->next(cur, &err), DB_OK);
    for (int i = 0; i < 12; i++) {
        assert_string_equal(D->colname(cur, i), names[i]);
        db_value x;
        D->value(cur, i, &x);
        if (texts[i]) {
            assert_str(&x, texts[i]);
        } else {
            assert_int_equal(x.type, DBV_INT);
            assert_int_equal(x.i, i == 9 ? 42 : 1);
        }
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* exec rewrites the same way */
    xexec(f->c, "CREATE TABLE ph(a text, b int)");
    db_value two[2] = {v_text("x"), v_int(5)};
    assert_int_equal(D->exec(f->c, "INSERT INTO ph(a, b) /* ? */ VALUES (? || '?', ?)", two, 2,
                             NULL, &err),
                     DB_OK);
    assert_string_equal(scalar_text(f->c, "SELECT a FROM ph"), "x?");
}

static void test_placeholder_count_mismatch(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE p(a int, b int)");
    db_error err = {0};
    db_value one = v_int(1);
    assert_int_equal(D->exec(f->c, "INSERT INTO p VALUES (?, ?)", &one, 1, NULL, &err), DB_ERR);
    if (!strstr(err.message, "2 placeholder") || !strstr(err.message, "1 value"))
        fail_msg("message does not name the counts: %s", err.message);

    db_value three[3] = {v_int(1), v_int(2), v_int(3)};
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO p VALUES (?, ?)", three, 3, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "3 value"));

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT ? + ? + ?", three, 2, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "3 placeholder"));

    /* a '?' in a string is no placeholder */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT '?'", &one, 1, &cur, &err), DB_ERR);
    assert_non_null(strstr(err.message, "0 placeholder"));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM p"), 0);
}

/* ---- statement checks --------------------------------------------------- */

static void test_exec_refuses_two_statements(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    assert_int_equal(D->exec(f->c, "CREATE TABLE a(x int); CREATE TABLE b(y int)", NULL, 0, NULL,
                             &err),
                     DB_ERR);
    if (!strstr(err.message, "exec_script"))
        fail_msg("message does not point at exec_script: %s", err.message);
    assert_string_equal(err.sqlstate, "42601");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                  "current_schema()"),
                     0);

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT 1; SELECT 2", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "exec_script"));
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SHOW server_version; SHOW port", NULL, 0, &cur, &err),
                     DB_ERR);
    assert_non_null(strstr(err.message, "exec_script"));

    /* Trailing separators and blanks are not a second statement. */
    xexec(f->c, "CREATE TABLE c(x int);  \n;\t");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM c"), 0);

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "empty statement"));
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "-- nothing\n", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "empty statement"));
}

static void test_exec_script(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE s(x integer NOT NULL);\n"
                  "INSERT INTO s VALUES (1);\n"
                  "INSERT INTO s VALUES (2);\n"
                  "CREATE INDEX s_x ON s(x);\n"
                  "DO $$ BEGIN INSERT INTO s SELECT x + 10 FROM s; END $$;\n");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 4);
    assert_int_equal(scalar(f->c, "SELECT sum(x) FROM s"), 1 + 2 + 11 + 12);
    xscript(f->c, ""); /* nothing to run is fine for a script */

    /* A failing statement stops the script; outside a transaction block
     * the statements of one script form one implicit transaction. */
    db_error err = {0};
    assert_int_equal(D->exec_script(f->c,
                                    "INSERT INTO s VALUES (100);"
                                    "INSERT INTO missing VALUES (1);"
                                    "INSERT INTO s VALUES (200);",
                                    &err),
                     DB_ERR);
    assert_non_null(strstr(err.message, "relation \"missing\" does not exist"));
    assert_string_equal(err.sqlstate, "42P01");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x >= 100"), 0);

    /* COPY through stdin/stdout is refused and the connection survives. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec_script(f->c, "COPY s FROM STDIN", &err), DB_ERR);
    assert_non_null(strstr(err.message, "COPY"));
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "COPY s TO STDOUT", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "COPY"));
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 4);
}

/* ---- streaming ---------------------------------------------------------- */

/* Heap bytes in use (small blocks plus mmapped ones). */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Stream `rows` rows while inserting each one into sink over the same
 * connection, inside a transaction; returns the peak heap growth seen. */
static size_t stream_with_writes(db_conn *c, int64_t rows)
{
    db_error err = {0};
    xexec(c, "TRUNCATE sink");
    size_t base = heap_in_use(), peak = 0;
    assert_int_equal(D->begin(c, 0, &err), DB_OK);
    db_cursor *cur = NULL;
    db_value limit = v_int(rows);
    assert_int_equal(D->query(c,
                              "SELECT g AS n, repeat('x', 40) AS pad "
                              "FROM generate_series(1, ?) AS g",
                              &limit, 1, &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 2);
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
        db_value p = v_int(v.i * 2);
        if (D->exec(c, "INSERT INTO sink(n) VALUES (?)", &p, 1, NULL, &err) != DB_OK) {
            D->cursor_close(cur);
            fail_msg("insert during iteration at row %lld: %s", (long long)expect, err.message);
        }
        if (expect % 1000 == 0) {
            size_t used = heap_in_use();
            if (used > base && used - base > peak)
                peak = used - base;
        }
        expect++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(expect - 1, rows);
    assert_int_equal(D->commit(c, &err), DB_OK);
    assert_int_equal(scalar(c, "SELECT count(*) FROM sink"), rows);
    assert_int_equal(scalar(c, "SELECT sum(n)::bigint FROM sink"), rows * (rows + 1));
    return peak;
}

static void test_streaming_cursor_with_writes(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE sink(n bigint NOT NULL)");
    size_t small = stream_with_writes(f->c, 20000);
    size_t large = stream_with_writes(f->c, 200000);
    /* Buffering 200000 rows would take well over 10 MB; a streaming
     * cursor's peak does not depend on the row count. */
    if (large > small + 512 * 1024 || large > 4 * 1024 * 1024)
        fail_msg("client heap grew with the row count: peak %zu bytes for 20k rows, "
                 "%zu for 200k", small, large);
    print_message("peak heap growth: %zu bytes (20k rows), %zu bytes (200k rows)\n", small,
                  large);
}

/* Outside a transaction block (WITH HOLD) and across a COMMIT. */
static void test_streaming_without_and_across_transactions(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE sink(n bigint NOT NULL)");
    db_error err = {0};
    db_cursor *cur = NULL;
    assert_int_equal(D->query(f->c, "SELECT g FROM generate_series(1, 1234) g", NULL, 0, &cur,
                              &err),
                     DB_OK);
    int64_t n = 0;
    int rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        db_value v;
        D->value(cur, 0, &v);
        assert_int_equal(v.i, ++n);
        assert_int_equal(D->exec(f->c, "INSERT INTO sink VALUES (?)", &v, 1, NULL, &err), DB_OK);
        assert_false(D->in_transaction(f->c)); /* each insert committed on its own */
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(n, 1234);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sink"), 1234);

    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->query(f->c, "SELECT n FROM sink ORDER BY n", NULL, 0, &cur, &err), DB_OK);
    n = 0;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        if (++n == 700) { /* the cursor outlives the transaction */
            assert_int_equal(D->commit(f->c, &err), DB_OK);
            xexec(f->c, "DELETE FROM sink");
        }
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(n, 1234);
    assert_int_equal(open_cursors(f->c), 0);
}

/* Closing early, or after the cursor was dropped by a rollback, never
 * disturbs the surrounding transaction and leaves no cursor behind. */
static void test_cursor_close_early(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    db_cursor *cur = NULL;
    xexec(f->c, "CREATE TABLE e(x int)");
    assert_int_equal(D->query(f->c, "SELECT g FROM generate_series(1, 5000) g", NULL, 0, &cur,
                              &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->cursor_close(cur);
    D->cursor_close(NULL);
    assert_int_equal(open_cursors(f->c), 0);

    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->query(f->c, "SELECT g FROM generate_series(1, 5000) g", NULL, 0, &cur,
                              &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->cursor_close(cur);
    assert_int_equal(open_cursors(f->c), 0);

    assert_int_equal(D->savepoint(f->c, "s", &err), DB_OK);
    assert_int_equal(D->query(f->c, "SELECT g FROM generate_series(1, 5000) g", NULL, 0, &cur,
                              &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    assert_int_equal(D->rollback_to(f->c, "s", &err), DB_OK); /* drops the cursor */
    D->cursor_close(cur);
    xexec(f->c, "INSERT INTO e VALUES (1)"); /* the transaction is intact */
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM e"), 1);
    assert_int_equal(open_cursors(f->c), 0);

    /* A small result closes its server cursor as soon as it is fetched. */
    assert_int_equal(D->query(f->c, "SELECT 1", NULL, 0, &cur, &err), DB_OK);
    assert_int_equal(open_cursors(f->c), 0);
    D->cursor_close(cur);
}

/* Row-returning statements a cursor cannot wrap still work as queries. */
static void test_query_non_select(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE r(id serial PRIMARY KEY, x text)");
    db_value p[2] = {v_text("a"), v_text("b")};
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "INSERT INTO r(x) VALUES (?), (?) RETURNING id, x", p, 2,
                              &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 2);
    db_value v;
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(D->next(cur, &err), DB_OK);
        D->value(cur, 0, &v);
        assert_int_equal(v.type, DBV_INT);
        assert_int_equal(v.i, i);
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    assert_string_equal(scalar_text(f->c, "SHOW client_encoding"), "UTF8");
    assert_int_equal(scalar(f->c, "WITH u AS (UPDATE r SET x = 'c' RETURNING 1) "
                                  "SELECT count(*) FROM u"),
                     2);
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM (SELECT id FROM r FOR UPDATE) s"), 2);
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    one_value(f->c, "EXPLAIN SELECT 1", NULL, 0, &v, NULL, 0);
    assert_int_equal(v.type, DBV_TEXT);
    /* a command without rows: a query with no columns and no rows */
    assert_int_equal(D->query(f->c, "DELETE FROM r", NULL, 0, &cur, &err), DB_OK);
    assert_int_equal(D->ncols(cur), 0);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 0);
}

/* ---- transactions ------------------------------------------------------- */

static void test_transactions_and_savepoints(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE t(x int)");
    assert_false(D->in_transaction(f->c));

    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (1)");
    assert_int_equal(D->savepoint(f->c, "sp\"1", &err), DB_OK); /* quoted name */
    xexec(f->c, "INSERT INTO t VALUES (2)");
    xexec(f->c, "INSERT INTO t VALUES (3)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);
    assert_int_equal(D->rollback_to(f->c, "sp\"1", &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 1);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (4)");
    assert_int_equal(D->savepoint(f->c, "inner", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (5)");
    assert_int_equal(D->release(f->c, "inner", &err), DB_OK);
    assert_int_equal(D->release(f->c, "sp\"1", &err), DB_OK);
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT sum(x) FROM t"), 1 + 4 + 5);

    /* begin(immediate) is a plain BEGIN; rollback discards it all */
    assert_int_equal(D->begin(f->c, 1, &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (6)");
    assert_int_equal(D->savepoint(f->c, "s", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (7)");
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);

    /* Visible from another connection once committed. */
    f->c2 = connect_test(NULL, 0);
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM t"), 3);

    /* A failed statement fails the transaction; in_transaction stays true,
     * and COMMIT must not read as success. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (8)");
    expect_fail(f->c, "SELECT 1/0", "22012");
    assert_true(D->in_transaction(f->c));
    expect_fail(f->c, "SELECT 1", "25P02");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->commit(f->c, &err), DB_ERR);
    assert_non_null(strstr(err.message, "rolled it back"));
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);

    /* Errors: unknown savepoint, nested begin. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->begin(f->c, 0, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "25001");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->rollback_to(f->c, "nope", &err), DB_ERR);
    assert_string_equal(err.sqlstate, "3B001");
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    /* Savepoints need a transaction block. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->savepoint(f->c, "s", &err), DB_ERR);
    assert_string_equal(err.sqlstate, "25P01");
}

/* ---- lock ---------------------------------------------------------------- */

static void test_lock(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    char key[64], other[64];
    snprintf(key, sizeof key, "n9e-test-lock-%ld", (long)getpid());
    snprintf(other, sizeof other, "n9e-test-other-%ld", (long)getpid());
    f->c2 = connect_test(NULL, 0);

    assert_int_equal(D->lock_held(f->c2, key, &err), 0);
    assert_int_equal(D->lock(f->c, key, 1.0, &err), DB_OK);
    assert_false(D->in_transaction(f->c)); /* a session lock, not a transaction */
    /* seen from the holder and from another session, and only that key */
    assert_int_equal(D->lock_held(f->c, key, &err), 1);
    assert_int_equal(D->lock_held(f->c2, key, &err), 1);
    assert_int_equal(D->lock_held(f->c2, other, &err), 0);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                  "AND pid = pg_backend_pid()"),
                     1);

    double t0 = now();
    memset(&err, 0, sizeof err);
    assert_int_equal(D->lock(f->c2, key, 0.5, &err), DB_TIMEOUT);
    double waited = now() - t0;
    if (waited < 0.45 || waited > 1.5)
        fail_msg("lock(timeout=0.5) gave up after %.3f s", waited);
    t0 = now();
    assert_int_equal(D->lock(f->c2, key, 0, &err), DB_TIMEOUT);
    assert_true(now() - t0 < 0.2);

    /* Keys are independent. */
    assert_int_equal(D->lock(f->c2, other, 0, &err), DB_OK);
    assert_int_equal(D->unlock(f->c2, other, &err), DB_OK);

    /* Taking it twice and unlocking once releases it entirely. */
    assert_int_equal(D->lock(f->c, key, 0, &err), DB_OK);
    assert_int_equal(D->unlock(f->c, key, &err), DB_OK);
    assert_int_equal(D->unlock(f->c, key, &err), DB_OK); /* not held: a no-op */
    assert_int_equal(D->lock(f->c2, key, 0, &err), DB_OK);
    assert_int_equal(D->lock(f->c, key, 0.1, &err), DB_TIMEOUT);
    assert_int_equal(D->unlock(f->c2, key, &err), DB_OK);
    assert_int_equal(D->lock_held(f->c, key, &err), 0);

    /* A holder that dies releases the lock with its session. */
    assert_int_equal(D->lock(f->c, key, 0, &err), DB_OK);
    D->close(f->c); /* simulate a crashed runner */
    f->c = NULL;
    t0 = now();
    assert_int_equal(D->lock(f->c2, key, 5.0, &err), DB_OK);
    waited = now() - t0;
    if (waited > 1.0)
        fail_msg("the lock of a closed session took %.3f s to become free", waited);

    /* unlock ends a transaction still open (the apply protocol relies on
     * it after a failure), even a failed one. */
    xexec(f->c2, "CREATE TABLE l(x int)");
    assert_int_equal(D->begin(f->c2, 0, &err), DB_OK);
    xexec(f->c2, "INSERT INTO l VALUES (1)");
    expect_fail(f->c2, "SELECT 1/0", "22012");
    assert_int_equal(D->unlock(f->c2, key, &err), DB_OK);
    assert_false(D->in_transaction(f->c2));
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM l"), 0);
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND pid = pg_backend_pid()"),
                     0);

    /* In a failed transaction the lock cannot even be asked for. */
    assert_int_equal(D->begin(f->c2, 0, &err), DB_OK);
    expect_fail(f->c2, "SELECT 1/0", "22012");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->lock(f->c2, key, 0.2, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "25P02");
    assert_int_equal(D->rollback(f->c2, &err), DB_OK);
}

/* ---- read-only ------------------------------------------------------------ */

static void test_read_only(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE r(x int)");

    /* outside a transaction: the session default */
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);
    expect_fail(f->c, "INSERT INTO r VALUES (1)", "25006");
    expect_fail(f->c, "CREATE TABLE r2(y int)", "25006");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec_script(f->c, "DELETE FROM r; CREATE TABLE r3(y int);", &err), DB_ERR);
    assert_string_equal(err.sqlstate, "25006");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 0); /* reads work */
    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (1)");

    /* inside a transaction: writes before and after stay, and even a
     * refused write leaves the transaction usable after switching off */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (2)");
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 2);
    expect_fail(f->c, "INSERT INTO r VALUES (3)", "25006");
    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (4)");
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);
    expect_fail(f->c, "UPDATE r SET x = 0", "25006");
    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    xexec(f->c, "UPDATE r SET x = x * 10 WHERE x = 4");
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT sum(x) FROM r"), 1 + 2 + 40);

    /* the next transaction is read-write */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (5)");
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 4);

    /* a transaction that ends while read-only takes the mode with it */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO r VALUES (6)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 5);
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

    db_error err = {0};
    char *q = D->quote_ident(f->c, "We\"ird ?tbl", &err);
    assert_non_null(q);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s(x int)", q);
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
    assert_str(&v, "We\"ird ?tbl");
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
        if (r >= nrows) {
            db_value v;
            D->value(cur, 0, &v);
            fail_msg("unexpected catalog row %d: '%.*s'", r, (int)v.len, v.s ? v.s : "");
        }
        for (int i = 0; i < ncols; i++) {
            const cell *want = &rows[r * ncols + i];
            db_value v;
            D->value(cur, i, &v);
            if (want->is_int) {
                if (v.type != DBV_INT || v.i != want->i)
                    fail_msg("catalog row %d col %s: expected %lld, got type %d %lld", r,
                             cols[i], (long long)want->i, v.type, (long long)v.i);
            } else if (want->s) {
                if (v.type != DBV_TEXT || v.len != strlen(want->s) ||
                    memcmp(v.s, want->s, v.len) != 0)
                    fail_msg("catalog row %d col %s: expected '%s', got type %d '%.*s'", r,
                             cols[i], want->s, v.type, (int)v.len, v.s ? v.s : "");
            } else if (v.type != DBV_NULL) {
                fail_msg("catalog row %d col %s: expected NULL, got type %d '%.*s'", r, cols[i],
                         v.type, (int)v.len, v.s ? v.s : "");
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
            "  id serial PRIMARY KEY,\n"
            "  name text NOT NULL DEFAULT 'anon',\n"
            "  email varchar(255) UNIQUE,\n"
            "  age int,\n"
            "  score numeric(10,2),\n"
            "  created timestamp DEFAULT now(),\n"
            "  twice int GENERATED ALWAYS AS (age * 2) STORED);\n"
            "ALTER TABLE users DROP COLUMN score;\n" /* dropped columns are not listed */
            "CREATE INDEX idx_users_name_age ON users(name, age) INCLUDE (created);\n"
            "CREATE UNIQUE INDEX ux_users_email_name ON users(email, name);\n"
            "CREATE INDEX idx_users_lower ON users(lower(name), id);\n"
            "CREATE TABLE alerts(rule_id bigint NOT NULL, note varchar(64) NOT NULL DEFAULT '',\n"
            "                    PRIMARY KEY (note, rule_id));\n"
            "CREATE VIEW users_v AS SELECT id FROM users;\n"
            "CREATE SEQUENCE some_seq;\n"
            "INSERT INTO users(name) VALUES ('x');\n");

    static const char *const tcols[] = {"name"};
    static const cell tables[] = {S("alerts"), S("users")}; /* no views, sequences */
    check_catalog(f->c, DB_CATALOG_TABLES, NULL, tcols, 1, tables, 2);

    static const char *const ccols[] = {"name", "type", "notnull", "dflt", "pk"};
    static const cell users_cols[] = {
        S("id"),      S("integer"),                     I(1), S("nextval('users_id_seq'::regclass)"), I(1),
        S("name"),    S("text"),                        I(1), S("'anon'::text"),                      I(0),
        S("email"),   S("character varying(255)"),      I(0), N,                                      I(0),
        S("age"),     S("integer"),                     I(0), N,                                      I(0),
        S("created"), S("timestamp without time zone"), I(0), S("now()"),                             I(0),
        S("twice"),   S("integer"),                     I(0), N,                                      I(0),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "users", ccols, 5, users_cols, 6);
    static const cell alerts_cols[] = {
        S("rule_id"), S("bigint"),                I(1), N,                                 I(2),
        S("note"),    S("character varying(64)"), I(1), S("''::character varying"), I(1),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "alerts", ccols, 5, alerts_cols, 2);
    check_catalog(f->c, DB_CATALOG_COLUMNS, "no_such_table", ccols, 5, NULL, 0);
    check_catalog(f->c, DB_CATALOG_COLUMNS, "users_pkey", ccols, 5, NULL, 0); /* an index */

    static const char *const icols[] = {"name", "unique", "columns"};
    static const cell users_idx[] = {
        S("idx_users_lower"),     I(0), S("lower(name),id"),
        S("idx_users_name_age"),  I(0), S("name,age"),
        S("users_email_key"),     I(1), S("email"),
        S("ux_users_email_name"), I(1), S("email,name"),
    };
    check_catalog(f->c, DB_CATALOG_INDEXES, "users", icols, 3, users_idx, 4);
    check_catalog(f->c, DB_CATALOG_INDEXES, "alerts", icols, 3, NULL, 0); /* pk not listed */
    check_catalog(f->c, DB_CATALOG_INDEXES, "no_such_table", icols, 3, NULL, 0);

    /* Every table at once (table NULL): the same rows led by the table,
     * tables only (no view). */
    assert_true(D->catalog_all);
    static const char *const all_ccols[] = {"tbl", "name", "type", "notnull", "dflt", "pk"};
    static const cell all_cols[] = {
        S("alerts"), S("rule_id"), S("bigint"),                        I(1), N,                                      I(2),
        S("alerts"), S("note"),    S("character varying(64)"),         I(1), S("''::character varying"),             I(1),
        S("users"),  S("id"),      S("integer"),                       I(1), S("nextval('users_id_seq'::regclass)"), I(1),
        S("users"),  S("name"),    S("text"),                          I(1), S("'anon'::text"),                      I(0),
        S("users"),  S("email"),   S("character varying(255)"),        I(0), N,                                      I(0),
        S("users"),  S("age"),     S("integer"),                       I(0), N,                                      I(0),
        S("users"),  S("created"), S("timestamp without time zone"),   I(0), S("now()"),                             I(0),
        S("users"),  S("twice"),   S("integer"),                       I(0), N,                                      I(0),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, NULL, all_ccols, 6, all_cols, 8);
    static const char *const all_icols[] = {"tbl", "name", "unique", "columns"};
    static const cell all_idx[] = {
        S("users"), S("idx_users_lower"),     I(0), S("lower(name),id"),
        S("users"), S("idx_users_name_age"),  I(0), S("name,age"),
        S("users"), S("users_email_key"),     I(1), S("email"),
        S("users"), S("ux_users_email_name"), I(1), S("email,name"),
    };
    check_catalog(f->c, DB_CATALOG_INDEXES, NULL, all_icols, 4, all_idx, 4);
}

/* ---- engine errors -------------------------------------------------------- */

static void test_engine_errors(void **state)
{
    fixture *f = *state;
    db_error err;

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, &err), DB_ERR);
    assert_string_equal(err.message, "relation \"nope\" does not exist");
    assert_string_equal(err.sqlstate, "42P01");

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT x FROM nope", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_string_equal(err.sqlstate, "42P01");

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELEC 1", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "syntax error"));
    assert_string_equal(err.sqlstate, "42601");

    /* the detail is kept */
    xexec(f->c, "CREATE TABLE u(x int UNIQUE)");
    xexec(f->c, "INSERT INTO u VALUES (1)");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "INSERT INTO u VALUES (1)", NULL, 0, NULL, &err), DB_ERR);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.message, "duplicate key value violates unique constraint \"u_x_key\" "
                                     "(detail: Key (x)=(1) already exists.)");

    /* A failure in a later batch surfaces from next(). */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_int_equal(D->query(f->c, "SELECT 1 / (g - 700) FROM generate_series(1, 1000) g", NULL,
                              0, &cur, &err),
                     DB_OK);
    int rows = 0, rc;
    while ((rc = D->next(cur, &err)) == DB_OK)
        rows++;
    D->cursor_close(cur);
    assert_int_equal(rc, DB_ERR);
    assert_int_equal(rows, 500);
    assert_string_equal(err.sqlstate, "22012");
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    /* Outside a transaction the cursor is materialised at once. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT 1 / (g - 700) FROM generate_series(1, 1000) g", NULL,
                              0, &cur, &err),
                     DB_ERR);
    assert_string_equal(err.sqlstate, "22012");

    /* A NULL error pointer is allowed. */
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, NULL), DB_ERR);
    assert_int_equal(D->query(f->c, "SELECT * FROM nope", NULL, 0, &cur, NULL), DB_ERR);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM u"), 1);
}

/* A connection whose server session is killed fails cleanly: errors, not
 * hangs, and closing its cursor only frees memory. */
static void test_broken_connection(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    f->c2 = connect_test(NULL, 0);
    int64_t pid = scalar(f->c, "SELECT pg_backend_pid()");
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    db_cursor *cur = NULL;
    assert_int_equal(D->query(f->c, "SELECT g FROM generate_series(1, 5000) g", NULL, 0, &cur,
                              &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);

    db_value p = v_int(pid);
    db_value x;
    one_value(f->c2, "SELECT pg_terminate_backend(?::int)", &p, 1, &x, NULL, 0);
    assert_int_equal(x.type, DBV_BOOL);
    assert_int_equal(x.i, 1);
    nanosleep(&(struct timespec){0, 100000000}, NULL); /* let the backend go */

    int rc;
    while ((rc = D->next(cur, &err)) == DB_OK)
        ;
    assert_int_equal(rc, DB_ERR);
    assert_true(strlen(err.message) > 0);
    assert_string_equal(err.sqlstate, "08006");
    D->cursor_close(cur);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELECT 1", NULL, 0, NULL, &err), DB_ERR);
    assert_true(strlen(err.message) > 0);
    assert_int_equal(D->query(f->c, "SELECT 1", NULL, 0, &cur, &err), DB_ERR);
    assert_int_equal(D->rollback(f->c, &err), DB_ERR);
}

int main(void)
{
    if (!getenv("N9E_TEST_PG_DSN") || !getenv("N9E_TEST_PASSWORD")) {
        fprintf(stderr, "test_driver_pg: N9E_TEST_PG_DSN and N9E_TEST_PASSWORD must be set "
                        "(see `tools/servers.sh start`)\n");
        return 1;
    }
    snprintf(g_schema, sizeof g_schema, "n9e_pgtest_%ld", (long)getpid());
    snprintf(g_search_path, sizeof g_search_path, "options=-c%%20search_path%%3D%s", g_schema);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_connect_and_parameters),
        T(test_connect_errors),
        T(test_connect_read_only),
        T(test_bind_and_read_every_type),
        T(test_affected_rows),
        T(test_statement_reuse),
        T(test_exec_send_and_wait),
        T(test_exec_batch),
        T(test_query_send_and_wait),
        T(test_placeholder_rewriting),
        T(test_placeholder_count_mismatch),
        T(test_exec_refuses_two_statements),
        T(test_exec_script),
        T(test_streaming_cursor_with_writes),
        T(test_streaming_without_and_across_transactions),
        T(test_cursor_close_early),
        T(test_query_non_select),
        T(test_transactions_and_savepoints),
        T(test_lock),
        T(test_read_only),
        T(test_quote_ident),
        T(test_catalog),
        T(test_engine_errors),
        T(test_broken_connection),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
