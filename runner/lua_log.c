/* lua_log.c -- the "n9e.log" module over log.c. */
#include "log.h"

#include <lauxlib.h>
#include <lua.h>

static log_level check_level(lua_State *L, int i)
{
    log_level lv;
    if (log_level_parse(luaL_checkstring(L, i), &lv) != 0)
        luaL_argerror(L, i, "level must be debug, info, warn, error or quiet");
    return lv;
}

/* log.emit(level, human_line_or_nil, json_line_or_nil) */
static int l_emit(lua_State *L)
{
    log_emit(check_level(L, 1), luaL_optstring(L, 2, NULL), luaL_optstring(L, 3, NULL));
    return 0;
}

static int l_set_level(lua_State *L)
{
    log_set_level(check_level(L, 1));
    return 0;
}

/* log.enabled(level) -> whether a human line at level would be shown */
static int l_enabled(lua_State *L)
{
    log_level lv = check_level(L, 1);
    lua_pushboolean(L, lv >= log_get_level() && log_get_level() != LOG_QUIET);
    return 1;
}

/* log.has_file() -> whether an audit file takes the JSON lines */
static int l_has_file(lua_State *L)
{
    lua_pushboolean(L, log_has_file());
    return 1;
}

static int l_open_file(lua_State *L)
{
    char err[512];
    if (log_open_file(luaL_checkstring(L, 1), err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_close_file(lua_State *L)
{
    (void)L;
    log_close_file();
    return 0;
}

int luaopen_n9e_log(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"close_file", l_close_file}, {"emit", l_emit},
        {"enabled", l_enabled},       {"has_file", l_has_file},
        {"open_file", l_open_file},   {"set_level", l_set_level},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
