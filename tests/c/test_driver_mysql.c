/*
 * test_driver_mysql.c -- the MySQL/MariaDB engine through the db_driver
 * vtable only (no Lua): connection and its parameters, errors that must
 * not leak the password, binding and reading back every value and column
 * type, statement checks, scripts, streaming cursors with writes on the
 * same connection and flat client memory, transactions, implicit commits,
 * the advisory lock, read-only mode, identifier quoting and the catalog.
 *
 * Needs a running server: N9E_TEST_MYSQL_DSN (no password) and
 * N9E_TEST_PASSWORD, as printed by tools/servers.sh.  Without them the
 * test fails: a skipped engine test would look like a passing one.
 *
 * Each test gets a database of its own (created and dropped around it), so
 * catalog listings and lock names never meet another test's.
 */
#define _GNU_SOURCE /* mallinfo2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <mysql.h> /* a raw second session for the deadlock test */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "dsn.h"

static const db_driver *D = &driver_mysql;

/* MariaDB/MySQL error numbers the tests expect. */
enum {
    E_ACCESS_DENIED = 1045,
    E_PARSE = 1064,
    E_DUP_ENTRY = 1062,
    E_NO_SUCH_TABLE = 1146,
    E_SP_DOES_NOT_EXIST = 1305,
    E_UNSUPPORTED_PS = 1295,
    E_DEADLOCK = 1213,
    E_READ_ONLY_TX = 1792,
};

static const char *g_dsn;      /* N9E_TEST_MYSQL_DSN: mysql://user@host:port/db */
static const char *g_password; /* N9E_TEST_PASSWORD */

typedef struct {
    char db[64];  /* this test's own database */
    db_conn *c;   /* main connection to it */
    db_conn *c2;  /* optional second connection */
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
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

/* The env DSN with the password put in, pointing at database db (NULL:
 * the env's own), with an optional query string, parsed by dsn_parse. */
static void make_target(const char *db, const char *params, const char *password, int port,
                        db_target *t)
{
    db_target base;
    char msg[256];
    if (dsn_parse(g_dsn, &base, msg, sizeof msg) != 0)
        fail_msg("N9E_TEST_MYSQL_DSN does not parse: %s", msg);
    char user[256], pw[256], text[1024];
    url_encode(base.user ? base.user : "", user, sizeof user);
    url_encode(password, pw, sizeof pw);
    snprintf(text, sizeof text, "mysql://%s:%s@%s:%d/%s%s%s", user, pw, base.host,
             port ? port : (base.port ? base.port : 3306), db ? db : base.dbname,
             params ? "?" : "", params ? params : "");
    dsn_free(&base);
    if (dsn_parse(text, t, msg, sizeof msg) != 0)
        fail_msg("test DSN does not parse: %s", msg);
}

static db_conn *connect_opts(const char *db, const char *params, int read_only)
{
    db_target t;
    make_target(db, params, g_password, 0, &t);
    t.read_only = read_only;
    db_conn *c = NULL;
    db_error err = {0};
    int rc = D->connect(&t, &c, &err);
    dsn_free(&t);
    if (rc != DB_OK)
        fail_msg("connect(%s, %s): %s", db ? db : "-", params ? params : "-", err.message);
    assert_non_null(c);
    return c;
}

static db_conn *connect_db(const char *db) { return connect_opts(db, NULL, 0); }

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

/* The single row of a query, first column, into *v (text copied to buf). */
static void one_value(db_conn *c, const char *sql, const db_value *p, int n, db_value *v,
                      char *buf, size_t cap)
{
    db_cursor *cur = NULL;
    db_error err = {0};
    if (D->query(c, sql, p, n, &cur, &err) != DB_OK)
        fail_msg("query(%s): %s", sql, err.message);
    if (D->next(cur, &err) != DB_OK) {
        D->cursor_close(cur);
        fail_msg("query(%s) returned no row: %s", sql, err.message);
    }
    D->value(cur, 0, v);
    if ((v->type == DBV_TEXT || v->type == DBV_BLOB) && buf) {
        size_t n2 = v->len < cap - 1 ? v->len : cap - 1;
        memcpy(buf, v->s, n2);
        buf[n2] = '\0';
        v->s = buf;
    }
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

/* The single text value of a query ("" buffer owned by the caller). */
static const char *scalar_text(db_conn *c, const char *sql, char *buf, size_t cap)
{
    db_value v;
    one_value(c, sql, NULL, 0, &v, buf, cap);
    if (v.type != DBV_TEXT)
        fail_msg("%s: expected text, got type %d", sql, v.type);
    return buf;
}

static db_value v_null(void) { return (db_value){.type = DBV_NULL}; }
static db_value v_int(int64_t i) { return (db_value){.type = DBV_INT, .i = i}; }
static db_value v_float(double d) { return (db_value){.type = DBV_FLOAT, .f = d}; }
static db_value v_bool(int b) { return (db_value){.type = DBV_BOOL, .i = b}; }
static db_value v_text(const char *s, size_t n)
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

static void assert_str(const db_value *v, const char *s)
{
    assert_bytes(v, DBV_TEXT, s, strlen(s));
}

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
    static int counter;
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->db, sizeof f->db, "n9e_drv_%ld_%d", (long)getpid(), ++counter);
    *state = f;
    db_conn *admin = connect_db(NULL);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", f->db);
    xexec(admin, sql);
    D->close(admin);
    f->c = connect_db(f->db);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    D->close(f->c2);
    D->close(f->c);
    db_conn *admin = connect_db(NULL);
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", f->db);
    xexec(admin, sql);
    D->close(admin);
    free(f);
    return 0;
}

/* ---- connect -------------------------------------------------------------- */

static void test_connect_session(void **state)
{
    fixture *f = *state;
    char buf[256];
    assert_string_equal(D->dialect, "mysql");
    assert_ptr_equal(driver_for("mysql"), &driver_mysql);
    const char *ver = D->server_version(f->c);
    assert_non_null(ver);
    assert_true(ver[0] >= '1' && ver[0] <= '9');
    assert_non_null(strchr(ver, '.'));

    /* The session runs in UTC with utf8mb4, in the database asked for. */
    assert_string_equal(scalar_text(f->c, "SELECT @@session.time_zone", buf, sizeof buf),
                        "+00:00");
    assert_string_equal(scalar_text(f->c, "SELECT @@character_set_client", buf, sizeof buf),
                        "utf8mb4");
    assert_string_equal(scalar_text(f->c, "SELECT DATABASE()", buf, sizeof buf), f->db);
    /* sql_mode is the server's, untouched. */
    assert_int_equal(scalar(f->c, "SELECT @@session.sql_mode = @@global.sql_mode"), 1);
    assert_false(D->in_transaction(f->c));
    D->close(NULL); /* closing nothing is harmless */
}

static void test_connect_params(void **state)
{
    fixture *f = *state;
    char buf[256];
    /* n9e's usual Go-driver DSN parameters are accepted and ignored. */
    db_conn *c = connect_opts(f->db,
                              "charset=latin1&parseTime=True&loc=Local&allowNativePasswords=true"
                              "&timeout=5s&readTimeout=1m30s&collation=utf8mb4_general_ci",
                              0);
    assert_string_equal(scalar_text(c, "SELECT @@character_set_client", buf, sizeof buf),
                        "latin1");
    D->close(c);
    c = connect_opts(f->db, "charset=utf8mb4,utf8&timeout=1500ms&tls=false", 0);
    assert_string_equal(scalar_text(c, "SELECT @@character_set_client", buf, sizeof buf),
                        "utf8mb4");
    D->close(c);

    /* Rows matched by default (as SQLite and PostgreSQL count them);
     * clientFoundRows=false gives MySQL's "rows changed". */
    xscript(f->c, "CREATE TABLE fr(x INT); INSERT INTO fr VALUES (1), (2);");
    int64_t affected = -1;
    db_error err = {0};
    assert_int_equal(D->exec(f->c, "UPDATE fr SET x = x", NULL, 0, &affected, &err), DB_OK);
    assert_int_equal(affected, 2);
    c = connect_opts(f->db, "clientFoundRows=false", 0);
    assert_int_equal(D->exec(c, "UPDATE fr SET x = x", NULL, 0, &affected, &err), DB_OK);
    assert_int_equal(affected, 0);
    D->close(c);

    /* Unknown or malformed parameters are refused by name, never echoing
     * the value. */
    static const struct {
        const char *params, *expect;
    } bad[] = {
        {"sql_mode=ANSI", "unknown connection parameter 'sql_mode'"},
        {"timeout=soon", "bad value for connection parameter 'timeout'"},
        {"charset=utf8;DROP", "bad value for connection parameter 'charset'"},
        {"tls=preferred", "bad value for connection parameter 'tls'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        db_target t;
        make_target(f->db, bad[i].params, g_password, 0, &t);
        c = NULL;
        memset(&err, 0, sizeof err);
        assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
        dsn_free(&t);
        assert_null(c);
        if (!strstr(err.message, bad[i].expect))
            fail_msg("%s: unexpected message: %s", bad[i].params, err.message);
    }

    /* tls=true is enforced, not ignored: this server has no TLS. */
    db_target t;
    make_target(f->db, "tls=true", g_password, 0, &t);
    c = NULL;
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    assert_null(c);
}

static void test_connect_errors_hide_password(void **state)
{
    fixture *f = *state;
    static const char secret[] = "Wrong-S3cret-pw!";
    db_target t;
    db_conn *c = NULL;
    db_error err = {0};

    make_target(f->db, NULL, secret, 0, &t);
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    assert_null(c);
    assert_int_equal(err.code, E_ACCESS_DENIED);
    assert_string_equal(err.sqlstate, "28000");
    assert_non_null(strstr(err.message, "Access denied"));
    assert_null(strstr(err.message, secret));
    assert_null(strstr(err.message, g_password));

    /* Nothing listens on port 1: a connection error, still no password. */
    memset(&err, 0, sizeof err);
    make_target(f->db, "timeout=3s", g_password, 1, &t);
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    assert_null(c);
    assert_true(err.code >= 2000 && err.code < 3000); /* a client (CR_*) error */
    assert_true(strlen(err.message) > 0);
    assert_null(strstr(err.message, g_password));

    /* A database that does not exist. */
    memset(&err, 0, sizeof err);
    make_target("n9e_no_such_db_here", NULL, g_password, 0, &t);
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    assert_null(c);
    assert_non_null(strstr(err.message, "n9e_no_such_db_here"));
    assert_null(strstr(err.message, g_password));
}

/* Nightingale's own Go-driver DSN, over TCP and over a unix socket. */
static void test_connect_go_dsn(void **state)
{
    fixture *f = *state;
    db_target base, t;
    char msg[256], text[1024], buf[64];
    if (dsn_parse(g_dsn, &base, msg, sizeof msg) != 0)
        fail_msg("N9E_TEST_MYSQL_DSN does not parse: %s", msg);
    snprintf(text, sizeof text,
             "%s:%s@tcp(%s:%d)/%s?charset=utf8mb4&parseTime=True&loc=Asia%%2FShanghai"
             "&timeout=5s&allowNativePasswords=true",
             base.user, g_password, base.host, base.port, f->db);
    if (dsn_parse_as("mysql", text, &t, msg, sizeof msg) != 0)
        fail_msg("Go DSN does not parse: %s", msg);
    db_conn *c = NULL;
    db_error err = {0};
    if (D->connect(&t, &c, &err) != DB_OK)
        fail_msg("connect through the Go DSN: %s", err.message);
    dsn_free(&t);
    assert_string_equal(scalar_text(c, "SELECT DATABASE()", buf, sizeof buf), f->db);
    D->close(c);

    /* unix(): the socket named is the one tried. */
    snprintf(text, sizeof text, "%s:%s@unix(/nonexistent/n9e-test.sock)/%s", base.user,
             g_password, f->db);
    if (dsn_parse_as("mysql", text, &t, msg, sizeof msg) != 0)
        fail_msg("Go unix DSN does not parse: %s", msg);
    c = NULL;
    assert_int_equal(D->connect(&t, &c, &err), DB_ERR);
    dsn_free(&t);
    assert_null(c);
    if (!strstr(err.message, "/nonexistent/n9e-test.sock"))
        fail_msg("the socket path was not used: %s", err.message);
    assert_null(strstr(err.message, g_password));

    /* The test server's socket is reached (its users may still refuse a
     * local login: the test user is defined for TCP only). */
    const char *sock = getenv("N9E_TEST_MYSQL_SOCKET");
    if (sock && *sock) {
        snprintf(text, sizeof text, "%s:%s@unix(%s)/%s", base.user, g_password, sock, f->db);
        if (dsn_parse_as("mysql", text, &t, msg, sizeof msg) != 0)
            fail_msg("Go unix DSN does not parse: %s", msg);
        c = NULL;
        memset(&err, 0, sizeof err);
        if (D->connect(&t, &c, &err) == DB_OK)
            D->close(c);
        else if (strstr(err.message, "Can't connect"))
            fail_msg("the server socket was not reached: %s", err.message);
        dsn_free(&t);
    }
    dsn_free(&base);
}

/* ---- values ------------------------------------------------------------- */

static const char TEXT_NUL[] = {'a', '\0', 'b', '\0'};
static const unsigned char BLOB_BYTES[] = {0x00, 0xff, 0x10, 0x00, 0x80};
static const char UTF8[] = "h\xc3\xa9llo \xf0\x9f\x98\x80"; /* 4-byte emoji: utf8mb4 */

static void test_bind_and_read_every_type(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE v(k INT PRIMARY KEY, i BIGINT, f DOUBLE, s LONGTEXT, "
                "b LONGBLOB, z TINYINT)");
    /* Each value into the column of its kind; NULL into every one. */
    static const char *const ins[] = {
        "INSERT INTO v(k, i) VALUES (?, ?)", "INSERT INTO v(k, f) VALUES (?, ?)",
        "INSERT INTO v(k, s) VALUES (?, ?)", "INSERT INTO v(k, b) VALUES (?, ?)",
        "INSERT INTO v(k, z) VALUES (?, ?)",
    };
    const struct {
        int col;
        db_value v;
    } rows[] = {
        {0, v_int(0)},          {0, v_int(INT64_MIN)},
        {0, v_int(INT64_MAX)},  {0, v_int(-1)},
        {1, v_float(3.25)},     {1, v_float(-1e300)},
        {1, v_float(0.1)},      {2, v_text(TEXT_NUL, sizeof TEXT_NUL)},
        {2, v_text("", 0)},     {2, v_text(UTF8, strlen(UTF8))},
        {3, v_blob(BLOB_BYTES, sizeof BLOB_BYTES)},
        {3, v_blob("", 0)},     {4, v_bool(1)},
        {4, v_bool(0)},         {0, v_null()},
    };
    const int n = (int)(sizeof rows / sizeof rows[0]);
    for (int k = 0; k < n; k++) {
        db_value p[2] = {v_int(k), rows[k].v};
        int64_t affected = -1;
        db_error err = {0};
        if (D->exec(f->c, ins[rows[k].col], p, 2, &affected, &err) != DB_OK)
            fail_msg("insert %d: %s", k, err.message);
        assert_int_equal(affected, 1);
    }

    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT k, i, f, s, b, z FROM v ORDER BY k", NULL, 0, &cur,
                              &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 6);
    assert_string_equal(D->colname(cur, 0), "k");
    assert_string_equal(D->colname(cur, 3), "s");
    int k = 0, rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        db_value key, x;
        D->value(cur, 0, &key);
        assert_int_equal(key.type, DBV_INT);
        assert_int_equal(key.i, k);
        D->value(cur, 1 + rows[k].col, &x);
        const db_value *want = &rows[k].v;
        switch (want->type) {
        case DBV_NULL: assert_int_equal(x.type, DBV_NULL); break;
        case DBV_INT:
            assert_int_equal(x.type, DBV_INT);
            assert_true(x.i == want->i); /* exact, incl. INT64_MIN/MAX */
            break;
        case DBV_FLOAT:
            assert_int_equal(x.type, DBV_FLOAT);
            assert_true(x.f == want->f); /* bit-exact round trip */
            break;
        case DBV_TEXT: assert_bytes(&x, DBV_TEXT, want->s, want->len); break;
        case DBV_BLOB: assert_bytes(&x, DBV_BLOB, want->s, want->len); break;
        case DBV_BOOL: /* stored in a TINYINT: reads back as 1/0 */
            assert_int_equal(x.type, DBV_INT);
            assert_int_equal(x.i, want->i);
            break;
        }
        /* Every other value column of the row is NULL. */
        for (int col = 1; col <= 5; col++) {
            if (col == 1 + rows[k].col)
                continue;
            D->value(cur, col, &x);
            assert_int_equal(x.type, DBV_NULL);
        }
        k++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(k, n);

    /* The same values bound straight into a SELECT come back unchanged. */
    const db_value direct[] = {v_null(),
                               v_int(INT64_MIN),
                               v_float(-2.5),
                               v_text(TEXT_NUL, sizeof TEXT_NUL),
                               v_blob(BLOB_BYTES, sizeof BLOB_BYTES),
                               v_bool(1)};
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
    assert_bytes(&x, DBV_TEXT, TEXT_NUL, sizeof TEXT_NUL);
    D->value(cur, 4, &x);
    assert_bytes(&x, DBV_BLOB, (const char *)BLOB_BYTES, sizeof BLOB_BYTES);
    D->value(cur, 5, &x);
    assert_int_equal(x.type, DBV_INT);
    assert_int_equal(x.i, 1);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* Bound text is compared as a value, never spliced into SQL. */
    db_value evil = v_text("x'); DROP TABLE v; --", 21);
    assert_int_equal(D->query(f->c, "SELECT count(*) FROM v WHERE s = ?", &evil, 1, &cur, &err),
                     DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->value(cur, 0, &x);
    assert_int_equal(x.i, 0);
    D->cursor_close(cur);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM v"), n);
}

/* Every column type maps to the documented value type and text form. */
static void test_column_types(void **state)
{
    fixture *f = *state;
    xscript(f->c,
            "CREATE TABLE ty(id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT,"
            " bi BIGINT, ubi BIGINT UNSIGNED, ubs BIGINT UNSIGNED, ui INT UNSIGNED,"
            " fl FLOAT, db DOUBLE, de DECIMAL(10,3), ch CHAR(5), vc VARCHAR(20), tx TEXT,"
            " bn BINARY(3), vb VARBINARY(10), bl BLOB, en ENUM('a','b'), st SET('x','y'),"
            " d DATE, t TIME, t3 TIME(3), dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL,"
            " y YEAR, bt BIT(8), js JSON);"
            "INSERT INTO ty VALUES (1, -128, 32767, -8388608, 2147483647,"
            " -9223372036854775808, 18446744073709551615, 42, 4294967295,"
            " 3.25, -1e300, 12.345, 'ab', 'h\xc3\xa9llo', 'long text',"
            " x'00ff10', x'0102', x'deadbeef', 'b', 'x,y',"
            " '2024-02-29', '-838:59:59', '12:34:56.789', '2024-02-29 23:59:58',"
            " '2024-02-29 23:59:58.000123', '2024-01-02 03:04:05', 2024, b'10100101',"
            " '{\"a\": 1}');"
            "INSERT INTO ty(id) VALUES (2);");
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT * FROM ty ORDER BY id", NULL, 0, &cur, &err), DB_OK);
    assert_int_equal(D->ncols(cur), 29);
    assert_int_equal(D->next(cur, &err), DB_OK);
    db_value v;
    static const struct {
        int col;
        int64_t i;
    } ints[] = {{1, -128},       {2, 32767}, {3, -8388608}, {4, 2147483647},
                {5, INT64_MIN},  {7, 42},    {8, 4294967295LL}, {26, 2024}};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        D->value(cur, ints[k].col, &v);
        if (v.type != DBV_INT || v.i != ints[k].i)
            fail_msg("column %s: expected %lld, got type %d %lld", D->colname(cur, ints[k].col),
                     (long long)ints[k].i, v.type, (long long)v.i);
    }
    D->value(cur, 6, &v); /* above INT64_MAX: every digit, as text */
    assert_str(&v, "18446744073709551615");
    D->value(cur, 9, &v);
    assert_int_equal(v.type, DBV_FLOAT);
    assert_true(v.f == 3.25);
    D->value(cur, 10, &v);
    assert_int_equal(v.type, DBV_FLOAT);
    assert_true(v.f == -1e300);
    D->value(cur, 11, &v); /* DECIMAL keeps its exact digits */
    assert_str(&v, "12.345");
    D->value(cur, 12, &v);
    assert_str(&v, "ab");
    D->value(cur, 13, &v);
    assert_str(&v, "h\xc3\xa9llo");
    D->value(cur, 14, &v);
    assert_str(&v, "long text");
    D->value(cur, 15, &v);
    assert_bytes(&v, DBV_BLOB, "\x00\xff\x10", 3);
    D->value(cur, 16, &v);
    assert_bytes(&v, DBV_BLOB, "\x01\x02", 2);
    D->value(cur, 17, &v);
    assert_bytes(&v, DBV_BLOB, "\xde\xad\xbe\xef", 4);
    D->value(cur, 18, &v);
    assert_str(&v, "b");
    D->value(cur, 19, &v);
    assert_str(&v, "x,y");
    D->value(cur, 20, &v);
    assert_str(&v, "2024-02-29");
    D->value(cur, 21, &v);
    assert_str(&v, "-838:59:59");
    D->value(cur, 22, &v);
    assert_str(&v, "12:34:56.789");
    D->value(cur, 23, &v);
    assert_str(&v, "2024-02-29 23:59:58");
    D->value(cur, 24, &v);
    assert_str(&v, "2024-02-29 23:59:58.000123");
    D->value(cur, 25, &v);
    assert_str(&v, "2024-01-02 03:04:05");
    D->value(cur, 27, &v);
    assert_bytes(&v, DBV_BLOB, "\xa5", 1);
    D->value(cur, 28, &v);
    assert_str(&v, "{\"a\": 1}");

    /* The second row: NULL in every column but the key. */
    assert_int_equal(D->next(cur, &err), DB_OK);
    for (int col = 1; col < 29; col++) {
        D->value(cur, col, &v);
        if (v.type != DBV_NULL)
            fail_msg("column %s of the NULL row has type %d", D->colname(cur, col), v.type);
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);

    /* TIMESTAMP is read and written in UTC whatever the server's zone. */
    assert_int_equal(scalar(f->c, "SELECT UNIX_TIMESTAMP(ts) FROM ty WHERE id = 1"), 1704164645);
    /* Expressions: fractional digits as the value has them, NULL typed. */
    char buf[64];
    assert_string_equal(
        scalar_text(f->c, "SELECT CAST('2001-02-03 04:05:06.5' AS DATETIME(1))", buf, sizeof buf),
        "2001-02-03 04:05:06.5");
    db_value nv;
    one_value(f->c, "SELECT NULL", NULL, 0, &nv, NULL, 0);
    assert_int_equal(nv.type, DBV_NULL);
    one_value(f->c, "SELECT CAST(18446744073709551615 AS UNSIGNED) - 1", NULL, 0, &nv, buf,
              sizeof buf);
    assert_str(&nv, "18446744073709551614");
    one_value(f->c, "SELECT CAST(9223372036854775807 AS UNSIGNED)", NULL, 0, &nv, NULL, 0);
    assert_int_equal(nv.type, DBV_INT);
    assert_true(nv.i == INT64_MAX);
}

/* Values longer than the first column buffer are fetched whole, in rows
 * that mix short and long values. */
static void test_long_values(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE lv(k INT PRIMARY KEY, a LONGTEXT, b LONGBLOB)");
    static const size_t sizes[][2] = {{1, 0}, {100000, 1000000}, {2, 3}, {300, 257}, {255, 256}};
    const int n = (int)(sizeof sizes / sizeof sizes[0]);
    char *big = malloc(1000000);
    assert_non_null(big);
    for (size_t i = 0; i < 1000000; i++)
        big[i] = (char)('a' + i % 26);
    for (int k = 0; k < n; k++) {
        db_value p[3] = {v_int(k), v_text(big, sizes[k][0]),
                         sizes[k][1] ? v_blob(big, sizes[k][1]) : v_null()};
        db_error err = {0};
        if (D->exec(f->c, "INSERT INTO lv VALUES (?, ?, ?)", p, 3, NULL, &err) != DB_OK)
            fail_msg("insert %d: %s", k, err.message);
    }
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT a, b, k FROM lv ORDER BY k", NULL, 0, &cur, &err),
                     DB_OK);
    for (int k = 0; k < n; k++) {
        assert_int_equal(D->next(cur, &err), DB_OK);
        db_value a, b, key;
        D->value(cur, 0, &a);
        D->value(cur, 1, &b);
        D->value(cur, 2, &key);
        assert_int_equal(key.i, k);
        assert_bytes(&a, DBV_TEXT, big, sizes[k][0]);
        if (sizes[k][1])
            assert_bytes(&b, DBV_BLOB, big, sizes[k][1]);
        else
            assert_int_equal(b.type, DBV_NULL);
    }
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);
    free(big);
}

/* Statements prepared in this session so far (the server's own count). */
static int64_t prepares(db_conn *c)
{
    char buf[64];
    scalar_text(c,
                "SELECT CAST(VARIABLE_VALUE AS CHAR) FROM information_schema.SESSION_STATUS "
                "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'",
                buf, sizeof buf);
    return strtoll(buf, NULL, 10);
}

/* A row-changing statement seen twice stays prepared: values, errors and
 * a changed table behave as without reuse, with no prepare per call. */
static void test_statement_reuse(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE r(id INT PRIMARY KEY, v VARCHAR(20))");
    const char *ins = "INSERT INTO r (id, v) VALUES (?, ?)";
    db_error err = {0};
    int64_t affected = 0;
    int64_t before = 0;
    for (int i = 1; i <= 6; i++) {
        if (i == 3)
            before = prepares(f->c);
        char txt[16];
        snprintf(txt, sizeof txt, "v%d", i);
        db_value p[2] = {v_int(i), i == 4 ? v_null() : v_text(txt, strlen(txt))};
        assert_int_equal(D->exec(f->c, ins, p, 2, &affected, &err), DB_OK);
        assert_int_equal(affected, 1);
    }
    /* executions 3 to 6 prepared nothing: the one prepare counted since is
     * the counting query's own */
    assert_int_equal(prepares(f->c) - before, 1);
    char buf[64];
    assert_string_equal(scalar_text(f->c, "SELECT GROUP_CONCAT(v ORDER BY id) FROM r", buf,
                                    sizeof buf),
                        "v1,v2,v3,v5,v6");
    db_value dup[2] = {v_int(2), v_text("x", 1)};
    assert_int_equal(D->exec(f->c, ins, dup, 2, NULL, &err), DB_ERR);
    assert_int_equal(err.code, 1062);
    /* the table changes under it: the server prepares it again by itself */
    xexec(f->c, "ALTER TABLE r ADD COLUMN w INT DEFAULT 7");
    db_value p7[2] = {v_int(7), v_text("v7", 2)};
    assert_int_equal(D->exec(f->c, ins, p7, 2, &affected, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT w FROM r WHERE id = 7"), 7);
    /* a wrong count is refused and the statement stays usable */
    assert_int_equal(D->exec(f->c, ins, p7, 1, NULL, &err), DB_ERR);
    db_value p8[2] = {v_int(8), v_text("v8", 2)};
    assert_int_equal(D->exec(f->c, ins, p8, 2, &affected, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT COUNT(*) FROM r"), 8);
}

static void test_exec_send_and_wait(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE s(id INT PRIMARY KEY, n INT, big LONGTEXT)");
    xexec(f->c, "INSERT INTO s SELECT seq, 0, NULL FROM seq_1_to_100");
    db_error err = {0};
    int64_t affected = 0;
    xexec(f->c, "BEGIN");
    for (int round = 1; round <= 3; round++) {
        db_value p = v_int(50);
        assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = n + 1 WHERE id <= ?", &p, 1, &err),
                         DB_OK);
        assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = 0", NULL, 0, &err), DB_ERR);
        assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
        assert_int_equal(affected, 50);
    }
    assert_int_equal(scalar(f->c, "SELECT CAST(SUM(n) AS SIGNED) FROM s"), 150);
    /* a packet larger than the socket buffers: the send goes on in the wait */
    size_t len = 8u << 20;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'x', len);
    db_value pb[2] = {v_text(big, len), v_int(7)};
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET big = ? WHERE id = ?", pb, 2, &err), DB_OK);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_OK);
    free(big);
    assert_int_equal(affected, 1);
    assert_int_equal(scalar(f->c, "SELECT LENGTH(big) FROM s WHERE id = 7"), (int64_t)len);
    /* a statement that fails reports at the wait */
    db_value dup = v_int(1);
    assert_int_equal(D->exec_send(f->c, "INSERT INTO s VALUES (?, 0, NULL)", &dup, 1, &err), DB_OK);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR);
    assert_int_equal(err.code, 1062);
    assert_int_equal(D->exec_wait(f->c, &affected, &err), DB_ERR); /* nothing sent */
    xexec(f->c, "ROLLBACK");
    assert_int_equal(scalar(f->c, "SELECT CAST(SUM(n) AS SIGNED) FROM s"), 0);
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = ? WHERE id = ?", &dup, 1, &err), DB_ERR);
    /* sent and never waited for: closing the connection releases it */
    assert_int_equal(D->exec_send(f->c, "UPDATE s SET n = ?", &dup, 1, &err), DB_OK);
}

static void test_affected_rows(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE a(x INT); INSERT INTO a VALUES (1),(2),(3),(4),(5);");
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
    /* A SELECT given to exec runs; its rows are read and dropped. */
    affected = -1;
    assert_int_equal(D->exec(f->c, "SELECT * FROM a", NULL, 0, &affected, &err), DB_OK);
    assert_int_equal(affected, 0);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM a"), 2);
}

/* ---- statement checks --------------------------------------------------- */

static void test_placeholder_count_mismatch(void **state)
{
    fixture *f = *state;
    xexec(f->c, "CREATE TABLE p(a INT, b INT)");
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

    /* A '?' inside a string literal is text, not a placeholder. */
    assert_int_equal(D->exec(f->c, "INSERT INTO p VALUES (LENGTH('?'), ?)", &one, 1, NULL, &err),
                     DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM p"), 1);
}

static void test_exec_refuses_two_statements(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    assert_int_equal(
        D->exec(f->c, "CREATE TABLE a(x INT); CREATE TABLE b(y INT)", NULL, 0, NULL, &err),
        DB_ERR);
    if (!strstr(err.message, "exec_script"))
        fail_msg("message does not point at exec_script: %s", err.message);
    /* Not even the first statement ran. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM information_schema.TABLES "
                                  "WHERE TABLE_SCHEMA = DATABASE()"),
                     0);

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT 1; SELECT 2", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "exec_script"));

    /* A value can never become a second statement. */
    db_value v = v_text("1; DROP DATABASE x", 18);
    assert_int_equal(D->query(f->c, "SELECT ?", &v, 1, &cur, &err), DB_OK);
    D->cursor_close(cur);

    /* Trailing separators and blanks are not a second statement, nor is a
     * ';' inside quotes or a comment. */
    xexec(f->c, "CREATE TABLE c(x VARCHAR(10));  \n;\t");
    xexec(f->c, "INSERT INTO c VALUES ('a;b') -- note; here\n");
    xexec(f->c, "INSERT INTO c /* ; */ VALUES (\"c;d\");");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM c WHERE x LIKE '%;%'"), 2);

    /* Nothing to run is an error too. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "empty statement"));
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, " ; -- nothing\n", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "empty statement"));
}

/* Statements the server cannot prepare run as plain queries when there is
 * nothing to bind. */
static void test_exec_unpreparable(void **state)
{
    fixture *f = *state;
    xexec(f->c, "PREPARE n9e_p FROM 'SELECT 41 + 1'");
    xexec(f->c, "SET @n9e_v = 1");
    xexec(f->c, "EXECUTE n9e_p");
    xexec(f->c, "DEALLOCATE PREPARE n9e_p");
    db_error err = {0};
    db_value p = v_text("SELECT 1", 8);
    assert_int_equal(D->exec(f->c, "PREPARE n9e_q FROM ?", &p, 1, NULL, &err), DB_ERR);
    assert_int_equal(err.code, E_UNSUPPORTED_PS);
    /* The connection is still in step. */
    assert_int_equal(scalar(f->c, "SELECT 7"), 7);
}

static void test_exec_script(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE s(x INT NOT NULL);\n"
                  "INSERT INTO s VALUES (1);\n"
                  "INSERT INTO s VALUES (2);\n"
                  "SELECT * FROM s;\n" /* results are read and dropped */
                  "CREATE INDEX s_x ON s(x);\n"
                  "INSERT INTO s SELECT x + 10 FROM s;\n"
                  "-- a trailing comment\n");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 4);
    assert_int_equal(scalar(f->c, "SELECT CAST(sum(x) AS SIGNED) FROM s"), 1 + 2 + 11 + 12);

    /* A failing statement stops the script there and reports why. */
    db_error err = {0};
    assert_int_equal(D->exec_script(f->c,
                                    "INSERT INTO s VALUES (100);"
                                    "INSERT INTO missing VALUES (1);"
                                    "INSERT INTO s VALUES (200);",
                                    &err),
                     DB_ERR);
    assert_int_equal(err.code, E_NO_SUCH_TABLE);
    assert_string_equal(err.sqlstate, "42S02");
    if (!strstr(err.message, "missing"))
        fail_msg("unexpected message: %s", err.message);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x = 100"), 1);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x = 200"), 0);
    /* A failing first statement is reported as well. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec_script(f->c, "SELEC 1; INSERT INTO s VALUES (300);", &err), DB_ERR);
    assert_int_equal(err.code, E_PARSE);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s WHERE x = 300"), 0);

    /* Multi-statement mode is off again: exec still refuses two. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELECT 1; SELECT 2", NULL, 0, NULL, &err), DB_ERR);
    assert_non_null(strstr(err.message, "exec_script"));

    /* Executable comments (as mysqldump writes them) are statements. */
    xscript(f->c, "/*!40101 SET @n9e_a = 5 */;\n");
    xexec(f->c, "/*M!100000 SET @n9e_b = 6 */");
    assert_int_equal(scalar(f->c, "SELECT @n9e_a + @n9e_b"), 11);

    /* Nothing at all is fine. */
    xscript(f->c, "");
    xscript(f->c, "  -- only a comment\n ; ");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM s"), 5);
}

/* ---- streaming ---------------------------------------------------------- */

#define STREAM_ROWS 200000
#define FIRST_SAMPLE 20000

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

/* src gets 1..STREAM_ROWS from a cross join of digits (portable SQL). */
static void seed_source(db_conn *c)
{
    xscript(c, "CREATE TABLE digits(d INT NOT NULL);"
               "INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);"
               "CREATE TABLE src(n INT NOT NULL PRIMARY KEY, pad VARCHAR(40) NOT NULL);");
    db_value lim = v_int(STREAM_ROWS);
    db_error err = {0};
    if (D->exec(c,
                "INSERT INTO src(n, pad) SELECT n, REPEAT('x', n % 40) FROM ("
                "SELECT a.d + 10*b.d + 100*c.d + 1000*d.d + 10000*e.d + 100000*f.d + 1 AS n "
                "FROM digits a, digits b, digits c, digits d, digits e, digits f) AS g "
                "WHERE n <= ?",
                &lim, 1, NULL, &err) != DB_OK)
        fail_msg("seeding: %s", err.message);
}

static void test_streaming_cursor_with_writes(void **state)
{
    fixture *f = *state;
    seed_source(f->c);
    xexec(f->c, "CREATE TABLE sink(n INT NOT NULL)");
    db_error err = {0};
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);

    db_cursor *cur = NULL;
    db_value limit = v_int(STREAM_ROWS);
    assert_int_equal(
        D->query(f->c, "SELECT n, pad FROM src WHERE n <= ? ORDER BY n", &limit, 1, &cur, &err),
        DB_OK);
    assert_int_equal(D->ncols(cur), 2);
    assert_string_equal(D->colname(cur, 0), "n");
    int64_t expect = 1;
    size_t heap_first = 0, heap_last = 0;
    int rc;
    while ((rc = D->next(cur, &err)) == DB_OK) {
        db_value v, pad;
        D->value(cur, 0, &v);
        D->value(cur, 1, &pad);
        if (v.type != DBV_INT || v.i != expect || pad.len != (size_t)(expect % 40)) {
            D->cursor_close(cur);
            fail_msg("row %lld: got type %d value %lld", (long long)expect, v.type,
                     (long long)v.i);
        }
        /* Another statement on the same connection while the cursor is open. */
        db_value p = v_int(v.i * 2);
        if (D->exec(f->c, "INSERT INTO sink(n) VALUES (?)", &p, 1, NULL, &err) != DB_OK) {
            D->cursor_close(cur);
            fail_msg("insert during iteration at row %lld: %s", (long long)expect, err.message);
        }
        if (expect == FIRST_SAMPLE)
            heap_first = heap_in_use();
        if (expect == STREAM_ROWS)
            heap_last = heap_in_use();
        expect++;
    }
    D->cursor_close(cur);
    assert_int_equal(rc, DB_DONE);
    assert_int_equal(expect - 1, STREAM_ROWS);
    assert_true(D->in_transaction(f->c));
    assert_int_equal(D->commit(f->c, &err), DB_OK);

    assert_int_equal(scalar(f->c, "SELECT count(*) FROM sink"), STREAM_ROWS);
    assert_int_equal(scalar(f->c, "SELECT CAST(sum(n) AS SIGNED) FROM sink"),
                     (int64_t)STREAM_ROWS * (STREAM_ROWS + 1));
    /* Client memory does not grow with the rows read: the heap after
     * 200000 rows is within a small constant of the heap after 20000.
     * (Under valgrind mallinfo2 reads zero and this is vacuous; valgrind
     * checks the leaks itself.) */
    fprintf(stderr, "heap in use: %zu bytes after %d rows, %zu after %d\n", heap_first,
            FIRST_SAMPLE, heap_last, STREAM_ROWS);
    if (heap_last > heap_first + 256 * 1024)
        fail_msg("client heap grew from %zu to %zu bytes while streaming", heap_first, heap_last);
}

/* A cursor closed early releases its statement: the table can be dropped,
 * and the connection is usable in between. */
static void test_cursor_close_early(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE e(x INT); INSERT INTO e VALUES (1),(2),(3),(4);");
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "SELECT x FROM e ORDER BY x", NULL, 0, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    /* A second cursor on the same connection, interleaved with the first. */
    db_cursor *cur2 = NULL;
    assert_int_equal(D->query(f->c, "SELECT x * 10 AS y FROM e ORDER BY x DESC", NULL, 0, &cur2,
                              &err),
                     DB_OK);
    assert_int_equal(D->next(cur2, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    db_value a, b;
    D->value(cur, 0, &a);
    D->value(cur2, 0, &b);
    assert_int_equal(a.i, 2);
    assert_int_equal(b.i, 40);
    D->cursor_close(cur2);
    D->cursor_close(cur);
    D->cursor_close(NULL);
    xexec(f->c, "DROP TABLE e");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM information_schema.TABLES "
                                  "WHERE TABLE_SCHEMA = DATABASE()"),
                     0);

    /* A statement without a result set runs in query() and has no rows. */
    xexec(f->c, "CREATE TABLE q(x INT)");
    db_value p = v_int(5);
    assert_int_equal(D->query(f->c, "INSERT INTO q VALUES (?)", &p, 1, &cur, &err), DB_OK);
    assert_int_equal(D->ncols(cur), 0);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);
    assert_int_equal(scalar(f->c, "SELECT x FROM q"), 5);
}

/* Statements the server opens no cursor for are read whole at once, so
 * the connection stays usable; several results (CALL) belong to exec. */
static void test_query_without_server_cursor(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE w(x INT PRIMARY KEY); INSERT INTO w VALUES (1), (2), (3);");
    static const char *const sqls[] = {
        "SHOW CREATE TABLE w", "EXPLAIN SELECT * FROM w", "CHECK TABLE w",
        "SHOW WARNINGS", "DESCRIBE w", "SHOW TABLES",
    };
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
        db_cursor *cur = NULL;
        db_error err = {0};
        if (D->query(f->c, sqls[i], NULL, 0, &cur, &err) != DB_OK)
            fail_msg("query(%s): %s", sqls[i], err.message);
        assert_true(D->ncols(cur) > 0);
        int rows = 0, rc;
        while ((rc = D->next(cur, &err)) == DB_OK) {
            xexec(f->c, "DO 1"); /* the connection is free meanwhile */
            rows++;
        }
        assert_int_equal(rc, DB_DONE);
        D->cursor_close(cur);
        if (i != 3 && rows == 0)
            fail_msg("query(%s) returned no rows", sqls[i]);
    }

    /* A compound statement is one statement for exec, ';' and all. */
    xexec(f->c, "CREATE PROCEDURE two_results() BEGIN SELECT 1 AS a; "
                "SELECT x FROM w ORDER BY x; END;");
    xexec(f->c, "CALL two_results()"); /* every result is read */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM w"), 3);
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->query(f->c, "CALL two_results()", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_non_null(strstr(err.message, "exec"));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM w"), 3);

    /* SELECT ... INTO has no rows to stream: it runs without a cursor. */
    assert_int_equal(D->query(f->c, "SELECT max(x) INTO @n9e_m FROM w", NULL, 0, &cur, &err),
                     DB_OK);
    assert_int_equal(D->ncols(cur), 0);
    assert_int_equal(D->next(cur, &err), DB_DONE);
    D->cursor_close(cur);
    assert_int_equal(scalar(f->c, "SELECT @n9e_m"), 3);
    /* A parenthesised, commented SELECT streams as well. */
    assert_int_equal(scalar(f->c, " /* c */ ( SELECT count(*) FROM w )"), 3);
}

/* ---- transactions ------------------------------------------------------- */

static void test_transactions_and_savepoints(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE t(x INT) ENGINE=InnoDB");
    assert_false(D->in_transaction(f->c));

    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (1)");
    assert_int_equal(D->savepoint(f->c, "sp`1", &err), DB_OK); /* quoted name */
    xexec(f->c, "INSERT INTO t VALUES (2)");
    xexec(f->c, "INSERT INTO t VALUES (3)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);
    assert_int_equal(D->rollback_to(f->c, "sp`1", &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 1);
    assert_true(D->in_transaction(f->c)); /* rollback_to keeps the transaction */
    xexec(f->c, "INSERT INTO t VALUES (4)");
    assert_int_equal(D->savepoint(f->c, "inner", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (5)");
    assert_int_equal(D->release(f->c, "inner", &err), DB_OK); /* keeps 5 */
    assert_int_equal(D->release(f->c, "sp`1", &err), DB_OK);
    assert_true(D->in_transaction(f->c));

    /* Uncommitted work is invisible to another connection. */
    f->c2 = connect_db(f->db);
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM t"), 0);
    assert_int_equal(D->commit(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);
    assert_int_equal(scalar(f->c, "SELECT CAST(sum(x) AS SIGNED) FROM t"), 1 + 4 + 5);
    assert_int_equal(scalar(f->c2, "SELECT count(*) FROM t"), 3);

    /* rollback discards everything since begin, savepoints included;
     * immediate means nothing more on this engine. */
    assert_int_equal(D->begin(f->c, 1, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO t VALUES (6)");
    assert_int_equal(D->savepoint(f->c, "s", &err), DB_OK);
    xexec(f->c, "INSERT INTO t VALUES (7)");
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM t"), 3);

    /* An unknown savepoint is an error that leaves the transaction open. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->rollback_to(f->c, "nope", &err), DB_ERR);
    assert_int_equal(err.code, E_SP_DOES_NOT_EXIST);
    assert_non_null(strstr(err.message, "nope"));
    assert_true(D->in_transaction(f->c));
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
}

/* DDL commits implicitly; in_transaction follows the server's flag, which
 * is how the Lua layer notices. */
static void test_implicit_commit(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE ic(x INT) ENGINE=InnoDB");
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO ic VALUES (1)");
    assert_true(D->in_transaction(f->c));
    xexec(f->c, "CREATE TABLE ic2(y INT)");
    assert_false(D->in_transaction(f->c));
    /* ... and the insert before it was committed with it. */
    assert_int_equal(D->rollback(f->c, &err), DB_OK);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM ic"), 1);

    /* exec_script's statements move the flag too. */
    xscript(f->c, "START TRANSACTION; INSERT INTO ic VALUES (2);");
    assert_true(D->in_transaction(f->c));
    xscript(f->c, "INSERT INTO ic VALUES (3); CREATE TABLE ic3(z INT);");
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM ic"), 3);
}

/* A deadlock rolls the victim's transaction back; its error packet carries
 * no status, yet in_transaction must say the transaction is gone. */
static void test_deadlock_ends_transaction(void **state)
{
    fixture *f = *state;
    xscript(f->c, "CREATE TABLE dl(id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
                  "CREATE TABLE digits(d INT);"
                  "INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);"
                  "INSERT INTO dl SELECT a.d * 10 + b.d + 1, 0 FROM digits a, digits b;");
    db_target t;
    make_target(f->db, NULL, g_password, 0, &t);
    MYSQL *a = mysql_init(NULL);
    assert_non_null(a);
    if (!mysql_real_connect(a, t.host, t.user, t.password, t.dbname, (unsigned)t.port, NULL, 0))
        fail_msg("raw connect: %s", mysql_error(a));
    dsn_free(&t);
    /* a: the heavier transaction (99 rows), so InnoDB picks the other. */
    assert_int_equal(mysql_query(a, "START TRANSACTION"), 0);
    assert_int_equal(mysql_query(a, "UPDATE dl SET v = 1 WHERE id > 1"), 0);

    db_error err = {0};
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    xexec(f->c, "UPDATE dl SET v = 2 WHERE id = 1");
    assert_true(D->in_transaction(f->c));
    /* a waits for our row; then we ask for one of a's rows. */
    static const char wait_sql[] = "UPDATE dl SET v = 3 WHERE id = 1";
    assert_int_equal(mysql_send_query(a, wait_sql, (unsigned long)strlen(wait_sql)), 0);
    usleep(300 * 1000);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "UPDATE dl SET v = 4 WHERE id = 2", NULL, 0, NULL, &err),
                     DB_ERR);
    assert_int_equal(err.code, E_DEADLOCK);
    assert_string_equal(err.sqlstate, "40001");
    assert_false(D->in_transaction(f->c));

    assert_int_equal(mysql_read_query_result(a), 0); /* a got our row */
    assert_int_equal(mysql_query(a, "ROLLBACK"), 0);
    mysql_close(a);
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM dl WHERE v <> 0"), 0);
}

/* ---- lock ---------------------------------------------------------------- */

/* A child process that takes the lock on a connection of its own and then
 * waits to be killed; returns once it holds the lock. */
static pid_t lock_in_child(const char *db, const char *key)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        db_target t;
        make_target(db, NULL, g_password, 0, &t);
        db_conn *c = NULL;
        db_error err = {0};
        char ok = D->connect(&t, &c, &err) == DB_OK && D->lock(c, key, 5.0, &err) == DB_OK;
        if (write(fds[1], &ok, 1) != 1 || !ok)
            _exit(1);
        for (;;)
            pause(); /* until SIGKILL: no COM_QUIT, no RELEASE_LOCK */
    }
    close(fds[1]);
    char ok = 0;
    ssize_t got = read(fds[0], &ok, 1);
    close(fds[0]);
    if (got != 1 || !ok) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("the child process could not take the lock");
    }
    return pid;
}

static void test_lock(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    f->c2 = connect_db(f->db);

    assert_int_equal(D->lock_held(f->c2, "n9e-migrate", &err), 0);
    assert_int_equal(D->lock(f->c, "n9e-migrate", 1.0, &err), DB_OK);
    assert_false(D->in_transaction(f->c)); /* an advisory lock, not a transaction */
    /* seen from the holder and from another session, and only that key */
    assert_int_equal(D->lock_held(f->c, "n9e-migrate", &err), 1);
    assert_int_equal(D->lock_held(f->c2, "n9e-migrate", &err), 1);
    assert_int_equal(D->lock_held(f->c2, "n9e-other", &err), 0);

    /* A second connection gives up after about the (fractional) timeout. */
    double t0 = now();
    memset(&err, 0, sizeof err);
    int rc = D->lock(f->c2, "n9e-migrate", 0.3, &err);
    double waited = now() - t0;
    assert_int_equal(rc, DB_TIMEOUT);
    if (waited < 0.25 || waited > 1.5)
        fail_msg("lock(timeout=0.3) gave up after %.3f s", waited);

    /* Other keys are other locks, also long ones sharing a prefix. */
    static const char long_a[] = "a-very-long-lock-key-that-shares-its-prefix-with-another-one-A";
    static const char long_b[] = "a-very-long-lock-key-that-shares-its-prefix-with-another-one-B";
    assert_int_equal(D->lock(f->c, long_a, 0, &err), DB_OK);
    assert_int_equal(D->lock(f->c2, long_b, 0, &err), DB_OK);
    assert_int_equal(D->lock(f->c2, long_a, 0, &err), DB_TIMEOUT);
    assert_int_equal(D->unlock(f->c2, long_b, &err), DB_OK);
    assert_int_equal(D->unlock(f->c, long_a, &err), DB_OK);

    /* Releasing lets the other connection take it; then the first one is
     * refused at once with a zero timeout. */
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_OK);
    assert_int_equal(D->lock_held(f->c2, "n9e-migrate", &err), 0);
    assert_int_equal(D->lock(f->c2, "n9e-migrate", 0.3, &err), DB_OK);
    t0 = now();
    assert_int_equal(D->lock(f->c, "n9e-migrate", 0, &err), DB_TIMEOUT);
    assert_true(now() - t0 < 0.2);
    /* Releasing another connection's lock is refused. */
    memset(&err, 0, sizeof err);
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_ERR);
    assert_non_null(strstr(err.message, "another connection"));

    /* A holder that closes its connection frees the lock at once. */
    D->close(f->c2);
    f->c2 = NULL;
    t0 = now();
    assert_int_equal(D->lock(f->c, "n9e-migrate", 5.0, &err), DB_OK);
    assert_true(now() - t0 < 1.0);
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_OK);

    /* So does one that crashes: a process killed while it holds the lock. */
    pid_t holder = lock_in_child(f->db, "n9e-migrate");
    assert_int_equal(D->lock(f->c, "n9e-migrate", 0, &err), DB_TIMEOUT);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    t0 = now();
    assert_int_equal(D->lock(f->c, "n9e-migrate", 5.0, &err), DB_OK);
    assert_true(now() - t0 < 1.0);

    /* unlock ends a transaction the lock protected, as on SQLite. */
    xexec(f->c, "CREATE TABLE lk(x INT) ENGINE=InnoDB");
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    xexec(f->c, "INSERT INTO lk VALUES (1)");
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM lk"), 0);
    /* Unlocking what is not held is not an error. */
    assert_int_equal(D->unlock(f->c, "n9e-migrate", &err), DB_OK);
}

/* ---- read-only ------------------------------------------------------------ */

static void expect_read_only_error(db_conn *c, const char *sql)
{
    db_error err = {0};
    if (D->exec(c, sql, NULL, 0, NULL, &err) != DB_ERR)
        fail_msg("%s succeeded in read-only mode", sql);
    if (err.code != E_READ_ONLY_TX)
        fail_msg("%s: expected error %d, got %d: %s", sql, E_READ_ONLY_TX, err.code, err.message);
    assert_string_equal(err.sqlstate, "25006");
}

static void test_read_only(void **state)
{
    fixture *f = *state;
    db_error err = {0};
    xexec(f->c, "CREATE TABLE r(x INT) ENGINE=InnoDB");
    xexec(f->c, "INSERT INTO r VALUES (1)");
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_OK);
    assert_true(D->in_transaction(f->c)); /* a read-only transaction is open */

    expect_read_only_error(f->c, "INSERT INTO r VALUES (2)");
    expect_read_only_error(f->c, "CREATE TABLE r3(y INT)");
    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec_script(f->c, "DELETE FROM r; CREATE TABLE r2(y INT);", &err), DB_ERR);
    assert_int_equal(err.code, E_READ_ONLY_TX);
    /* Reads still work. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 1);

    assert_int_equal(D->set_read_only(f->c, 0, &err), DB_OK);
    assert_false(D->in_transaction(f->c));
    xexec(f->c, "INSERT INTO r VALUES (2)");
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM r"), 2);

    /* Refused inside an open transaction: it cannot be made read-only. */
    assert_int_equal(D->begin(f->c, 0, &err), DB_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(D->set_read_only(f->c, 1, &err), DB_ERR);
    assert_non_null(strstr(err.message, "transaction"));
    assert_int_equal(D->rollback(f->c, &err), DB_OK);

    /* A connection opened read-only refuses writes and stays so. */
    db_conn *ro = connect_opts(f->db, NULL, 1);
    expect_read_only_error(ro, "INSERT INTO r VALUES (3)");
    assert_int_equal(scalar(ro, "SELECT count(*) FROM r"), 2);
    assert_int_equal(D->set_read_only(ro, 1, &err), DB_OK);
    assert_int_equal(D->set_read_only(ro, 0, &err), DB_OK);
    expect_read_only_error(ro, "INSERT INTO r VALUES (3)");
    D->close(ro);
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
    check_quote(f->c, "a`b", "`a``b`");
    check_quote(f->c, "plain", "`plain`");
    check_quote(f->c, "`", "````");
    check_quote(f->c, "sp ace;--\"'", "`sp ace;--\"'`");

    db_error err = {0};
    assert_null(D->quote_ident(f->c, "", &err));
    assert_true(strlen(err.message) > 0);
    assert_null(D->quote_ident(f->c, NULL, &err));

    /* The quoted name is usable and names exactly that table. */
    char *q = D->quote_ident(f->c, "we`ird tbl", &err);
    assert_non_null(q);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s(x INT)", q);
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
    assert_str(&v, "we`ird tbl");
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
        if (r >= nrows)
            fail_msg("catalog(%d, %s): more than %d rows", (int)kind, table ? table : "-", nrows);
        for (int i = 0; i < ncols; i++) {
            const cell *want = &rows[r * ncols + i];
            db_value v;
            D->value(cur, i, &v);
            if (want->is_int) {
                if (v.type != DBV_INT || v.i != want->i)
                    fail_msg("catalog row %d col %s: expected %lld, got type %d %lld", r, cols[i],
                             (long long)want->i, v.type, (long long)v.i);
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
            "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
            "  name VARCHAR(191) NOT NULL DEFAULT 'anon',\n"
            "  email VARCHAR(191) UNIQUE,\n"
            "  age INT,\n"
            "  nick VARCHAR(20) DEFAULT 'NULL',\n"
            "  score INT NOT NULL DEFAULT 0,\n"
            "  note TEXT NOT NULL);\n"
            "CREATE INDEX idx_users_name_age ON users(name, age);\n"
            "CREATE UNIQUE INDEX ux_users_email_name ON users(email, name);\n"
            "CREATE TABLE alerts(rule_id BIGINT NOT NULL, note VARCHAR(64) NOT NULL,\n"
            "                    PRIMARY KEY (note, rule_id));\n"
            "CREATE TABLE Zeta(x INT);\n"
            "CREATE VIEW v_users AS SELECT id FROM users;\n"
            "INSERT INTO users(name, note) VALUES ('x', 'y');\n");

    /* Base tables only, by byte order (upper case first), as SQLite. */
    static const char *const tcols[] = {"name"};
    static const cell tables[] = {S("Zeta"), S("alerts"), S("users")};
    check_catalog(f->c, DB_CATALOG_TABLES, NULL, tcols, 1, tables, 3);

    /* dflt: NULL when there is no default (or DEFAULT NULL), else its SQL
     * text; a string default 'NULL' stays a quoted string. */
    static const char *const ccols[] = {"name", "type", "notnull", "dflt", "pk"};
    static const cell users_cols[] = {
        S("id"),    S("bigint(20)"),   I(1), N,            I(1),
        S("name"),  S("varchar(191)"), I(1), S("'anon'"),  I(0),
        S("email"), S("varchar(191)"), I(0), N,            I(0),
        S("age"),   S("int(11)"),      I(0), N,            I(0),
        S("nick"),  S("varchar(20)"),  I(0), S("'NULL'"),  I(0),
        S("score"), S("int(11)"),      I(1), S("0"),       I(0),
        S("note"),  S("text"),         I(1), N,            I(0),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "users", ccols, 5, users_cols, 7);
    static const cell alerts_cols[] = {
        S("rule_id"), S("bigint(20)"),  I(1), N, I(2),
        S("note"),    S("varchar(64)"), I(1), N, I(1),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, "alerts", ccols, 5, alerts_cols, 2);
    check_catalog(f->c, DB_CATALOG_COLUMNS, "no_such_table", ccols, 5, NULL, 0);

    static const char *const icols[] = {"name", "unique", "columns"};
    static const cell users_idx[] = {
        S("email"),               I(1), S("email"),
        S("idx_users_name_age"),  I(0), S("name,age"),
        S("ux_users_email_name"), I(1), S("email,name"),
    };
    check_catalog(f->c, DB_CATALOG_INDEXES, "users", icols, 3, users_idx, 3);

    /* Every table at once (table NULL): the same rows led by the table. */
    assert_true(D->catalog_all);
    static const char *const all_ccols[] = {"tbl", "name", "type", "notnull", "dflt", "pk"};
    static const cell all_cols[] = {
        S("Zeta"),   S("x"),       S("int(11)"),      I(0), N, I(0),
        S("alerts"), S("rule_id"), S("bigint(20)"),   I(1), N, I(2),
        S("alerts"), S("note"),    S("varchar(64)"),  I(1), N, I(1),
        S("users"),  S("id"),      S("bigint(20)"),   I(1), N, I(1),
        S("users"),  S("name"),    S("varchar(191)"), I(1), S("'anon'"), I(0),
        S("users"),  S("email"),   S("varchar(191)"), I(0), N, I(0),
        S("users"),  S("age"),     S("int(11)"),      I(0), N, I(0),
        S("users"),  S("nick"),    S("varchar(20)"),  I(0), S("'NULL'"), I(0),
        S("users"),  S("score"),   S("int(11)"),      I(1), S("0"), I(0),
        S("users"),  S("note"),    S("text"),         I(1), N, I(0),
        S("v_users"), S("id"),     S("bigint(20)"),   I(1), S("0"), I(0),
    };
    check_catalog(f->c, DB_CATALOG_COLUMNS, NULL, all_ccols, 6, all_cols, 11);
    static const char *const all_icols[] = {"tbl", "name", "unique", "columns"};
    static const cell all_idx[] = {
        S("users"), S("email"),               I(1), S("email"),
        S("users"), S("idx_users_name_age"),  I(0), S("name,age"),
        S("users"), S("ux_users_email_name"), I(1), S("email,name"),
    };
    check_catalog(f->c, DB_CATALOG_INDEXES, NULL, all_icols, 4, all_idx, 3);
    /* The primary key's own index is not listed. */
    check_catalog(f->c, DB_CATALOG_INDEXES, "alerts", icols, 3, NULL, 0);

    /* A catalog cursor leaves the connection free too. */
    db_cursor *cur = NULL;
    db_error err = {0};
    assert_int_equal(D->catalog(f->c, DB_CATALOG_TABLES, NULL, &cur, &err), DB_OK);
    assert_int_equal(D->next(cur, &err), DB_OK);
    xexec(f->c, "INSERT INTO users(name, note) VALUES ('during', 'catalog')");
    assert_int_equal(D->next(cur, &err), DB_OK);
    D->cursor_close(cur);
}

/* ---- engine errors -------------------------------------------------------- */

static void test_engine_errors(void **state)
{
    fixture *f = *state;
    db_error err;

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, &err), DB_ERR);
    assert_int_equal(err.code, E_NO_SUCH_TABLE);
    assert_string_equal(err.sqlstate, "42S02");
    if (!strstr(err.message, "nope"))
        fail_msg("unexpected message: %s", err.message);

    db_cursor *cur = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(D->query(f->c, "SELECT x FROM nope", NULL, 0, &cur, &err), DB_ERR);
    assert_null(cur);
    assert_int_equal(err.code, E_NO_SUCH_TABLE);

    memset(&err, 0, sizeof err);
    assert_int_equal(D->exec(f->c, "SELEC 1", NULL, 0, NULL, &err), DB_ERR);
    assert_int_equal(err.code, E_PARSE);
    assert_string_equal(err.sqlstate, "42000");
    assert_non_null(strstr(err.message, "syntax"));

    /* Constraint violation, through a bound statement. */
    xexec(f->c, "CREATE TABLE u(x INT UNIQUE)");
    xexec(f->c, "INSERT INTO u VALUES (1)");
    memset(&err, 0, sizeof err);
    db_value one = v_int(1);
    assert_int_equal(D->exec(f->c, "INSERT INTO u VALUES (?)", &one, 1, NULL, &err), DB_ERR);
    assert_int_equal(err.code, E_DUP_ENTRY);
    assert_string_equal(err.sqlstate, "23000");
    assert_non_null(strstr(err.message, "Duplicate entry"));

    /* A NULL error pointer is allowed. */
    assert_int_equal(D->exec(f->c, "SELECT * FROM nope", NULL, 0, NULL, NULL), DB_ERR);
    assert_int_equal(D->exec(f->c, "", NULL, 0, NULL, NULL), DB_ERR);
    assert_int_equal(D->exec_script(f->c, "SELECT * FROM nope", NULL), DB_ERR);

    /* The connection is still fine afterwards. */
    assert_int_equal(scalar(f->c, "SELECT count(*) FROM u"), 1);
}

int main(void)
{
    g_dsn = getenv("N9E_TEST_MYSQL_DSN");
    g_password = getenv("N9E_TEST_PASSWORD");
    if (!g_dsn || !*g_dsn || !g_password) {
        fprintf(stderr, "test_driver_mysql: N9E_TEST_MYSQL_DSN and N9E_TEST_PASSWORD must be "
                        "set (run `eval \"$(tools/servers.sh start)\"` first)\n");
        return 1;
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_connect_session),
        T(test_connect_params),
        T(test_connect_errors_hide_password),
        T(test_connect_go_dsn),
        T(test_bind_and_read_every_type),
        T(test_column_types),
        T(test_long_values),
        T(test_affected_rows),
        T(test_statement_reuse),
        T(test_exec_send_and_wait),
        T(test_placeholder_count_mismatch),
        T(test_exec_refuses_two_statements),
        T(test_exec_unpreparable),
        T(test_exec_script),
        T(test_streaming_cursor_with_writes),
        T(test_cursor_close_early),
        T(test_query_without_server_cursor),
        T(test_transactions_and_savepoints),
        T(test_implicit_commit),
        T(test_deadlock_ends_transaction),
        T(test_lock),
        T(test_read_only),
        T(test_quote_ident),
        T(test_catalog),
        T(test_engine_errors),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mysql_library_end(); /* lets valgrind see a clean exit */
    return rc;
}
