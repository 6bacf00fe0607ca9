/*
 * host.h -- the Lua host.  main.c hands over the parsed command line; the
 * host builds a state (with the sandbox allocator), registers the runtime's
 * modules, and runs the Lua library's command dispatcher, which returns the
 * process exit code.  main.c never touches the Lua stack.
 */
#ifndef N9E_HOST_H
#define N9E_HOST_H

#include "sandbox.h"

typedef struct {
    const char *key;
    const char *value;
} host_option;

typedef struct {
    const char *command;
    int nargs;
    char **args; /* positional arguments after the command */
    int nopts;
    const host_option *opts;
    const char *lua_path; /* NULL: the library compiled into the binary */
    sandbox_limits limits;
} host_args;

/* Runs the command through lua/migrate/cli.lua; returns the exit code. */
int host_run(const host_args *a);

/* The pieces host_run is made of, for serve's per-request and per-job
 * states.  host_new_state: a trusted state with the runtime's modules
 * preloaded (NULL on OOM; free with sandbox_close).  host_call: calls
 * require(module)[fn] with the nargs values on top of the stack under a
 * message handler; 0 and nres results, or -1 and the error object.
 * host_error_exit: the exit code for that error object (its `exit` field,
 * else 1 after printing message and traceback), which stays on the stack. */
void host_set_lua_path(const char *dir); /* once, before the first state */
lua_State *host_new_state(const sandbox_limits *limits);
void host_push_args(lua_State *L, const host_args *a);
int host_call(lua_State *L, const char *module, const char *fn, int nargs, int nres);
int host_error_exit(lua_State *L);

#endif
