/*
 * sandbox.c -- memory cap, instruction/time budget and chunk loading for
 * migration scripts.  Model: HAProxy's hlua_alloc and its re-arming
 * watchdog hook; Lua's ltests.c for the fail-next-allocation switch.
 *
 * Lua cannot stop a script's own pcall from catching a limit error, so the
 * sandbox gives scripts its own pcall/xpcall that re-raise once a limit has
 * tripped: a script cannot swallow its way past the budget.
 */
#define _POSIX_C_SOURCE 200809L
#include "sandbox.h"

#include "embedded.h"

#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum trip { TRIP_NONE, TRIP_MEMORY, TRIP_INSTRUCTIONS, TRIP_TIME };

#define HOOK_EVERY 10000 /* instructions between budget checks */

typedef struct sandbox {
    sandbox_limits limits;
    size_t used;
    int enforcing; /* depth of nested sandboxed calls */
    int fail_next;
    enum trip tripped;
    uint64_t instructions;
    double deadline;
    char where[256]; /* last script position seen by the hook */
} sandbox;

static const char CHUNKS_KEY[] = "n9e.sandbox.chunks"; /* set of script sources */

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (sb->enforcing && nsize > old) {
        if (sb->fail_next) {
            /* Lua answers a failed allocation with an emergency GC and one
             * retry of the same request: fail both, or nothing fails. */
            sb->fail_next--;
            sb->tripped = TRIP_MEMORY;
            return NULL;
        }
        if (sb->limits.memory_bytes && sb->used - old + nsize > sb->limits.memory_bytes) {
            sb->tripped = TRIP_MEMORY;
            return NULL;
        }
    }
    void *np = realloc(ptr, nsize);
    if (np)
        sb->used = sb->used - old + nsize;
    return np;
}

static sandbox *get_sb(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

lua_State *sandbox_new_state(const sandbox_limits *limits)
{
    sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return NULL;
    sb->limits = *limits;
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L)
        free(sb);
    return L;
}

void sandbox_close(lua_State *L)
{
    if (!L)
        return;
    sandbox *sb = get_sb(L);
    lua_close(L);
    free(sb);
}

size_t sandbox_memory_used(lua_State *L) { return get_sb(L)->used; }

void sandbox_fail_next_alloc(lua_State *L) { get_sb(L)->fail_next = 2; }

static int is_script_source(lua_State *L, const char *source)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CHUNKS_KEY);
    int found = 0;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, source);
        found = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return found;
}

/* The innermost stack level that is inside a sandboxed script. */
static int script_position(lua_State *L, int from, char *script, size_t slen, int *line)
{
    lua_Debug ar;
    for (int level = from; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        if (is_script_source(L, ar.source)) {
            snprintf(script, slen, "%s", ar.short_src);
            *line = ar.currentline;
            return 1;
        }
    }
    return 0;
}

static const char *trip_message(sandbox *sb, char *buf, size_t len)
{
    switch (sb->tripped) {
    case TRIP_MEMORY:
        snprintf(buf, len, "sandbox: memory limit of %zu bytes exceeded%s%s",
                 sb->limits.memory_bytes, sb->where[0] ? " near " : "", sb->where);
        break;
    case TRIP_INSTRUCTIONS:
        snprintf(buf, len, "sandbox: instruction budget of %llu exhausted",
                 (unsigned long long)sb->limits.max_instructions);
        break;
    case TRIP_TIME:
        snprintf(buf, len, "sandbox: time budget of %.3g s exhausted", sb->limits.max_seconds);
        break;
    default: snprintf(buf, len, "sandbox: no limit tripped"); break;
    }
    return buf;
}

static const char *trip_kind(enum trip t)
{
    switch (t) {
    case TRIP_MEMORY: return "memory";
    case TRIP_INSTRUCTIONS: return "instructions";
    case TRIP_TIME: return "time";
    default: return "error";
    }
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    sandbox *sb = get_sb(L);
    (void)ar;
    lua_Debug here;
    if (lua_getstack(L, 0, &here) && lua_getinfo(L, "Sl", &here) && here.currentline > 0)
        snprintf(sb->where, sizeof sb->where, "%s:%d", here.short_src, here.currentline);
    sb->instructions += HOOK_EVERY;
    if (sb->tripped == TRIP_NONE) {
        if (sb->limits.max_instructions && sb->instructions > sb->limits.max_instructions)
            sb->tripped = TRIP_INSTRUCTIONS;
        else if (sb->limits.max_seconds > 0 && monotonic() > sb->deadline)
            sb->tripped = TRIP_TIME;
    }
    if (sb->tripped != TRIP_NONE && sb->tripped != TRIP_MEMORY) {
        char msg[320];
        lua_pushstring(L, trip_message(sb, msg, sizeof msg));
        lua_error(L);
    }
}

/* Message handler: every error becomes a table with a stable shape. */
static int msghandler(lua_State *L)
{
    sandbox *sb = get_sb(L);
    /* The budget has done its job once we are here; a __tostring below
     * must not trip it again and turn the error into LUA_ERRERR. */
    lua_sethook(L, NULL, 0, 0);
    if (!lua_istable(L, 1)) {
        const char *msg = NULL;
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_tostring(L, 1);
        lua_newtable(L);
        lua_pushstring(L, msg ? msg : "(error object is not a string)");
        lua_setfield(L, -2, "message");
        lua_replace(L, 1);
        lua_settop(L, 1);
    }
    if (lua_getfield(L, 1, "kind") == LUA_TNIL) {
        lua_pushstring(L, trip_kind(sb->tripped));
        lua_setfield(L, 1, "kind");
    }
    lua_pop(L, 1);
    char script[256];
    int line = 0;
    if (script_position(L, 1, script, sizeof script, &line)) {
        if (lua_getfield(L, 1, "script") == LUA_TNIL) {
            lua_pushstring(L, script);
            lua_setfield(L, 1, "script");
            lua_pushinteger(L, line);
            lua_setfield(L, 1, "line");
        }
        lua_pop(L, 1);
    }
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, 1, "traceback");
    return 1;
}

static void enter(sandbox *sb, lua_State *L)
{
    if (sb->enforcing++ == 0) {
        sb->tripped = TRIP_NONE;
        sb->instructions = 0;
        sb->where[0] = '\0';
        sb->deadline = monotonic() + sb->limits.max_seconds;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    }
}

static void leave(sandbox *sb, lua_State *L)
{
    if (--sb->enforcing == 0)
        lua_sethook(L, NULL, 0, 0);
    else /* the message handler of a nested call switched it off */
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

int sandbox_pcall(lua_State *L, int nargs, int nresults)
{
    sandbox *sb = get_sb(L);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    enter(sb, L);
    int status = lua_pcall(L, nargs, nresults, base);
    int tripped = sb->tripped;
    leave(sb, L);
    if (status == LUA_ERRMEM || (status != LUA_OK && tripped == TRIP_MEMORY)) {
        /* The handler is not run for memory errors: build the table here,
         * now that allocation is unrestricted again. */
        char msg[320];
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushstring(L, trip_message(sb, msg, sizeof msg));
        lua_setfield(L, -2, "message");
        lua_pushstring(L, "memory");
        lua_setfield(L, -2, "kind");
        if (sb->where[0]) {
            lua_pushstring(L, sb->where);
            lua_setfield(L, -2, "near");
        }
    }
    lua_remove(L, base);
    return status;
}

/* sandbox.call(fn, ...) -> true, results... | false, errtable */
static int sb_call(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int n = lua_gettop(L);
    int status = sandbox_pcall(L, n - 1, LUA_MULTRET);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* After a protected call inside a script: if a limit tripped, the error
 * must keep travelling out of the script. */
static void reraise_if_tripped(lua_State *L, int status)
{
    sandbox *sb = get_sb(L);
    if (status != LUA_OK && sb->tripped != TRIP_NONE) {
        char msg[320];
        lua_pushstring(L, trip_message(sb, msg, sizeof msg));
        lua_error(L);
    }
}

static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    reraise_if_tripped(L, status);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lua_copy(L, 2, 1);
    lua_replace(L, 2); /* stack: handler, fn, args... */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    reraise_if_tripped(L, status);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* sandbox.load(source, chunkname, env) -> function.  Text chunks only; the
 * chunk's _ENV is env; chunkname is remembered as a script source so that
 * errors can name the script and line. */
static int sb_load(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *name = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    lua_pushfstring(L, "@%s", name);
    const char *chunk = lua_tostring(L, -1);
    int status = luaL_loadbufferx(L, src, len, chunk, "t");
    if (status != LUA_OK)
        return lua_error(L); /* message already says "name:line: ..." */
    lua_pushvalue(L, 3);
    lua_setupvalue(L, -2, 1); /* _ENV */
    lua_getfield(L, LUA_REGISTRYINDEX, CHUNKS_KEY);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, chunk);
    lua_pop(L, 1);
    return 1;
}

/* sandbox.load_embedded(name, env) -> function: a script compiled into
 * the binary, as its build-time bytecode (see embedded_load) */
static int sb_load_embedded(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    const embedded_file *e = embedded_find(name);
    if (!e)
        return luaL_error(L, "no embedded script '%s'", name);
    if (embedded_load(L, e) != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 2);
    lua_setupvalue(L, -2, 1); /* _ENV */
    lua_getfield(L, LUA_REGISTRYINDEX, CHUNKS_KEY);
    lua_pushfstring(L, "@%s", name);
    lua_pushboolean(L, 1);
    lua_settable(L, -3);
    lua_pop(L, 1);
    return 1;
}

/* sandbox.set_limits{memory=, instructions=, seconds=} */
static int sb_set_limits(lua_State *L)
{
    sandbox *sb = get_sb(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "memory") == LUA_TNUMBER)
        sb->limits.memory_bytes = (size_t)lua_tointeger(L, -1);
    if (lua_getfield(L, 1, "instructions") == LUA_TNUMBER)
        sb->limits.max_instructions = (uint64_t)lua_tointeger(L, -1);
    if (lua_getfield(L, 1, "seconds") == LUA_TNUMBER)
        sb->limits.max_seconds = lua_tonumber(L, -1);
    lua_pop(L, 3);
    return 0;
}

static int sb_memory_used(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)get_sb(L)->used);
    return 1;
}

static int sb_fail_next_alloc(lua_State *L)
{
    sandbox_fail_next_alloc(L);
    return 0;
}

int luaopen_n9e_sandbox(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"call", sb_call},
        {"fail_next_alloc", sb_fail_next_alloc},
        {"load", sb_load},
        {"load_embedded", sb_load_embedded},
        {"memory_used", sb_memory_used},
        {"pcall", sb_pcall},
        {"set_limits", sb_set_limits},
        {"xpcall", sb_xpcall},
        {NULL, NULL},
    };
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, CHUNKS_KEY);
    luaL_newlib(L, fns);
    return 1;
}
