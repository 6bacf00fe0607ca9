/*
 * driver.h -- the one seam between the runtime and a database engine.
 *
 * Every engine (SQLite now; PostgreSQL and MySQL/MariaDB next) implements
 * this vtable.  Nothing here knows about Lua: lua_db.c adapts it.  All SQL
 * text uses '?' placeholders; a driver whose client library wants another
 * form ($1 for libpq) rewrites them.  Values only ever travel as bound
 * parameters.
 *
 * Ownership: a db_conn owns its engine handle; a db_cursor owns its engine
 * statement/result and must be closed before its connection.  lua_db.c
 * enforces that order (a cursor keeps a reference to its connection).
 */
#ifndef N9E_DRIVER_H
#define N9E_DRIVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct db_conn db_conn;
typedef struct db_cursor db_cursor;

typedef enum {
    DBV_NULL,
    DBV_INT,
    DBV_FLOAT,
    DBV_TEXT,
    DBV_BLOB,
    DBV_BOOL
} db_value_type;

typedef struct {
    db_value_type type;
    int64_t i;     /* DBV_INT, DBV_BOOL */
    double f;      /* DBV_FLOAT */
    const char *s; /* DBV_TEXT, DBV_BLOB: not owned, valid until next call */
    size_t len;
} db_value;

/* An engine error, copied out of the engine so it outlives the handle. */
typedef struct {
    char sqlstate[6]; /* "" when the engine has none */
    int code;         /* engine-native code (sqlite extended code, ...) */
    int unsent;       /* exec_batch: refused before anything was sent */
    char message[1024];
} db_error;

/* Which catalog listing to produce (see driver.catalog). */
typedef enum {
    DB_CATALOG_TABLES,  /* rows: name  (arg: a table, to list only it, or NULL) */
    DB_CATALOG_COLUMNS, /* rows: name, type, notnull, dflt, pk  (arg: table) */
    DB_CATALOG_INDEXES  /* rows: name, unique, columns (comma list) (arg: table) */
} db_catalog_kind;

/* Result codes shared by every operation. */
enum { DB_OK = 0, DB_ERR = -1, DB_DONE = 1, DB_TIMEOUT = 2 };

/* One statement of a batch (driver.exec_batch). */
typedef struct {
    const char *sql;
    const db_value *params;
    int nparams;
} db_stmt;

/* Parsed connection target; filled by dsn.c.  password is never printed. */
typedef struct {
    const char *engine; /* "sqlite", "postgres", "mysql" */
    char *path;         /* sqlite file */
    char *host, *user, *password, *dbname;
    char *params;       /* "k=v&k=v", keys and values percent-encoded */
    char *socket;       /* MySQL unix socket (Go DSN "unix(/path)") */
    int port;
    int read_only; /* open for reading only; nothing may be created */
} db_target;

typedef struct db_driver {
    const char *dialect; /* "sqlite", "postgres", "mysql" */

    int (*connect)(const db_target *t, db_conn **out, db_error *err);
    void (*close)(db_conn *c);

    /* One statement with bound parameters; *affected may be NULL. */
    int (*exec)(db_conn *c, const char *sql, const db_value *params, int nparams,
                int64_t *affected, db_error *err);
    /* exec in two halves, so the caller can work while the server does:
     * exec_send returns once the statement is sent, exec_wait reads its
     * result.  Nothing else may use the connection in between.  NULL
     * where the client library has no such mode (lua_db.c then runs the
     * statement at exec_send). */
    int (*exec_send)(db_conn *c, const char *sql, const db_value *params, int nparams,
                     db_error *err);
    int (*exec_wait)(db_conn *c, int64_t *affected, db_error *err);
    /* How many exec_send statements may be in flight at once (0 or 1:
     * one); exec_wait answers them in the order sent.  The server starts
     * the second the moment the first ends.  A failure does not stop the
     * statements behind it: lua_db.c sends one behind another only inside
     * a transaction, which the failure leaves failed. */
    int exec_send_depth;
    /* Several ';'-separated statements, no parameters (baseline schemas). */
    int (*exec_script)(db_conn *c, const char *sql, db_error *err);
    /* n statements with bound parameters in one round trip, in order; the
     * first failure stops the rest and is reported, *failed = its index.
     * Transaction control may be among them.  *last_affected (when not
     * NULL): the rows the last statement changed.  NULL where the client
     * has no pipeline (lua_db.c then runs them one by one). */
    int (*exec_batch)(db_conn *c, const db_stmt *stmts, int n, int *failed, int64_t *last_affected,
                      db_error *err);

    /* Streaming cursor: rows are produced one at a time, never buffered
     * whole.  next() returns DB_OK (row ready), DB_DONE or DB_ERR. */
    int (*query)(db_conn *c, const char *sql, const db_value *params, int nparams,
                 db_cursor **out, db_error *err);
    /* query, with the result read whole at once and no server cursor:
     * for results the caller bounds (LIMIT), where a cursor's round
     * trips (PostgreSQL FETCH) or materialisation (MySQL) cost more than
     * holding the rows.  NULL: query does. */
    int (*query_whole)(db_conn *c, const char *sql, const db_value *params, int nparams,
                       db_cursor **out, db_error *err);
    /* query_whole in two halves, like exec_send/exec_wait: query_send
     * returns once the statement is on its way, query_wait reads its rows.
     * The statement is prepared on its second sighting whatever it is (a
     * WITH that writes too): callers change its text when a table it
     * reads changes shape.  NULL where the client has no such mode
     * (lua_db.c then runs query_whole at the send). */
    int (*query_send)(db_conn *c, const char *sql, const db_value *params, int nparams,
                      db_error *err);
    int (*query_wait)(db_conn *c, db_cursor **out, db_error *err);
    int (*next)(db_cursor *cur, db_error *err);
    int (*ncols)(db_cursor *cur);
    const char *(*colname)(db_cursor *cur, int i);
    void (*value)(db_cursor *cur, int i, db_value *out);
    void (*cursor_close)(db_cursor *cur);

    /* Transactions.  begin(immediate=1) takes the write lock up front where
     * the engine has one (SQLite BEGIN IMMEDIATE). */
    int (*begin)(db_conn *c, int immediate, db_error *err);
    int (*commit)(db_conn *c, db_error *err);
    int (*rollback)(db_conn *c, db_error *err);
    int (*savepoint)(db_conn *c, const char *name, db_error *err);
    int (*release)(db_conn *c, const char *name, db_error *err);
    int (*rollback_to)(db_conn *c, const char *name, db_error *err);
    int (*in_transaction)(db_conn *c);

    /* Run-wide advisory lock.  Returns DB_OK, DB_TIMEOUT or DB_ERR.  On
     * SQLite the lock is the write transaction itself (begin immediate). */
    int (*lock)(db_conn *c, const char *key, double timeout_s, db_error *err);
    int (*unlock)(db_conn *c, const char *key, db_error *err);
    /* Whether some session (this one too) holds key, asked without taking
     * it: 1, 0 or DB_ERR.  NULL where the engine cannot tell without
     * trying to take it (SQLite, whose lock is a write transaction). */
    int (*lock_held)(db_conn *c, const char *key, db_error *err);

    /* Read-only mode for verify/precheck handles. */
    int (*set_read_only)(db_conn *c, int on, db_error *err);

    /* Quote an identifier; returns malloc'd text or NULL on error. */
    char *(*quote_ident)(db_conn *c, const char *name, db_error *err);
    const char *(*server_version)(db_conn *c);

    /* Normalised catalog listing as a cursor (see db_catalog_kind). */
    int (*catalog)(db_conn *c, db_catalog_kind kind, const char *table, db_cursor **out,
                   db_error *err);
    /* Nonzero when catalog() accepts table == NULL for COLUMNS and INDEXES:
     * every table at once, each row led by a `tbl` column.  Worth it where
     * each catalog query costs a round trip through a slow catalog
     * (MySQL/MariaDB information_schema). */
    int catalog_all;

    /* Online backup, where the engine has one (SQLite's backup API; NULL
     * elsewhere, where a dump tool does it): backup_to copies the
     * committed database to a new file at path; restore_from replaces the
     * database with the one in the file at path, in one write transaction,
     * and needs the connection outside any transaction.  Both wait up to
     * timeout_s for locks. */
    int (*backup_to)(db_conn *c, const char *path, double timeout_s, db_error *err);
    int (*restore_from)(db_conn *c, const char *path, double timeout_s, db_error *err);
} db_driver;

/* Registry: the driver for an engine name, or NULL if not built in. */
const db_driver *driver_for(const char *engine);
/* Once, before threads connect (serve). */
void driver_init_threads(void);
/* At the end of a thread that connected (frees the client's per-thread data). */
void driver_thread_end(void);

extern const db_driver driver_sqlite;
extern const db_driver driver_pg;    /* driver_pg.c, libpq */
extern const db_driver driver_mysql; /* driver_mysql.c, libmariadb */

#endif
