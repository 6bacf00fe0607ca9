/*
 * test_dsn.c -- dsn_parse / dsn_redact / dsn_free.
 *
 * Every parse (successful or not) is followed by dsn_free, so valgrind
 * checks the error paths release what they allocated.  A distinctive
 * password is used throughout so that any leak of it into an error message
 * or a redacted string is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dsn.h"

#define PW "s3cr3t-PW"

/* Parse text expecting success; the target is left for the caller. */
static void parse_ok(const char *text, db_target *t)
{
    char eb[256] = "";
    int rc = dsn_parse(text, t, eb, sizeof eb);
    if (rc != 0)
        fail_msg("dsn_parse(\"%s\") failed: %s", text, eb);
}

/* Parse text expecting failure; checks the message, that the password is
 * not in it, that the target holds nothing, and frees it. */
static void parse_fails(const char *text, const char *expect_in_msg)
{
    db_target t;
    char eb[256];
    memset(eb, 'x', sizeof eb); /* no stale NUL: the message must be written */
    eb[sizeof eb - 1] = '\0';
    int rc = dsn_parse(text, &t, eb, sizeof eb);
    if (rc != -1)
        fail_msg("dsn_parse(\"%s\") should fail, returned %d", text ? text : "(null)", rc);
    if (!strstr(eb, expect_in_msg))
        fail_msg("dsn_parse(\"%s\"): message \"%s\" lacks \"%s\"", text ? text : "(null)", eb,
                 expect_in_msg);
    if (strstr(eb, PW) || strstr(eb, "s3cr3t"))
        fail_msg("error message leaks the password: %s", eb);
    /* A failed parse leaves nothing allocated behind. */
    assert_null(t.path);
    assert_null(t.host);
    assert_null(t.user);
    assert_null(t.password);
    assert_null(t.dbname);
    assert_null(t.params);
    dsn_free(&t);
}

static void assert_redacted(const db_target *t, const char *expect)
{
    char *r = dsn_redact(t);
    assert_non_null(r);
    if (strstr(r, PW) || strstr(r, "s3cr3t"))
        fail_msg("dsn_redact leaks the password: %s", r);
    assert_string_equal(r, expect);
    free(r);
}

/* ---- sqlite ------------------------------------------------------------- */

static void test_sqlite_colon(void **state)
{
    (void)state;
    db_target t;
    parse_ok("sqlite:./data/n9e.db", &t);
    assert_string_equal(t.engine, "sqlite");
    assert_string_equal(t.path, "./data/n9e.db");
    assert_null(t.host);
    assert_null(t.user);
    assert_null(t.password);
    assert_int_equal(t.port, 0);
    assert_redacted(&t, "sqlite:./data/n9e.db");
    dsn_free(&t);
    assert_null(t.path); /* dsn_free resets the target */
}

static void test_sqlite_slashes(void **state)
{
    (void)state;
    db_target t;
    parse_ok("sqlite://rel/n9e.db", &t);
    assert_string_equal(t.engine, "sqlite");
    assert_string_equal(t.path, "rel/n9e.db");
    dsn_free(&t);

    /* sqlite:///abs -> the path keeps its leading slash */
    parse_ok("sqlite:///var/lib/n9e.db", &t);
    assert_string_equal(t.path, "/var/lib/n9e.db");
    dsn_free(&t);

    parse_ok("sqlite::memory:", &t);
    assert_string_equal(t.path, ":memory:");
    dsn_free(&t);
}

static void test_bare_path(void **state)
{
    (void)state;
    db_target t;
    parse_ok("n9e.db", &t);
    assert_string_equal(t.engine, "sqlite");
    assert_string_equal(t.path, "n9e.db");
    dsn_free(&t);

    parse_ok("./some dir/with:colon.db", &t);
    assert_string_equal(t.engine, "sqlite");
    assert_string_equal(t.path, "./some dir/with:colon.db");
    assert_redacted(&t, "sqlite:./some dir/with:colon.db");
    dsn_free(&t);
}

static void test_sqlite_without_path(void **state)
{
    (void)state;
    parse_fails("sqlite:", "file path");
    parse_fails("sqlite://", "file path");
}

/* ---- URLs --------------------------------------------------------------- */

static void test_postgres_full(void **state)
{
    (void)state;
    db_target t;
    parse_ok("postgres://user:p%40ss@host:5432/db?sslmode=disable", &t);
    assert_string_equal(t.engine, "postgres");
    assert_string_equal(t.user, "user");
    assert_string_equal(t.password, "p@ss"); /* %40 decoded */
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 5432);
    assert_string_equal(t.dbname, "db");
    assert_string_equal(t.params, "sslmode=disable");
    assert_null(t.path);
    char *r = dsn_redact(&t);
    assert_non_null(r);
    assert_null(strstr(r, "p@ss"));
    assert_null(strstr(r, "p%40ss"));
    free(r);
    assert_redacted(&t, "postgres://user:***@host:5432/db");
    dsn_free(&t);
}

static void test_postgres_secret_redacted(void **state)
{
    (void)state;
    db_target t;
    parse_ok("postgres://n9e:" PW "@db.example:6543/n9e_v7?sslmode=require&connect_timeout=5",
             &t);
    assert_string_equal(t.password, PW);
    assert_string_equal(t.params, "sslmode=require&connect_timeout=5");
    assert_int_equal(t.port, 6543);
    assert_redacted(&t, "postgres://n9e:***@db.example:6543/n9e_v7");
    dsn_free(&t);

    /* Password with a ':' and an encoded '@' and '/'; the last '@' ends the
     * userinfo. */
    parse_ok("postgres://n9e:" PW ":x%2Fy@h/d", &t);
    assert_string_equal(t.user, "n9e");
    assert_string_equal(t.password, PW ":x/y");
    assert_string_equal(t.host, "h");
    assert_int_equal(t.port, 0);
    assert_string_equal(t.dbname, "d");
    assert_null(t.params);
    assert_redacted(&t, "postgres://n9e:***@h/d");
    dsn_free(&t);
}

static void test_postgresql_scheme(void **state)
{
    (void)state;
    db_target t;
    parse_ok("postgresql://alice@pg.internal/n9e%20v7", &t);
    assert_string_equal(t.engine, "postgres");
    assert_string_equal(t.user, "alice");
    assert_null(t.password);
    assert_string_equal(t.host, "pg.internal");
    assert_int_equal(t.port, 0);
    assert_string_equal(t.dbname, "n9e v7");
    char *r = dsn_redact(&t);
    assert_non_null(r);
    assert_non_null(strstr(r, "postgres://alice@pg.internal"));
    assert_null(strstr(r, "***")); /* no password, nothing to mask */
    free(r);
    dsn_free(&t);

    /* No userinfo at all. */
    parse_ok("postgresql://pg.internal:5433/n9e", &t);
    assert_null(t.user);
    assert_null(t.password);
    assert_int_equal(t.port, 5433);
    assert_redacted(&t, "postgres://pg.internal:5433/n9e");
    dsn_free(&t);
}

static void test_mysql_ipv6(void **state)
{
    (void)state;
    db_target t;
    parse_ok("mysql://u@[::1]:3306/db", &t);
    assert_string_equal(t.engine, "mysql");
    assert_string_equal(t.user, "u");
    assert_null(t.password);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 3306);
    assert_string_equal(t.dbname, "db");
    assert_null(t.params);
    assert_redacted(&t, "mysql://u@[::1]:3306/db"); /* brackets kept */
    dsn_free(&t);

    parse_ok("mysql://root:" PW "@[2001:db8::5]/n9e?charset=utf8mb4", &t);
    assert_string_equal(t.user, "root");
    assert_string_equal(t.host, "2001:db8::5");
    assert_int_equal(t.port, 0);
    assert_string_equal(t.password, PW);
    assert_string_equal(t.params, "charset=utf8mb4");
    char *r = dsn_redact(&t);
    assert_non_null(r);
    assert_non_null(strstr(r, "***"));
    assert_null(strstr(r, PW));
    free(r);
    dsn_free(&t);
}

/* ---- errors ------------------------------------------------------------- */

static void test_empty(void **state)
{
    (void)state;
    parse_fails("", "empty connection string");
    parse_fails(NULL, "empty connection string");
}

static void test_unknown_scheme(void **state)
{
    (void)state;
    parse_fails("oracle://scott:" PW "@host/orcl", "unknown scheme");
    parse_fails("Postgres://u:" PW "@host/db", "unknown scheme"); /* case matters */
    parse_fails("redis://h/0", "unknown scheme");
}

static void test_missing_host(void **state)
{
    (void)state;
    parse_fails("postgres:///db", "no host");
    parse_fails("postgres://u:" PW "@/db", "no host");
    parse_fails("postgres://u:" PW "@:5432/db", "no host");
    parse_fails("mysql://u:" PW "@[]:3306/db", "no host");
    parse_fails("mysql://u:" PW "@[::1/db", "unterminated");
}

static void test_bad_port(void **state)
{
    (void)state;
    parse_fails("postgres://u:" PW "@host:0/db", "port must be a number between 1 and 65535");
    parse_fails("postgres://u:" PW "@host:70000/db", "port must be");
    parse_fails("postgres://u:" PW "@host:abc/db", "port must be");
    parse_fails("postgres://u:" PW "@host:54x/db", "port must be");
    parse_fails("postgres://u:" PW "@host:/db", "port must be");
    parse_fails("mysql://u:" PW "@[::1]:99999/db", "port must be");
    parse_fails("mysql://u:" PW "@host:-1/db", "port must be");
}

static void test_missing_dbname(void **state)
{
    (void)state;
    parse_fails("postgres://u:" PW "@host:5432", "no database");
    parse_fails("postgres://u:" PW "@host:5432/", "no database");
    parse_fails("postgres://u:" PW "@host/?sslmode=disable", "no database");
    parse_fails("mysql://u:" PW "@host?x=1", "no database");
}

static void test_bad_percent_escape(void **state)
{
    (void)state;
    /* In the password: the message names the part but not its content. */
    parse_fails("postgres://u:" PW "%zz@host/db", "percent-escape");
    parse_fails("postgres://u:" PW "%4@host/db", "percent-escape");
    parse_fails("postgres://u:" PW "%@host/db", "percent-escape");
    parse_fails("postgres://u:" PW "%4g@host/db", "percent-escape"); /* 2nd digit bad */
    /* In the user. */
    parse_fails("postgres://u%G1:" PW "@host/db", "percent-escape");
    /* In the database name (password parsed first, then freed). */
    parse_fails("postgres://u:" PW "@host/db%2", "percent-escape in the database name");
    parse_fails("mysql://u:" PW "@host/%xyz", "percent-escape in the database name");
}

/* The error buffer is always terminated, even when it is too small. */
static void test_small_error_buffer(void **state)
{
    (void)state;
    db_target t;
    char eb[8];
    memset(eb, 'x', sizeof eb);
    assert_int_equal(dsn_parse("postgres://u:" PW "@host:0/db", &t, eb, sizeof eb), -1);
    assert_int_equal(strlen(eb), sizeof eb - 1);
    assert_string_equal(eb, "port mu");
    dsn_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_colon),
        cmocka_unit_test(test_sqlite_slashes),
        cmocka_unit_test(test_bare_path),
        cmocka_unit_test(test_sqlite_without_path),
        cmocka_unit_test(test_postgres_full),
        cmocka_unit_test(test_postgres_secret_redacted),
        cmocka_unit_test(test_postgresql_scheme),
        cmocka_unit_test(test_mysql_ipv6),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_unknown_scheme),
        cmocka_unit_test(test_missing_host),
        cmocka_unit_test(test_bad_port),
        cmocka_unit_test(test_missing_dbname),
        cmocka_unit_test(test_bad_percent_escape),
        cmocka_unit_test(test_small_error_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
