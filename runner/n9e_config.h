/*
 * n9e_config.h -- the database settings of Nightingale's own config file
 * (etc/config.toml): [DB] DBType and DSN.  Debian ships no C TOML library,
 * so this reads the small TOML subset such a file uses: comments, [tables],
 * key = "basic string" / 'literal string' / other values (skipped).
 */
#ifndef N9E_CONFIG_H
#define N9E_CONFIG_H

#include <stddef.h>

/* Parse text; on success *dbtype (default "mysql", as Nightingale) and *dsn
 * are malloc'd.  Returns 0, or -1 with a message in errbuf that never
 * quotes a value (a DSN holds a password). */
int n9e_config_parse_db(const char *text, size_t len, char **dbtype, char **dsn, char *errbuf,
                        size_t errlen);

/* The same, reading the file at path. */
int n9e_config_read_db(const char *path, char **dbtype, char **dsn, char *errbuf, size_t errlen);

#endif
