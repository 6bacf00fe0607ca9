/*
 * dsn.c -- parse connection strings.  Values are percent-decoded; nothing
 * derived from the password is ever put into an error message.
 */
#define _GNU_SOURCE /* memrchr */
#include "dsn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string; NULL on a bad escape. */
static char *decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int err(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg);
    return -1;
}

static int parse_url(const char *engine, const char *rest, db_target *t, char *eb, size_t el)
{
    t->engine = engine;
    const char *end = rest + strcspn(rest, "/?");
    const char *at = NULL;
    for (const char *p = rest; p < end; p++)
        if (*p == '@')
            at = p; /* the last '@' before the path ends userinfo */
    const char *hostpart = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t ulen = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
        t->user = decode(rest, ulen);
        if (colon)
            t->password = decode(colon + 1, (size_t)(at - colon - 1));
        if (!t->user || (colon && !t->password))
            return err(eb, el, "bad percent-escape in the user or password part of the URL");
        hostpart = at + 1;
    }
    const char *portsep = NULL;
    if (*hostpart == '[') { /* [ipv6]:port */
        const char *close = memchr(hostpart, ']', (size_t)(end - hostpart));
        if (!close)
            return err(eb, el, "unterminated '[' in host");
        t->host = dup_range(hostpart + 1, (size_t)(close - hostpart - 1));
        portsep = (close + 1 < end && close[1] == ':') ? close + 1 : NULL;
    } else {
        portsep = memchr(hostpart, ':', (size_t)(end - hostpart));
        t->host = dup_range(hostpart, (size_t)((portsep ? portsep : end) - hostpart));
    }
    if (!t->host || !*t->host)
        return err(eb, el, "the URL names no host (expected scheme://user@host:port/dbname)");
    if (portsep) {
        char *e = NULL;
        long port = strtol(portsep + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535)
            return err(eb, el, "port must be a number between 1 and 65535");
        t->port = (int)port;
    }
    if (*end == '/') {
        const char *q = strchr(end, '?');
        size_t n = q ? (size_t)(q - end - 1) : strlen(end + 1);
        t->dbname = decode(end + 1, n);
        if (!t->dbname)
            return err(eb, el, "bad percent-escape in the database name");
        end = q ? q : end + 1 + n;
    }
    if (!t->dbname || !*t->dbname)
        return err(eb, el, "the URL names no database (expected .../dbname)");
    if (*end == '?')
        t->params = strdup(end + 1);
    return 0;
}

/* ---- Nightingale's Go-MySQL DSN ---------------------------------------
 * [user[:password]@][net[(addr)]]/dbname[?param=value&...].  Passwords may
 * hold ':', '@' and '/', parameters may hold '/' (loc=Asia/Shanghai), so
 * the structure is anchored on the network part: the LAST "@tcp(" or
 * "@unix(" (or a DSN that starts with it), whose ')' is followed by the
 * '/' of the database name; without a network part, the last "@/".
 * Values are not percent-encoded in this form. */
static const char *last_of(const char *text, const char *needle)
{
    const char *last = NULL;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        last = p;
    return last;
}

/* "@udp(...)/": a network part the Go driver knows but we do not. */
static int unknown_network(const char *text)
{
    const char *cp = last_of(text, ")/");
    const char *open = cp ? memrchr(text, '(', (size_t)(cp - text)) : NULL;
    if (!open)
        return 0;
    const char *w = open;
    while (w > text && isalnum((unsigned char)w[-1]))
        w--;
    return w < open && (w == text || w[-1] == '@');
}

static int parse_go_mysql(const char *text, db_target *t, char *eb, size_t el)
{
    t->engine = "mysql";
    const char *net_at = last_of(text, "@tcp(");
    const char *unix_at = last_of(text, "@unix(");
    if (!net_at || (unix_at && unix_at > net_at))
        net_at = unix_at;
    const char *slash = NULL;
    if (net_at || !strncmp(text, "tcp(", 4) || !strncmp(text, "unix(", 5)) {
        const char *close = strchr(net_at ? net_at : text, ')');
        if (!close || close[1] != '/')
            return err(eb, el, "MySQL DSN address must look like tcp(host:port) or unix(/path/to/socket)");
        slash = close + 1;
    } else if (unknown_network(text)) {
        return err(eb, el, "MySQL DSN network must be tcp or unix");
    } else {
        const char *at_slash = last_of(text, "@/");
        slash = at_slash ? at_slash + 1 : (text[0] == '/' ? text : NULL);
    }
    if (!slash)
        return err(eb, el, "MySQL DSN names no database (expected user:password@tcp(host:port)/dbname)");
    const char *q = strchr(slash, '?');
    const char *at = NULL;
    for (const char *p = text; p < slash; p++)
        if (*p == '@')
            at = p;
    const char *net = text;
    if (at) {
        const char *colon = memchr(text, ':', (size_t)(at - text));
        t->user = dup_range(text, (size_t)((colon ? colon : at) - text));
        if (colon)
            t->password = dup_range(colon + 1, (size_t)(at - colon - 1));
        net = at + 1;
    }
    size_t netlen = (size_t)(slash - net);
    if (netlen == 0) {
        t->host = strdup("127.0.0.1"); /* the Go driver's default */
        t->port = 3306;
    } else {
        const char *open = memchr(net, '(', netlen);
        if (!open || net[netlen - 1] != ')')
            return err(eb, el, "MySQL DSN address must look like tcp(host:port) or unix(/path/to/socket)");
        size_t plen = (size_t)(open - net);
        const char *addr = open + 1;
        size_t alen = (size_t)(net + netlen - 1 - addr);
        if (plen == 3 && !strncmp(net, "tcp", 3)) {
            const char *colon = NULL;
            if (alen && addr[0] == '[') {
                const char *close = memchr(addr, ']', alen);
                if (!close)
                    return err(eb, el, "unterminated '[' in host");
                t->host = dup_range(addr + 1, (size_t)(close - addr - 1));
                colon = close + 1 < addr + alen && close[1] == ':' ? close + 1 : NULL;
            } else {
                colon = memchr(addr, ':', alen);
                t->host = dup_range(addr, (size_t)((colon ? colon : addr + alen) - addr));
            }
            if (!t->host || !*t->host)
                return err(eb, el, "MySQL DSN tcp() names no host");
            t->port = 3306;
            if (colon) {
                char *e = NULL;
                long port = strtol(colon + 1, &e, 10);
                if (e != addr + alen || port <= 0 || port > 65535)
                    return err(eb, el, "port must be a number between 1 and 65535");
                t->port = (int)port;
            }
        } else if (plen == 4 && !strncmp(net, "unix", 4)) {
            if (!alen)
                return err(eb, el, "MySQL DSN unix() names no socket path");
            t->socket = dup_range(addr, alen);
            t->host = strdup("localhost");
        } else {
            return err(eb, el, "MySQL DSN network must be tcp or unix");
        }
    }
    const char *dbend = q ? q : slash + strlen(slash);
    t->dbname = decode(slash + 1, (size_t)(dbend - slash - 1));
    if (!t->dbname || !*t->dbname)
        return err(eb, el, "MySQL DSN names no database (expected .../dbname)");
    if (q && q[1])
        t->params = strdup(q + 1);
    return 0;
}

/* ---- PostgreSQL key=value DSN ------------------------------------------
 * host=... port=... user=... password=... dbname=... sslmode=..., values
 * optionally single-quoted with \' and \\ escapes (libpq's rules).  Other
 * keys travel in params as k=v&k=v for the driver. */
static const char *kv_value(const char *p, char **out)
{
    size_t cap = strlen(p) + 1, n = 0;
    char *v = malloc(cap);
    if (!v)
        return NULL;
    if (*p == '\'') {
        for (p++; *p && *p != '\''; p++) {
            if (*p == '\\' && p[1])
                p++;
            v[n++] = *p;
        }
        if (*p != '\'') {
            free(v);
            return NULL;
        }
        p++;
    } else {
        for (; *p && !isspace((unsigned char)*p); p++) {
            if (*p == '\\' && p[1])
                p++;
            v[n++] = *p;
        }
    }
    v[n] = '\0';
    *out = v;
    return p;
}

static int kv_store(db_target *t, const char *key, char *val, char *eb, size_t el)
{
    char **slot = NULL;
    if (!strcmp(key, "host") || !strcmp(key, "hostaddr"))
        slot = &t->host;
    else if (!strcmp(key, "user"))
        slot = &t->user;
    else if (!strcmp(key, "password"))
        slot = &t->password;
    else if (!strcmp(key, "dbname"))
        slot = &t->dbname;
    if (slot) {
        free(*slot);
        *slot = val;
        return 0;
    }
    if (!strcmp(key, "port")) {
        char *e = NULL;
        long port = strtol(val, &e, 10);
        int bad = !*val || *e || port <= 0 || port > 65535;
        free(val);
        if (bad)
            return err(eb, el, "port must be a number between 1 and 65535");
        t->port = (int)port;
        return 0;
    }
    /* params carry percent-encoded values (driver.h): escape what would
     * break the k=v&k=v framing */
    size_t old = t->params ? strlen(t->params) : 0;
    char *p = realloc(t->params, old + strlen(key) + 3 * strlen(val) + 3);
    if (!p) {
        free(val);
        return err(eb, el, "out of memory");
    }
    char *o = p + old + sprintf(p + old, "%s%s=", old ? "&" : "", key);
    for (const char *v = val; *v; v++)
        o += (*v == '%' || *v == '&' || *v == '=') ? sprintf(o, "%%%02X", (unsigned char)*v)
                                                   : (*o = *v, 1);
    *o = '\0';
    t->params = p;
    free(val);
    return 0;
}

static int parse_pg_kv(const char *p, db_target *t, char *eb, size_t el)
{
    t->engine = "postgres";
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *k = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - k);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=' || klen == 0 || klen > 64)
            return err(eb, el, "key=value DSN: expected key=value pairs separated by spaces");
        p++;
        while (isspace((unsigned char)*p))
            p++;
        char key[65];
        memcpy(key, k, klen);
        key[klen] = '\0';
        char *val = NULL;
        p = kv_value(p, &val);
        if (!p)
            return err(eb, el, "key=value DSN: unterminated quoted value");
        if (kv_store(t, key, val, eb, el) != 0)
            return -1;
    }
    if (!t->host)
        t->host = strdup("localhost"); /* as libpq: the default host */
    if (!t->dbname || !*t->dbname)
        return err(eb, el, "key=value DSN names no dbname");
    return 0;
}

/* Which form is this text?  A key=value DSN starts with a word and '=';
 * a Go-MySQL DSN has '@tcp(', '@unix(' or '@/' (or starts with tcp( ). */
static const char *recognise(const char *text)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    const char *w = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    while (isspace((unsigned char)*p))
        p++;
    if (p > w && *p == '=')
        return "pgkv";
    if (strstr(text, "@tcp(") || strstr(text, "@unix(") || strstr(text, "@/") ||
        !strncmp(text, "tcp(", 4) || !strncmp(text, "unix(", 5) || unknown_network(text))
        return "gomysql";
    return NULL;
}

static int parse_sqlite_path(const char *p, db_target *t, char *eb, size_t el)
{
    if (!*p)
        return err(eb, el, "sqlite: needs a file path, e.g. sqlite:./n9e.db");
    t->engine = "sqlite";
    t->path = strdup(p);
    return t->path ? 0 : err(eb, el, "out of memory");
}

int dsn_parse_as(const char *dbtype, const char *text, db_target *t, char *eb, size_t el)
{
    memset(t, 0, sizeof *t);
    if (!text || !*text)
        return err(eb, el, "empty connection string");
    int rc;
    const char *form = recognise(text);
    if (dbtype && *dbtype) {
        int url = strstr(text, "://") != NULL;
        if (!strcmp(dbtype, "sqlite") && !url && strncmp(text, "sqlite:", 7))
            return parse_sqlite_path(text, t, eb, el);
        if (!strcmp(dbtype, "mysql") && !url)
            form = "gomysql";
        else if ((!strcmp(dbtype, "postgres") || !strcmp(dbtype, "postgresql")) && !url)
            form = "pgkv";
        else if (strcmp(dbtype, "mysql") && strcmp(dbtype, "postgres") &&
                 strcmp(dbtype, "postgresql") && strcmp(dbtype, "sqlite"))
            return err(eb, el, "unknown DBType (expected mysql, postgres or sqlite)");
    }
    if (!strncmp(text, "sqlite://", 9))
        return parse_sqlite_path(text + 9, t, eb, el);
    if (!strncmp(text, "sqlite:", 7))
        return parse_sqlite_path(text + 7, t, eb, el);
    if (!strncmp(text, "postgres://", 11))
        rc = parse_url("postgres", text + 11, t, eb, el);
    else if (!strncmp(text, "postgresql://", 13))
        rc = parse_url("postgres", text + 13, t, eb, el);
    else if (!strncmp(text, "mysql://", 8))
        rc = parse_url("mysql", text + 8, t, eb, el);
    else if (strstr(text, "://"))
        return err(eb, el, "unknown scheme (expected sqlite:, postgres://, postgresql:// or mysql://)");
    else if (form && !strcmp(form, "pgkv"))
        rc = parse_pg_kv(text, t, eb, el);
    else if (form && !strcmp(form, "gomysql"))
        rc = parse_go_mysql(text, t, eb, el);
    else /* a bare path is a SQLite file: the embedded default */
        return parse_sqlite_path(text, t, eb, el);
    if (rc != 0)
        dsn_free(t);
    return rc;
}

int dsn_parse(const char *text, db_target *t, char *eb, size_t el)
{
    return dsn_parse_as(NULL, text, t, eb, el);
}

static void free_secret(char *s)
{
    if (!s)
        return;
    /* do not leave the secret in freed heap memory */
    volatile char *v = s;
    while (*v)
        *v++ = 0;
    free(s);
}

int dsn_set_password(db_target *t, const char *password)
{
    char *p = strdup(password);
    if (!p)
        return -1;
    free_secret(t->password);
    t->password = p;
    return 0;
}

char *dsn_read_password_file(const char *path, char *eb, size_t el)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(eb, el, "cannot read password file %s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[1024];
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line) {
        snprintf(eb, el, "password file %s is empty", path);
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    char *out = strdup(buf);
    memset(buf, 0, sizeof buf);
    if (!out)
        snprintf(eb, el, "out of memory");
    return out;
}

char *dsn_redact(const db_target *t)
{
    if (!strcmp(t->engine, "sqlite")) {
        size_t n = strlen(t->path) + 8;
        char *s = malloc(n);
        if (s)
            snprintf(s, n, "sqlite:%s", t->path);
        return s;
    }
    size_t n = 64 + (t->user ? strlen(t->user) : 0) + strlen(t->host) +
               (t->dbname ? strlen(t->dbname) : 0);
    char *s = malloc(n);
    if (!s)
        return NULL;
    char port[16] = "";
    if (t->port)
        snprintf(port, sizeof port, ":%d", t->port);
    int v6 = strchr(t->host, ':') != NULL; /* an IPv6 literal keeps its brackets */
    snprintf(s, n, "%s://%s%s%s%s%s%s%s/%s", t->engine, t->user ? t->user : "",
             t->password ? ":***" : "", (t->user || t->password) ? "@" : "", v6 ? "[" : "", t->host, v6 ? "]" : "",
             port, t->dbname ? t->dbname : "");
    return s;
}

void dsn_free(db_target *t)
{
    free(t->path);
    free(t->host);
    free(t->user);
    free_secret(t->password);
    free(t->dbname);
    free(t->params);
    free(t->socket);
    memset(t, 0, sizeof *t);
}
