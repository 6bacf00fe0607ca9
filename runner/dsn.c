/*
 * dsn.c -- parse connection strings.  Values are percent-decoded; nothing
 * derived from the password is ever put into an error message.
 */
#define _POSIX_C_SOURCE 200809L
#include "dsn.h"

#include <ctype.h>
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

int dsn_parse(const char *text, db_target *t, char *eb, size_t el)
{
    memset(t, 0, sizeof *t);
    if (!text || !*text)
        return err(eb, el, "empty connection string");
    int rc;
    if (!strncmp(text, "sqlite://", 9) || !strncmp(text, "sqlite:", 7)) {
        const char *p = text + (text[7] == '/' && text[8] == '/' ? 9 : 7);
        if (!*p)
            return err(eb, el, "sqlite: needs a file path, e.g. sqlite:./n9e.db");
        t->engine = "sqlite";
        t->path = strdup(p);
        return t->path ? 0 : err(eb, el, "out of memory");
    }
    if (!strncmp(text, "postgres://", 11))
        rc = parse_url("postgres", text + 11, t, eb, el);
    else if (!strncmp(text, "postgresql://", 13))
        rc = parse_url("postgres", text + 13, t, eb, el);
    else if (!strncmp(text, "mysql://", 8))
        rc = parse_url("mysql", text + 8, t, eb, el);
    else if (strstr(text, "://"))
        return err(eb, el, "unknown scheme (expected sqlite:, postgres://, postgresql:// or mysql://)");
    else {
        /* A bare path is a SQLite file: the embedded default. */
        t->engine = "sqlite";
        t->path = strdup(text);
        return t->path ? 0 : err(eb, el, "out of memory");
    }
    if (rc != 0)
        dsn_free(t);
    return rc;
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
             t->password ? ":***" : "", t->user ? "@" : "", v6 ? "[" : "", t->host, v6 ? "]" : "",
             port, t->dbname ? t->dbname : "");
    return s;
}

void dsn_free(db_target *t)
{
    free(t->path);
    free(t->host);
    free(t->user);
    if (t->password) { /* do not leave the secret in freed heap memory */
        memset(t->password, 0, strlen(t->password));
        free(t->password);
    }
    free(t->dbname);
    free(t->params);
    memset(t, 0, sizeof *t);
}
