/*
 * host.c -- builds the Lua state and runs the library (lua/migrate/cli.lua).
 *
 * The state itself is trusted (full standard library, for the library and
 * for busted under `test`); migration scripts get their own _ENV from the
 * library's allow-list and run through sandbox.call with the limits on.
 * Everything runs under lua_pcall with a message handler that keeps error
 * tables and adds a traceback (lua.c's docall, not wrk's bare lua_call).
 */
#include "host.h"

#include "embedded.h"
#include "lua_db.h"
#include "lua_sys.h"
#include "log.h"

#include <lauxlib.h>
#include <lua.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#define EXIT_INTERNAL 1

static const char *lua_path_dir; /* --lua-path, or NULL; set before any state exists */

const embedded_file *embedded_find(const char *name)
{
    for (size_t i = 0; i < embedded_count; i++)
        if (!strcmp(embedded_files[i].name, name))
            return &embedded_files[i];
    return NULL;
}

int embedded_load(lua_State *L, const embedded_file *e)
{
    lua_pushfstring(L, "@%s", e->name);
    const char *chunk = lua_tostring(L, -1);
    if (e->code && luaL_loadbufferx(L, (const char *)e->code, e->code_len, chunk, "b") == LUA_OK) {
        lua_remove(L, -2);
        return LUA_OK;
    }
    if (e->code)
        lua_pop(L, 1); /* a luac of another Lua release: compile the source */
    int status = luaL_loadbufferx(L, (const char *)e->data, e->len, chunk, "t");
    lua_remove(L, -2);
    return status;
}

/* package.searchers entry: "migrate.cli" -> <lua-path>/migrate/cli.lua,
 * else lua/migrate/cli.lua compiled into the binary. */
static int searcher(lua_State *L)
{
    const char *mod = luaL_checkstring(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *p = mod; *p; p++)
        luaL_addchar(&b, *p == '.' ? '/' : *p);
    luaL_addstring(&b, ".lua");
    luaL_pushresult(&b);
    const char *rel = lua_tostring(L, -1);
    if (lua_path_dir) {
        lua_pushfstring(L, "%s/%s", lua_path_dir, rel);
        const char *file = lua_tostring(L, -1);
        FILE *f = fopen(file, "r");
        if (f) {
            fclose(f);
            if (luaL_loadfilex(L, file, "t") != LUA_OK)
                return lua_error(L);
            lua_pushstring(L, file);
            return 2;
        }
        lua_pop(L, 1);
    }
    lua_pushfstring(L, "lua/%s", rel);
    const embedded_file *e = embedded_find(lua_tostring(L, -1));
    if (!e) {
        lua_pushfstring(L, "\n\tno embedded module '%s'", lua_tostring(L, -1));
        return 1;
    }
    if (embedded_load(L, e) != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, e->name);
    return 2;
}

static void preload(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

static void install_searcher(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = n; i >= 2; i--) { /* make room at slot 2 */
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, searcher);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}

static int msghandler(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE) {
        const char *msg = lua_tostring(L, 1);
        lua_newtable(L);
        lua_pushstring(L, msg ? msg : "(error object is not a string)");
        lua_setfield(L, -2, "message");
        lua_replace(L, 1);
    }
    if (lua_getfield(L, 1, "traceback") == LUA_TNIL) {
        luaL_traceback(L, L, NULL, 1);
        lua_setfield(L, 1, "traceback");
    }
    lua_settop(L, 1);
    return 1;
}

void host_push_args(lua_State *L, const host_args *a)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, a->command);
    lua_setfield(L, -2, "command");
    lua_createtable(L, a->nargs, 0);
    for (int i = 0; i < a->nargs; i++) {
        lua_pushstring(L, a->args[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "args");
    /* options: last value wins in opts[key]; every value in opts_list[key] */
    lua_newtable(L);
    lua_newtable(L);
    for (int i = 0; i < a->nopts; i++) {
        lua_pushstring(L, a->opts[i].value ? a->opts[i].value : "");
        lua_setfield(L, -3, a->opts[i].key);
        if (lua_getfield(L, -1, a->opts[i].key) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, a->opts[i].key);
        }
        lua_pushstring(L, a->opts[i].value ? a->opts[i].value : "");
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
    }
    lua_setfield(L, -3, "opts_list");
    lua_setfield(L, -2, "opts");
    if (a->lua_path) {
        lua_pushstring(L, a->lua_path);
        lua_setfield(L, -2, "lua_path");
    }
}

int host_call(lua_State *L, const char *module, const char *fn, int nargs, int nres)
{
    int base = lua_gettop(L) - nargs; /* the arguments are base+1 .. top */
    lua_pushcfunction(L, msghandler);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    if (lua_pcall(L, 1, 1, base + nargs + 1) != LUA_OK) {
        lua_replace(L, base + 1); /* the error object replaces the arguments */
        lua_settop(L, base + 1);
        return -1;
    }
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);        /* args..., handler, fn */
    lua_rotate(L, base + 1, 2); /* handler, fn, args... */
    int status = lua_pcall(L, nargs, nres, base + 1);
    lua_remove(L, base + 1);
    return status == LUA_OK ? 0 : -1;
}

int host_error_exit(lua_State *L)
{
    /* An error object with an exit code is a deliberate stop (e.g. the
     * os.exit replacement under `test`); anything else is a bug. */
    if (lua_type(L, -1) != LUA_TTABLE) {
        fprintf(stderr, "n9e-lua-migrate: internal error: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        return EXIT_INTERNAL;
    }
    if (lua_getfield(L, -1, "exit") == LUA_TNUMBER) {
        int code = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        return code;
    }
    lua_getfield(L, -2, "message");
    lua_getfield(L, -3, "traceback");
    fprintf(stderr, "n9e-lua-migrate: internal error: %s\n%s\n",
            lua_isstring(L, -2) ? lua_tostring(L, -2) : "?",
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 3);
    return EXIT_INTERNAL;
}

void host_set_lua_path(const char *dir) { lua_path_dir = dir; }

lua_State *host_new_state(const sandbox_limits *limits)
{
    lua_State *L = sandbox_new_state(limits);
    if (!L)
        return NULL;
    luaL_openlibs(L);
    /* No way to turn a function back into bytecode: scripts are text. */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    preload(L, "n9e.db", luaopen_n9e_db);
    preload(L, "n9e.sys", luaopen_n9e_sys);
    preload(L, "n9e.log", luaopen_n9e_log);
    preload(L, "n9e.sandbox", luaopen_n9e_sandbox);
    preload(L, "cjson", luaopen_cjson);
    install_searcher(L);
    return L;
}

int host_run(const host_args *a)
{
    host_set_lua_path(a->lua_path);
    lua_State *L = host_new_state(&a->limits);
    if (!L) {
        fprintf(stderr, "n9e-lua-migrate: error: cannot create the Lua state (out of memory)\n");
        return EXIT_INTERNAL;
    }
    host_push_args(L, a);
    int code;
    if (host_call(L, "migrate.cli", "main", 1, 1) != 0) {
        code = host_error_exit(L);
    } else if (!lua_isinteger(L, -1)) {
        fprintf(stderr, "n9e-lua-migrate: internal error: cli.main returned no exit code\n");
        code = EXIT_INTERNAL;
    } else {
        code = (int)lua_tointeger(L, -1);
    }
    fflush(stdout);
    sandbox_close(L);
    log_close_file();
    return code;
}
