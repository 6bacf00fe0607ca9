/*
 * lua_sys.c -- what the library needs from the host: hashing (libcrypto),
 * clocks, identity, files (trusted library only; scripts never see this
 * module), free disk space, child processes (the dump tools of backups),
 * and the files compiled into the binary.
 */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np */
#include "lua_sys.h"

#include "embedded.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef N9E_VERSION
#define N9E_VERSION "0.0.0-dev"
#endif

static int sys_sha256(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
        return luaL_error(L, "sha256 failed in libcrypto");
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    lua_pushlstring(L, hex, 2 * mdlen);
    return 1;
}

/* sys.random_hex(nbytes): nbytes from the CSPRNG, as hex (API tokens). */
static int sys_random_hex(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n > 0 && n <= 64, 1, "between 1 and 64 bytes");
    unsigned char raw[64];
    if (RAND_bytes(raw, (int)n) != 1)
        return luaL_error(L, "RAND_bytes failed in libcrypto");
    char hex[2 * 64 + 1];
    for (lua_Integer i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    lua_pushlstring(L, hex, (size_t)(2 * n));
    return 1;
}

/* sys.equal(a, b): compares in time that depends only on the length, so a
 * token check does not tell an attacker how many leading bytes matched. */
static int sys_equal(lua_State *L)
{
    size_t la, lb;
    const char *a = luaL_checklstring(L, 1, &la);
    const char *b = luaL_checklstring(L, 2, &lb);
    lua_pushboolean(L, la == lb && CRYPTO_memcmp(a, b, la) == 0);
    return 1;
}

static int sys_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    return 1;
}

static int sys_monotonic(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    return 1;
}

/* The host and the user are read once per process: every history row
 * names them, and getpwuid reads /etc/passwd (through NSS) each time, 200
 * times in a run of 200 versions.  Once, not lazily by hand: serve's
 * threads each run Lua. */
static char host_name[256], user_name[256];
static pthread_once_t identity_once = PTHREAD_ONCE_INIT;

static void read_identity(void)
{
    if (gethostname(host_name, sizeof host_name) != 0 || !host_name[0])
        snprintf(host_name, sizeof host_name, "unknown");
    host_name[sizeof host_name - 1] = '\0';
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && pw->pw_name[0])
        snprintf(user_name, sizeof user_name, "%s", pw->pw_name);
    else
        snprintf(user_name, sizeof user_name, "uid:%d", (int)geteuid());
}

static int sys_hostname(lua_State *L)
{
    pthread_once(&identity_once, read_identity);
    lua_pushstring(L, host_name);
    return 1;
}

static int sys_username(lua_State *L)
{
    pthread_once(&identity_once, read_identity);
    lua_pushstring(L, user_name);
    return 1;
}

/* sys.kill_self(): SIGKILL this process, for crash-safety tests (see
 * migrate/failpoint.lua): no handler, no cleanup, exactly like a crash. */
static int sys_kill_self(lua_State *L)
{
    (void)L;
    fflush(stdout);
    fflush(stderr);
    kill(getpid(), SIGKILL);
    return 0;
}

static int sys_getenv(lua_State *L)
{
    const char *v = getenv(luaL_checkstring(L, 1));
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

static int sys_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int fail_errno(lua_State *L, const char *what)
{
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", what, strerror(e));
    lua_pushinteger(L, e);
    return 3;
}

/* sys.read_file(path) -> content | nil, message */
static int sys_read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail_errno(L, path);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        luaL_addlstring(&b, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        errno = EIO;
        return fail_errno(L, path);
    }
    luaL_pushresult(&b);
    return 1;
}

/* sys.write_file(path, content, exclusive) -> true | nil, message.
 * exclusive refuses to overwrite (O_EXCL semantics through "wx"). */
static int sys_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    FILE *f = fopen(path, lua_toboolean(L, 3) ? "wbx" : "wb");
    if (!f)
        return fail_errno(L, path);
    size_t w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len)
        return fail_errno(L, path);
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.append_private(path, text): appends with one write to a file that is
 * created readable by its owner only (the API token file). */
static int sys_append_private(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail_errno(L, path);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            errno = e;
            return fail_errno(L, path);
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return fail_errno(L, path);
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.sleep(seconds) */
static int sys_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    if (s > 0) {
        struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return 0;
}

static int sys_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return luaL_error(L, "path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return fail_errno(L, buf);
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return fail_errno(L, buf);
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.stat(path) -> "file" | "directory" | "other" | nil */
static int sys_stat(lua_State *L)
{
    struct stat st;
    if (stat(luaL_checkstring(L, 1), &st) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
    return 1;
}

/* sys.writable(path) -> whether this process may write there (access W_OK) */
static int sys_writable(lua_State *L)
{
    lua_pushboolean(L, access(luaL_checkstring(L, 1), W_OK) == 0);
    return 1;
}

static int sys_realpath(lua_State *L)
{
    char buf[PATH_MAX];
    if (!realpath(luaL_checkstring(L, 1), buf))
        return fail_errno(L, lua_tostring(L, 1));
    lua_pushstring(L, buf);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recursive listing of regular files under dir whose names end in suffix,
 * appended to the table at the top of the stack, sorted per directory. */
static int list_into(lua_State *L, const char *dir, const char *suffix, int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 16, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **bigger = realloc(names, (cap *= 2) * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (!names)
        return -1;
    qsort(names, n, sizeof *names, cmp_str);
    size_t slen = strlen(suffix);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path &&
            stat(path, &st) == 0) {
            size_t len = strlen(names[i]);
            if (S_ISDIR(st.st_mode)) {
                list_into(L, path, suffix, depth + 1);
            } else if (S_ISREG(st.st_mode) && len >= slen &&
                       !strcmp(names[i] + len - slen, suffix)) {
                lua_pushstring(L, path);
                lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            }
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

/* sys.list_files(dir, suffix) -> { paths } | nil, message */
static int sys_list_files(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const char *suffix = luaL_optstring(L, 2, "");
    lua_newtable(L);
    if (list_into(L, dir, suffix, 0) != 0)
        return fail_errno(L, dir);
    return 1;
}

/* sys.disk_free(path) -> bytes available to this user */
static int sys_disk_free(lua_State *L)
{
    struct statvfs sv;
    if (statvfs(luaL_checkstring(L, 1), &sv) != 0)
        return fail_errno(L, lua_tostring(L, 1));
    lua_pushinteger(L, (lua_Integer)sv.f_bavail * (lua_Integer)sv.f_frsize);
    return 1;
}

/* ---- child processes ----------------------------------------------------- */

/* What a child may leave in memory: the last RUN_KEEP bytes of its stderr
 * (and of its stdout when that is captured), so a chatty tool cannot grow
 * the runner without bound and the end, where the error usually is, stays. */
#define RUN_KEEP (64 * 1024)

typedef struct {
    char data[2 * RUN_KEEP];
    size_t len;
    int truncated;
} tail_buf;

/* Reads what is there on fd into the tail; 0 at EOF or on error (the fd
 * is then done), 1 while more may come. */
static int tail_read(int fd, tail_buf *b)
{
    if (b->len > RUN_KEEP) { /* keep the newest RUN_KEEP bytes */
        memmove(b->data, b->data + b->len - RUN_KEEP, RUN_KEEP);
        b->len = RUN_KEEP;
        b->truncated = 1;
    }
    ssize_t n;
    do
        n = read(fd, b->data + b->len, sizeof b->data - b->len);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    b->len += (size_t)n;
    return 1;
}

static void push_tail(lua_State *L, const tail_buf *b)
{
    size_t keep = b->len > RUN_KEEP ? RUN_KEEP : b->len;
    lua_pushlstring(L, b->data + b->len - keep, keep);
}

/* fd moved to 3 or above (close-on-exec), so that dup2 onto 0..2 in the
 * child never meets an fd that already is one of them (a parent started
 * with stdin closed gets 0 from open). */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    errno = e;
    return moved;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The string field k of table t, or NULL; raises if it is not a string. */
static const char *opt_field(lua_State *L, int t, const char *k)
{
    int ty = lua_getfield(L, t, k);
    const char *v = NULL;
    if (ty == LUA_TSTRING)
        v = lua_tostring(L, -1); /* anchored by the spec table */
    else if (ty != LUA_TNIL)
        luaL_error(L, "sys.run: %s must be a string", k);
    lua_pop(L, 1);
    return v;
}

/* argv (a list of strings) as a NULL-terminated array in a userdata pushed
 * on the stack (collected with it, whatever happens next). */
static char **run_argv(lua_State *L, int spec)
{
    if (lua_getfield(L, spec, "argv") != LUA_TTABLE)
        luaL_error(L, "sys.run: argv must be a list of strings");
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    if (n < 1 || n > 4096)
        luaL_error(L, "sys.run: argv must have 1 to 4096 entries");
    char **argv = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, list, i) != LUA_TSTRING)
            luaL_error(L, "sys.run: argv[%d] is not a string", (int)i);
        argv[i - 1] = (char *)lua_tostring(L, -1); /* anchored by the argv table */
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    lua_remove(L, list); /* the spec table still holds it */
    return argv;
}

/* The parent's environment with the entries of spec.env added or
 * replacing, as an envp array in a userdata pushed on the stack; the
 * "K=V" strings live in a table pushed below it. */
static char **run_envp(lua_State *L, int spec)
{
    extern char **environ;
    lua_newtable(L); /* the strings */
    int strs = lua_gettop(L);
    int nnew = 0;
    int ty = lua_getfield(L, spec, "env");
    if (ty != LUA_TNIL && ty != LUA_TTABLE)
        luaL_error(L, "sys.run: env must be a table of NAME = value");
    if (ty == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!k || !*k || strchr(k, '=') || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "sys.run: env entries must be NAME = string (NAME without '=')");
            lua_pushfstring(L, "%s=%s", k, lua_tostring(L, -1));
            lua_rawseti(L, strs, ++nnew);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    char **envp = lua_newuserdatauv(L, sizeof(char *) * (nenv + (size_t)nnew + 1), 0);
    size_t o = 0;
    for (size_t i = 0; i < nenv; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int replaced = 0;
        for (int j = 1; j <= nnew && !replaced; j++) {
            lua_rawgeti(L, strs, j);
            const char *s = lua_tostring(L, -1);
            replaced = !strncmp(s, environ[i], klen) && s[klen] == '=';
            lua_pop(L, 1);
        }
        if (!replaced)
            envp[o++] = environ[i];
    }
    for (int j = 1; j <= nnew; j++) {
        lua_rawgeti(L, strs, j);
        envp[o++] = (char *)lua_tostring(L, -1); /* anchored by the strings table */
        lua_pop(L, 1);
    }
    envp[o] = NULL;
    return envp;
}

typedef struct {
    int in, out, err_r, err_w, out_r, out_w;
} run_fds;

static void run_fds_close(run_fds *f)
{
    close_fd(&f->in);
    close_fd(&f->out);
    close_fd(&f->err_r);
    close_fd(&f->err_w);
    close_fd(&f->out_r);
    close_fd(&f->out_w);
}

/* Opens the child's ends and the parent's pipes; -1 with errno and, in
 * *what, the path or step that failed. */
static int run_open(run_fds *f, const char *in_path, const char *out_path, const char **what)
{
    int p[2];
    *what = in_path ? in_path : "/dev/null";
    f->in = above_stdio(open(*what, O_RDONLY | O_CLOEXEC));
    if (f->in < 0)
        return -1;
    if (out_path) {
        /* a new file only: a backup never overwrites anything */
        *what = out_path;
        f->out = above_stdio(open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (f->out < 0)
            return -1;
    } else {
        *what = "pipe";
        if (pipe2(p, O_CLOEXEC) != 0)
            return -1;
        f->out_r = above_stdio(p[0]);
        f->out_w = above_stdio(p[1]);
        if (f->out_r < 0 || f->out_w < 0)
            return -1;
    }
    *what = "pipe";
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    f->err_r = above_stdio(p[0]);
    f->err_w = above_stdio(p[1]);
    return f->err_r < 0 || f->err_w < 0 ? -1 : 0;
}

/* Starts argv with exactly fds 0..2 (everything else closed, whatever
 * the parent has open: database sockets, the log file), default signal
 * dispositions and an empty signal mask (serve's threads block some). */
static int run_spawn(pid_t *pid, char **argv, char **envp, const run_fds *f)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc)
        return rc;
    rc = posix_spawnattr_init(&at);
    if (rc) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, f->in, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, f->out >= 0 ? f->out : f->out_w, 1);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, f->err_w, 2);
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (!rc)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (!rc)
        rc = strchr(argv[0], '/') ? posix_spawn(pid, argv[0], &fa, &at, argv, envp)
                                  : posix_spawnp(pid, argv[0], &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Reads the child's stderr (and captured stdout) until both are closed. */
static void run_drain(run_fds *f, tail_buf *err, tail_buf *out)
{
    while (f->err_r >= 0 || f->out_r >= 0) {
        struct pollfd p[2] = {{.fd = f->err_r, .events = POLLIN}, {.fd = f->out_r, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents && !tail_read(f->err_r, err))
            close_fd(&f->err_r);
        if (p[1].revents && !tail_read(f->out_r, out))
            close_fd(&f->out_r);
    }
}

/* sys.run{argv = {prog, args...}, env = {NAME = value}, stdin = path,
 * stdout = path} -> {code = n | signal = n, stderr = text, stdout = text,
 * stderr_truncated, stdout_truncated} | nil, message, errno
 *
 * Runs a program without a shell: argv[0] is looked up on PATH unless it
 * holds a '/'.  The child's environment is this process's plus env.
 * stdin is the file at path (default /dev/null); stdout goes to a NEW file
 * at path (created 0600, never overwritten), or without one it is
 * captured; stderr is always captured.  Captured text keeps the last
 * 64 KiB.  Only for the trusted library: migration scripts never see
 * n9e.sys.  A program that cannot be started (not found, not executable)
 * or a file that cannot be opened returns nil and why; a program that
 * ran and failed returns its code. */
static int sys_run(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *in_path = opt_field(L, 1, "stdin");
    const char *out_path = opt_field(L, 1, "stdout");
    char **argv = run_argv(L, 1);
    char **envp = run_envp(L, 1);
    /* from here to the results, nothing raises: every fd is closed below */
    tail_buf *err = lua_newuserdatauv(L, sizeof *err, 0);
    tail_buf *out = lua_newuserdatauv(L, sizeof *out, 0);
    err->len = out->len = 0;
    err->truncated = out->truncated = 0;
    run_fds f = {-1, -1, -1, -1, -1, -1};
    const char *what = NULL;
    pid_t pid = -1;
    int rc = run_open(&f, in_path, out_path, &what) != 0 ? errno : 0;
    if (!rc) {
        what = argv[0];
        rc = run_spawn(&pid, argv, envp, &f);
    }
    if (rc) {
        int created = out_path && f.out >= 0;
        run_fds_close(&f);
        if (created)
            unlink(out_path); /* ours (O_EXCL), for a program that never ran */
        lua_pushnil(L);
        if (rc == ENOENT && what == argv[0] && !strchr(argv[0], '/'))
            lua_pushfstring(L, "%s: not found on PATH", argv[0]);
        else
            lua_pushfstring(L, "%s: %s", what, strerror(rc));
        lua_pushinteger(L, rc);
        return 3;
    }
    close_fd(&f.in); /* the child's ends: EOF reaches us when it exits */
    close_fd(&f.out);
    close_fd(&f.err_w);
    close_fd(&f.out_w);
    run_drain(&f, err, out);
    run_fds_close(&f);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    lua_createtable(L, 0, 5);
    if (WIFSIGNALED(status)) {
        lua_pushinteger(L, WTERMSIG(status));
        lua_setfield(L, -2, "signal");
    } else {
        lua_pushinteger(L, WEXITSTATUS(status));
        lua_setfield(L, -2, "code");
    }
    push_tail(L, err);
    lua_setfield(L, -2, "stderr");
    lua_pushboolean(L, err->truncated || err->len > RUN_KEEP);
    lua_setfield(L, -2, "stderr_truncated");
    if (!out_path) {
        push_tail(L, out);
        lua_setfield(L, -2, "stdout");
        lua_pushboolean(L, out->truncated || out->len > RUN_KEEP);
        lua_setfield(L, -2, "stdout_truncated");
    }
    return 1;
}

/* sys.which(name) -> the path of the executable that PATH finds for name
 * (or name itself when it holds a '/' and is executable), or nil. */
static int sys_which(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    struct stat st;
    if (strchr(name, '/')) {
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode) && access(name, X_OK) == 0)
            lua_pushstring(L, name);
        else
            lua_pushnil(L);
        return 1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char buf[PATH_MAX];
        /* an empty entry is the current directory, as for execvp */
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", name) <
                (int)sizeof buf &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
            lua_pushstring(L, buf);
            return 1;
        }
        path += n + (path[n] == ':');
    }
    lua_pushnil(L);
    return 1;
}

/* sys.sha256_file(path) -> hex digest, size in bytes | nil, message
 * (streamed: a dump of any size is hashed in constant memory). */
static int sys_sha256_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_errno(L, path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[65536];
    lua_Integer size = 0;
    ssize_t n = 0;
    while (ok) {
        n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size += n;
        ok = EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    int e = errno;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ok = ok && n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (!ok) {
        errno = n < 0 ? e : EIO;
        return fail_errno(L, path);
    }
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    lua_pushlstring(L, hex, 2 * mdlen);
    lua_pushinteger(L, size);
    return 2;
}

/* sys.mkdir(path [, mode]) -> true | nil, message, errno.  Unlike
 * mkdir_p, an existing directory is an error (EEXIST): the caller gets a
 * directory of its own.  mode defaults to 0777 (less the umask). */
static int sys_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer mode = luaL_optinteger(L, 2, 0777);
    luaL_argcheck(L, mode >= 0 && mode <= 07777, 2, "a file mode");
    if (mkdir(path, (mode_t)mode) != 0)
        return fail_errno(L, path);
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.embedded(prefix) -> sorted list of embedded names under prefix */
static int sys_embedded(lua_State *L)
{
    const char *prefix = luaL_optstring(L, 1, "");
    size_t plen = strlen(prefix);
    lua_newtable(L);
    for (size_t i = 0; i < embedded_count; i++) {
        if (!strncmp(embedded_files[i].name, prefix, plen)) {
            lua_pushstring(L, embedded_files[i].name);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
    }
    return 1;
}

static int sys_embedded_read(lua_State *L)
{
    const embedded_file *f = embedded_find(luaL_checkstring(L, 1));
    if (!f) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, (const char *)f->data, f->len);
    lua_pushstring(L, f->sha256); /* taken at build time: no hashing at start */
    return 2;
}

int luaopen_n9e_sys(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"append_private", sys_append_private},
        {"disk_free", sys_disk_free},
        {"embedded", sys_embedded},
        {"embedded_read", sys_embedded_read},
        {"equal", sys_equal},
        {"getenv", sys_getenv},
        {"hostname", sys_hostname},
        {"isatty", sys_isatty},
        {"kill_self", sys_kill_self},
        {"list_files", sys_list_files},
        {"mkdir", sys_mkdir},
        {"mkdir_p", sys_mkdir_p},
        {"monotonic", sys_monotonic},
        {"now", sys_now},
        {"random_hex", sys_random_hex},
        {"read_file", sys_read_file},
        {"realpath", sys_realpath},
        {"run", sys_run},
        {"sha256", sys_sha256},
        {"sha256_file", sys_sha256_file},
        {"sleep", sys_sleep},
        {"stat", sys_stat},
        {"username", sys_username},
        {"which", sys_which},
        {"writable", sys_writable},
        {"write_file", sys_write_file},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_pushstring(L, N9E_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
