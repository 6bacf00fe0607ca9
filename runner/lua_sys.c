/*
 * lua_sys.c -- what the library needs from the host: hashing (libcrypto),
 * clocks, identity, files (trusted library only; scripts never see this
 * module), free disk space, and the files compiled into the binary.
 */
#define _DEFAULT_SOURCE
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
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

static int sys_hostname(lua_State *L)
{
    char buf[256];
    if (gethostname(buf, sizeof buf) != 0)
        snprintf(buf, sizeof buf, "unknown");
    buf[sizeof buf - 1] = '\0';
    lua_pushstring(L, buf);
    return 1;
}

static int sys_username(lua_State *L)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        lua_pushstring(L, pw->pw_name);
    else
        lua_pushfstring(L, "uid:%d", (int)geteuid());
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
        {"mkdir_p", sys_mkdir_p},
        {"monotonic", sys_monotonic},
        {"now", sys_now},
        {"random_hex", sys_random_hex},
        {"read_file", sys_read_file},
        {"realpath", sys_realpath},
        {"sha256", sys_sha256},
        {"sleep", sys_sleep},
        {"stat", sys_stat},
        {"username", sys_username},
        {"writable", sys_writable},
        {"write_file", sys_write_file},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_pushstring(L, N9E_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
