/*
 * driver_mysql.c -- MySQL / MariaDB, on libmariadb (the mysqlclient API).
 *
 * Values always travel as bound parameters of server-side prepared
 * statements.  A SELECT given to query() runs under a read-only
 * server-side cursor (COM_STMT_FETCH, PREFETCH_ROWS at a time): the server
 * holds the result, so client memory stays flat however many rows there
 * are, and the connection stays free for other statements between
 * fetches (the Lua layer writes while it iterates).  Other statements with
 * rows (SHOW, EXPLAIN, CHECK) get no cursor from the server; their small
 * results are read whole at once, which frees the connection just as well.
 *
 * The SQL here keeps to what MariaDB 10.2+ and MySQL 5.7/8.0 all accept;
 * where they differ (GET_LOCK timeouts, COLUMN_DEFAULT) the server kind is
 * checked at run time.
 */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Rows per COM_STMT_FETCH: few round trips, yet a small, bounded buffer. */
#define PREFETCH_ROWS 500UL
/* First size of a text/blob column buffer; it grows to the longest value. */
#define COL_BUF_START 256
#define DEFAULT_CONNECT_TIMEOUT 10U

/* Internal: the server cannot prepare this statement (ER_UNSUPPORTED_PS). */
#define RC_UNSUPPORTED 3
/* Internal: the statement cannot run under a cursor (SELECT ... INTO). */
#define RC_NO_CURSOR 4

#define STMT_SLOTS 16 /* statements remembered per connection for reuse */

/* A row-changing statement seen once (st NULL) or kept prepared (st).  An
 * exec is otherwise a prepare and an execute, two round trips, and the
 * server parses the text again each time: a 2,000-row batch write of
 * db:rewrite is a statement of 4,000 parameters. */
typedef struct {
    char *sql; /* NULL: a free slot */
    size_t len;
    MYSQL_STMT *st;
} stmt_slot;

struct db_conn {
    MYSQL *my;
    int mariadb;   /* MariaDB rather than MySQL: a few behaviours differ */
    int read_only; /* opened read-only: set_read_only(0) keeps it so */
    stmt_slot stmts[STMT_SLOTS];
    int next_slot; /* round-robin replacement */
    /* exec_send: the statement on its way (Connector/C's non-blocking
     * API), finished by exec_wait; its bind array lives until then */
    MYSQL_STMT *sent;
    MYSQL_BIND *sent_bind;
    stmt_slot *sent_slot; /* keep it there afterwards; NULL: close it */
    int sent_events;      /* what the library waits for; 0: finished */
    int sent_ret;
};

typedef enum { K_NULL, K_INT, K_FLOAT, K_TIME, K_TEXT, K_BLOB } col_kind;

typedef struct {
    col_kind kind;
    unsigned decimals; /* temporal columns: fractional digits to print */
    unsigned long length;
    my_bool is_null, error;
    union {
        long long i;
        double f;
        MYSQL_TIME t;
    } num;
    char *buf; /* K_TEXT, K_BLOB */
    size_t cap;
    char text[64]; /* formatted temporal or big unsigned value */
} mcol;

struct db_cursor {
    db_conn *c;
    MYSQL_STMT *st;
    MYSQL_RES *meta; /* owns nothing but keeps the column names reachable */
    MYSQL_FIELD *fields;
    unsigned ncols;
    MYSQL_BIND *bind;
    mcol *cols;
};

/* ---- errors ------------------------------------------------------------- */

static void set_err(db_error *err, const char *sqlstate, int code, const char *msg)
{
    if (!err)
        return;
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate ? sqlstate : "");
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", msg && *msg ? msg : "unknown error");
}

/* Client-side refusals carry no SQLSTATE: the server never saw them. */
static int misuse(db_error *err, int code, const char *msg)
{
    set_err(err, "", code, msg);
    return DB_ERR;
}

/* Ask the server for its status flags again.  An error packet carries none,
 * yet some errors end the transaction (a deadlock rolls it back), and
 * in_transaction() must not keep reporting the stale flag. */
static void refresh_status(MYSQL *my, unsigned code)
{
    if (code == 0 || code >= CR_MIN_ERROR)
        return; /* client-side or connection error: nothing to ask */
    if (mysql_real_query(my, "DO 0", 4) == 0)
        mysql_free_result(mysql_store_result(my));
}

static int copy_conn_err(MYSQL *my, db_error *err)
{
    set_err(err, mysql_sqlstate(my), (int)mysql_errno(my), mysql_error(my));
    return DB_ERR;
}

static int conn_fail(MYSQL *my, db_error *err)
{
    unsigned code = mysql_errno(my);
    copy_conn_err(my, err);
    refresh_status(my, code);
    return DB_ERR;
}

static int stmt_fail(MYSQL *my, MYSQL_STMT *st, db_error *err)
{
    unsigned code = mysql_stmt_errno(st);
    set_err(err, mysql_stmt_sqlstate(st), (int)code, mysql_stmt_error(st));
    refresh_status(my, code);
    return DB_ERR;
}

/* ---- connect ------------------------------------------------------------ */

typedef struct {
    char charset[33];
    unsigned timeout;
    int found_rows;
    int tls; /* 0 off, 1 verify the server certificate, 2 encrypt only */
} conn_opts;

/* Whole seconds, rounded up (no libm: the binary does not link it). */
static unsigned long long round_up(double x)
{
    unsigned long long w = (unsigned long long)x;
    return w + ((double)w < x);
}

/* A Go duration ("5s", "1m30s", "500ms") or plain seconds, rounded up. */
static int parse_duration(const char *v, size_t n, unsigned *out)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"h", 3600}, {"m", 60}, {"s", 1}};
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    double total = 0;
    const char *p = tmp;
    while (*p) {
        char *end = NULL;
        double x = strtod(p, &end);
        if (end == p || x < 0)
            return -1;
        p = end;
        double scale = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0] && !scale; i++) {
            size_t ul = strlen(units[i].unit);
            if (!strncmp(p, units[i].unit, ul)) {
                scale = units[i].scale;
                p += ul;
            }
        }
        if (!scale) {
            if (*p)
                return -1;
            scale = 1; /* a bare number is seconds */
        }
        total += x * scale;
    }
    if (total <= 0)
        return 0; /* Go's "no timeout": keep the default, never wait forever */
    *out = total > 3600 ? 3600U : (unsigned)round_up(total);
    return 0;
}

/* Parameters of the Go MySQL driver that mean nothing here; n9e's own
 * DSNs carry them, so they are accepted without comment. */
static int go_only_param(const char *k, size_t n)
{
    static const char *const names[] = {
        "allowAllFiles",       "allowCleartextPasswords", "allowFallbackToPlaintext",
        "allowNativePasswords", "allowOldPasswords",      "checkConnLiveness",
        "collation",           "columnsWithAlias",        "compress",
        "connectionAttributes", "interpolateParams",      "loc",
        "maxAllowedPacket",    "multiStatements",         "parseTime",
        "readTimeout",         "rejectReadOnly",          "serverPubKey",
        "timeTruncate",        "writeTimeout",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !strncmp(names[i], k, n))
            return 1;
    return 0;
}

/* As Go's strconv.ParseBool spells them. */
static int is_word(const char *v, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && !strncmp(*words, v, n))
            return 1;
    return 0;
}

static int is_true(const char *v, size_t n)
{
    static const char *const yes[] = {"1", "t", "T", "true", "True", "TRUE", NULL};
    return is_word(v, n, yes);
}

static int is_false(const char *v, size_t n)
{
    static const char *const no[] = {"0", "f", "F", "false", "False", "FALSE", NULL};
    return is_word(v, n, no);
}

static int set_charset(conn_opts *o, const char *v, size_t n)
{
    size_t len = strcspn(v, ","); /* Go accepts a fallback list: use the first */
    if (len > n)
        len = n;
    if (len == 0 || len >= sizeof o->charset)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '_')
            return -1;
    memcpy(o->charset, v, len);
    o->charset[len] = '\0';
    return 0;
}

static int set_tls(conn_opts *o, const char *v, size_t n)
{
    if (is_false(v, n))
        o->tls = 0;
    else if (is_true(v, n))
        o->tls = 1;
    else if (n == 11 && !strncmp(v, "skip-verify", 11))
        o->tls = 2;
    else
        return -1; /* "preferred" or a named Go TLS config: not silently weaker */
    return 0;
}

static int param_error(db_error *err, const char *what, const char *k, size_t kn)
{
    char msg[200];
    /* Only the key is named: a value might be a secret. */
    snprintf(msg, sizeof msg, "%s connection parameter '%.*s'", what, (int)(kn > 64 ? 64 : kn),
             k);
    return misuse(err, CR_UNKNOWN_ERROR, msg);
}

static int apply_param(conn_opts *o, const char *k, size_t kn, const char *v, size_t vn,
                       db_error *err)
{
#define KEY(s) (kn == sizeof(s) - 1 && !strncmp(k, s, kn))
    int bad = 0;
    if (KEY("charset"))
        bad = set_charset(o, v, vn);
    else if (KEY("timeout"))
        bad = parse_duration(v, vn, &o->timeout);
    else if (KEY("clientFoundRows"))
        bad = !(o->found_rows = is_true(v, vn)) && !is_false(v, vn);
    else if (KEY("tls"))
        bad = set_tls(o, v, vn);
    else if (!go_only_param(k, kn))
        return param_error(err, "unknown", k, kn);
#undef KEY
    return bad ? param_error(err, "bad value for", k, kn) : DB_OK;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out; the length, or -1 if it is malformed
 * or does not fit (nothing this driver reads is long). */
static long pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = ch;
    }
    out[o] = '\0';
    return (long)o;
}

/* One "k=v" pair, keys and values percent-encoded (dsn.c leaves them so). */
static int parse_pair(conn_opts *o, const char *p, size_t n, db_error *err)
{
    char key[64], val[256];
    const char *eq = memchr(p, '=', n);
    size_t kn = eq ? (size_t)(eq - p) : n;
    long kl = pct_decode(p, kn, key, sizeof key);
    if (kl < 0)
        return param_error(err, "unknown", p, kn);
    long vl = eq ? pct_decode(eq + 1, n - kn - 1, val, sizeof val) : 0;
    if (vl < 0)
        return param_error(err, "bad value for", key, (size_t)kl);
    if (!eq)
        val[0] = '\0';
    return apply_param(o, key, (size_t)kl, val, (size_t)vl, err);
}

/* t->params is "k=v&k=v" (the URL query). */
static int parse_params(const char *params, conn_opts *o, db_error *err)
{
    snprintf(o->charset, sizeof o->charset, "utf8mb4");
    o->timeout = DEFAULT_CONNECT_TIMEOUT;
    o->found_rows = 1; /* rows matched, as SQLite and PostgreSQL count them */
    o->tls = 0;
    for (const char *p = params; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > 0 && parse_pair(o, p, n, err) != DB_OK)
            return DB_ERR;
        p += n + (p[n] == '&');
    }
    return DB_OK;
}

static void set_options(MYSQL *my, const conn_opts *o)
{
    my_bool off = 0, on = 1;
    mysql_options(my, MYSQL_SET_CHARSET_NAME, o->charset);
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &o->timeout);
    /* A silent reconnect would drop the transaction and the run lock. */
    mysql_options(my, MYSQL_OPT_RECONNECT, &off);
    /* Long values are detected by length anyway; this makes fetch say so. */
    mysql_options(my, MYSQL_REPORT_DATA_TRUNCATION, &on);
    /* the non-blocking API (exec_send); blocking calls work as before */
    mysql_options(my, MYSQL_OPT_NONBLOCK, 0);
    if (o->tls) {
        my_bool verify = o->tls == 1;
        mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
}

/* Run one statement that has no parameters and discard any result. */
static int simple(db_conn *c, const char *sql, db_error *err);

/* UTC for the session, whatever the server's zone, so TIMESTAMP values
 * read the same from every host; sql_mode stays as the server has it. */
static int session_setup(db_conn *c, const db_target *t, db_error *err)
{
    if (simple(c, "SET time_zone = '+00:00'", err) != DB_OK)
        return DB_ERR;
    if (t->read_only && simple(c, "SET SESSION TRANSACTION READ ONLY", err) != DB_OK)
        return DB_ERR;
    return DB_OK;
}

/* Belt and braces: no message leaves here with the password in it. */
static void scrub(db_error *err, const char *password)
{
    if (!err || !password || !*password)
        return;
    char out[sizeof err->message];
    size_t n = strlen(password), o = 0;
    for (const char *p = err->message; *p && o + 4 < sizeof out;) {
        if (!strncmp(p, password, n)) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += n;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(err->message, out, o + 1);
}

static int my_connect(const db_target *t, db_conn **out, db_error *err)
{
    conn_opts o;
    if (parse_params(t->params, &o, err) != DB_OK)
        return DB_ERR;
    struct db_conn *c = calloc(1, sizeof *c);
    if (!c)
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    c->my = mysql_init(NULL);
    if (!c->my) {
        free(c);
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    }
    set_options(c->my, &o);
    unsigned long flags = o.found_rows ? CLIENT_FOUND_ROWS : 0;
    if (!mysql_real_connect(c->my, t->host, t->user, t->password, t->dbname,
                            (unsigned)(t->port > 0 ? t->port : 0), t->socket, flags)) {
        copy_conn_err(c->my, err);
        scrub(err, t->password);
        mysql_close(c->my);
        free(c);
        return DB_ERR;
    }
    c->mariadb = strstr(mysql_get_server_info(c->my), "MariaDB") != NULL;
    c->read_only = t->read_only;
    if (session_setup(c, t, err) != DB_OK) {
        scrub(err, t->password);
        mysql_close(c->my);
        free(c);
        return DB_ERR;
    }
    *out = c;
    return DB_OK;
}

static void forget_slot(stmt_slot *s)
{
    if (s->st)
        mysql_stmt_close(s->st);
    free(s->sql);
    memset(s, 0, sizeof *s);
}

static void my_close(db_conn *c)
{
    if (!c)
        return;
    if (c->sent) { /* never waited for: the statement dies with the connection */
        if (!c->sent_slot || c->sent_slot->st != c->sent)
            mysql_stmt_close(c->sent);
        free(c->sent_bind);
    }
    for (int i = 0; i < STMT_SLOTS; i++)
        forget_slot(&c->stmts[i]);
    mysql_close(c->my);
    free(c);
}

/* ---- statement text ------------------------------------------------------ */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Comments opened by "/" "*!" (MySQL) or "/" "*M!" (MariaDB) hold SQL
 * that the server runs: they are statement text, not blanks. */
static int executable_comment(const char *p)
{
    return p[2] == '!' || (p[2] == 'M' && p[3] == '!');
}

/* Past blanks and comments ("#", "-- ", C style), or p itself. */
static const char *skip_blanks(const char *p)
{
    for (;;) {
        if (is_blank(*p)) {
            p++;
        } else if (*p == '#' ||
                   (p[0] == '-' && p[1] == '-' && (p[2] == '\0' || isspace((unsigned char)p[2]) ||
                                                   iscntrl((unsigned char)p[2])))) {
            const char *nl = strchr(p, '\n');
            p = nl ? nl + 1 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '*' && !executable_comment(p)) {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* Past blanks, comments and empty statements (';'). */
static const char *skip_nothing(const char *p)
{
    for (p = skip_blanks(p); *p == ';'; p = skip_blanks(p + 1))
        ;
    return p;
}

/* Past a quoted string or identifier starting at p. */
static const char *skip_quoted(const char *p)
{
    char q = *p++;
    while (*p) {
        if (*p == '\\' && q != '`' && p[1]) {
            p += 2;
        } else if (*p == q) {
            if (p[1] != q)
                return p + 1;
            p += 2;
        } else {
            p++;
        }
    }
    return p;
}

/* Whether a ';' outside quotes and comments precedes the end. */
static int has_separator(const char *sql, size_t len)
{
    const char *p = sql, *end = sql + len;
    while (p < end) {
        const char *q = skip_blanks(p);
        if (q != p) {
            p = q;
        } else if (*p == '\'' || *p == '"' || *p == '`') {
            p = skip_quoted(p);
        } else if (*p == ';') {
            return 1;
        } else {
            p++;
        }
    }
    return 0;
}

/* The statement's length without trailing blanks and ';', or an error if
 * nothing is left to run. */
static int statement_text(const char *sql, size_t *len, db_error *err)
{
    if (!sql)
        return misuse(err, CR_UNKNOWN_ERROR, "empty statement");
    size_t n = strlen(sql);
    while (n > 0 && (is_blank(sql[n - 1]) || sql[n - 1] == ';'))
        n--;
    if (n == 0 || *skip_nothing(sql) == '\0')
        return misuse(err, CR_UNKNOWN_ERROR, "empty statement");
    *len = n;
    return DB_OK;
}

/* The server refuses several statements in one prepare with a parse error;
 * say what to do instead.  Nothing ran: the text was never executed. */
static void more_than_one(db_error *err)
{
    char server[sizeof err->message];
    snprintf(server, sizeof server, "%s", err->message);
    snprintf(err->message, sizeof err->message,
             "more than one statement given; use exec_script for several statements "
             "(server: %.900s)",
             server);
}

static int prepare_fail(MYSQL *my, MYSQL_STMT *st, const char *sql, size_t len,
                        db_error *err)
{
    stmt_fail(my, st, err);
    if (err && mysql_stmt_errno(st) == ER_PARSE_ERROR && has_separator(sql, len))
        more_than_one(err);
    return DB_ERR;
}

/* ---- binding ------------------------------------------------------------ */

static int count_error(unsigned long want, int given, db_error *err)
{
    char msg[128];
    snprintf(msg, sizeof msg, "statement has %lu placeholder(s) but %d value(s) were given", want,
             given);
    return misuse(err, CR_INVALID_PARAMETER_NO, msg);
}

static void bind_one(MYSQL_BIND *b, const db_value *v)
{
    /* The library only reads input buffers; TINY takes a byte. */
    static const signed char truth[2] = {0, 1};
    switch (v->type) {
    case DBV_INT:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = (void *)&v->i;
        break;
    case DBV_FLOAT:
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = (void *)&v->f;
        break;
    case DBV_BOOL:
        b->buffer_type = MYSQL_TYPE_TINY;
        b->buffer = (void *)&truth[v->i != 0];
        break;
    case DBV_TEXT:
    case DBV_BLOB:
        b->buffer_type = v->type == DBV_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        /* A NULL buffer would be sent as SQL NULL, not as "". */
        b->buffer = (void *)(v->s ? v->s : "");
        b->buffer_length = v->s ? (unsigned long)v->len : 0;
        break;
    case DBV_NULL:
    default: b->buffer_type = MYSQL_TYPE_NULL; break;
    }
}

/* Bind p[0..n).  *bind is the array the library reads at execute (NULL
 * when there is nothing to bind); the caller frees it after executing. */
static int bind_values(MYSQL *my, MYSQL_STMT *st, const db_value *p, int n, MYSQL_BIND **bind,
                       db_error *err)
{
    *bind = NULL;
    unsigned long want = mysql_stmt_param_count(st);
    if (want != (unsigned long)(n < 0 ? 0 : n))
        return count_error(want, n, err);
    if (n <= 0)
        return DB_OK;
    MYSQL_BIND *b = calloc((size_t)n, sizeof *b);
    if (!b)
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++)
        bind_one(&b[i], &p[i]);
    if (mysql_stmt_bind_param(st, b)) {
        free(b);
        return stmt_fail(my, st, err);
    }
    *bind = b;
    return DB_OK;
}

/* Bind p[0..n) and execute. */
static int bind_execute(MYSQL *my, MYSQL_STMT *st, const db_value *p, int n, db_error *err)
{
    MYSQL_BIND *b;
    if (bind_values(my, st, p, n, &b, err) != DB_OK)
        return DB_ERR;
    int rc = mysql_stmt_execute(st) ? stmt_fail(my, st, err) : DB_OK;
    free(b);
    return rc;
}

/* Prepare sql[0..len), bind, execute.  *out is the executed statement, or
 * NULL with DB_ERR, or NULL with RC_UNSUPPORTED when the server cannot
 * prepare this kind of statement and there is nothing to bind, or NULL
 * with RC_NO_CURSOR when it refused the cursor asked for (nothing ran). */
/* Prepare sql[0..len): *out, or NULL with DB_ERR or RC_UNSUPPORTED (as
 * prepare_execute says). */
static int prepare_only(db_conn *c, const char *sql, size_t len, int n, int cursor,
                        MYSQL_STMT **out, db_error *err)
{
    *out = NULL;
    MYSQL_STMT *st = mysql_stmt_init(c->my);
    if (!st)
        return conn_fail(c->my, err);
    if (cursor) {
        unsigned long type = CURSOR_TYPE_READ_ONLY, rows = PREFETCH_ROWS;
        mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &type);
        mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &rows);
    }
    if (mysql_stmt_prepare(st, sql, (unsigned long)len)) {
        int rc = (mysql_stmt_errno(st) == ER_UNSUPPORTED_PS && n <= 0 && !cursor)
                     ? RC_UNSUPPORTED
                     : prepare_fail(c->my, st, sql, len, err);
        mysql_stmt_close(st);
        return rc;
    }
    *out = st;
    return DB_OK;
}

static int prepare_execute(db_conn *c, const char *sql, size_t len, const db_value *p, int n,
                           int cursor, MYSQL_STMT **out, db_error *err)
{
    *out = NULL;
    MYSQL_STMT *st;
    int prc = prepare_only(c, sql, len, n, cursor, &st, err);
    if (prc != DB_OK)
        return prc;
    if (bind_execute(c->my, st, p, n, err) != DB_OK) {
        int rc = cursor && mysql_stmt_errno(st) == ER_SP_BAD_CURSOR_SELECT ? RC_NO_CURSOR : DB_ERR;
        mysql_stmt_close(st);
        return rc;
    }
    *out = st;
    return DB_OK;
}

/* ---- exec --------------------------------------------------------------- */

/* Read and drop every row of every result of an executed statement (a
 * SELECT or CALL given to exec), one row at a time. */
static int drain_stmt(MYSQL *my, MYSQL_STMT *st, int64_t *affected, db_error *err)
{
    int r;
    do {
        if (mysql_stmt_field_count(st) > 0) {
            while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED)
                ;
            if (r == 1)
                return stmt_fail(my, st, err);
        } else if (affected) {
            my_ulonglong n = mysql_stmt_affected_rows(st);
            *affected = n == (my_ulonglong)~0ULL ? 0 : (int64_t)n;
        }
    } while ((r = mysql_stmt_next_result(st)) == 0);
    return r > 0 ? stmt_fail(my, st, err) : DB_OK;
}

/* The text-protocol counterpart: consume every result of the statement(s)
 * just sent, stopping at the first error the server reports. */
static int drain_query(MYSQL *my, int64_t *affected, db_error *err)
{
    int r;
    do {
        MYSQL_RES *res = mysql_use_result(my);
        if (res) {
            while (mysql_fetch_row(res))
                ;
            unsigned code = mysql_errno(my);
            mysql_free_result(res);
            if (code)
                return conn_fail(my, err);
        } else if (mysql_field_count(my) != 0) {
            return conn_fail(my, err);
        } else if (affected) {
            my_ulonglong n = mysql_affected_rows(my);
            *affected = n == (my_ulonglong)~0ULL ? 0 : (int64_t)n;
        }
    } while ((r = mysql_next_result(my)) == 0);
    return r > 0 ? conn_fail(my, err) : DB_OK;
}

static int plain_exec(db_conn *c, const char *sql, size_t len, int64_t *affected, db_error *err)
{
    if (mysql_real_query(c->my, sql, (unsigned long)len))
        return conn_fail(c->my, err);
    return drain_query(c->my, affected, err);
}

static int simple(db_conn *c, const char *sql, db_error *err)
{
    return plain_exec(c, sql, strlen(sql), NULL, err);
}

/* INSERT, UPDATE, DELETE or REPLACE: statements worth keeping prepared
 * (no result set, and nothing a schema change makes the server refuse to
 * re-prepare by itself). */
static int reusable(const char *sql)
{
    static const char *const words[] = {"insert", "update", "delete", "replace"};
    const char *p = skip_nothing(sql);
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        size_t n = strlen(words[k]);
        if (!strncasecmp(p, words[k], n) && !isalnum((unsigned char)p[n]) && p[n] != '_')
            return 1;
    }
    return 0;
}

static stmt_slot *find_slot(db_conn *c, const char *sql, size_t len)
{
    for (int i = 0; i < STMT_SLOTS; i++)
        if (c->stmts[i].sql && c->stmts[i].len == len && !memcmp(c->stmts[i].sql, sql, len))
            return &c->stmts[i];
    return NULL;
}

static void remember(db_conn *c, const char *sql, size_t len)
{
    stmt_slot *s = &c->stmts[c->next_slot];
    c->next_slot = (c->next_slot + 1) % STMT_SLOTS;
    forget_slot(s);
    if ((s->sql = malloc(len + 1)) != NULL) { /* else only a missed reuse */
        memcpy(s->sql, sql, len);
        s->sql[len] = '\0';
        s->len = len;
    }
}

/* The prepared statement for sql[0..len), and the slot to keep it in
 * once it has run (NULL: close it).  A row-changing statement is
 * remembered the first time it is seen and kept prepared from the second
 * on.  RC_UNSUPPORTED as prepare_execute says. */
static int statement_for(db_conn *c, const char *sql, size_t len, int n, MYSQL_STMT **st,
                         stmt_slot **slot, db_error *err)
{
    *slot = NULL;
    if (reusable(sql)) {
        *slot = find_slot(c, sql, len);
        if (!*slot) {
            remember(c, sql, len); /* first sighting: run once, not kept */
        } else if ((*slot)->st) {
            *st = (*slot)->st;
            return DB_OK;
        }
    }
    return prepare_only(c, sql, len, n, 0, st, err);
}

/* After st ran with outcome rc: a kept statement stays kept, unless a
 * client error (the handle may be gone) empties its slot; a new one is
 * kept if it has a slot and ran, else closed. */
static void after_run(stmt_slot *slot, MYSQL_STMT *st, int rc)
{
    if (slot && slot->st == st) {
        if (rc != DB_OK && mysql_stmt_errno(st) >= 2000)
            forget_slot(slot);
    } else if (slot && rc == DB_OK) {
        slot->st = st;
    } else {
        mysql_stmt_close(st);
    }
}

static int my_exec(db_conn *c, const char *sql, const db_value *p, int n, int64_t *affected,
                   db_error *err)
{
    size_t len;
    if (affected)
        *affected = 0;
    if (statement_text(sql, &len, err) != DB_OK)
        return DB_ERR;
    if (n == 0 && !memchr(sql, '?', len)) {
        /* nothing to bind (DDL, mostly): the text protocol takes one round
         * trip where a prepared statement takes two and a close */
        int rc = plain_exec(c, sql, len, affected, err);
        if (rc != DB_OK && err && err->code == ER_PARSE_ERROR && has_separator(sql, len))
            more_than_one(err);
        return rc;
    }
    stmt_slot *slot;
    MYSQL_STMT *st = NULL;
    int rc = statement_for(c, sql, len, n, &st, &slot, err);
    if (rc == RC_UNSUPPORTED) /* e.g. PREPARE, or old servers' admin commands */
        return plain_exec(c, sql, len, affected, err);
    if (rc != DB_OK)
        return DB_ERR;
    rc = bind_execute(c->my, st, p, n, err);
    if (rc == DB_OK)
        rc = drain_stmt(c->my, st, affected, err);
    after_run(slot, st, rc);
    return rc;
}

static int my_exec_send(db_conn *c, const char *sql, const db_value *p, int n, db_error *err)
{
    size_t len;
    if (c->sent)
        return misuse(err, CR_COMMANDS_OUT_OF_SYNC, "a statement sent earlier has not been waited for");
    if (statement_text(sql, &len, err) != DB_OK)
        return DB_ERR;
    stmt_slot *slot;
    MYSQL_STMT *st = NULL;
    int rc = statement_for(c, sql, len, n, &st, &slot, err);
    if (rc == RC_UNSUPPORTED)
        return misuse(err, ER_UNSUPPORTED_PS, "this statement cannot be prepared: run it with exec");
    if (rc != DB_OK)
        return DB_ERR;
    MYSQL_BIND *b;
    if (bind_values(c->my, st, p, n, &b, err) != DB_OK) {
        after_run(slot, st, DB_ERR);
        return DB_ERR;
    }
    c->sent = st;
    c->sent_bind = b;
    c->sent_slot = slot;
    c->sent_ret = 0;
    c->sent_events = mysql_stmt_execute_start(&c->sent_ret, st);
    return DB_OK;
}

/* Wait for the socket as the library asks, until the execute is done. */
static void finish_sending(db_conn *c)
{
    while (c->sent_events) {
        struct pollfd pfd = {.fd = mysql_get_socket(c->my), .events = 0};
        if (c->sent_events & MYSQL_WAIT_READ)
            pfd.events |= POLLIN;
        if (c->sent_events & MYSQL_WAIT_WRITE)
            pfd.events |= POLLOUT;
        if (c->sent_events & MYSQL_WAIT_EXCEPT)
            pfd.events |= POLLPRI;
        int timeout = c->sent_events & MYSQL_WAIT_TIMEOUT ? (int)mysql_get_timeout_value_ms(c->my) : -1;
        int r = poll(&pfd, 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        int happened = 0;
        if (r == 0)
            happened = MYSQL_WAIT_TIMEOUT;
        else if (r > 0) {
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
                happened |= MYSQL_WAIT_READ;
            if (pfd.revents & (POLLOUT | POLLERR))
                happened |= MYSQL_WAIT_WRITE;
            if (pfd.revents & POLLPRI)
                happened |= MYSQL_WAIT_EXCEPT;
        }
        c->sent_events = mysql_stmt_execute_cont(&c->sent_ret, c->sent, happened);
    }
}

static int my_exec_wait(db_conn *c, int64_t *affected, db_error *err)
{
    if (affected)
        *affected = 0;
    if (!c->sent)
        return misuse(err, CR_COMMANDS_OUT_OF_SYNC, "no statement was sent");
    finish_sending(c);
    MYSQL_STMT *st = c->sent;
    int rc = c->sent_ret ? stmt_fail(c->my, st, err) : drain_stmt(c->my, st, affected, err);
    free(c->sent_bind);
    after_run(c->sent_slot, st, rc);
    c->sent = NULL;
    c->sent_bind = NULL;
    c->sent_slot = NULL;
    return rc;
}

static int run_script(MYSQL *my, const char *sql, db_error *err)
{
    if (mysql_real_query(my, sql, (unsigned long)strlen(sql)))
        return conn_fail(my, err);
    return drain_query(my, NULL, err);
}

/* Several statements in one round trip.  Multi-statement mode is switched
 * on only for this call, so a value can never smuggle a second statement
 * into exec(). */
static int my_exec_script(db_conn *c, const char *sql, db_error *err)
{
    if (!sql || *skip_nothing(sql) == '\0')
        return DB_OK; /* nothing to run ("Query was empty" otherwise) */
    if (mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_ON))
        return conn_fail(c->my, err);
    int rc = run_script(c->my, sql, err);
    if (mysql_set_server_option(c->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF) && rc == DB_OK)
        rc = conn_fail(c->my, err);
    return rc;
}

/* ---- cursors ------------------------------------------------------------ */

static void cursor_free(db_cursor *cur)
{
    if (!cur)
        return;
    if (cur->cols)
        for (unsigned i = 0; i < cur->ncols; i++)
            free(cur->cols[i].buf);
    free(cur->cols);
    free(cur->bind);
    mysql_free_result(cur->meta);
    if (cur->st)
        mysql_stmt_close(cur->st);
    free(cur);
}

static int is_temporal(enum enum_field_types t)
{
    return t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_NEWDATE || t == MYSQL_TYPE_TIME ||
           t == MYSQL_TYPE_DATETIME || t == MYSQL_TYPE_TIMESTAMP;
}

/* A column read as bytes into a buffer of its own that grows as needed. */
static int text_column(col_kind kind, MYSQL_BIND *b, mcol *col)
{
    col->kind = kind;
    col->cap = COL_BUF_START;
    col->buf = malloc(col->cap);
    if (!col->buf)
        return -1;
    b->buffer_type = kind == K_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
    b->buffer = col->buf;
    b->buffer_length = (unsigned long)col->cap;
    return 0;
}

/* How a column is fetched: integers as 64-bit, floats as double, temporal
 * values as MYSQL_TIME (formatted on read), everything else as bytes. */
static int setup_column(const MYSQL_FIELD *f, MYSQL_BIND *b, mcol *col)
{
    b->is_null = &col->is_null;
    b->length = &col->length;
    b->error = &col->error;
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        col->kind = K_INT;
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
        b->buffer = &col->num.i;
        return 0;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        col->kind = K_FLOAT;
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = &col->num.f;
        return 0;
    case MYSQL_TYPE_NULL:
        col->kind = K_NULL;
        b->buffer_type = MYSQL_TYPE_NULL;
        return 0;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        /* Exact digits as text; the server labels DECIMAL binary (63). */
        return text_column(K_TEXT, b, col);
    default: break;
    }
    if (is_temporal(f->type)) {
        col->kind = K_TIME;
        col->decimals = f->decimals;
        b->buffer_type = f->type == MYSQL_TYPE_NEWDATE ? MYSQL_TYPE_DATE : f->type;
        b->buffer = &col->num.t;
        b->buffer_length = sizeof col->num.t;
        return 0;
    }
    /* charsetnr 63 is "binary": BINARY/VARBINARY/BLOB/BIT/GEOMETRY.  MySQL
     * also labels JSON binary, but its value is text. */
    return text_column((f->charsetnr == 63 && f->type != MYSQL_TYPE_JSON) ? K_BLOB : K_TEXT, b,
                       col);
}

static int bind_columns(db_cursor *cur, db_error *err)
{
    cur->meta = mysql_stmt_result_metadata(cur->st);
    if (!cur->meta)
        return stmt_fail(cur->c->my, cur->st, err);
    cur->ncols = mysql_num_fields(cur->meta);
    cur->fields = mysql_fetch_fields(cur->meta);
    cur->bind = calloc(cur->ncols, sizeof *cur->bind);
    cur->cols = calloc(cur->ncols, sizeof *cur->cols);
    if (!cur->bind || !cur->cols)
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    for (unsigned i = 0; i < cur->ncols; i++)
        if (setup_column(&cur->fields[i], &cur->bind[i], &cur->cols[i]) != 0)
            return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    if (mysql_stmt_bind_result(cur->st, cur->bind))
        return stmt_fail(cur->c->my, cur->st, err);
    return DB_OK;
}

static int is_keyword(const char *p, const char *kw)
{
    size_t n = strlen(kw);
    return strncasecmp(p, kw, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_' &&
           p[n] != '$';
}

/* Whether the server will open a cursor for this statement: it does for
 * SELECT (WITH ... SELECT, "(SELECT ...)") on MySQL and MariaDB alike.
 * Asking for one where it does not (EXPLAIN, SHOW CREATE, CALL...) makes
 * libmariadb 3.3 fail the execute with "Commands out of sync" and leave
 * the result unread on the connection, so the flag is sent only here. */
static int streams(const char *sql)
{
    const char *p = skip_blanks(sql);
    while (*p == '(')
        p = skip_blanks(p + 1);
    return is_keyword(p, "SELECT") || is_keyword(p, "WITH");
}

/* Results that come without a server cursor (SHOW, EXPLAIN, CHECK ...:
 * small ones) are read whole now, so the connection is free again. */
static int buffer_result(db_cursor *cur, db_error *err)
{
    if (mysql_stmt_store_result(cur->st))
        return stmt_fail(cur->c->my, cur->st, err);
    if (mysql_stmt_more_results(cur->st)) /* closing the statement drains them */
        return misuse(err, CR_UNKNOWN_ERROR,
                      "the statement returned more than one result (a CALL?); "
                      "run it with exec instead of query");
    return DB_OK;
}

static int execute_cursor(db_cursor *cur, const char *sql, size_t len, const db_value *p, int n,
                          int whole, db_error *err)
{
    int cursor = !whole && streams(sql);
    int rc = prepare_execute(cur->c, sql, len, p, n, cursor, &cur->st, err);
    if (rc == RC_NO_CURSOR) { /* SELECT ... INTO: no rows to stream anyway */
        cursor = 0;
        rc = prepare_execute(cur->c, sql, len, p, n, 0, &cur->st, err);
    }
    if (rc != DB_OK)
        return DB_ERR;
    /* A statement without a result set (query("UPDATE ...")) has already
     * run; its cursor simply has no rows. */
    if (mysql_stmt_field_count(cur->st) == 0)
        return DB_OK;
    if (!cursor && buffer_result(cur, err) != DB_OK)
        return DB_ERR;
    return bind_columns(cur, err);
}

static int open_query(db_conn *c, const char *sql, const db_value *p, int n, int whole,
                      db_cursor **out, db_error *err)
{
    size_t len;
    *out = NULL;
    if (statement_text(sql, &len, err) != DB_OK)
        return DB_ERR;
    struct db_cursor *cur = calloc(1, sizeof *cur);
    if (!cur)
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    cur->c = c;
    if (execute_cursor(cur, sql, len, p, n, whole, err) != DB_OK) {
        cursor_free(cur);
        return DB_ERR;
    }
    *out = cur;
    return DB_OK;
}

static int my_query(db_conn *c, const char *sql, const db_value *p, int n, db_cursor **out,
                    db_error *err)
{
    return open_query(c, sql, p, n, 0, out, err);
}

static int my_query_whole(db_conn *c, const char *sql, const db_value *p, int n,
                          db_cursor **out, db_error *err)
{
    return open_query(c, sql, p, n, 1, out, err);
}

static int grow_column(db_cursor *cur, unsigned i, db_error *err)
{
    mcol *col = &cur->cols[i];
    size_t need = col->length;
    char *nb = realloc(col->buf, need);
    if (!nb)
        return misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    col->buf = nb;
    col->cap = need;
    cur->bind[i].buffer = nb;
    cur->bind[i].buffer_length = (unsigned long)need;
    if (mysql_stmt_fetch_column(cur->st, &cur->bind[i], i, 0))
        return stmt_fail(cur->c->my, cur->st, err);
    return DB_OK;
}

/* Values longer than their buffer: grow each buffer to fit and fetch that
 * column again, then rebind so later rows land in the larger buffers.
 * (Rebinding last: it resets the per-column read positions.) */
static int fetch_long_values(db_cursor *cur, db_error *err)
{
    int grown = 0;
    for (unsigned i = 0; i < cur->ncols; i++) {
        mcol *col = &cur->cols[i];
        if ((col->kind == K_TEXT || col->kind == K_BLOB) && !col->is_null &&
            col->length > col->cap) {
            if (grow_column(cur, i, err) != DB_OK)
                return DB_ERR;
            grown = 1;
        }
    }
    if (grown && mysql_stmt_bind_result(cur->st, cur->bind))
        return stmt_fail(cur->c->my, cur->st, err);
    return DB_OK;
}

static int my_next(db_cursor *cur, db_error *err)
{
    if (cur->ncols == 0)
        return DB_DONE;
    int rc = mysql_stmt_fetch(cur->st);
    if (rc == MYSQL_NO_DATA)
        return DB_DONE;
    if (rc == 1)
        return stmt_fail(cur->c->my, cur->st, err);
    return fetch_long_values(cur, err) == DB_OK ? DB_OK : DB_ERR;
}

static int my_ncols(db_cursor *cur) { return (int)cur->ncols; }

static const char *my_colname(db_cursor *cur, int i)
{
    return (i >= 0 && (unsigned)i < cur->ncols) ? cur->fields[i].name : NULL;
}

/* As the mysql client prints them: 'YYYY-MM-DD', '[-]HH:MM:SS' (hours may
 * pass 24), 'YYYY-MM-DD HH:MM:SS', with the column's fractional digits. */
static size_t format_time(const mcol *col, char *out, size_t cap)
{
    const MYSQL_TIME *t = &col->num.t;
    int n;
    if (t->time_type == MYSQL_TIMESTAMP_DATE)
        return (size_t)snprintf(out, cap, "%04u-%02u-%02u", t->year, t->month, t->day);
    if (t->time_type == MYSQL_TIMESTAMP_TIME)
        n = snprintf(out, cap, "%s%02u:%02u:%02u", t->neg ? "-" : "", t->day * 24 + t->hour,
                     t->minute, t->second);
    else
        n = snprintf(out, cap, "%04u-%02u-%02u %02u:%02u:%02u", t->year, t->month, t->day,
                     t->hour, t->minute, t->second);
    unsigned digits = col->decimals;
    if (digits > 6) /* not fixed (an expression): show what is there */
        digits = t->second_part ? 6 : 0;
    if (digits > 0 && n > 0 && (size_t)n < cap) {
        unsigned long frac = t->second_part;
        for (unsigned d = digits; d < 6; d++)
            frac /= 10;
        n += snprintf(out + n, cap - (size_t)n, ".%0*lu", (int)digits, frac);
    }
    return n > 0 ? (size_t)n : 0;
}

static void my_value(db_cursor *cur, int i, db_value *v)
{
    memset(v, 0, sizeof *v);
    if (i < 0 || (unsigned)i >= cur->ncols)
        return;
    mcol *col = &cur->cols[i];
    if (col->is_null || col->kind == K_NULL) {
        v->type = DBV_NULL;
        return;
    }
    switch (col->kind) {
    case K_INT:
        if (cur->bind[i].is_unsigned && (unsigned long long)col->num.i > INT64_MAX) {
            v->type = DBV_TEXT; /* beyond int64: keep every digit */
            v->len = (size_t)snprintf(col->text, sizeof col->text, "%llu",
                                      (unsigned long long)col->num.i);
            v->s = col->text;
        } else {
            v->type = DBV_INT;
            v->i = (int64_t)col->num.i;
        }
        break;
    case K_FLOAT:
        v->type = DBV_FLOAT;
        v->f = col->num.f;
        break;
    case K_TIME:
        v->type = DBV_TEXT;
        v->len = format_time(col, col->text, sizeof col->text);
        v->s = col->text;
        break;
    default:
        v->type = col->kind == K_BLOB ? DBV_BLOB : DBV_TEXT;
        v->s = col->buf;
        v->len = col->length;
        break;
    }
}

static void my_cursor_close(db_cursor *cur) { cursor_free(cur); }

/* ---- transactions -------------------------------------------------------- */

static int my_in_transaction(db_conn *c)
{
    /* Every OK/EOF packet carries the server's flags, so this follows
     * implicit commits (DDL) as well as explicit ones. */
    return (c->my->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

/* InnoDB has no separate write lock to take up front: immediate is moot. */
static int my_begin(db_conn *c, int immediate, db_error *err)
{
    (void)immediate;
    return simple(c, "START TRANSACTION", err);
}

static int my_commit(db_conn *c, db_error *err) { return simple(c, "COMMIT", err); }
static int my_rollback(db_conn *c, db_error *err) { return simple(c, "ROLLBACK", err); }

static char *quote(const char *name, db_error *err)
{
    if (!name || !*name) {
        misuse(err, CR_UNKNOWN_ERROR, "identifier must be non-empty");
        return NULL;
    }
    size_t n = strlen(name), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += name[i] == '`';
    char *q = malloc(n + extra + 3), *o = q;
    if (!q) {
        misuse(err, CR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    *o++ = '`';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '`')
            *o++ = '`';
        *o++ = name[i];
    }
    *o++ = '`';
    *o = '\0';
    return q;
}

static int savepoint_cmd(db_conn *c, const char *verb, const char *name, db_error *err)
{
    char *q = quote(name, err);
    if (!q)
        return DB_ERR;
    size_t n = strlen(verb) + strlen(q) + 2;
    char *sql = malloc(n);
    int rc;
    if (!sql) {
        rc = misuse(err, CR_OUT_OF_MEMORY, "out of memory");
    } else {
        snprintf(sql, n, "%s %s", verb, q);
        rc = simple(c, sql, err);
    }
    free(sql);
    free(q);
    return rc;
}

static int my_savepoint(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "SAVEPOINT", n, e);
}
static int my_release(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "RELEASE SAVEPOINT", n, e);
}
static int my_rollback_to(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "ROLLBACK TO SAVEPOINT", n, e);
}

/* ---- lock ---------------------------------------------------------------- */

/* The lock name: readable prefixes of the database and the key, then a
 * hash of both so that long names which share prefixes stay distinct;
 * 24 + 1 + 16 + 1 + 16 = 58 characters, under MySQL's limit of 64. */
#define LOCK_NAME                                                                         \
    "CONCAT(LEFT(DATABASE(), 24), ':', LEFT(?, 16), ':', "                                \
    "LEFT(SHA2(CONCAT(DATABASE(), ':', ?), 256), 16))"

/* Run a one-row, one-column statement: *out is the value or is_null. */
static int lock_call(db_conn *c, const char *sql, const db_value *p, int n, int64_t *out,
                     int *is_null, db_error *err)
{
    db_cursor *cur = NULL;
    if (my_query(c, sql, p, n, &cur, err) != DB_OK)
        return DB_ERR;
    int rc = my_next(cur, err);
    if (rc == DB_OK) {
        db_value v;
        my_value(cur, 0, &v);
        *is_null = v.type != DBV_INT;
        *out = v.i;
    } else if (rc == DB_DONE) {
        rc = misuse(err, CR_UNKNOWN_ERROR, "lock statement returned no row");
    }
    cursor_free(cur);
    return rc == DB_OK ? DB_OK : DB_ERR;
}

static int my_lock(db_conn *c, const char *key, double timeout_s, db_error *err)
{
    if (!key)
        return misuse(err, CR_UNKNOWN_ERROR, "lock key must not be NULL");
    if (!(timeout_s > 0)) /* also NaN; GET_LOCK takes a negative as "forever" */
        timeout_s = 0;
    if (timeout_s > 31536000)
        timeout_s = 31536000;
    db_value p[3] = {
        {.type = DBV_TEXT, .s = key, .len = strlen(key)},
        {.type = DBV_TEXT, .s = key, .len = strlen(key)},
        {.type = DBV_FLOAT, .f = timeout_s},
    };
    /* MariaDB takes fractional seconds; MySQL 5.7/8.0 read the timeout as
     * an integer (0.3 would become 0: no wait at all), so round up there. */
    if (!c->mariadb) {
        p[2].type = DBV_INT;
        p[2].i = (int64_t)round_up(timeout_s);
    }
    int64_t got = 0;
    int is_null = 0;
    if (lock_call(c, "SELECT GET_LOCK(" LOCK_NAME ", ?)", p, 3, &got, &is_null, err) != DB_OK)
        return DB_ERR;
    if (is_null)
        return misuse(err, CR_UNKNOWN_ERROR, "GET_LOCK failed (returned NULL)");
    return got == 1 ? DB_OK : DB_TIMEOUT;
}

/* A statement about key alone: LOCK_NAME takes it twice. */
static int key_call(db_conn *c, const char *sql, const char *key, int64_t *out, int *is_null,
                    db_error *err)
{
    db_value p[2] = {
        {.type = DBV_TEXT, .s = key, .len = strlen(key)},
        {.type = DBV_TEXT, .s = key, .len = strlen(key)},
    };
    return lock_call(c, sql, p, 2, out, is_null, err);
}

/* IS_USED_LOCK: the holder's connection id, or NULL when free. */
static int my_lock_held(db_conn *c, const char *key, db_error *err)
{
    if (!key)
        return misuse(err, CR_UNKNOWN_ERROR, "lock key must not be NULL");
    int64_t holder = 0;
    int is_null = 0;
    if (key_call(c, "SELECT IS_USED_LOCK(" LOCK_NAME ")", key, &holder, &is_null, err) != DB_OK)
        return DB_ERR;
    return !is_null;
}

/* Ends a transaction the lock protected if it is still open (as on
 * SQLite, where the lock is that transaction), then releases the lock
 * even if that rollback failed.  Releasing a lock that is not held is not
 * an error: unlock after a failed run must not hide the run's error. */
static int my_unlock(db_conn *c, const char *key, db_error *err)
{
    if (!key)
        return misuse(err, CR_UNKNOWN_ERROR, "lock key must not be NULL");
    db_error rb_err;
    int rb = my_in_transaction(c) ? my_rollback(c, &rb_err) : DB_OK;
    int64_t got = 0;
    int is_null = 0;
    if (key_call(c, "SELECT RELEASE_LOCK(" LOCK_NAME ")", key, &got, &is_null, err) != DB_OK)
        return DB_ERR;
    if (!is_null && got == 0)
        return misuse(err, CR_UNKNOWN_ERROR, "the lock is held by another connection");
    if (rb != DB_OK) { /* the lock is released; still say the rollback failed */
        if (err)
            *err = rb_err;
        return DB_ERR;
    }
    return DB_OK;
}

/* ---- read-only ------------------------------------------------------------ */

/* On: every later transaction is read-only, and one is opened now so that
 * reads see one snapshot.  Off: that transaction is rolled back. */
static int my_set_read_only(db_conn *c, int on, db_error *err)
{
    if (on) {
        if (my_in_transaction(c))
            return misuse(err, CR_UNKNOWN_ERROR,
                          "set_read_only: a transaction is open; MySQL cannot make it "
                          "read-only (commit or roll back first)");
        if (simple(c, "SET SESSION TRANSACTION READ ONLY", err) != DB_OK)
            return DB_ERR;
        return simple(c, "START TRANSACTION READ ONLY", err);
    }
    if (simple(c, "ROLLBACK", err) != DB_OK)
        return DB_ERR;
    if (c->read_only) /* opened read-only: it stays so */
        return DB_OK;
    return simple(c, "SET SESSION TRANSACTION READ WRITE", err);
}

/* ---- misc ----------------------------------------------------------------- */

static char *my_quote_ident(db_conn *c, const char *name, db_error *err)
{
    (void)c;
    return quote(name, err);
}

static const char *my_server_version(db_conn *c) { return mysql_get_server_info(c->my); }

/* ---- catalog -------------------------------------------------------------- */

#define SQL_TABLES(which)                                                                       \
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES "                                 \
    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') " which \
    "ORDER BY CAST(TABLE_NAME AS BINARY)"
static const char SQL_TABLES_ALL[] = SQL_TABLES("");
/* a constant name lets MariaDB open that table's entry only */
static const char SQL_TABLES_ONE[] = SQL_TABLES("AND TABLE_NAME = ? ");

/* COLUMN_DEFAULT differs: MariaDB 10.2.7 and later report SQL text (string
 * literals quoted, expressions as written) and the bare word NULL for a
 * nullable column without a default; a literal string 'NULL' shows quoted,
 * so NULLIF tells the two apart.  MySQL and older MariaDB report the raw
 * value and SQL NULL for "no default".  COLUMN_TYPE is already lower case
 * ("bigint(20)"; MySQL 8.0.19+ drops the display width: "bigint"); it is
 * not lowered further, which would change ENUM/SET member names. */
#define SQL_COLUMNS(lead, dflt, pk, join, which, order)                                        \
    "SELECT " lead "c.COLUMN_NAME AS name, c.COLUMN_TYPE AS type, "                             \
    "CASE WHEN c.IS_NULLABLE = 'NO' THEN 1 ELSE 0 END AS `notnull`, " dflt " AS dflt, "         \
    "CAST(COALESCE(" pk ", 0) AS SIGNED) AS pk "                                                \
    "FROM information_schema.COLUMNS c " join                                                  \
    "WHERE c.TABLE_SCHEMA = DATABASE() " which " ORDER BY " order "c.ORDINAL_POSITION"

/* One table, or (table NULL) every table in one round trip: information_schema
 * costs tens of milliseconds per query on MariaDB, and Nightingale has ~250
 * tables.  For one table the primary key comes from a subquery with the
 * table's name as a constant (the first `?`; the same name binds the
 * second): MariaDB's join of COLUMNS with STATISTICS reads the statistics
 * of every table on the server, 27 ms per call with 1,700 tables there,
 * against 0.6 ms.  For every table they come from a derived table that
 * DISTINCT keeps from being merged into the join: read once, this
 * database's only, and looked up by (table, column) through the key the
 * server builds on it; merged, the join took 60 ms for 200 tables of
 * 3 columns, materialized under 10 ms. */
#define PK_ONE                                                                                  \
    "(SELECT s.SEQ_IN_INDEX FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = "       \
    "DATABASE() AND s.TABLE_NAME = ? AND s.INDEX_NAME = 'PRIMARY' "                            \
    "AND s.COLUMN_NAME = c.COLUMN_NAME)"
#define PK_ALL "s.SEQ_IN_INDEX"
#define JOIN_ALL                                                                                \
    "LEFT JOIN (SELECT DISTINCT TABLE_NAME, COLUMN_NAME, SEQ_IN_INDEX "                        \
    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "                      \
    "AND INDEX_NAME = 'PRIMARY') s ON s.TABLE_NAME = c.TABLE_NAME "                            \
    "AND s.COLUMN_NAME = c.COLUMN_NAME "
#define ONE_TABLE "AND c.TABLE_NAME = ?"
#define BY_TABLE "CAST(c.TABLE_NAME AS BINARY), "
#define TBL "c.TABLE_NAME AS tbl, "
static const char SQL_COLUMNS_MARIADB[] =
    SQL_COLUMNS("", "NULLIF(c.COLUMN_DEFAULT, 'NULL')", PK_ONE, "", ONE_TABLE, "");
static const char SQL_COLUMNS_RAW[] = SQL_COLUMNS("", "c.COLUMN_DEFAULT", PK_ONE, "", ONE_TABLE, "");
static const char SQL_ALL_COLUMNS_MARIADB[] =
    SQL_COLUMNS(TBL, "NULLIF(c.COLUMN_DEFAULT, 'NULL')", PK_ALL, JOIN_ALL, "", BY_TABLE);
static const char SQL_ALL_COLUMNS_RAW[] =
    SQL_COLUMNS(TBL, "c.COLUMN_DEFAULT", PK_ALL, JOIN_ALL, "", BY_TABLE);

/* Byte order for names, as SQLite sorts them (the catalog collation would
 * ignore case). */
#define SQL_INDEXES(lead, which)                                                               \
    "SELECT " lead "name, `unique`, `columns` FROM ("                                          \
    "SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, "                                           \
    "CASE WHEN MIN(NON_UNIQUE) = 0 THEN 1 ELSE 0 END AS `unique`, "                            \
    "GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') AS `columns` "               \
    "FROM information_schema.STATISTICS "                                                      \
    "WHERE TABLE_SCHEMA = DATABASE() " which " AND INDEX_NAME <> 'PRIMARY' "                   \
    "GROUP BY TABLE_NAME, INDEX_NAME) AS i ORDER BY CAST(tbl AS BINARY), CAST(name AS BINARY)"
static const char SQL_INDEXES_ONE[] = SQL_INDEXES("", "AND TABLE_NAME = ?");
static const char SQL_INDEXES_ALL[] = SQL_INDEXES("tbl, ", "");

static int new_mariadb_defaults(db_conn *c)
{
    return c->mariadb && mysql_get_server_version(c->my) >= 100207UL;
}

static int my_catalog(db_conn *c, db_catalog_kind kind, const char *table, db_cursor **out,
                      db_error *err)
{
    db_value arg = {.type = DBV_TEXT, .s = table, .len = table ? strlen(table) : 0};
    int nargs = table ? 1 : 0;
    switch (kind) {
    case DB_CATALOG_TABLES:
        return table ? my_query(c, SQL_TABLES_ONE, &arg, 1, out, err)
                     : my_query(c, SQL_TABLES_ALL, NULL, 0, out, err);
    case DB_CATALOG_COLUMNS: {
        if (!table)
            return my_query(c, new_mariadb_defaults(c) ? SQL_ALL_COLUMNS_MARIADB : SQL_ALL_COLUMNS_RAW,
                            NULL, 0, out, err);
        db_value twice[2] = {arg, arg}; /* PK_ONE's name, then ONE_TABLE's */
        return my_query(c, new_mariadb_defaults(c) ? SQL_COLUMNS_MARIADB : SQL_COLUMNS_RAW, twice,
                        2, out, err);
    }
    case DB_CATALOG_INDEXES:
        return my_query(c, table ? SQL_INDEXES_ONE : SQL_INDEXES_ALL, &arg, nargs, out, err);
    }
    *out = NULL;
    return misuse(err, CR_UNKNOWN_ERROR, "unknown catalog kind");
}

const db_driver driver_mysql = {
    .dialect = "mysql",
    .connect = my_connect,
    .close = my_close,
    .exec = my_exec,
    .exec_send = my_exec_send,
    .exec_wait = my_exec_wait,
    .exec_script = my_exec_script,
    .query = my_query,
    .query_whole = my_query_whole,
    .next = my_next,
    .ncols = my_ncols,
    .colname = my_colname,
    .value = my_value,
    .cursor_close = my_cursor_close,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .savepoint = my_savepoint,
    .release = my_release,
    .rollback_to = my_rollback_to,
    .in_transaction = my_in_transaction,
    .lock = my_lock,
    .unlock = my_unlock,
    .lock_held = my_lock_held,
    .set_read_only = my_set_read_only,
    .quote_ident = my_quote_ident,
    .server_version = my_server_version,
    .catalog = my_catalog,
    .catalog_all = 1,
};
