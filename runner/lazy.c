/*
 * lazy.c -- dlopen and dlsym with the error a user can act on (lazy.h).
 */
#include "lazy.h"

#include <dlfcn.h>
#include <stdio.h>

void *lazy_open(lazy_lib *lib)
{
    /* RTLD_LOCAL: its symbols stay its own; RTLD_NOW: a missing one shows
     * here, not in the middle of a run */
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        snprintf(lib->why, sizeof lib->why, "cannot load %s (Debian package %s): %s", lib->soname,
                 lib->package, dlerror());
    return h;
}

void *lazy_sym(lazy_lib *lib, void *handle, const char *name)
{
    void *f = dlsym(handle, name);
    if (!f)
        snprintf(lib->why, sizeof lib->why, "%s has no %s (too old?)", lib->soname, name);
    return f;
}
