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

int host_run(const host_args *a);

#endif
