/* n9e_config.c -- see n9e_config.h. */
#define _POSIX_C_SOURCE 200809L
#include "n9e_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *p, *end;
    int line;
} cursor;

static int fail(char *eb, size_t el, int line, const char *msg)
{
    snprintf(eb, el, "config line %d: %s", line, msg);
    return -1;
}

static void skip_blanks(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static void skip_line(cursor *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end) {
        c->p++;
        c->line++;
    }
}

/* A basic string "..." with TOML escapes; *out malloc'd.  \uXXXX is kept
 * only for ASCII code points: DSNs and engine names are ASCII. */
static int basic_string(cursor *c, char **out, char *eb, size_t el)
{
    c->p++; /* opening quote */
    char *buf = malloc((size_t)(c->end - c->p) + 1);
    size_t n = 0;
    if (!buf)
        return fail(eb, el, c->line, "out of memory");
    while (c->p < c->end && *c->p != '"' && *c->p != '\n') {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                break;
            char e = *c->p++;
            switch (e) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (c->p >= c->end || !isxdigit((unsigned char)*c->p)) {
                        free(buf);
                        return fail(eb, el, c->line, "bad \\u escape in a string");
                    }
                    char h = (char)tolower((unsigned char)*c->p++);
                    v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : h - 'a' + 10);
                }
                if (v == 0 || v > 0x7f) {
                    free(buf);
                    return fail(eb, el, c->line, "non-ASCII \\u escape in a string");
                }
                ch = (char)v;
                break;
            }
            default: free(buf); return fail(eb, el, c->line, "unknown escape in a string");
            }
        }
        buf[n++] = ch;
    }
    if (c->p >= c->end || *c->p != '"') {
        free(buf);
        return fail(eb, el, c->line, "unterminated string");
    }
    c->p++;
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int literal_string(cursor *c, char **out, char *eb, size_t el)
{
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '\'' && *c->p != '\n')
        c->p++;
    if (c->p >= c->end || *c->p != '\'')
        return fail(eb, el, c->line, "unterminated string");
    size_t n = (size_t)(c->p - start);
    char *buf = malloc(n + 1);
    if (!buf)
        return fail(eb, el, c->line, "out of memory");
    memcpy(buf, start, n);
    buf[n] = '\0';
    c->p++;
    *out = buf;
    return 0;
}

/* Skip a value we do not need; arrays may span lines. */
static void skip_value(cursor *c)
{
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '"' || ch == '\'') {
            c->p++;
            while (c->p < c->end && *c->p != ch && *c->p != '\n')
                c->p += (*c->p == '\\' && ch == '"' && c->p + 1 < c->end) ? 2 : 1;
            if (c->p < c->end && *c->p == ch)
                c->p++;
            continue;
        }
        if (ch == '[' || ch == '{')
            depth++;
        else if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
        else if (ch == '#' && depth == 0)
            return;
        else if (ch == '\n') {
            if (depth == 0)
                return;
            c->line++;
        }
        c->p++;
    }
}

/* Reads "[Name]" (or "[[Name]]"); sets in_db when Name is DB. */
static int table_header(cursor *c, int *in_db, char *eb, size_t el)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p != '\n' && *c->p != '#')
        c->p++;
    const char *stop = c->p;
    while (stop > start && isspace((unsigned char)stop[-1]))
        stop--;
    if (stop - start < 2 || stop[-1] != ']')
        return fail(eb, el, c->line, "malformed table header");
    const char *name = start + 1, *name_end = stop - 1;
    if (*name == '[' && name_end > name && name_end[-1] == ']') {
        name++;
        name_end--;
    }
    while (name < name_end && isspace((unsigned char)*name))
        name++;
    while (name_end > name && isspace((unsigned char)name_end[-1]))
        name_end--;
    *in_db = name_end - name == 2 && !strncasecmp(name, "DB", 2);
    return 0;
}

static int key_value(cursor *c, int in_db, char **dbtype, char **dsn, char *eb, size_t el)
{
    const char *k = c->p;
    char quote = 0;
    if (*k == '"' || *k == '\'') {
        quote = *k++;
        c->p++;
        while (c->p < c->end && *c->p != quote && *c->p != '\n')
            c->p++;
    } else {
        while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '-' ||
                                 *c->p == '.'))
            c->p++;
    }
    size_t klen = (size_t)(c->p - k);
    if (quote) {
        if (c->p >= c->end || *c->p != quote)
            return fail(eb, el, c->line, "unterminated quoted key");
        c->p++;
    }
    skip_blanks(c);
    if (klen == 0 || c->p >= c->end || *c->p != '=')
        return fail(eb, el, c->line, "expected key = value");
    c->p++;
    skip_blanks(c);
    char **slot = NULL;
    if (in_db && klen == 3 && !strncasecmp(k, "DSN", 3))
        slot = dsn;
    else if (in_db && klen == 6 && !strncasecmp(k, "DBType", 6))
        slot = dbtype;
    if (!slot) {
        skip_value(c);
        return 0;
    }
    if (c->p + 2 < c->end && (!strncmp(c->p, "\"\"\"", 3) || !strncmp(c->p, "'''", 3)))
        return fail(eb, el, c->line, "multi-line strings are not supported for DSN/DBType");
    char *val = NULL;
    int rc;
    if (c->p < c->end && *c->p == '"')
        rc = basic_string(c, &val, eb, el);
    else if (c->p < c->end && *c->p == '\'')
        rc = literal_string(c, &val, eb, el);
    else
        return fail(eb, el, c->line, "DSN and DBType must be strings");
    if (rc != 0)
        return rc;
    free(*slot);
    *slot = val;
    return 0;
}

int n9e_config_parse_db(const char *text, size_t len, char **dbtype, char **dsn, char *eb,
                        size_t el)
{
    cursor c = {text, text + len, 1};
    int in_db = 0, rc = 0;
    *dbtype = *dsn = NULL;
    while (rc == 0 && c.p < c.end) {
        skip_blanks(&c);
        if (c.p >= c.end)
            break;
        char ch = *c.p;
        if (ch == '\n' || ch == '\r' || ch == '#') {
            skip_line(&c);
            continue;
        }
        if (ch == '[')
            rc = table_header(&c, &in_db, eb, el);
        else
            rc = key_value(&c, in_db, dbtype, dsn, eb, el);
        if (rc == 0) {
            skip_blanks(&c);
            if (c.p < c.end && *c.p != '\n' && *c.p != '\r' && *c.p != '#')
                rc = fail(eb, el, c.line, "unexpected text after a value");
            else
                skip_line(&c);
        }
    }
    if (rc == 0 && !*dsn)
        rc = fail(eb, el, c.line, "no DSN in the [DB] table");
    if (rc == 0 && !*dbtype && !(*dbtype = strdup("mysql"))) /* Nightingale's default */
        rc = fail(eb, el, c.line, "out of memory");
    if (rc != 0) {
        free(*dbtype);
        free(*dsn);
        *dbtype = *dsn = NULL;
    }
    return rc;
}

int n9e_config_read_db(const char *path, char **dbtype, char **dsn, char *eb, size_t el)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(eb, el, "cannot read Nightingale config %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            if (cap >= (16u << 20))
                break; /* no Nightingale config is this large */
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(eb, el, "out of memory reading %s", path);
        return -1;
    }
    char msg[256];
    int rc = n9e_config_parse_db(buf, n, dbtype, dsn, msg, sizeof msg);
    if (rc != 0)
        snprintf(eb, el, "%s: %s", path, msg);
    free(buf);
    return rc;
}
