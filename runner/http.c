/*
 * http.c -- see http.h.
 *
 * Threads: libmicrohttpd runs one thread per connection, so a slow client
 * or a slow database call holds only its own connection (and is closed
 * after --client-timeout of silence).  Each request builds its own Lua
 * state and drops it at the end; Lua states are never shared between
 * threads.  Jobs (run, rollback, ...) run on threads of their own (joined
 * when the job is freed) with their own state; what they log becomes the
 * job's events, which GET /v1/jobs/ID and streaming responses read.  All
 * shared data is in `srv` under one mutex; nothing that can raise a Lua
 * error runs while it is held.
 */
#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include "driver.h"
#include "lazy.h"
#include "log.h"
#include "sandbox.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define EXIT_USAGE 2
#define MAX_BODY 16384        /* request bodies; README "HTTP API" */
#define MAX_DISCARD (1 << 20) /* a chunked body this far over the limit: hang up */
#define MAX_JOBS_KEPT 64      /* finished jobs GET /v1/jobs/ID can still see */
#define MAX_EVENTS 10000      /* per job; later events are counted, not kept */
#define MAX_CONNECTIONS 64
#define START_WAIT_SECONDS 60 /* a request waits this long for its job's lock */
#define HEARTBEAT_SECONDS 5   /* a quiet stream sends a heartbeat line */
#define HOST_TEXT_MAX 64      /* a numeric IPv4 or IPv6 address */

enum job_state { JOB_STARTING, JOB_RUNNING, JOB_DONE };
/* libmicrohttpd, opened when serve starts (lazy.h) */
#define MHD_FUNCTIONS(X) \
    X(MHD_add_response_header) \
    X(MHD_create_response_from_buffer) \
    X(MHD_create_response_from_callback) \
    X(MHD_destroy_response) \
    X(MHD_get_connection_info) \
    X(MHD_get_connection_values) \
    X(MHD_get_daemon_info) \
    X(MHD_lookup_connection_value) \
    X(MHD_queue_response) \
    X(MHD_start_daemon) \
    X(MHD_stop_daemon)

static struct {
    MHD_FUNCTIONS(LAZY_SLOT)
} mhd;
static lazy_lib libmhd = {.soname = "libmicrohttpd.so.12", .package = "libmicrohttpd12"};

static void open_libmhd(void)
{
    void *h = lazy_open(&libmhd);
#define MHD_BIND(name) LAZY_BIND(libmhd, mhd, h, name)
    MHD_FUNCTIONS(MHD_BIND)
#undef MHD_BIND
    libmhd.ok = h != NULL;
}

static const char *const state_names[] = {"starting", "running", "done"};

typedef struct job {
    struct job *next;
    unsigned id;
    char *command, *who, *spec;
    int exclusive;
    enum job_state state;
    int exit;
    char *result; /* the command's JSON document, when done */
    char **events;
    size_t nevents, cap, dropped;
    double started, finished;
    int readers; /* open streams reading it; it is not pruned meanwhile */
    pthread_t thread;
    int has_thread; /* joined when the job is freed: a thread that has not
                       finished exiting (libcrypto's per-thread state) must
                       not outlive the job table, nor the process's exit */
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* broadcast on every change below */
    const host_args *args;
    char *tokens_text;
    job *jobs; /* newest first */
    unsigned next_id;
    job *exclusive; /* the mutating job that runs, or NULL */
    int running;    /* job threads alive */
    int stopping;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER, .next_id = 1};

static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec deadline_in(double seconds)
{
    double t = wall_clock() + seconds;
    struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
    return ts;
}

static const char *option(const host_args *a, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopts; i++)
        if (!strcmp(a->opts[i].key, key))
            v = a->opts[i].value;
    return v;
}

static char *read_text_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* The serve command's arguments as a Lua table, plus the token file. */
static void push_server(lua_State *L, const char *tokens_text)
{
    host_push_args(L, srv.args);
    lua_pushstring(L, tokens_text ? tokens_text : "");
    lua_setfield(L, -2, "tokens_text");
}

static char *tokens_copy(void)
{
    pthread_mutex_lock(&srv.mu);
    char *t = srv.tokens_text ? strdup(srv.tokens_text) : NULL;
    pthread_mutex_unlock(&srv.mu);
    return t;
}

/* Prints a stop's message (an error table with exit) or an internal error;
 * returns the exit code.  Pops the error. */
static int report_error(lua_State *L)
{
    int is_stop = 0;
    if (lua_type(L, -1) == LUA_TTABLE) {
        is_stop = lua_getfield(L, -1, "exit") == LUA_TNUMBER;
        lua_pop(L, 1);
    }
    if (is_stop) {
        lua_getfield(L, -1, "message");
        fprintf(stderr, "n9e-lua-migrate: error: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
    }
    int code = host_error_exit(L);
    lua_pop(L, 1);
    return code;
}

/* api.start on the token file: 0 and the text in *out, or an exit code. */
static int load_tokens(const char *path, int reload, char **out)
{
    char err[512];
    char *text = read_text_file(path, err, sizeof err);
    if (!text) {
        fprintf(stderr, "n9e-lua-migrate: error: --tokens %s\n", err);
        return EXIT_USAGE;
    }
    lua_State *L = host_new_state(&srv.args->limits);
    if (!L) {
        free(text);
        fprintf(stderr, "n9e-lua-migrate: error: out of memory\n");
        return 1;
    }
    push_server(L, NULL);
    lua_pushstring(L, text);
    lua_pushstring(L, path);
    lua_pushboolean(L, reload);
    int code = 0;
    if (host_call(L, "migrate.api", "start", 4, 1) != 0)
        code = report_error(L);
    sandbox_close(L);
    if (code != 0) {
        free(text);
        return code;
    }
    *out = text;
    return 0;
}

/* jobs ---------------------------------------------------------------------- */

static void job_free(job *j)
{
    if (j->has_thread) /* done already: this only waits for the thread's exit */
        pthread_join(j->thread, NULL);
    for (size_t i = 0; i < j->nevents; i++)
        free(j->events[i]);
    free(j->events);
    free(j->command);
    free(j->who);
    free(j->spec);
    free(j->result);
    free(j);
}

static job *job_find_locked(unsigned id)
{
    for (job *j = srv.jobs; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

/* Keeps the newest MAX_JOBS_KEPT; a job still running or streamed stays. */
static void prune_jobs_locked(void)
{
    size_t n = 0;
    for (job **p = &srv.jobs; *p;) {
        job *j = *p;
        if (++n > MAX_JOBS_KEPT && j->state == JOB_DONE && j->readers == 0) {
            *p = j->next;
            job_free(j);
        } else {
            p = &j->next;
        }
    }
}

static job *job_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* job.event(json_line): one progress event. */
static int l_job_event(lua_State *L)
{
    job *j = job_of(L);
    const char *line = luaL_checkstring(L, 1);
    char *copy = strdup(line);
    pthread_mutex_lock(&srv.mu);
    if (copy && j->nevents < MAX_EVENTS) {
        if (j->nevents == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 64;
            char **grown = realloc(j->events, cap * sizeof *grown);
            if (grown) {
                j->events = grown;
                j->cap = cap;
            }
        }
        if (j->nevents < j->cap) {
            j->events[j->nevents++] = copy;
            copy = NULL;
        }
    }
    if (copy || !line) {
        free(copy);
        j->dropped++;
    }
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.mu);
    return 0;
}

/* job.locked(): the job holds the migration lock; its request may answer. */
static int l_job_locked(lua_State *L)
{
    job *j = job_of(L);
    pthread_mutex_lock(&srv.mu);
    if (j->state == JOB_STARTING)
        j->state = JOB_RUNNING;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.mu);
    return 0;
}

static int l_job_id(lua_State *L)
{
    lua_pushinteger(L, job_of(L)->id);
    return 1;
}

static void *job_main(void *arg)
{
    job *j = arg;
    int code = 1;
    char *result = NULL;
    char *tokens = tokens_copy();
    lua_State *L = host_new_state(&srv.args->limits);
    if (L) {
        /* package.loaded["n9e.job"]: this job's functions */
        static const luaL_Reg fns[] = {
            {"event", l_job_event}, {"locked", l_job_locked}, {"id", l_job_id}, {NULL, NULL}};
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_newtable(L);
        lua_pushlightuserdata(L, j);
        luaL_setfuncs(L, fns, 1);
        lua_setfield(L, -2, "n9e.job");
        lua_pop(L, 1);
        lua_pushstring(L, j->spec);
        push_server(L, tokens);
        if (host_call(L, "migrate.api", "run_job", 2, 2) == 0) {
            code = lua_isinteger(L, -2) ? (int)lua_tointeger(L, -2) : 1;
            result = lua_isstring(L, -1) ? strdup(lua_tostring(L, -1)) : NULL;
        } else {
            code = host_error_exit(L);
        }
        sandbox_close(L);
    }
    free(tokens);
    if (!result)
        result = strdup("{\"ok\":false,\"error\":\"internal error in the job (see the server log)\"}");
    driver_thread_end();
    pthread_mutex_lock(&srv.mu);
    j->exit = code;
    j->result = result;
    j->state = JOB_DONE;
    j->finished = wall_clock();
    if (srv.exclusive == j)
        srv.exclusive = NULL;
    srv.running--;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.mu);
    return NULL;
}

/* server.start_job(command, spec_json, who, exclusive)
 *   -> id, state, exit | nil, "busy", running_id, running_command
 *                      | nil, "stopping"
 * An exclusive job is answered once it holds the lock or has finished
 * (e.g. exit 5: another runner holds it). */
static int l_start_job(lua_State *L)
{
    const char *command = luaL_checkstring(L, 1);
    const char *spec = luaL_checkstring(L, 2);
    const char *who = luaL_checkstring(L, 3);
    int exclusive = lua_toboolean(L, 4);
    job *j = calloc(1, sizeof *j);
    if (j) {
        j->command = strdup(command);
        j->spec = strdup(spec);
        j->who = strdup(who);
    }
    if (!j || !j->command || !j->spec || !j->who) {
        if (j)
            job_free(j);
        return luaL_error(L, "out of memory");
    }
    j->exclusive = exclusive;
    j->state = exclusive ? JOB_STARTING : JOB_RUNNING;
    j->started = wall_clock();

    pthread_mutex_lock(&srv.mu);
    if (srv.stopping || (exclusive && srv.exclusive)) {
        unsigned busy_id = srv.exclusive ? srv.exclusive->id : 0;
        char busy_cmd[32] = "";
        if (srv.exclusive)
            snprintf(busy_cmd, sizeof busy_cmd, "%s", srv.exclusive->command);
        int stopping = srv.stopping;
        pthread_mutex_unlock(&srv.mu);
        job_free(j);
        lua_pushnil(L);
        if (stopping) {
            lua_pushliteral(L, "stopping");
            return 2;
        }
        lua_pushliteral(L, "busy");
        lua_pushinteger(L, busy_id);
        lua_pushstring(L, busy_cmd);
        return 4;
    }
    j->id = srv.next_id++;
    j->next = srv.jobs;
    srv.jobs = j;
    if (exclusive)
        srv.exclusive = j;
    srv.running++;
    int err = pthread_create(&j->thread, NULL, job_main, j);
    j->has_thread = err == 0;
    if (err) {
        srv.jobs = j->next;
        if (srv.exclusive == j)
            srv.exclusive = NULL;
        srv.running--;
        pthread_mutex_unlock(&srv.mu);
        job_free(j);
        return luaL_error(L, "cannot start a job thread: %s", strerror(err));
    }
    struct timespec until = deadline_in(START_WAIT_SECONDS);
    j->readers++; /* the wait releases the mutex: keep j from being pruned */
    while (j->state == JOB_STARTING)
        if (pthread_cond_timedwait(&srv.changed, &srv.mu, &until) == ETIMEDOUT)
            break;
    j->readers--;
    unsigned id = j->id;
    enum job_state state = j->state;
    int exit = j->exit;
    prune_jobs_locked();
    pthread_mutex_unlock(&srv.mu);
    lua_pushinteger(L, id);
    lua_pushstring(L, state_names[state]);
    if (state == JOB_DONE)
        lua_pushinteger(L, exit);
    else
        lua_pushnil(L);
    return 3;
}

/* A copy of a job taken under the lock, pushed after it is released. */
typedef struct {
    unsigned id;
    char *command, *who, *result;
    enum job_state state;
    int exit;
    double started, finished;
    size_t next, dropped, nevents;
    char **events;
} job_copy;

static void copy_free(job_copy *c)
{
    free(c->command);
    free(c->who);
    free(c->result);
    for (size_t i = 0; i < c->nevents; i++)
        free(c->events[i]);
    free(c->events);
}

static void copy_job_locked(const job *j, size_t since, int with_events, job_copy *c)
{
    memset(c, 0, sizeof *c);
    c->id = j->id;
    c->command = strdup(j->command);
    c->who = strdup(j->who);
    c->result = j->result ? strdup(j->result) : NULL;
    c->state = j->state;
    c->exit = j->exit;
    c->started = j->started;
    c->finished = j->finished;
    c->next = j->nevents;
    c->dropped = j->dropped;
    if (with_events && since < j->nevents) {
        c->events = calloc(j->nevents - since, sizeof *c->events);
        for (size_t i = since; c->events && i < j->nevents; i++) {
            c->events[c->nevents] = strdup(j->events[i]);
            if (c->events[c->nevents])
                c->nevents++;
        }
    }
}

static void push_copy(lua_State *L, const job_copy *c)
{
    lua_createtable(L, 0, 12);
    lua_pushinteger(L, c->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, c->command ? c->command : "?");
    lua_setfield(L, -2, "command");
    lua_pushstring(L, c->who ? c->who : "?");
    lua_setfield(L, -2, "who");
    lua_pushstring(L, state_names[c->state]);
    lua_setfield(L, -2, "state");
    if (c->state == JOB_DONE) {
        lua_pushinteger(L, c->exit);
        lua_setfield(L, -2, "exit");
        lua_pushnumber(L, c->finished);
        lua_setfield(L, -2, "finished");
    }
    if (c->result) {
        lua_pushstring(L, c->result);
        lua_setfield(L, -2, "result");
    }
    lua_pushnumber(L, c->started);
    lua_setfield(L, -2, "started");
    lua_pushinteger(L, (lua_Integer)c->next);
    lua_setfield(L, -2, "next");
    lua_pushinteger(L, (lua_Integer)c->dropped);
    lua_setfield(L, -2, "dropped");
    lua_createtable(L, (int)c->nevents, 0);
    for (size_t i = 0; i < c->nevents; i++) {
        lua_pushstring(L, c->events[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "events");
}

/* server.job(id, since) -> table (events from index since, 0-based) | nil */
static int l_job(lua_State *L)
{
    lua_Integer id = luaL_checkinteger(L, 1);
    lua_Integer since = luaL_optinteger(L, 2, 0);
    job_copy c;
    int found = 0;
    pthread_mutex_lock(&srv.mu);
    job *j = id > 0 ? job_find_locked((unsigned)id) : NULL;
    if (j) {
        copy_job_locked(j, since > 0 ? (size_t)since : 0, 1, &c);
        found = 1;
    }
    pthread_mutex_unlock(&srv.mu);
    if (!found) {
        lua_pushnil(L);
        return 1;
    }
    push_copy(L, &c);
    copy_free(&c);
    return 1;
}

/* server.jobs() -> list, newest first, without events */
static int l_jobs(lua_State *L)
{
    job_copy list[MAX_JOBS_KEPT + 8];
    size_t n = 0;
    pthread_mutex_lock(&srv.mu);
    for (job *j = srv.jobs; j && n < sizeof list / sizeof *list; j = j->next)
        copy_job_locked(j, 0, 0, &list[n++]);
    pthread_mutex_unlock(&srv.mu);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_copy(L, &list[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    for (size_t i = 0; i < n; i++)
        copy_free(&list[i]);
    return 1;
}

static int luaopen_n9e_server(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"start_job", l_start_job}, {"job", l_job}, {"jobs", l_jobs}, {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}

/* streaming a job as JSON lines ---------------------------------------------- */

typedef struct {
    unsigned id;
    size_t next; /* next event index to send */
    char *pending;
    size_t len, off;
    int done;
} stream;

static char *join_events_locked(const job *j, size_t from, size_t *len)
{
    size_t total = 0;
    for (size_t i = from; i < j->nevents; i++)
        total += strlen(j->events[i]) + 1;
    char *buf = malloc(total + 1);
    if (!buf)
        return NULL;
    size_t off = 0;
    for (size_t i = from; i < j->nevents; i++) {
        size_t n = strlen(j->events[i]);
        memcpy(buf + off, j->events[i], n);
        buf[off + n] = '\n';
        off += n + 1;
    }
    *len = off;
    return buf;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *s = cls;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(buf, s->pending + s->off, n);
            s->off += n;
            return (ssize_t)n;
        }
        free(s->pending);
        s->pending = NULL;
        s->len = s->off = 0;
        if (s->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&srv.mu);
        job *j = job_find_locked(s->id);
        if (!j) {
            pthread_mutex_unlock(&srv.mu);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        struct timespec until = deadline_in(HEARTBEAT_SECONDS);
        while (j->nevents <= s->next && j->state != JOB_DONE && !srv.stopping)
            if (pthread_cond_timedwait(&srv.changed, &srv.mu, &until) == ETIMEDOUT)
                break;
        if (j->nevents > s->next) {
            s->pending = join_events_locked(j, s->next, &s->len);
            s->next = j->nevents;
        } else if (j->state == JOB_DONE) {
            const char *result = j->result ? j->result : "null";
            size_t n = strlen(result) + 96;
            s->pending = malloc(n);
            if (s->pending)
                s->len = (size_t)snprintf(s->pending, n,
                                          "{\"event\":\"job.done\",\"job\":%u,\"exit\":%d,\"result\":%s}\n",
                                          j->id, j->exit, result);
            s->done = 1;
        } else {
            const char *line = srv.stopping ? "{\"event\":\"server.stopping\"}\n"
                                            : "{\"event\":\"heartbeat\"}\n";
            s->pending = strdup(line);
            s->len = s->pending ? strlen(line) : 0;
            s->done = srv.stopping;
        }
        pthread_mutex_unlock(&srv.mu);
        if (!s->pending)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void stream_free(void *cls)
{
    stream *s = cls;
    pthread_mutex_lock(&srv.mu);
    job *j = job_find_locked(s->id);
    if (j)
        j->readers--;
    pthread_mutex_unlock(&srv.mu);
    free(s->pending);
    free(s);
}

static struct MHD_Response *stream_response(unsigned id)
{
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = id;
    pthread_mutex_lock(&srv.mu);
    job *j = job_find_locked(id);
    if (j)
        j->readers++;
    pthread_mutex_unlock(&srv.mu);
    if (!j) {
        free(s);
        return NULL;
    }
    struct MHD_Response *r = mhd.MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read,
                                                               s, stream_free);
    if (!r)
        stream_free(s);
    return r;
}

/* requests ------------------------------------------------------------------ */

typedef struct {
    char *body;
    size_t len;
    int answered;     /* a response is queued already */
    size_t discarded; /* bytes of a chunked body past MAX_BODY */
} request;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        mhd.MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = mhd.MHD_queue_response(c, status, r);
    mhd.MHD_destroy_response(r);
    return ok;
}

static const char TOO_LARGE[] =
    "{\"ok\":false,\"error\":\"request body larger than 16384 bytes\"}";

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    lua_State *L = cls;
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, key);
    return MHD_YES;
}

static void push_request(lua_State *L, struct MHD_Connection *c, const char *url,
                         const char *method, const request *rq)
{
    lua_createtable(L, 0, 8);
    lua_pushstring(L, method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, url);
    lua_setfield(L, -2, "path");
    lua_newtable(L);
    mhd.MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, L);
    lua_setfield(L, -2, "query");
    static const struct {
        const char *header, *field;
    } headers[] = {{MHD_HTTP_HEADER_AUTHORIZATION, "authorization"},
                   {MHD_HTTP_HEADER_ACCEPT, "accept"},
                   {MHD_HTTP_HEADER_CONTENT_TYPE, "content_type"}};
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        const char *v = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, headers[i].header);
        if (v) {
            lua_pushstring(L, v);
            lua_setfield(L, -2, headers[i].field);
        }
    }
    lua_pushlstring(L, rq->body ? rq->body : "", rq->len);
    lua_setfield(L, -2, "body");
    const union MHD_ConnectionInfo *ci =
        mhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[HOST_TEXT_MAX];
    if (ci && ci->client_addr &&
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
                    host, sizeof host, NULL, 0, NI_NUMERICHOST) == 0) {
        lua_pushstring(L, host);
        lua_setfield(L, -2, "remote");
    }
}

static void add_header_field(lua_State *L, struct MHD_Response *r, const char *field,
                             const char *header)
{
    if (lua_getfield(L, -1, field) == LUA_TSTRING)
        mhd.MHD_add_response_header(r, header, lua_tostring(L, -1));
    lua_pop(L, 1);
}

static enum MHD_Result answer(struct MHD_Connection *c, const char *url, const char *method,
                              const request *rq)
{
    char *tokens = tokens_copy();
    lua_State *L = host_new_state(&srv.args->limits);
    if (!L) {
        free(tokens);
        return send_json(c, MHD_HTTP_SERVICE_UNAVAILABLE, "{\"ok\":false,\"error\":\"out of memory\"}");
    }
    luaL_requiref(L, "n9e.server", luaopen_n9e_server, 0);
    lua_pop(L, 1);
    push_request(L, c, url, method, rq);
    push_server(L, tokens);
    free(tokens);
    enum MHD_Result ok;
    if (host_call(L, "migrate.api", "handle", 2, 1) != 0 || !lua_istable(L, -1)) {
        host_error_exit(L);
        ok = send_json(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "{\"ok\":false,\"error\":\"internal error (see the server log)\"}");
        sandbox_close(L);
        return ok;
    }
    lua_getfield(L, -1, "status");
    unsigned status = (unsigned)lua_tointeger(L, -1);
    lua_pop(L, 1);
    struct MHD_Response *r = NULL;
    if (lua_getfield(L, -1, "stream") == LUA_TNUMBER) {
        r = stream_response((unsigned)lua_tointeger(L, -1));
        if (r)
            mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
    } else {
        size_t len = 0;
        lua_getfield(L, -2, "body");
        const char *body = lua_tolstring(L, -1, &len);
        r = mhd.MHD_create_response_from_buffer(len, (void *)(body ? body : ""),
                                            MHD_RESPMEM_MUST_COPY);
        lua_pop(L, 1);
        /* JSON unless the reply names its own type (/metrics) */
        lua_getfield(L, -2, "content_type");
        if (r)
            mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/json");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!r) {
        sandbox_close(L);
        return MHD_NO;
    }
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_header_field(L, r, "allow", MHD_HTTP_HEADER_ALLOW);
    add_header_field(L, r, "www_authenticate", MHD_HTTP_HEADER_WWW_AUTHENTICATE);
    add_header_field(L, r, "location", MHD_HTTP_HEADER_LOCATION);
    sandbox_close(L);
    ok = mhd.MHD_queue_response(c, status ? status : 500, r);
    mhd.MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **ctx)
{
    (void)cls;
    (void)version;
    request *rq = *ctx;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *ctx = rq;
        const char *cl =
            mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > MAX_BODY) {
            /* answered before the body is read; MHD then closes the
             * connection instead of reading what it was going to send */
            rq->answered = 1;
            return send_json(c, MHD_HTTP_CONTENT_TOO_LARGE, TOO_LARGE);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->answered)
            return MHD_YES;
        if (rq->discarded || rq->len + n > MAX_BODY) {
            /* A chunked body that grew too big: MHD cannot answer in the
             * middle of an upload, so read on and answer 413 at its end,
             * but hang up on one that keeps going. */
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
            rq->discarded += n;
            return rq->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
        }
        char *grown = realloc(rq->body, rq->len + n);
        if (!grown)
            return MHD_NO;
        memcpy(grown + rq->len, upload, n);
        rq->body = grown;
        rq->len += n;
        return MHD_YES;
    }
    if (rq->answered)
        return MHD_YES;
    rq->answered = 1;
    if (rq->discarded)
        return send_json(c, MHD_HTTP_CONTENT_TOO_LARGE, TOO_LARGE);
    return answer(c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    request *rq = *ctx;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *ctx = NULL;
}

/* the server ---------------------------------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" -> addrinfo, or NULL with a message. */
static struct addrinfo *parse_listen(const char *text, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: expected HOST:PORT or [IPv6]:PORT", text);
            return NULL;
        }
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: expected HOST:PORT, e.g. 127.0.0.1:8787", text);
            return NULL;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s (give a numeric address and port)", text,
                 gai_strerror(rc));
        return NULL;
    }
    return ai;
}

static void free_jobs(void)
{
    while (srv.jobs) {
        job *j = srv.jobs;
        srv.jobs = j->next;
        job_free(j);
    }
}

int http_serve(const host_args *a)
{
    srv.args = a;
    host_set_lua_path(a->lua_path);
    const char *tokens_path = option(a, "tokens");
    const char *listen = option(a, "listen");
    const char *timeout_text = option(a, "client-timeout");
    if (!tokens_path) {
        fprintf(stderr, "n9e-lua-migrate: error: serve needs --tokens FILE (make tokens with "
                        "`n9e-lua-migrate token NAME --role ROLE --tokens FILE`)\n");
        return EXIT_USAGE;
    }
    char err[512];
    struct addrinfo *ai = parse_listen(listen ? listen : "127.0.0.1:8787", err, sizeof err);
    if (!ai) {
        fprintf(stderr, "n9e-lua-migrate: error: %s\n", err);
        return EXIT_USAGE;
    }
    int code = load_tokens(tokens_path, 0, &srv.tokens_text);
    if (code != 0) {
        freeaddrinfo(ai);
        return code;
    }
    driver_init_threads();
    open_libmhd(); /* one thread yet: no once needed */
    if (!libmhd.ok) {
        fprintf(stderr, "n9e-lua-migrate: error: serve: %s\n", libmhd.why);
        freeaddrinfo(ai);
        free(srv.tokens_text);
        log_close_file();
        return 1;
    }

    /* Signals are taken by sigwait below; every thread MHD or a job starts
     * inherits the mask.  A client that goes away must not kill us. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned timeout = timeout_text ? (unsigned)strtoul(timeout_text, NULL, 10) : 30;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = mhd.MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)MAX_CONNECTIONS, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "n9e-lua-migrate: error: cannot listen on %s (in use, or not an address "
                        "of this host?)\n",
                listen ? listen : "127.0.0.1:8787");
        freeaddrinfo(ai);
        free(srv.tokens_text);
        log_close_file();
        return 1;
    }
    const union MHD_DaemonInfo *info = mhd.MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[HOST_TEXT_MAX] = "?";
    getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
    printf(ai->ai_family == AF_INET6 ? "serving on http://[%s]:%u\n" : "serving on http://%s:%u\n",
           host, info ? (unsigned)info->port : 0);
    fflush(stdout);
    freeaddrinfo(ai);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        char *text = NULL;
        if (load_tokens(tokens_path, 1, &text) == 0) {
            pthread_mutex_lock(&srv.mu);
            free(srv.tokens_text);
            srv.tokens_text = text;
            pthread_mutex_unlock(&srv.mu);
        } else {
            fprintf(stderr, "n9e-lua-migrate: error: kept the previous tokens\n");
        }
    }

    pthread_mutex_lock(&srv.mu);
    srv.stopping = 1;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.mu);
    mhd.MHD_stop_daemon(d); /* joins the connection threads */
    pthread_mutex_lock(&srv.mu);
    if (srv.running > 0)
        fprintf(stderr, "n9e-lua-migrate: stopping: waiting for %d running job(s) to finish\n",
                srv.running);
    while (srv.running > 0)
        pthread_cond_wait(&srv.changed, &srv.mu);
    free_jobs();
    free(srv.tokens_text);
    srv.tokens_text = NULL;
    pthread_mutex_unlock(&srv.mu);
    log_close_file();
    return 0;
}
