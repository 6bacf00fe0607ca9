/*
 * dsn.h -- connection strings to db_target.
 *
 * Accepted: "sqlite:PATH", "sqlite://PATH", a bare file path (SQLite),
 * "postgres://" / "postgresql://" / "mysql://" URLs, Nightingale's Go-MySQL
 * DSN ("user:pass@tcp(host:port)/db?charset=utf8mb4&...") and its
 * PostgreSQL key=value DSN ("host=... port=... user=... dbname=...").  The
 * password is kept only in the target; dsn_redact() is the only text form
 * ever printed, and no error message quotes the input.
 */
#ifndef N9E_DSN_H
#define N9E_DSN_H

#include "driver.h"

/* Parse text into *t (fields malloc'd).  Returns 0, or -1 with a message
 * in errbuf that never contains the password. */
int dsn_parse(const char *text, db_target *t, char *errbuf, size_t errlen);

/* As dsn_parse, with the engine known (Nightingale's DBType: "mysql",
 * "postgres" or "sqlite"): the text is then read in that engine's own DSN
 * form.  dbtype NULL means: recognise the form. */
int dsn_parse_as(const char *dbtype, const char *text, db_target *t, char *errbuf, size_t errlen);

/* Replace the password (e.g. from a password file).  0, or -1 on OOM. */
int dsn_set_password(db_target *t, const char *password);

/* Read a password file: the first line, without its line ending.  Returns
 * malloc'd text or NULL with a message in errbuf. */
char *dsn_read_password_file(const char *path, char *errbuf, size_t errlen);

/* Printable form of the target with any password replaced by "***". */
char *dsn_redact(const db_target *t);

void dsn_free(db_target *t);

#endif
