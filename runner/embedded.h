/* embedded.h -- lua/ and scripts/ compiled into the binary (generated). */
#ifndef N9E_EMBEDDED_H
#define N9E_EMBEDDED_H

#include <stddef.h>

#include <lua.h>

typedef struct {
    const char *name; /* "lua/migrate/cli.lua", "scripts/7.0.0.lua" */
    const unsigned char *data; /* the source, NUL-terminated */
    size_t len;
    const unsigned char *code; /* its bytecode (luac at build time), or NULL */
    size_t code_len;
    const char *sha256; /* of the source, hex */
} embedded_file;

extern const embedded_file embedded_files[];
extern const size_t embedded_count;

const embedded_file *embedded_find(const char *name);

/* Load an embedded file as a Lua chunk named "@NAME": its bytecode, built
 * from the same source by the same Lua, or the source where there is
 * none (or the bytecode does not load).  Only code compiled into the
 * binary is ever loaded as bytecode. */
int embedded_load(lua_State *L, const embedded_file *e);

#endif
