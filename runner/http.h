/*
 * http.h -- `serve`: the HTTP API on libmicrohttpd.
 *
 * The mechanism only: sockets, a thread per connection, body limits,
 * jobs on their own threads with an event buffer, streaming, signals.
 * Routing, tokens, roles, validation and audit are lua/migrate/api.lua's,
 * called in a fresh Lua state per request and per job.
 */
#ifndef N9E_HTTP_H
#define N9E_HTTP_H

#include "host.h"

/* Serves until SIGINT/SIGTERM, then waits for a running job; returns the
 * process exit code (2 for bad options or token file). */
int http_serve(const host_args *a);

#endif
