#define _POSIX_C_SOURCE 200809L
/* Nightingale's own DSN forms, --n9e-config, password files: parsed right,
 * refused with a reason, and never echoing the password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsn.h"
#include "n9e_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW "Zq9-secret:@/pw"

static void parse_ok(const char *type, const char *text, db_target *t)
{
    char msg[256] = "";
    int rc = dsn_parse_as(type, text, t, msg, sizeof msg);
    if (rc != 0)
        fail_msg("parse of a valid DSN failed: %s", msg);
}

static void parse_fails(const char *type, const char *text, const char *want)
{
    db_target t;
    char msg[256] = "";
    assert_int_equal(dsn_parse_as(type, text, &t, msg, sizeof msg), -1);
    if (!strstr(msg, want))
        fail_msg("message '%s' lacks '%s'", msg, want);
    assert_null(strstr(msg, "Zq9"));
    assert_null(t.password);
}

static void assert_redacted_has_no_password(const db_target *t)
{
    char *r = dsn_redact(t);
    assert_non_null(r);
    assert_null(strstr(r, "Zq9"));
    assert_non_null(strstr(r, ":***@"));
    free(r);
}

static void test_go_mysql_dsn(void **state)
{
    (void)state;
    db_target t;
    /* a password holding ':' '@' '/' is read the way the Go driver reads it */
    parse_ok(NULL, "root:" PW "@tcp(10.1.2.3:3307)/n9e_v6?charset=utf8mb4&parseTime=True&loc=Local",
             &t);
    assert_string_equal(t.engine, "mysql");
    assert_string_equal(t.user, "root");
    assert_string_equal(t.password, PW);
    assert_string_equal(t.host, "10.1.2.3");
    assert_int_equal(t.port, 3307);
    assert_string_equal(t.dbname, "n9e_v6");
    assert_string_equal(t.params, "charset=utf8mb4&parseTime=True&loc=Local");
    assert_redacted_has_no_password(&t);
    dsn_free(&t);

    parse_ok(NULL, "n9e@tcp(db.internal)/n9e", &t);
    assert_string_equal(t.host, "db.internal");
    assert_int_equal(t.port, 3306);
    assert_null(t.password);
    dsn_free(&t);

    parse_ok("mysql", "u:" PW "@/n9e_v6", &t); /* Go default: tcp 127.0.0.1:3306 */
    assert_string_equal(t.host, "127.0.0.1");
    assert_int_equal(t.port, 3306);
    dsn_free(&t);

    parse_ok(NULL, "u@unix(/run/mysqld/mysqld.sock)/n9e?loc=Asia/Shanghai", &t);
    assert_string_equal(t.socket, "/run/mysqld/mysqld.sock");
    assert_string_equal(t.dbname, "n9e");
    assert_string_equal(t.params, "loc=Asia/Shanghai");
    dsn_free(&t);

    parse_ok(NULL, "u@tcp([::1]:3306)/n9e", &t);
    assert_string_equal(t.host, "::1");
    dsn_free(&t);

    parse_fails(NULL, "root:" PW "@tcp(127.0.0.1:3306)/", "names no database");
    parse_fails(NULL, "root:" PW "@tcp(127.0.0.1:0)/n9e", "port must be");
    parse_fails(NULL, "root:" PW "@udp(127.0.0.1)/n9e", "network must be tcp or unix");
    parse_fails(NULL, "root:" PW "@tcp(127.0.0.1/n9e", "must look like tcp(host:port)");
    parse_fails("mysql", "root:" PW "@tcp()/n9e", "names no host");
}

static void test_pg_key_value_dsn(void **state)
{
    (void)state;
    db_target t;
    parse_ok(NULL, "host=127.0.0.1 port=5432 user=root dbname=n9e_v6 password=1234 sslmode=disable",
             &t);
    assert_string_equal(t.engine, "postgres");
    assert_string_equal(t.host, "127.0.0.1");
    assert_int_equal(t.port, 5432);
    assert_string_equal(t.user, "root");
    assert_string_equal(t.dbname, "n9e_v6");
    assert_string_equal(t.password, "1234");
    assert_string_equal(t.params, "sslmode=disable");
    dsn_free(&t);

    parse_ok("postgres",
             "dbname = 'n9e v6'  password='it\\'s " PW "' connect_timeout=5 user=n9e "
             "application_name='a&b=c%'",
             &t);
    assert_string_equal(t.dbname, "n9e v6");
    assert_string_equal(t.password, "it's " PW);
    assert_string_equal(t.host, "localhost");
    assert_string_equal(t.params, "connect_timeout=5&application_name=a%26b%3Dc%25");
    assert_redacted_has_no_password(&t);
    dsn_free(&t);

    parse_fails(NULL, "host=h port=x dbname=d password=" PW, "port must be");
    parse_fails(NULL, "host=h password='" PW, "unterminated quoted value");
    parse_fails(NULL, "host=h user=u password=" PW, "names no dbname");
    parse_fails("postgres", "host=h dbname=d junk password=" PW, "expected key=value");
}

static void test_dbtype_decides_the_form(void **state)
{
    (void)state;
    db_target t;
    parse_ok("sqlite", "/var/lib/n9e/n9e.db", &t);
    assert_string_equal(t.engine, "sqlite");
    assert_string_equal(t.path, "/var/lib/n9e/n9e.db");
    dsn_free(&t);
    parse_ok("sqlite", "weird=name.db", &t); /* not taken for key=value */
    assert_string_equal(t.path, "weird=name.db");
    dsn_free(&t);
    parse_ok("postgres", "postgres://u@h/d", &t); /* URLs stay URLs */
    assert_string_equal(t.engine, "postgres");
    dsn_free(&t);
    parse_fails("oracle", "u@tcp(h)/d", "unknown DBType");
}

static void test_password_file_and_override(void **state)
{
    (void)state;
    char path[] = "/tmp/n9e-pwfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char content[] = PW "\nsecond line ignored\n";
    assert_int_equal(write(fd, content, sizeof content - 1), (ssize_t)(sizeof content - 1));
    close(fd);
    char msg[256];
    char *pw = dsn_read_password_file(path, msg, sizeof msg);
    assert_non_null(pw);
    assert_string_equal(pw, PW);
    db_target t;
    parse_ok(NULL, "mysql://n9e:old@h/d", &t);
    assert_int_equal(dsn_set_password(&t, pw), 0);
    assert_string_equal(t.password, PW);
    dsn_free(&t);
    free(pw);
    unlink(path);
    assert_null(dsn_read_password_file(path, msg, sizeof msg));
    assert_non_null(strstr(msg, "cannot read password file"));
}

static void test_n9e_config(void **state)
{
    (void)state;
    const char cfg[] = "[Global]\nRunMode = \"release\"\n\n"
                       "[DB]\n# postgres: DSN=\"host=... \"\n"
                       "DSN=\"root:" PW "@tcp(127.0.0.1:3306)/n9e_v6?charset=utf8mb4\"\n"
                       "Debug = false\nMaxLifetime = 7200\nTablePrefix = ''\n"
                       "dbtype = \"mysql\" # mysql postgres sqlite\n"
                       "[Redis]\nAddress = \"127.0.0.1:6379\"\nDSN = \"not-this-one\"\n"
                       "Hosts = [\n  \"a\",\n  \"b\",\n]\n";
    char *dbtype = NULL, *dsn = NULL, msg[256];
    assert_int_equal(n9e_config_parse_db(cfg, sizeof cfg - 1, &dbtype, &dsn, msg, sizeof msg), 0);
    assert_string_equal(dbtype, "mysql");
    assert_string_equal(dsn, "root:" PW "@tcp(127.0.0.1:3306)/n9e_v6?charset=utf8mb4");
    free(dbtype);
    free(dsn);

    const char sqlite_cfg[] = "[DB]\nDSN = 'n9e.db'\nDBType = \"sqlite\"\n";
    assert_int_equal(
        n9e_config_parse_db(sqlite_cfg, sizeof sqlite_cfg - 1, &dbtype, &dsn, msg, sizeof msg), 0);
    assert_string_equal(dbtype, "sqlite");
    assert_string_equal(dsn, "n9e.db");
    free(dbtype);
    free(dsn);

    const char no_type[] = "[DB]\nDSN = \"x@tcp(h)/d\"\n"; /* Nightingale's default: mysql */
    assert_int_equal(n9e_config_parse_db(no_type, sizeof no_type - 1, &dbtype, &dsn, msg, sizeof msg),
                     0);
    assert_string_equal(dbtype, "mysql");
    free(dbtype);
    free(dsn);

    const struct {
        const char *text, *want;
    } bad[] = {
        {"[DB]\nDBType = \"mysql\"\n", "no DSN in the [DB] table"},
        {"[DB]\nDSN = \"root:" PW "@tcp(h)/d\n", "line 2: unterminated string"},
        {"[DB]\nDSN = 42\n", "DSN and DBType must be strings"},
        {"[DB\nDSN = \"x\"\n", "malformed table header"},
        {"[DB]\nDSN \"x\"\n", "expected key = value"},
        {"[DB]\nDSN = \"x\" trailing\n", "unexpected text after a value"},
        {"[DB]\nDSN = \"\\q\"\n", "unknown escape"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = n9e_config_parse_db(bad[i].text, strlen(bad[i].text), &dbtype, &dsn, msg, sizeof msg);
        assert_int_equal(rc, -1);
        if (!strstr(msg, bad[i].want))
            fail_msg("case %zu: message '%s' lacks '%s'", i, msg, bad[i].want);
        assert_null(strstr(msg, "Zq9"));
        assert_null(dbtype);
        assert_null(dsn);
    }
    assert_int_equal(n9e_config_read_db("/nonexistent/config.toml", &dbtype, &dsn, msg, sizeof msg),
                     -1);
    assert_non_null(strstr(msg, "cannot read Nightingale config"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_mysql_dsn),
        cmocka_unit_test(test_pg_key_value_dsn),
        cmocka_unit_test(test_dbtype_decides_the_form),
        cmocka_unit_test(test_password_file_and_override),
        cmocka_unit_test(test_n9e_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
