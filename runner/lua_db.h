/* lua_db.h -- the "n9e.db" module: connections and cursors as Lua objects. */
#ifndef N9E_LUA_DB_H
#define N9E_LUA_DB_H

typedef struct lua_State lua_State;

int luaopen_n9e_db(lua_State *L);

#endif
