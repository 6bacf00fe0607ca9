/*
 * dsn.h -- connection strings to db_target.
 *
 * Accepted now: "sqlite:PATH", "sqlite://PATH", a bare file path (SQLite),
 * "postgres://" / "postgresql://" / "mysql://" URLs.  The password is kept
 * only in the target; dsn_redact() is the only text form ever printed.
 */
#ifndef N9E_DSN_H
#define N9E_DSN_H

#include "driver.h"

/* Parse text into *t (fields malloc'd).  Returns 0, or -1 with a message
 * in errbuf that never contains the password. */
int dsn_parse(const char *text, db_target *t, char *errbuf, size_t errlen);

/* Printable form of the target with any password replaced by "***". */
char *dsn_redact(const db_target *t);

void dsn_free(db_target *t);

#endif
