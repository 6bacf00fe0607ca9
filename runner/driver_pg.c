/*
 * driver_pg.c -- PostgreSQL on libpq.
 *
 * Statements use '?' placeholders everywhere in the runtime; libpq wants
 * $1..$n, so every statement goes through rewrite_placeholders(), which
 * knows where a '?' is code and where it is text (strings, quoted
 * identifiers, comments, dollar-quoted bodies).  Values always travel as
 * parameters of the extended protocol, never inside the SQL text.
 *
 * A query is a server-side cursor (DECLARE ... WITH HOLD, then FETCH in
 * batches): the client holds one batch at a time, however many rows the
 * query returns, and the connection stays free for other statements
 * between batches -- which libpq's single-row mode would not allow.
 * WITH HOLD lets the cursor outlive a COMMIT and be declared outside a
 * transaction block.  Statements that cannot be cursors (INSERT ...
 * RETURNING, SHOW, EXPLAIN, ...) are run directly and their (bounded)
 * result is read from memory.
 *
 * The run-wide lock is a session-level advisory lock, so a crashed holder
 * releases it when its session ends.
 */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"
#include "lazy.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Type OIDs from pg_type.dat; fixed since the first releases. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701
};

#define FETCH_BATCH 500    /* rows per FETCH: the client's memory bound */
#define PG_MAX_PARAMS 65535 /* the protocol counts parameters in 16 bits */
#define MAX_CONN_PARAMS 64
#define RO_SAVEPOINT "n9e_read_only"
#define STMT_SLOTS 16 /* statements remembered per connection for reuse */
#define PG_IN_FLIGHT 2 /* exec_send statements sent and not yet answered */

/* A statement the connection has seen once (remembered) or prepared on the
 * server under `name`.  Preparing on the second sighting spares parsing
 * and planning from then on: a batch write of 2,000 rows spent 2.5 ms of
 * its 10 ms planning.  Keyed by the text and the parameter types, since a
 * prepared statement's types are fixed. */
typedef struct {
    char *sql; /* as given, with '?'; NULL: a free slot */
    size_t len;
    Oid *types;
    int nparams;
    int prepared;
    char name[32];
} stmt_slot;

struct db_conn {
    PGconn *pg;
    char *version;
    uint64_t cursor_seq; /* names cursors uniquely within the session */
    int sticky_read_only; /* opened read-only: set_read_only(0) keeps it */
    int ro_savepoints;    /* read-only savepoints pushed in this transaction */
    int ro_session;       /* read-only session characteristics pushed */
    /* statements sent and not yet answered: one of query_send's, or up
     * to PG_IN_FLIGHT of exec_send's, which go in pipeline mode (piped),
     * each with its own Sync, so that a second can follow the first
     * before its answer.  along[i]: the slot whose prepare travelled
     * with the i-th, its result read first. */
    int pending;
    int piped;
    stmt_slot *along[PG_IN_FLIGHT];
    stmt_slot stmts[STMT_SLOTS];
    int next_slot;        /* round-robin replacement */
    uint64_t stmt_seq;    /* names prepared statements uniquely */
    /* the last key pg_lock took and how often: unlock releases that many
     * holds and stops, where asking once more would only make the server
     * log "you don't own a lock" (other keys: until the server says no) */
    char *held_key;
    int held;
};

struct db_cursor {
    PGconn *pg;
    char name[32];    /* server cursor name; "" for an in-memory result */
    int open;         /* the server cursor still exists and is ours to close */
    int done;         /* no batch follows the current one */
    PGresult *batch;  /* current batch (or the whole in-memory result) */
    int row, nrows;   /* current row in batch, -1 before the first */
    int ncols;
    char **names;     /* copied once: stable for the cursor's life */
    Oid *types;
    unsigned char **blobs; /* decoded bytea of the current row, per column */
    size_t *bloblens;
};

/* libpq, opened at the first connection (lazy.h) */
#define PQ_FUNCTIONS(X) \
    X(PQclear) \
    X(PQcmdStatus) \
    X(PQcmdTuples) \
    X(PQconnectdbParams) \
    X(PQenterPipelineMode) \
    X(PQerrorMessage) \
    X(PQescapeIdentifier) \
    X(PQexec) \
    X(PQexecParams) \
    X(PQexitPipelineMode) \
    X(PQfinish) \
    X(PQfname) \
    X(PQfreemem) \
    X(PQftype) \
    X(PQgetCopyData) \
    X(PQgetResult) \
    X(PQgetisnull) \
    X(PQgetlength) \
    X(PQgetvalue) \
    X(PQnfields) \
    X(PQntuples) \
    X(PQparameterStatus) \
    X(PQpipelineSync) \
    X(PQprepare) \
    X(PQputCopyEnd) \
    X(PQresStatus) \
    X(PQresultErrorField) \
    X(PQresultErrorMessage) \
    X(PQresultStatus) \
    X(PQsendPrepare) \
    X(PQsendQueryParams) \
    X(PQsendQueryPrepared) \
    X(PQsetNoticeProcessor) \
    X(PQstatus) \
    X(PQtransactionStatus) \
    X(PQunescapeBytea)

static struct {
    PQ_FUNCTIONS(LAZY_SLOT)
} pq;
static lazy_lib libpq = {.soname = "libpq.so.5", .package = "libpq5"};
static pthread_once_t libpq_once = PTHREAD_ONCE_INIT;

static void open_libpq(void)
{
    void *h = lazy_open(&libpq);
#define PQ_BIND(name) LAZY_BIND(libpq, pq, h, name)
    PQ_FUNCTIONS(PQ_BIND)
#undef PQ_BIND
    libpq.ok = h != NULL;
}

/* ---- errors ------------------------------------------------------------ */

/* Copy msg into err, folding libpq's multi-line messages onto one line. */
static void set_err(db_error *err, const char *sqlstate, const char *msg)
{
    if (!err)
        return;
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate ? sqlstate : "");
    err->code = 0; /* PostgreSQL's only error code is the SQLSTATE */
    if (!msg || !*msg)
        msg = "unknown error";
    size_t w = 0;
    int space = 0;
    for (const char *p = msg; *p && w + 1 < sizeof err->message; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            space = w > 0;
            continue;
        }
        if (space && w + 2 < sizeof err->message)
            err->message[w++] = ' ';
        space = 0;
        err->message[w++] = *p;
    }
    err->message[w] = '\0';
}

/* Report a failed result (or, without one, the connection's error), then
 * clear it.  Always returns DB_ERR so callers can `return fail_res(...)`. */
static int fail_res(PGconn *pg, PGresult *res, db_error *err)
{
    if (err) {
        const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = res ? pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *detail = res ? pq.PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
        char msg[sizeof err->message];
        if (primary && detail)
            snprintf(msg, sizeof msg, "%s (detail: %s)", primary, detail);
        else if (primary)
            snprintf(msg, sizeof msg, "%s", primary);
        else if (res && *pq.PQresultErrorMessage(res))
            snprintf(msg, sizeof msg, "%s", pq.PQresultErrorMessage(res));
        else if (res && pq.PQresultStatus(res) != PGRES_FATAL_ERROR)
            snprintf(msg, sizeof msg, "unexpected result %s",
                     pq.PQresStatus(pq.PQresultStatus(res)));
        else
            snprintf(msg, sizeof msg, "%s", pq.PQerrorMessage(pg));
        /* a lost connection has no server SQLSTATE; give it the standard one */
        if (!state && pq.PQstatus(pg) == CONNECTION_BAD)
            state = "08006";
        set_err(err, state, msg);
    }
    pq.PQclear(res);
    return DB_ERR;
}

/* The extended protocol refuses several statements; say what to use. */
static void hint_multi_statement(db_error *err)
{
    if (err && !strcmp(err->sqlstate, "42601") && strstr(err->message, "multiple commands")) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg,
                 "more than one statement given; use exec_script for several statements (%.900s)",
                 err->message);
        memcpy(err->message, msg, sizeof msg);
    }
}

/* COPY ... FROM STDIN / TO STDOUT puts the connection in copy mode, which
 * the runtime has no way to feed; end it so the connection stays usable. */
static void abandon_copy(PGconn *pg, ExecStatusType st)
{
    if (st == PGRES_COPY_IN) {
        pq.PQputCopyEnd(pg, "COPY FROM STDIN is not supported by n9e-lua-migrate");
    } else if (st == PGRES_COPY_OUT) {
        char *buf = NULL;
        while (pq.PQgetCopyData(pg, &buf, 0) > 0)
            pq.PQfreemem(buf);
    }
    PGresult *r;
    while ((r = pq.PQgetResult(pg)) != NULL)
        pq.PQclear(r);
}

/* Accept a finished command; otherwise report it.  Returns res (still
 * owned by the caller) or NULL with res cleared and err filled. */
static PGresult *settle(PGconn *pg, PGresult *res, db_error *err)
{
    ExecStatusType st = pq.PQresultStatus(res);
    switch (st) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY: return res;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        pq.PQclear(res);
        abandon_copy(pg, st);
        set_err(err, "0A000", "COPY FROM STDIN / TO STDOUT is not supported; "
                              "use INSERT statements or server-side files");
        return NULL;
    default: fail_res(pg, res, err); return NULL;
    }
}

/* One command through the simple protocol, result discarded. */
static int run(db_conn *c, const char *sql, db_error *err)
{
    PGresult *res = settle(c->pg, pq.PQexec(c->pg, sql), err);
    if (!res)
        return DB_ERR;
    pq.PQclear(res);
    return DB_OK;
}

/* libpq prints notices (e.g. "there is no transaction in progress",
 * "table does not exist, skipping") to stderr by default, which would
 * interleave with the runner's own log lines; they carry nothing the
 * runner acts on, so they are dropped. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- placeholders -------------------------------------------------------- */

typedef struct {
    char *sql;      /* the text with $1..$n, malloc'd */
    int nparams;
    int streamable; /* a plain row query that DECLARE CURSOR accepts */
    int reusable;   /* INSERT/UPDATE/DELETE without RETURNING: worth preparing */
} rewritten;

/* What the scan of a statement learns about its shape. */
typedef struct {
    int words;     /* words seen so far */
    int rows;      /* the first word starts a row query */
    int writes;    /* some word makes DECLARE refuse it */
    int dml;       /* the first word is INSERT, UPDATE or DELETE */
    int returning; /* it returns rows, whose shape a later ALTER could change */
} shape;

static int ident_start(unsigned char ch)
{
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

/* PostgreSQL identifiers may contain '$' after the first character. */
static int ident_char(unsigned char ch)
{
    return ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '$';
}

/* Index just past a quoted token opened at s[i]; a doubled quote is an
 * escaped quote, and in E'' strings (or with standard_conforming_strings
 * off) a backslash escapes the next byte. */
static size_t skip_quoted(const char *s, size_t i, char quote, int backslashes)
{
    for (i++; s[i]; i++) {
        if (backslashes && s[i] == '\\' && s[i + 1]) {
            i++;
        } else if (s[i] == quote) {
            if (s[i + 1] != quote)
                return i + 1;
            i++;
        }
    }
    return i;
}

static size_t skip_line_comment(const char *s, size_t i)
{
    while (s[i] && s[i] != '\n')
        i++;
    return i;
}

/* PostgreSQL block comments nest. */
static size_t skip_block_comment(const char *s, size_t i)
{
    int depth = 0;
    while (s[i]) {
        if (s[i] == '/' && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else {
            i++;
        }
    }
    return i;
}

/* Length of a dollar-quote opener ($$ or $tag$) at s[i], or 0 ($1 is a
 * positional parameter, not a quote). */
static size_t dollar_tag(const char *s, size_t i)
{
    size_t j = i + 1;
    if (s[j] != '$') {
        if (!ident_start((unsigned char)s[j]))
            return 0;
        while (ident_char((unsigned char)s[j]) && s[j] != '$')
            j++;
        if (s[j] != '$')
            return 0;
    }
    return j + 1 - i;
}

/* Index just past the body closed by the same tag (end of text if none). */
static size_t skip_dollar(const char *s, size_t i, size_t taglen)
{
    size_t j = i + taglen;
    for (; s[j]; j++)
        if (s[j] == '$' && !strncmp(s + j, s + i, taglen))
            return j + taglen;
    return j;
}

static int word_is(const char *w, size_t n, const char *kw)
{
    if (strlen(kw) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = w[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != kw[i])
            return 0;
    }
    return 1;
}

/* Words that DECLARE CURSOR refuses (data-modifying WITH, SELECT INTO,
 * FOR UPDATE/SHARE with HOLD).  A column that happens to carry one of
 * these names only costs streaming, never correctness. */
static int is_write_word(const char *w, size_t n)
{
    static const char *const words[] = {"insert", "update", "delete", "merge", "into", "share"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (word_is(w, n, words[k]))
            return 1;
    return 0;
}

static int is_row_word(const char *w, size_t n)
{
    return word_is(w, n, "select") || word_is(w, n, "values") || word_is(w, n, "table") ||
           word_is(w, n, "with");
}

/* End of the token at s[i], tracking the statement's shape on the way.
 * Returns 0 for a '?' (the caller replaces it). */
static size_t token_end(const char *s, size_t i, int std_strings, shape *sh)
{
    unsigned char ch = (unsigned char)s[i];
    size_t tag;
    if (ch == '?')
        return 0;
    if (ch == '\'')
        return skip_quoted(s, i, '\'', !std_strings);
    if (ch == '"')
        return skip_quoted(s, i, '"', 0);
    if (ch == '-' && s[i + 1] == '-')
        return skip_line_comment(s, i);
    if (ch == '/' && s[i + 1] == '*')
        return skip_block_comment(s, i);
    if (ch == '$' && (tag = dollar_tag(s, i)) > 0)
        return skip_dollar(s, i, tag);
    if (!ident_start(ch))
        return i + 1;
    size_t j = i;
    while (ident_char((unsigned char)s[j]))
        j++;
    if (j - i == 1 && (ch == 'e' || ch == 'E') && s[j] == '\'')
        return skip_quoted(s, j, '\'', 1); /* E'...' escape string */
    if (sh->words++ == 0) {
        sh->rows = is_row_word(s + i, j - i);
        sh->dml = word_is(s + i, j - i, "insert") || word_is(s + i, j - i, "update") ||
                  word_is(s + i, j - i, "delete");
    }
    if (is_write_word(s + i, j - i))
        sh->writes = 1;
    if (word_is(s + i, j - i, "returning"))
        sh->returning = 1;
    return j;
}

/* Replace each '?' that is code by $1..$n. */
static int rewrite_placeholders(const char *in, int std_strings, rewritten *out, db_error *err)
{
    size_t len = strlen(in), marks = 0;
    for (size_t i = 0; i < len; i++)
        marks += in[i] == '?';
    /* "$" plus at most 10 digits for each mark */
    char *o = marks > (SIZE_MAX - len - 1) / 11 ? NULL : malloc(len + marks * 11 + 1);
    if (!o) {
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    size_t i = 0, w = 0;
    int n = 0;
    shape sh = {0};
    while (in[i]) {
        size_t end = token_end(in, i, std_strings, &sh);
        if (end == 0) {
            w += (size_t)sprintf(o + w, "$%d", ++n);
            i++;
            continue;
        }
        memcpy(o + w, in + i, end - i);
        w += end - i;
        i = end;
    }
    o[w] = '\0';
    out->sql = o;
    out->nparams = n;
    out->streamable = sh.rows && !sh.writes;
    out->reusable = sh.dml && !sh.returning;
    return DB_OK;
}

static int std_strings(PGconn *pg)
{
    const char *v = pq.PQparameterStatus(pg, "standard_conforming_strings");
    return !v || strcmp(v, "off") != 0;
}

/* ---- parameters ---------------------------------------------------------- */

typedef struct {
    const char **values;
    Oid *types;
    int *lengths;
    int *formats;
} pg_params;

#define NUM_BUF 32

/* %.17g round-trips every double; the server spells the specials out. */
static void format_double(double d, char *buf)
{
    if (isnan(d))
        snprintf(buf, NUM_BUF, "NaN");
    else if (isinf(d))
        snprintf(buf, NUM_BUF, "%s", d > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(buf, NUM_BUF, "%.17g", d);
    /* %g honours LC_NUMERIC; the server always wants '.' */
    for (char *q = buf; *q; q++)
        if (*q == ',')
            *q = '.';
}

/* Bytes of scratch space a value needs, or SIZE_MAX if it cannot be sent. */
static size_t scratch_size(const db_value *v, int i, db_error *err)
{
    char msg[160];
    switch (v->type) {
    case DBV_INT:
    case DBV_FLOAT:
    case DBV_BOOL: return NUM_BUF;
    case DBV_TEXT:
        /* text travels as a C string, and PostgreSQL text has no NUL */
        if (v->len && memchr(v->s, '\0', v->len)) {
            snprintf(msg, sizeof msg,
                     "text parameter %d contains a NUL byte, which PostgreSQL text cannot hold",
                     i + 1);
            set_err(err, "22021", msg);
            return SIZE_MAX;
        }
        return v->len + 1;
    case DBV_BLOB:
        if (v->len > INT_MAX) {
            snprintf(msg, sizeof msg, "blob parameter %d is larger than 2 GiB", i + 1);
            set_err(err, "54000", msg);
            return SIZE_MAX;
        }
        return 0;
    default: return 0;
    }
}

/* Fill slot i: text format, except bytea which is sent binary. */
static void encode_param(const db_value *v, int i, pg_params *pp, char *scratch)
{
    pp->formats[i] = 0;
    pp->lengths[i] = 0;
    pp->values[i] = scratch;
    switch (v->type) {
    case DBV_INT:
        pp->types[i] = OID_INT8;
        snprintf(scratch, NUM_BUF, "%" PRId64, v->i);
        break;
    case DBV_FLOAT:
        pp->types[i] = OID_FLOAT8;
        format_double(v->f, scratch);
        break;
    case DBV_BOOL:
        pp->types[i] = OID_BOOL;
        snprintf(scratch, NUM_BUF, "%s", v->i ? "t" : "f");
        break;
    case DBV_TEXT: /* unknown: the server infers the type from the context */
        pp->types[i] = 0;
        if (v->len)
            memcpy(scratch, v->s, v->len);
        scratch[v->len] = '\0';
        break;
    case DBV_BLOB:
        pp->types[i] = OID_BYTEA;
        pp->formats[i] = 1;
        pp->lengths[i] = (int)v->len;
        pp->values[i] = v->s ? v->s : ""; /* a NULL pointer would mean SQL NULL */
        break;
    default:
        pp->types[i] = 0;
        pp->values[i] = NULL;
        break;
    }
}

/* Lay the libpq parameter arrays and their text out in one block, so one
 * free() releases everything.  *block is NULL when n == 0. */
static int build_params(const db_value *p, int n, pg_params *pp, void **block, db_error *err)
{
    memset(pp, 0, sizeof *pp);
    *block = NULL;
    if (n <= 0)
        return DB_OK;
    size_t fixed = (size_t)n * (sizeof(char *) + sizeof(Oid) + 2 * sizeof(int)), extra = 0;
    for (int i = 0; i < n; i++) {
        size_t need = scratch_size(&p[i], i, err);
        if (need == SIZE_MAX)
            return DB_ERR;
        if (need > SIZE_MAX - fixed - extra) {
            set_err(err, "54000", "parameters too large");
            return DB_ERR;
        }
        extra += need;
    }
    char *b = malloc(fixed + extra);
    if (!b) {
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    /* pointers first, then 4-byte fields: each part stays aligned */
    pp->values = (const char **)(void *)b;
    pp->types = (Oid *)(void *)(b + (size_t)n * sizeof(char *));
    pp->lengths = (int *)(void *)(pp->types + n);
    pp->formats = pp->lengths + n;
    char *scratch = (char *)(pp->formats + n);
    for (int i = 0; i < n; i++) {
        encode_param(&p[i], i, pp, scratch);
        scratch += scratch_size(&p[i], i, NULL);
    }
    *block = b;
    return DB_OK;
}

/* Rewrite sql, check the placeholder count against n, and encode the
 * values: everything a parameterised statement needs. */
static int prepare_call(PGconn *pg, const char *sql, const db_value *p, int n, rewritten *rw,
                        pg_params *pp, void **block, db_error *err)
{
    if (!sql) {
        set_err(err, "", "no SQL given");
        return DB_ERR;
    }
    if (rewrite_placeholders(sql, std_strings(pg), rw, err) != DB_OK)
        return DB_ERR;
    char msg[160];
    if (rw->nparams != n || n > PG_MAX_PARAMS) {
        if (rw->nparams != n)
            snprintf(msg, sizeof msg,
                     "statement has %d placeholder(s) but %d value(s) were given", rw->nparams,
                     n);
        else
            snprintf(msg, sizeof msg, "too many parameters (%d, at most %d)", n, PG_MAX_PARAMS);
        set_err(err, "08P01", msg);
    } else if (build_params(p, n, pp, block, err) == DB_OK) {
        return DB_OK;
    }
    free(rw->sql);
    rw->sql = NULL;
    return DB_ERR;
}

/* ---- connect ------------------------------------------------------------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode in place (URL query values); -1 on a bad escape. */
static int pct_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        int hi = hexval((unsigned char)s[1]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);
        if (lo < 0)
            return -1;
        *o++ = (char)(hi * 16 + lo);
        s += 2;
    }
    *o = '\0';
    return 0;
}

typedef struct {
    const char *kw[MAX_CONN_PARAMS + 1];
    const char *val[MAX_CONN_PARAMS + 1];
    int n;
    char port[16];
    char *params; /* decoded copy of t->params the pairs point into */
    size_t params_len;
} conn_args;

static void add_arg(conn_args *a, const char *k, const char *v)
{
    if (v && a->n < MAX_CONN_PARAMS) {
        a->kw[a->n] = k;
        a->val[a->n] = v;
        a->n++;
    }
}

/* Split "k=v&k2=v2" into keyword/value pairs (values percent-decoded). */
static int add_url_params(conn_args *a, const char *params, db_error *err)
{
    a->params = strdup(params);
    a->params_len = strlen(params);
    if (!a->params) {
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    char *save = NULL;
    for (char *pair = strtok_r(a->params, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        char msg[160];
        if (!eq || eq == pair) {
            snprintf(msg, sizeof msg, "connection parameter '%.60s' is not of the form key=value",
                     pair);
            set_err(err, "", msg);
            return DB_ERR;
        }
        *eq = '\0';
        if (pct_decode(pair) != 0 || pct_decode(eq + 1) != 0) {
            set_err(err, "", "bad percent-escape in a connection parameter");
            return DB_ERR;
        }
        if (a->n >= MAX_CONN_PARAMS - 1) {
            set_err(err, "", "too many connection parameters");
            return DB_ERR;
        }
        add_arg(a, pair, eq + 1);
    }
    return DB_OK;
}

/* Defaults first and the URL's parameters after them, so the URL can
 * override application_name; libpq keeps the last value of a keyword.
 * client_encoding comes last: the runtime only speaks UTF-8. */
static int build_conn_args(const db_target *t, conn_args *a, db_error *err)
{
    memset(a, 0, sizeof *a);
    add_arg(a, "application_name", "n9e-lua-migrate");
    add_arg(a, "host", t->host);
    if (t->port > 0) {
        snprintf(a->port, sizeof a->port, "%d", t->port);
        add_arg(a, "port", a->port);
    }
    add_arg(a, "user", t->user);
    add_arg(a, "password", t->password);
    add_arg(a, "dbname", t->dbname);
    if (t->params && *t->params && add_url_params(a, t->params, err) != DB_OK)
        return DB_ERR;
    add_arg(a, "client_encoding", "UTF8");
    a->kw[a->n] = a->val[a->n] = NULL;
    return DB_OK;
}

static void free_conn_args(conn_args *a)
{
    if (a->params) /* it may hold a password given as a parameter */
        memset(a->params, 0, a->params_len);
    free(a->params);
    a->params = NULL;
}

/* libpq does not echo passwords, but a user name or parameter might
 * contain one by accident, and connect errors get printed: mask it. */
static void mask_secret(char *msg, size_t cap, const char *secret)
{
    if (!secret || !*secret || !strstr(msg, secret))
        return;
    char out[1024];
    size_t slen = strlen(secret), w = 0;
    for (const char *p = msg; *p && w + 4 < sizeof out;) {
        if (!strncmp(p, secret, slen)) {
            memcpy(out + w, "***", 3);
            w += 3;
            p += slen;
        } else {
            out[w++] = *p++;
        }
    }
    out[w] = '\0';
    snprintf(msg, cap, "%s", out);
}

static int connect_failed(PGconn *pg, const db_target *t, db_error *err)
{
    /* libpq does not pass the server's SQLSTATE on; 08001 is "unable to
     * establish connection" */
    set_err(err, "08001", pg ? pq.PQerrorMessage(pg) : "out of memory");
    if (err)
        mask_secret(err->message, sizeof err->message, t->password);
    pq.PQfinish(pg);
    return DB_ERR;
}

static int pg_connect(const db_target *t, db_conn **out, db_error *err)
{
    *out = NULL;
    pthread_once(&libpq_once, open_libpq);
    if (!libpq.ok) {
        set_err(err, "08001", libpq.why);
        return DB_ERR;
    }
    conn_args a;
    if (build_conn_args(t, &a, err) != DB_OK) {
        free_conn_args(&a);
        return DB_ERR;
    }
    /* expand_dbname = 0: a database name is only ever a name */
    PGconn *pg = pq.PQconnectdbParams(a.kw, a.val, 0);
    free_conn_args(&a);
    if (!pg || pq.PQstatus(pg) != CONNECTION_OK)
        return connect_failed(pg, t, err);
    pq.PQsetNoticeProcessor(pg, drop_notice, NULL);
    struct db_conn *c = calloc(1, sizeof *c);
    const char *ver = pq.PQparameterStatus(pg, "server_version");
    char *version = strdup(ver ? ver : "");
    if (!c || !version) {
        free(c);
        free(version);
        pq.PQfinish(pg);
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    c->pg = pg;
    c->version = version;
    if (t->read_only) {
        c->sticky_read_only = 1;
        if (run(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", err) != DB_OK) {
            pq.PQfinish(pg);
            free(version);
            free(c);
            return DB_ERR;
        }
    }
    *out = c;
    return DB_OK;
}

static void forget_slot(stmt_slot *s)
{
    free(s->sql);
    free(s->types);
    memset(s, 0, sizeof *s);
}

static void pg_close(db_conn *c)
{
    if (!c)
        return;
    pq.PQfinish(c->pg);
    for (int i = 0; i < STMT_SLOTS; i++)
        forget_slot(&c->stmts[i]);
    free(c->version);
    free(c->held_key);
    free(c);
}

/* ---- exec ---------------------------------------------------------------- */

static stmt_slot *find_slot(db_conn *c, const char *sql, size_t len, const Oid *types, int n)
{
    for (int i = 0; i < STMT_SLOTS; i++) {
        stmt_slot *s = &c->stmts[i];
        if (s->sql && s->len == len && s->nparams == n &&
            !memcmp(s->types, types, (size_t)n * sizeof *types) && !memcmp(s->sql, sql, len))
            return s;
    }
    return NULL;
}

static int knows_text(const db_conn *c, const char *sql, size_t len)
{
    for (int i = 0; i < STMT_SLOTS; i++)
        if (c->stmts[i].prepared && c->stmts[i].len == len && !memcmp(c->stmts[i].sql, sql, len))
            return 1;
    return 0;
}

/* Remember a statement seen for the first time.  A replaced slot's
 * prepared statement stays on the server until the session ends: the
 * protocol's Close message needs libpq 17, and DEALLOCATE fails inside a
 * failed transaction. */
static void remember(db_conn *c, const char *sql, size_t len, const Oid *types, int n)
{
    stmt_slot *s = &c->stmts[c->next_slot];
    c->next_slot = (c->next_slot + 1) % STMT_SLOTS;
    forget_slot(s);
    s->sql = malloc(len + 1);
    s->types = malloc((size_t)n * sizeof *types);
    if (!s->sql || !s->types) { /* only a missed reuse */
        forget_slot(s);
        return;
    }
    memcpy(s->sql, sql, len + 1);
    memcpy(s->types, types, (size_t)n * sizeof *types);
    s->len = len;
    s->nparams = n;
}

/* Prepare a remembered statement on the server. */
static int prepare_slot(db_conn *c, stmt_slot *s, const char *pg_sql, db_error *err)
{
    snprintf(s->name, sizeof s->name, "n9e_stmt_%" PRIu64, ++c->stmt_seq);
    PGresult *res = settle(c->pg, pq.PQprepare(c->pg, s->name, pg_sql, s->nparams, s->types), err);
    if (!res) {
        forget_slot(s); /* it would fail the same way again */
        return DB_ERR;
    }
    pq.PQclear(res);
    s->prepared = 1;
    return DB_OK;
}

/* libpq's PQsend* answer: 1 sent, 0 not (the connection says why). */
static int sent(PGconn *pg, int ok, db_error *err)
{
    return ok ? DB_OK : fail_res(pg, NULL, err);
}

static int send_prepared(db_conn *c, const stmt_slot *s, const pg_params *pp, db_error *err)
{
    return sent(c->pg,
                pq.PQsendQueryPrepared(c->pg, s->name, s->nparams, pp->values, pp->lengths,
                                    pp->formats, 0),
                err);
}

/* Send one parameterised statement through the extended protocol;
 * collect() reads its result.  A statement that writes and has been seen
 * before goes as a prepared statement. */
static int send_params(db_conn *c, const char *sql, const db_value *p, int n, stmt_slot **used,
                       stmt_slot **pipelined, int reuse, db_error *err)
{
    *used = NULL;
    if (!sql) {
        set_err(err, "", "no SQL given");
        return DB_ERR;
    }
    pg_params pp;
    void *block = NULL;
    int rc = DB_ERR;
    size_t len = strlen(sql);
    if (n > 0 && n <= PG_MAX_PARAMS && knows_text(c, sql, len)) {
        if (build_params(p, n, &pp, &block, err) != DB_OK)
            return DB_ERR;
        stmt_slot *s = find_slot(c, sql, len, pp.types, n);
        if (s && s->prepared) {
            *used = s;
            rc = send_prepared(c, s, &pp, err);
            free(block);
            return rc;
        }
        free(block);
        block = NULL;
    }
    rewritten rw = {0};
    if (prepare_call(c->pg, sql, p, n, &rw, &pp, &block, err) != DB_OK)
        return DB_ERR;
    if (reuse)
        rw.reusable = 1;
    stmt_slot *s = rw.reusable && n > 0 ? find_slot(c, sql, len, pp.types, n) : NULL;
    if (s && pipelined) { /* the second sighting, in a pipeline: the prepare goes along */
        snprintf(s->name, sizeof s->name, "n9e_stmt_%" PRIu64, ++c->stmt_seq);
        if (!pq.PQsendPrepare(c->pg, s->name, rw.sql, s->nparams, s->types)) {
            rc = fail_res(c->pg, NULL, err);
        } else {
            s->prepared = 1;
            *pipelined = s; /* its result comes first; forgotten if the batch fails */
            rc = send_prepared(c, s, &pp, err);
        }
    } else if (s) { /* the second sighting */
        if (prepare_slot(c, s, rw.sql, err) == DB_OK)
            rc = send_prepared(c, s, &pp, err);
    } else {
        if (rw.reusable && n > 0)
            remember(c, sql, len, pp.types, n);
        rc = sent(c->pg,
                  pq.PQsendQueryParams(c->pg, rw.sql, n, pp.types, pp.values, pp.lengths, pp.formats,
                                    0),
                  err);
    }
    free(rw.sql);
    free(block);
    return rc;
}

/* The result of the statement sent last, settled (or NULL with err
 * filled); the connection is idle again afterwards. */
static PGresult *collect(db_conn *c, db_error *err)
{
    PGresult *res = pq.PQgetResult(c->pg);
    if (!res) {
        fail_res(c->pg, NULL, err);
        return NULL;
    }
    ExecStatusType st = pq.PQresultStatus(res);
    if (st != PGRES_COPY_IN && st != PGRES_COPY_OUT && st != PGRES_COPY_BOTH) {
        PGresult *extra;
        while ((extra = pq.PQgetResult(c->pg)) != NULL)
            pq.PQclear(extra);
    }
    res = settle(c->pg, res, err); /* a COPY is ended there */
    if (!res)
        hint_multi_statement(err);
    return res;
}

static int affected_rows(PGresult *res, int64_t *affected, db_error *err)
{
    if (pq.PQresultStatus(res) == PGRES_EMPTY_QUERY) {
        pq.PQclear(res);
        set_err(err, "", "empty statement");
        return DB_ERR;
    }
    if (affected)
        *affected = strtoll(pq.PQcmdTuples(res), NULL, 10); /* "" (no count) reads as 0 */
    pq.PQclear(res);
    return DB_OK;
}

static int pg_exec(db_conn *c, const char *sql, const db_value *p, int n, int64_t *affected,
                   db_error *err)
{
    stmt_slot *used;
    if (send_params(c, sql, p, n, &used, NULL, 0, err) != DB_OK)
        return DB_ERR;
    PGresult *res = collect(c, err);
    if (!res && used && !strcmp(err->sqlstate, "26000")) {
        /* a script's DEALLOCATE ALL (or DISCARD ALL) took it away */
        forget_slot(used);
        if (send_params(c, sql, p, n, &used, NULL, 0, err) != DB_OK)
            return DB_ERR;
        res = collect(c, err);
    }
    return res ? affected_rows(res, affected, err) : DB_ERR;
}

/* Every result of one pipelined statement, up to the NULL that ends it;
 * the first failure goes to err.  A COMMIT answered ROLLBACK (the
 * transaction had failed) is a failure, as in pg_commit.  Returns 0 when
 * the connection broke. */
static int drain_one(PGconn *pg, int is_commit, int64_t *affected, int *rc, db_error *err)
{
    PGresult *res;
    int any = 0;
    while ((res = pq.PQgetResult(pg)) != NULL) {
        any = 1;
        ExecStatusType st = pq.PQresultStatus(res);
        if (affected && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
            *affected = strtoll(pq.PQcmdTuples(res), NULL, 10); /* "" (no count) reads as 0 */
        if (*rc == DB_OK && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            *rc = DB_ERR;
            fail_res(pg, res, err);
        } else if (*rc == DB_OK && is_commit && !strcmp(pq.PQcmdStatus(res), "ROLLBACK")) {
            *rc = DB_ERR;
            set_err(err, "25P02", "the transaction had failed earlier, so COMMIT rolled it back instead");
            pq.PQclear(res);
        } else {
            pq.PQclear(res);
        }
    }
    return any || pq.PQstatus(pg) != CONNECTION_BAD;
}

/* Read what the pipeline still holds and leave pipeline mode: after a
 * send that failed half-way, whose pieces would otherwise come first.
 * What was in flight is lost with it (the connection is broken then). */
static void abandon_pipeline(db_conn *c)
{
    pq.PQpipelineSync(c->pg);
    for (int spins = 0; !pq.PQexitPipelineMode(c->pg) && spins < 64; spins++) {
        PGresult *r = pq.PQgetResult(c->pg);
        if (!r && pq.PQstatus(c->pg) == CONNECTION_BAD)
            break;
        pq.PQclear(r);
    }
    c->pending = 0;
    c->piped = 0;
}

/* exec in two halves, so the caller can work while the server does:
 * exec_send returns once the statement is on its way, exec_wait reads its
 * result.  Nothing else may use the connection in between (lua_db.c
 * waits first).  exec_send's statements go in pipeline mode, each with
 * its own Sync: on the wire the messages of a statement outside it, but a
 * second may follow the first before its answer, and the server starts
 * it the moment the first ends (db:rewrite's next write).  Each is its
 * own statement, as outside pipeline mode: a failure does not skip the
 * next, which inside a transaction fails too (lua_db.c sends a second
 * only there). */
static int pg_exec_send(db_conn *c, const char *sql, const db_value *p, int n, db_error *err)
{
    if (c->pending && (!c->piped || c->pending >= PG_IN_FLIGHT)) {
        set_err(err, "", c->piped ? "too many statements sent and not waited for"
                                  : "a statement sent earlier has not been waited for");
        return DB_ERR;
    }
    if (!c->pending && !pq.PQenterPipelineMode(c->pg))
        return fail_res(c->pg, NULL, err);
    stmt_slot *used, *along = NULL;
    if (send_params(c, sql, p, n, &used, &along, 0, err) != DB_OK) {
        if (along) { /* its prepare went into the buffer */
            forget_slot(along);
            abandon_pipeline(c);
        } else if (!c->pending) {
            pq.PQexitPipelineMode(c->pg); /* nothing was queued */
        }
        return DB_ERR;
    }
    if (!pq.PQpipelineSync(c->pg)) { /* sends the buffer: the connection broke */
        int rc = fail_res(c->pg, NULL, err);
        if (along)
            forget_slot(along);
        abandon_pipeline(c);
        return rc;
    }
    c->along[c->pending++] = along;
    c->piped = 1;
    return DB_OK;
}

/* The oldest exec_send's result, in pipeline mode: the prepare that went
 * along, the statement's own results, then its Sync. */
static int pg_exec_wait(db_conn *c, int64_t *affected, db_error *err)
{
    if (!c->pending || !c->piped) {
        set_err(err, "", c->pending ? "the statement sent returns rows" : "no statement was sent");
        return DB_ERR;
    }
    stmt_slot *along = c->along[0];
    memmove(c->along, c->along + 1, sizeof c->along[0] * (PG_IN_FLIGHT - 1));
    c->pending--;
    int rc = DB_OK;
    *affected = 0;
    int alive = (!along || drain_one(c->pg, 0, NULL, &rc, err)) && drain_one(c->pg, 0, affected, &rc, err);
    PGresult *sync = alive ? pq.PQgetResult(c->pg) : NULL; /* PGRES_PIPELINE_SYNC */
    if (sync && pq.PQresultStatus(sync) != PGRES_PIPELINE_SYNC && rc == DB_OK)
        rc = fail_res(c->pg, sync, err), sync = NULL;
    pq.PQclear(sync);
    if (!alive && rc == DB_OK)
        rc = fail_res(c->pg, NULL, err);
    if (rc != DB_OK && along)
        forget_slot(along); /* the prepare may not have happened */
    if (rc != DB_OK)
        hint_multi_statement(err);
    if (!alive)
        abandon_pipeline(c);
    else if (!c->pending && !pq.PQexitPipelineMode(c->pg) && rc == DB_OK)
        rc = fail_res(c->pg, NULL, err);
    if (!c->pending)
        c->piped = 0;
    return rc;
}

/* The rows of a statement sent by pg_query_send: db:rewrite sends a
 * batch's write and the next batch's read as one statement (WITH ...
 * UPDATE ... SELECT), so the server reads while the client maps.  It goes
 * outside pipeline mode, alone, and is prepared from its second sighting
 * whatever it is. */
static int pg_query_send(db_conn *c, const char *sql, const db_value *p, int n, db_error *err)
{
    if (c->pending) {
        set_err(err, "", "a statement sent earlier has not been waited for");
        return DB_ERR;
    }
    stmt_slot *used;
    if (send_params(c, sql, p, n, &used, NULL, 1, err) != DB_OK) {
        /* a failed send may still have left a result to read */
        PGresult *r;
        while ((r = pq.PQgetResult(c->pg)) != NULL)
            pq.PQclear(r);
        return DB_ERR;
    }
    c->pending = 1;
    return DB_OK;
}

static db_cursor *new_cursor(PGconn *pg, db_error *err);
static int take_columns(db_cursor *cur, const PGresult *res, db_error *err);
static void pg_cursor_close(db_cursor *cur);

static int pg_query_wait(db_conn *c, db_cursor **out, db_error *err)
{
    *out = NULL;
    if (!c->pending || c->piped) {
        set_err(err, "", "no statement was sent");
        return DB_ERR;
    }
    c->pending = 0;
    PGresult *res = collect(c, err);
    if (!res)
        return DB_ERR;
    if (pq.PQresultStatus(res) != PGRES_TUPLES_OK) {
        pq.PQclear(res);
        set_err(err, "", "the statement sent returns no rows");
        return DB_ERR;
    }
    db_cursor *cur = new_cursor(c->pg, err);
    if (!cur) {
        pq.PQclear(res);
        return DB_ERR;
    }
    cur->batch = res; /* the cursor owns it from here */
    cur->nrows = pq.PQntuples(res);
    cur->done = 1;
    if (take_columns(cur, res, err) != DB_OK) {
        pg_cursor_close(cur);
        return DB_ERR;
    }
    *out = cur;
    return DB_OK;
}

static int is_word_sql(const char *sql, const char *word)
{
    return sql && !strcasecmp(sql, word);
}

/* exec_batch through libpq's pipeline mode: every statement is sent, then
 * one Sync, then the results are read in order.  After a failure the
 * server skips the rest up to the Sync (PGRES_PIPELINE_ABORTED).  The
 * statement cache works as for exec; a statement's prepare travels in the
 * same pipeline, its result read before the statement's. */
/* What exec_batch refuses before anything is sent: a statement sent
 * stays sent, and outside a transaction it would run.  *failed: the
 * statement refused, where one is. */
static int refuse_before_sending(db_conn *c, const db_stmt *st, int n, int *failed, db_error *err)
{
    if (c->pending) {
        set_err(err, "", "a statement sent earlier has not been waited for");
        return DB_ERR;
    }
    if (n > 64) {
        set_err(err, "", "too many statements in one batch");
        return DB_ERR;
    }
    for (int i = 0; i < n; i++) {
        rewritten rw = {0};
        *failed = i;
        if (!st[i].sql) {
            set_err(err, "", "no SQL given");
            return DB_ERR;
        }
        if (rewrite_placeholders(st[i].sql, std_strings(c->pg), &rw, err) != DB_OK)
            return DB_ERR;
        free(rw.sql);
        if (rw.nparams != st[i].nparams || st[i].nparams > PG_MAX_PARAMS) {
            char msg[160];
            snprintf(msg, sizeof msg, "statement has %d placeholder(s) but %d value(s) were given",
                     rw.nparams, st[i].nparams);
            set_err(err, "08P01", msg);
            return DB_ERR;
        }
    }
    *failed = -1;
    return DB_OK;
}

static int pg_exec_batch(db_conn *c, const db_stmt *st, int n, int *failed, int64_t *last_affected,
                         db_error *err)
{
    *failed = -1;
    if (last_affected)
        *last_affected = 0;
    if (refuse_before_sending(c, st, n, failed, err) != DB_OK) {
        err->unsent = 1;
        return DB_ERR;
    }
    if (!pq.PQenterPipelineMode(c->pg))
        return fail_res(c->pg, NULL, err);
    int rc = DB_OK, nsent = 0;
    stmt_slot *prepared[64] = {0};
    for (int i = 0; i < n && rc == DB_OK; i++) {
        stmt_slot *used;
        if (send_params(c, st[i].sql, st[i].params, st[i].nparams, &used, &prepared[i], 0, err) != DB_OK)
            *failed = i, rc = DB_ERR;
        else
            nsent++;
    }
    int synced = pq.PQpipelineSync(c->pg);
    if (!synced && rc == DB_OK) {
        rc = fail_res(c->pg, NULL, err);
        *failed = n - 1;
    }
    for (int i = 0; i < nsent; i++) {
        int before = rc;
        if (is_word_sql(st[i].sql, "COMMIT") || is_word_sql(st[i].sql, "BEGIN") ||
            is_word_sql(st[i].sql, "ROLLBACK"))
            c->ro_savepoints = 0; /* as pg_commit, pg_begin and pg_rollback do */
        if (prepared[i] && !drain_one(c->pg, 0, NULL, &rc, err)) {
            if (rc == DB_OK)
                rc = fail_res(c->pg, NULL, err);
            *failed = i;
            synced = 0;
            break;
        }
        if (!drain_one(c->pg, is_word_sql(st[i].sql, "COMMIT"), i == n - 1 ? last_affected : NULL, &rc, err)) {
            if (rc == DB_OK)
                rc = fail_res(c->pg, NULL, err);
            *failed = *failed < 0 ? i : *failed;
            synced = 0; /* nothing more will come */
            break;
        }
        if (before == DB_OK && rc != DB_OK)
            *failed = i;
    }
    if (synced) { /* the Sync's own result */
        PGresult *res = pq.PQgetResult(c->pg);
        pq.PQclear(res);
    }
    if (!pq.PQexitPipelineMode(c->pg) && rc == DB_OK) {
        rc = fail_res(c->pg, NULL, err);
        *failed = n - 1;
    }
    if (rc != DB_OK) /* a prepare sent along may not have happened */
        for (int i = 0; i < n; i++)
            if (prepared[i])
                forget_slot(prepared[i]);
    return rc;
}

/* The simple protocol runs several statements in one go; without an
 * explicit transaction they form one implicit transaction. */
static int pg_exec_script(db_conn *c, const char *sql, db_error *err)
{
    if (!sql) {
        set_err(err, "", "no SQL given");
        return DB_ERR;
    }
    return run(c, sql, err);
}

/* ---- cursors ------------------------------------------------------------- */

static void drop_blobs(db_cursor *cur)
{
    for (int i = 0; cur->blobs && i < cur->ncols; i++) {
        if (cur->blobs[i])
            pq.PQfreemem(cur->blobs[i]);
        cur->blobs[i] = NULL;
    }
}

/* Does our server cursor still exist?  A ROLLBACK (TO SAVEPOINT) drops
 * cursors declared inside it, and CLOSE of a missing cursor would abort
 * the caller's transaction. */
static int cursor_exists(db_cursor *cur)
{
    const char *vals[1] = {cur->name};
    PGresult *res = pq.PQexecParams(cur->pg, "SELECT 1 FROM pg_catalog.pg_cursors WHERE name = $1",
                                 1, NULL, vals, NULL, NULL, 0);
    int exists = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) == 1;
    pq.PQclear(res);
    return exists;
}

/* Close the server cursor if that is safe and useful.  Never fails: on a
 * broken connection or in a failed transaction there is nothing to send
 * (the cursor dies with the session or, if declared in that transaction,
 * with its rollback).  known_alive: a FETCH from it just succeeded. */
static void close_server_cursor(db_cursor *cur, int known_alive)
{
    if (!cur->open)
        return;
    cur->open = 0;
    if (pq.PQstatus(cur->pg) != CONNECTION_OK)
        return;
    PGTransactionStatusType ts = pq.PQtransactionStatus(cur->pg);
    if (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS)
        return;
    if (ts == PQTRANS_INTRANS && !known_alive && !cursor_exists(cur))
        return;
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE %s", cur->name);
    pq.PQclear(pq.PQexec(cur->pg, sql)); /* outside a transaction a failure harms nothing */
}

static void pg_cursor_close(db_cursor *cur)
{
    if (!cur)
        return;
    drop_blobs(cur);
    pq.PQclear(cur->batch);
    close_server_cursor(cur, 0);
    for (int i = 0; cur->names && i < cur->ncols; i++)
        free(cur->names[i]);
    free(cur->names);
    free(cur->types);
    free(cur->blobs);
    free(cur->bloblens);
    free(cur);
}

/* Copy the column names and types out of the first result, so they do not
 * change or vanish as batches are replaced. */
static int take_columns(db_cursor *cur, const PGresult *res, db_error *err)
{
    int n = pq.PQnfields(res);
    size_t k = n > 0 ? (size_t)n : 1;
    cur->names = calloc(k, sizeof *cur->names);
    cur->types = calloc(k, sizeof *cur->types);
    cur->blobs = calloc(k, sizeof *cur->blobs);
    cur->bloblens = calloc(k, sizeof *cur->bloblens);
    if (!cur->names || !cur->types || !cur->blobs || !cur->bloblens) {
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    cur->ncols = n;
    for (int i = 0; i < n; i++) {
        cur->types[i] = pq.PQftype(res, i);
        cur->names[i] = strdup(pq.PQfname(res, i));
        if (!cur->names[i]) {
            set_err(err, "", "out of memory");
            return DB_ERR;
        }
    }
    return DB_OK;
}

/* Replace the current batch by the next FETCH; a short batch is the last
 * one, and the cursor is closed right away while it is known to exist. */
static int fetch_batch(db_cursor *cur, db_error *err)
{
    char sql[80];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", FETCH_BATCH, cur->name);
    pq.PQclear(cur->batch);
    cur->batch = NULL;
    cur->row = -1;
    cur->nrows = 0;
    PGresult *res = pq.PQexec(cur->pg, sql);
    if (pq.PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(cur->pg, res, err);
    cur->batch = res;
    cur->nrows = pq.PQntuples(res);
    if (cur->nrows < FETCH_BATCH) {
        cur->done = 1;
        close_server_cursor(cur, 1);
    }
    return DB_OK;
}

static db_cursor *new_cursor(PGconn *pg, db_error *err)
{
    db_cursor *cur = calloc(1, sizeof *cur);
    if (!cur)
        set_err(err, "", "out of memory");
    else {
        cur->pg = pg;
        cur->row = -1;
    }
    return cur;
}

/* DECLARE takes the query's parameters like any other statement, so values
 * stay bound; the first batch is fetched at once for the column list. */
static int open_server_cursor(db_conn *c, db_cursor *cur, const rewritten *rw,
                              const pg_params *pp, int n, db_error *err)
{
    static const char head[] = "DECLARE %s NO SCROLL CURSOR WITH HOLD FOR ";
    snprintf(cur->name, sizeof cur->name, "n9e_cur_%" PRIu64, ++c->cursor_seq);
    size_t len = strlen(rw->sql) + sizeof head + sizeof cur->name;
    char *sql = malloc(len);
    if (!sql) {
        set_err(err, "", "out of memory");
        return DB_ERR;
    }
    int k = snprintf(sql, len, head, cur->name);
    memcpy(sql + k, rw->sql, strlen(rw->sql) + 1);
    PGresult *res = pq.PQexecParams(c->pg, sql, n, pp->types, pp->values, pp->lengths, pp->formats, 0);
    free(sql);
    if (pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail_res(c->pg, res, err);
        hint_multi_statement(err);
        return DB_ERR;
    }
    pq.PQclear(res);
    cur->open = 1;
    if (fetch_batch(cur, err) != DB_OK)
        return DB_ERR;
    return take_columns(cur, cur->batch, err);
}

/* Statements DECLARE refuses run directly; their result is held whole. */
static int open_result_cursor(db_conn *c, db_cursor *cur, const rewritten *rw,
                              const pg_params *pp, int n, db_error *err)
{
    PGresult *res = pq.PQexecParams(c->pg, rw->sql, n, pp->types, pp->values, pp->lengths,
                                 pp->formats, 0);
    res = settle(c->pg, res, err);
    if (!res) {
        hint_multi_statement(err);
        return DB_ERR;
    }
    if (pq.PQresultStatus(res) == PGRES_EMPTY_QUERY) {
        pq.PQclear(res);
        set_err(err, "", "empty statement");
        return DB_ERR;
    }
    cur->batch = res;
    cur->nrows = pq.PQntuples(res);
    cur->done = 1;
    return take_columns(cur, res, err);
}

/* A cursor over the statement's rows: a server cursor where DECLARE takes
 * the statement, unless the caller bounds the result and wants it whole. */
static int open_query(db_conn *c, const char *sql, const db_value *p, int n, int whole,
                      db_cursor **out, db_error *err)
{
    *out = NULL;
    rewritten rw = {0};
    pg_params pp;
    void *block = NULL;
    if (prepare_call(c->pg, sql, p, n, &rw, &pp, &block, err) != DB_OK)
        return DB_ERR;
    db_cursor *cur = new_cursor(c->pg, err);
    int rc = DB_ERR;
    if (cur)
        rc = rw.streamable && !whole ? open_server_cursor(c, cur, &rw, &pp, n, err)
                                     : open_result_cursor(c, cur, &rw, &pp, n, err);
    free(rw.sql);
    free(block);
    if (rc != DB_OK) {
        pg_cursor_close(cur);
        return DB_ERR;
    }
    *out = cur;
    return DB_OK;
}

static int pg_query(db_conn *c, const char *sql, const db_value *p, int n, db_cursor **out,
                    db_error *err)
{
    return open_query(c, sql, p, n, 0, out, err);
}

static int pg_query_whole(db_conn *c, const char *sql, const db_value *p, int n, db_cursor **out,
                          db_error *err)
{
    return open_query(c, sql, p, n, 1, out, err);
}

static int pg_next(db_cursor *cur, db_error *err)
{
    drop_blobs(cur);
    if (cur->batch && cur->row + 1 < cur->nrows) {
        cur->row++;
        return DB_OK;
    }
    if (!cur->done) {
        if (fetch_batch(cur, err) != DB_OK)
            return DB_ERR;
        if (cur->nrows > 0) {
            cur->row = 0;
            return DB_OK;
        }
    }
    pq.PQclear(cur->batch); /* exhausted: free the last batch now */
    cur->batch = NULL;
    cur->nrows = 0;
    cur->row = -1;
    return DB_DONE;
}

static int pg_ncols(db_cursor *cur) { return cur->ncols; }

static const char *pg_colname(db_cursor *cur, int i)
{
    return i >= 0 && i < cur->ncols ? cur->names[i] : NULL;
}

/* bytea arrives hex-escaped in text results; the decoded copy lives until
 * the next next() (or close). */
static void blob_value(db_cursor *cur, int i, const char *s, db_value *v)
{
    if (!cur->blobs[i])
        cur->blobs[i] = pq.PQunescapeBytea((const unsigned char *)s, &cur->bloblens[i]);
    if (!cur->blobs[i])
        return; /* out of memory: value() cannot fail, so it reads as NULL */
    v->type = DBV_BLOB;
    v->s = (const char *)cur->blobs[i];
    v->len = cur->bloblens[i];
}

static void pg_value(db_cursor *cur, int i, db_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = DBV_NULL;
    if (!cur->batch || cur->row < 0 || cur->row >= cur->nrows || i < 0 || i >= cur->ncols ||
        pq.PQgetisnull(cur->batch, cur->row, i))
        return;
    const char *s = pq.PQgetvalue(cur->batch, cur->row, i);
    switch (cur->types[i]) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        v->type = DBV_INT;
        v->i = strtoll(s, NULL, 10);
        break;
    case OID_FLOAT4:
    case OID_FLOAT8: /* strtod reads "Infinity", "-Infinity" and "NaN" too */
        v->type = DBV_FLOAT;
        v->f = strtod(s, NULL);
        break;
    case OID_BOOL:
        v->type = DBV_BOOL;
        v->i = s[0] == 't';
        break;
    case OID_BYTEA: blob_value(cur, i, s, v); break;
    default: /* numeric keeps its exact decimal text; so does everything else */
        v->type = DBV_TEXT;
        v->s = s;
        v->len = (size_t)pq.PQgetlength(cur->batch, cur->row, i);
        break;
    }
}

/* ---- transactions -------------------------------------------------------- */

static int pg_in_transaction(db_conn *c) { return pq.PQtransactionStatus(c->pg) != PQTRANS_IDLE; }

/* BEGIN inside a transaction is only a warning in PostgreSQL; refuse it,
 * as a nested begin is always a bug in the caller. */
static int pg_begin(db_conn *c, int immediate, db_error *err)
{
    (void)immediate; /* no up-front write lock in PostgreSQL */
    if (pg_in_transaction(c)) {
        set_err(err, "25001", "there is already a transaction in progress");
        return DB_ERR;
    }
    c->ro_savepoints = 0;
    return run(c, "BEGIN", err);
}

/* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK; that
 * must not read as a commit. */
static int pg_commit(db_conn *c, db_error *err)
{
    c->ro_savepoints = 0;
    PGresult *res = settle(c->pg, pq.PQexec(c->pg, "COMMIT"), err);
    if (!res)
        return DB_ERR;
    int rolled_back = !strcmp(pq.PQcmdStatus(res), "ROLLBACK");
    pq.PQclear(res);
    if (rolled_back) {
        set_err(err, "25P02",
                "the transaction had failed earlier, so COMMIT rolled it back instead");
        return DB_ERR;
    }
    return DB_OK;
}

static int pg_rollback(db_conn *c, db_error *err)
{
    c->ro_savepoints = 0;
    return run(c, "ROLLBACK", err);
}

static int savepoint_cmd(db_conn *c, const char *verb, const char *name, db_error *err)
{
    if (!name) {
        set_err(err, "", "no savepoint name given");
        return DB_ERR;
    }
    char *q = pq.PQescapeIdentifier(c->pg, name, strlen(name));
    if (!q) {
        set_err(err, "", pq.PQerrorMessage(c->pg));
        return DB_ERR;
    }
    size_t len = strlen(verb) + strlen(q) + 2;
    char *sql = malloc(len);
    int rc = DB_ERR;
    if (sql) {
        snprintf(sql, len, "%s %s", verb, q);
        rc = run(c, sql, err);
        free(sql);
    } else {
        set_err(err, "", "out of memory");
    }
    pq.PQfreemem(q);
    return rc;
}

static int pg_savepoint(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "SAVEPOINT", n, e);
}
static int pg_release(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "RELEASE SAVEPOINT", n, e);
}
static int pg_rollback_to(db_conn *c, const char *n, db_error *e)
{
    return savepoint_cmd(c, "ROLLBACK TO SAVEPOINT", n, e);
}

/* ---- lock ---------------------------------------------------------------- */

/* The key is scoped to the database: two databases on one server do not
 * share a run-wide lock. */
#define LOCK_KEY "pg_catalog.hashtextextended(pg_catalog.current_database() || ':' || $1::text, 0)"

/* Run a one-boolean statement about key: 1 (true), 0 (false) or -1. */
static int key_call(db_conn *c, const char *sql, const char *key, db_error *err)
{
    const char *vals[1] = {key};
    PGresult *res = pq.PQexecParams(c->pg, sql, 1, NULL, vals, NULL, NULL, 0);
    if (pq.PQresultStatus(res) != PGRES_TUPLES_OK || pq.PQntuples(res) != 1 || pq.PQnfields(res) != 1) {
        fail_res(c->pg, res, err);
        return -1;
    }
    int yes = pq.PQgetvalue(res, 0, 0)[0] == 't';
    pq.PQclear(res);
    return yes;
}

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void note_hold(db_conn *c, const char *key)
{
    if (c->held_key && !strcmp(c->held_key, key)) {
        c->held++;
        return;
    }
    char *copy = strdup(key);
    if (!copy) /* unlock then asks until the server says no, as for any key */
        return;
    free(c->held_key);
    c->held_key = copy;
    c->held = 1;
}

/* Poll pg_try_advisory_lock rather than block in pg_advisory_lock: the
 * timeout is then ours, with no statement_timeout juggling, and a wait
 * never leaves a half-acquired lock behind. */
static int pg_lock(db_conn *c, const char *key, double timeout_s, db_error *err)
{
    if (!key) {
        set_err(err, "", "no lock key given");
        return DB_ERR;
    }
    double deadline = monotonic_now() + (timeout_s > 0 ? timeout_s : 0); /* NaN: no wait */
    double delay = 0.020;
    for (;;) {
        int got = key_call(c, "SELECT pg_catalog.pg_try_advisory_lock(" LOCK_KEY ")", key, err);
        if (got > 0)
            note_hold(c, key);
        if (got != 0)
            return got > 0 ? DB_OK : DB_ERR;
        double left = deadline - monotonic_now();
        if (left <= 0) {
            set_err(err, "55P03", "the lock is held by another session");
            return DB_TIMEOUT;
        }
        sleep_for(delay < left ? delay : left);
        delay = delay * 2 > 0.2 ? 0.2 : delay * 2;
    }
}

/* A bigint advisory lock shows in pg_locks as classid (the high 32 bits),
 * objid (the low ones) and objsubid 1. */
static int pg_lock_held(db_conn *c, const char *key, db_error *err)
{
    if (!key) {
        set_err(err, "", "no lock key given");
        return DB_ERR;
    }
    return key_call(c,
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.objsubid = 1 AND l.database = (SELECT d.oid FROM "
                    "pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) "
                    "AND ((l.classid::bigint << 32) | l.objid::bigint) = " LOCK_KEY ")",
                    key, err);
}

/* Like the SQLite driver (whose lock is the transaction), unlock ends any
 * transaction still open; a failed one would refuse the unlock anyway.
 * Session locks stack, so every hold of the key is released: as many as
 * pg_lock took of it, or, for a key it did not take last, until the
 * server says none is left. */
static int pg_unlock(db_conn *c, const char *key, db_error *err)
{
    if (!key) {
        set_err(err, "", "no lock key given");
        return DB_ERR;
    }
    if (pg_in_transaction(c) && pg_rollback(c, err) != DB_OK)
        return DB_ERR;
    int known = c->held_key && !strcmp(c->held_key, key);
    int holds = known ? c->held : 1000;
    if (known) {
        free(c->held_key);
        c->held_key = NULL;
        c->held = 0;
    }
    for (int i = 0; i < holds; i++) {
        int released = key_call(c, "SELECT pg_catalog.pg_advisory_unlock(" LOCK_KEY ")", key, err);
        if (released <= 0)
            return released < 0 ? DB_ERR : DB_OK;
    }
    return DB_OK;
}

/* ---- read-only ----------------------------------------------------------- */

/* Inside a transaction, a savepoint scopes SET LOCAL: rolling back to it
 * makes the rest of the transaction read-write again (it cannot simply be
 * switched back).  Outside one, the session default changes. */
static int read_only_on(db_conn *c, db_error *err)
{
    if (!pg_in_transaction(c)) {
        if (run(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", err) != DB_OK)
            return DB_ERR;
        c->ro_session++;
        return DB_OK;
    }
    if (run(c, "SAVEPOINT " RO_SAVEPOINT, err) != DB_OK)
        return DB_ERR;
    if (run(c, "SET LOCAL transaction_read_only = on", err) != DB_OK) {
        run(c, "ROLLBACK TO SAVEPOINT " RO_SAVEPOINT "; RELEASE SAVEPOINT " RO_SAVEPOINT, NULL);
        return DB_ERR;
    }
    c->ro_savepoints++;
    return DB_OK;
}

static int read_only_off(db_conn *c, db_error *err)
{
    if (c->ro_savepoints > 0 && !pg_in_transaction(c))
        c->ro_savepoints = 0; /* the transaction, savepoints and all, has ended */
    if (c->ro_savepoints > 0) {
        /* counted off first: if the caller already rolled back past the
         * savepoint, this fails once rather than on every later call */
        c->ro_savepoints--;
        /* rolling back also recovers a transaction a refused write failed */
        if (run(c, "ROLLBACK TO SAVEPOINT " RO_SAVEPOINT, err) != DB_OK ||
            run(c, "RELEASE SAVEPOINT " RO_SAVEPOINT, err) != DB_OK)
            return DB_ERR;
        return DB_OK;
    }
    if (c->ro_session > 0 && --c->ro_session == 0 && !c->sticky_read_only)
        return run(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", err);
    return DB_OK;
}

static int pg_set_read_only(db_conn *c, int on, db_error *err)
{
    return on ? read_only_on(c, err) : read_only_off(c, err);
}

/* ---- misc ---------------------------------------------------------------- */

static char *pg_quote_ident(db_conn *c, const char *name, db_error *err)
{
    if (!name) {
        set_err(err, "", "no identifier given");
        return NULL;
    }
    char *q = pq.PQescapeIdentifier(c->pg, name, strlen(name));
    if (!q) {
        set_err(err, "", pq.PQerrorMessage(c->pg));
        return NULL;
    }
    char *out = strdup(q); /* callers free() it; libpq memory wants PQfreemem */
    pq.PQfreemem(q);
    if (!out)
        set_err(err, "", "out of memory");
    return out;
}

static const char *pg_server_version(db_conn *c) { return c->version; }

/* Same row shapes as the SQLite driver, read from pg_catalog for the
 * current schema (the first existing one on search_path). */
#define CATALOG_TABLES(which)                                                                   \
    "SELECT c.relname::text AS name FROM pg_catalog.pg_class c "                                 \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                  \
    "WHERE n.nspname = pg_catalog.current_schema() AND c.relkind IN ('r', 'p') " which           \
    "ORDER BY c.relname"
static const char CATALOG_TABLES_ALL[] = CATALOG_TABLES("");
static const char CATALOG_TABLES_ONE[] = CATALOG_TABLES("AND c.relname = ? ");

/* pk: position in the primary key; a generated column's expression is not
 * a default.  One table (`?`), or every table, each row led by `tbl`. */
#define CATALOG_COLUMNS(lead, which, order)                                                    \
    "SELECT " lead "a.attname::text AS name, "                                                  \
    "pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, "                                 \
    "CASE WHEN a.attnotnull THEN 1 ELSE 0 END AS \"notnull\", "                                 \
    "CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS dflt, " \
    "COALESCE(pg_catalog.array_position(pk.conkey, a.attnum), 0) AS pk "                        \
    "FROM pg_catalog.pg_attribute a "                                                          \
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "                                        \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                \
    "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "      \
    "LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' "       \
    "WHERE n.nspname = pg_catalog.current_schema() " which                                     \
    "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped "      \
    "ORDER BY " order "a.attnum"

/* columns: key columns (not INCLUDE ones) in order; a plain column by its
 * raw name, an expression as pg_get_indexdef prints it.  Not over
 * generate_series: the planner takes it for 1000 rows a call, and at a
 * few hundred indexes the estimate passed jit_above_cost, so every listing
 * of the whole schema paid 80 ms of JIT compilation (a server log of 200
 * migrations: 80.8 ms of the run's 400 ms of server time). */
#define CATALOG_INDEXES(lead, which, order)                                                    \
    "SELECT " lead "ic.relname::text AS name, "                                                 \
    "CASE WHEN i.indisunique THEN 1 ELSE 0 END AS \"unique\", "                                 \
    "(SELECT pg_catalog.string_agg(CASE WHEN k.attnum <> 0 "                                   \
    "   THEN (SELECT a.attname::text FROM pg_catalog.pg_attribute a "                           \
    "         WHERE a.attrelid = i.indrelid AND a.attnum = k.attnum) "                          \
    "   ELSE pg_catalog.pg_get_indexdef(i.indexrelid, k.n::int, false) END, ',' ORDER BY k.n) " \
    " FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, n) "     \
    " WHERE k.n <= i.indnkeyatts) AS columns "                                                 \
    "FROM pg_catalog.pg_index i "                                                              \
    "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "                                    \
    "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "                                        \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                \
    "WHERE n.nspname = pg_catalog.current_schema() " which "AND NOT i.indisprimary "           \
    "ORDER BY " order "ic.relname"

static const char CATALOG_COLUMNS_ONE[] = CATALOG_COLUMNS("", "AND c.relname = ? ", "");
static const char CATALOG_COLUMNS_ALL[] =
    CATALOG_COLUMNS("c.relname::text AS tbl, ", "AND c.relkind IN ('r', 'p') ", "c.relname, ");
static const char CATALOG_INDEXES_ONE[] = CATALOG_INDEXES("", "AND c.relname = ? ", "");
static const char CATALOG_INDEXES_ALL[] = CATALOG_INDEXES("c.relname::text AS tbl, ", "", "c.relname, ");

static int pg_catalog(db_conn *c, db_catalog_kind kind, const char *table, db_cursor **out,
                      db_error *err)
{
    db_value arg = {.type = DBV_TEXT, .s = table ? table : "", .len = table ? strlen(table) : 0};
    /* one table's listing is a few rows: read whole, one round trip
     * instead of a cursor's three (DECLARE, FETCH, CLOSE); scripts ask
     * table_exists and friends often.  The whole schema's stays a cursor. */
    switch (kind) {
    case DB_CATALOG_TABLES:
        return table ? pg_query_whole(c, CATALOG_TABLES_ONE, &arg, 1, out, err)
                     : pg_query(c, CATALOG_TABLES_ALL, NULL, 0, out, err);
    case DB_CATALOG_COLUMNS:
        return table ? pg_query_whole(c, CATALOG_COLUMNS_ONE, &arg, 1, out, err)
                     : pg_query(c, CATALOG_COLUMNS_ALL, NULL, 0, out, err);
    case DB_CATALOG_INDEXES:
        return table ? pg_query_whole(c, CATALOG_INDEXES_ONE, &arg, 1, out, err)
                     : pg_query(c, CATALOG_INDEXES_ALL, NULL, 0, out, err);
    }
    *out = NULL;
    set_err(err, "", "unknown catalog listing");
    return DB_ERR;
}

const db_driver driver_pg = {
    .dialect = "postgres",
    .connect = pg_connect,
    .close = pg_close,
    .exec = pg_exec,
    .exec_send = pg_exec_send,
    .exec_wait = pg_exec_wait,
    .exec_send_depth = PG_IN_FLIGHT,
    .exec_script = pg_exec_script,
    .exec_batch = pg_exec_batch,
    .query = pg_query,
    .query_whole = pg_query_whole,
    .query_send = pg_query_send,
    .query_wait = pg_query_wait,
    .next = pg_next,
    .ncols = pg_ncols,
    .colname = pg_colname,
    .value = pg_value,
    .cursor_close = pg_cursor_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .in_transaction = pg_in_transaction,
    .lock = pg_lock,
    .unlock = pg_unlock,
    .lock_held = pg_lock_held,
    .set_read_only = pg_set_read_only,
    .quote_ident = pg_quote_ident,
    .server_version = pg_server_version,
    .catalog = pg_catalog,
    .catalog_all = 1,
};
