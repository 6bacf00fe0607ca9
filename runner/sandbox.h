/*
 * sandbox.h -- limits for the Lua state that runs migration scripts.
 *
 * The state's allocator counts every byte.  While a sandboxed call runs
 * (sandbox.call from Lua), allocations beyond the memory cap fail and an
 * instruction/time budget is enforced by a count hook.  Outside such calls
 * (the trusted library reporting and rolling back) only accounting happens,
 * so the runner can always clean up after a script that hit a limit.
 */
#ifndef N9E_SANDBOX_H
#define N9E_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

typedef struct lua_State lua_State;

typedef struct sandbox_limits {
    size_t memory_bytes;       /* 0: no cap */
    uint64_t max_instructions; /* 0: no instruction budget */
    double max_seconds;        /* 0: no time budget */
} sandbox_limits;

/* A new state whose allocator and hook belong to a sandbox; NULL on OOM.
 * Free with sandbox_close (closes the state, then the sandbox). */
lua_State *sandbox_new_state(const sandbox_limits *limits);
void sandbox_close(lua_State *L);

/* Bytes currently allocated by the state. */
size_t sandbox_memory_used(lua_State *L);

/* Test hook (as Lua's ltests.c): make the next allocation inside a
 * sandboxed call fail. */
void sandbox_fail_next_alloc(lua_State *L);

/* Run fn at stack index -(nargs+1) with the limits enforced, as lua_pcall
 * with a message handler that turns any error into a table
 * {message=, kind=, traceback=, script=, line=}.  Returns a LUA_* status. */
int sandbox_pcall(lua_State *L, int nargs, int nresults);

/* The "n9e.sandbox" module: load, call, pcall, xpcall, open. */
int luaopen_n9e_sandbox(lua_State *L);

#endif
