/* embedded.h -- lua/ and scripts/ compiled into the binary (generated). */
#ifndef N9E_EMBEDDED_H
#define N9E_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name; /* "lua/migrate/cli.lua", "scripts/7.0.0.lua" */
    const unsigned char *data;
    size_t len;
} embedded_file;

extern const embedded_file embedded_files[];
extern const size_t embedded_count;

const embedded_file *embedded_find(const char *name);

#endif
