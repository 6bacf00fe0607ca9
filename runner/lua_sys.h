/* lua_sys.h -- the "n9e.sys" module: host facts and files for the library. */
#ifndef N9E_LUA_SYS_H
#define N9E_LUA_SYS_H

typedef struct lua_State lua_State;

int luaopen_n9e_sys(lua_State *L);

#endif
