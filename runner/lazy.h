/*
 * lazy.h -- client libraries opened on first use (dlopen), not at start.
 *
 * Linked, libpq and libmicrohttpd, with what they pull in (Kerberos,
 * LDAP, SASL, GnuTLS and their helpers: 21 more shared objects), cost
 * every process about 2 ms of loading and relocation here, against a
 * MySQL no-op run of 13 ms; most runs need neither (SQLite, MySQL, no
 * `serve`).  A user lists the functions it calls in an X-macro, keeps
 * them in a struct of pointers typed from the library's own header
 * (LAZY_SLOT), fills it once (pthread_once) with lazy_open and LAZY_BIND,
 * and calls through it.
 */
#ifndef N9E_LAZY_H
#define N9E_LAZY_H

/* A member of the function table: a pointer of the function's own type. */
#define LAZY_SLOT(name) __typeof__(name) *name;

/* Fill table.name from handle h (a void * lvalue of lazy_open); a missing
 * function sets h to NULL, lib.why says which, and the rest are skipped. */
#define LAZY_BIND(lib, table, h, name)                                                          \
    if ((h) && !((table).name = (__typeof__((table).name))lazy_sym(&(lib), (h), #name)))       \
        (h) = NULL;

typedef struct {
    const char *soname;  /* "libpq.so.5" */
    const char *package; /* the Debian package that has it, for the error */
    int ok;              /* every function was found */
    char why[320];       /* else: what is missing */
} lazy_lib;

/* The library's handle, or NULL with lib->why set. */
void *lazy_open(lazy_lib *lib);
/* One function of it, or NULL with lib->why set. */
void *lazy_sym(lazy_lib *lib, void *handle, const char *name);

#endif
