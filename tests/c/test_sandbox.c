/*
 * test_sandbox.c -- the limits of the Lua state that runs migration
 * scripts: memory cap, fail-next-allocation hook, instruction and time
 * budgets, the non-swallowing pcall, text-only load and error positions.
 *
 * Each test builds its own state (sandbox_new_state + luaL_openlibs, with
 * n9e.sandbox registered in package.loaded) with the limits it needs; the
 * teardown closes it, so valgrind sees every state released.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

/* Generous wall-clock backstop for the instruction tests: if the
 * instruction budget were broken they fail with kind "time" instead of
 * hanging. */
#define BACKSTOP_SECONDS 30.0

typedef struct {
    lua_State *L;
} fixture;

static int setup(void **state)
{
    static fixture f;
    f.L = NULL;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->L)
        sandbox_close(f->L);
    f->L = NULL;
    return 0;
}

static lua_State *open_state(void **state, size_t memory, uint64_t instructions, double seconds)
{
    fixture *f = *state;
    sandbox_limits lim = {
        .memory_bytes = memory,
        .max_instructions = instructions,
        .max_seconds = seconds,
    };
    f->L = sandbox_new_state(&lim);
    assert_non_null(f->L);
    luaL_openlibs(f->L);
    luaL_requiref(f->L, "n9e.sandbox", luaopen_n9e_sandbox, 0);
    lua_pop(f->L, 1);
    return f->L;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run trusted test code (outside any sandboxed call) leaving nres results
 * on the stack; the code itself must not fail. */
static void run(lua_State *L, const char *code, int nres)
{
    if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") != LUA_OK)
        fail_msg("test code does not compile: %s", lua_tostring(L, -1));
    if (lua_pcall(L, 0, nres, 0) != LUA_OK)
        fail_msg("test code failed: %s", luaL_tolstring(L, -1, NULL));
}

static const char *field_str(lua_State *L, int idx, const char *key, char *buf, size_t len)
{
    lua_getfield(L, idx, key);
    const char *s = lua_tostring(L, -1);
    snprintf(buf, len, "%s", s ? s : "(nil)");
    lua_pop(L, 1);
    return buf;
}

/* ---- (1) memory cap ----------------------------------------------------- */

#define MEM_CAP (1024 * 1024)

static void test_memory_cap(void **state)
{
    lua_State *L = open_state(state, MEM_CAP, 0, 0);
    size_t base = sandbox_memory_used(L);
    assert_true(base > 0);
    assert_true(base < MEM_CAP / 2);

    /* Inside a sandboxed call the ever-growing table hits the cap.  The
     * growth is bounded (~40 MB, far past the 1 MiB cap) so that a missing
     * cap fails the test instead of exhausting the machine. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local function grow()\n"
        "  local t, i = {}, 0\n"
        "  while i < 500000 do i = i + 1; t[i] = { i } end\n"
        "  return 'not capped'\n"
        "end\n"
        "local ok, err = sb.call(grow)\n"
        "return ok, type(err) == 'table' and err.kind, type(err) == 'table' and err.message\n",
        3);
    assert_false(lua_toboolean(L, -3));
    assert_string_equal(lua_tostring(L, -2), "memory");
    const char *msg = lua_tostring(L, -1);
    assert_non_null(msg);
    if (!strstr(msg, "memory limit"))
        fail_msg("unexpected message: %s", msg);
    lua_pop(L, 3);

    /* The garbage of the failed call goes away with a full collection. */
    size_t after_fail = sandbox_memory_used(L);
    lua_gc(L, LUA_GCCOLLECT);
    size_t after_gc = sandbox_memory_used(L);
    assert_true(after_gc < after_fail);
    assert_true(after_gc < MEM_CAP / 2);

    /* The state is still usable, inside and outside sandboxed calls. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local ok, s = sb.call(function() return string.rep('x', 1000) .. 'y' end)\n"
        "return ok, s and #s\n",
        2);
    assert_true(lua_toboolean(L, -2));
    assert_int_equal(lua_tointeger(L, -1), 1001);
    lua_pop(L, 2);

    /* The same kind of allocation outside a sandboxed call is not capped:
     * accounting goes on, enforcement does not. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local t = {}\n"
        "for i = 1, 100000 do t[i] = { i } end\n"
        "return #t, sb.memory_used()\n",
        2);
    assert_int_equal(lua_tointeger(L, -2), 100000);
    lua_Integer used_lua = lua_tointeger(L, -1);
    assert_true(used_lua > MEM_CAP);
    lua_pop(L, 2);
    lua_gc(L, LUA_GCCOLLECT);
    assert_true(sandbox_memory_used(L) < (size_t)used_lua);
}

/* The cap through the C entry point: sandbox_pcall reports LUA_ERRMEM with
 * the same error table. */
static void test_memory_cap_sandbox_pcall(void **state)
{
    lua_State *L = open_state(state, MEM_CAP, 0, 0);
    int top = lua_gettop(L);
    run(L, "return function(n) local t = {} for i = 1, n do t[i] = { i } end return #t end", 1);
    lua_pushvalue(L, -1);
    lua_pushinteger(L, 500000);
    int status = sandbox_pcall(L, 1, 1);
    assert_int_equal(status, LUA_ERRMEM);
    assert_true(lua_istable(L, -1));
    char buf[320];
    assert_string_equal(field_str(L, -1, "kind", buf, sizeof buf), "memory");
    assert_non_null(strstr(field_str(L, -1, "message", buf, sizeof buf), "memory limit"));
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), top + 1); /* the function is still there */

    /* A small run of the same function fits. */
    lua_pushinteger(L, 100);
    status = sandbox_pcall(L, 1, 1);
    assert_int_equal(status, LUA_OK);
    assert_int_equal(lua_tointeger(L, -1), 100);
    lua_settop(L, top);
}

/* ---- (2) fail the next allocation ---------------------------------------- */

static int allocs_done;

/* Two allocations, counted as they succeed. */
static int two_allocs(lua_State *L)
{
    allocs_done = 0;
    lua_newuserdatauv(L, 4096, 0);
    allocs_done++;
    lua_newuserdatauv(L, 4096, 0);
    allocs_done++;
    return 0;
}

static void test_fail_next_alloc(void **state)
{
    lua_State *L = open_state(state, 0, 0, 0);
    int top = lua_gettop(L);
    sandbox_fail_next_alloc(L);

    /* Outside a sandboxed call the switch is not consumed. */
    lua_newuserdatauv(L, 4096, 0);
    run(L, "local t = {} for i = 1, 100 do t[i] = tostring(i) end return #t", 1);
    assert_int_equal(lua_tointeger(L, -1), 100);
    lua_settop(L, top);

    /* The first allocation inside the call fails: nothing got allocated. */
    allocs_done = -1;
    lua_pushcfunction(L, two_allocs);
    int status = sandbox_pcall(L, 0, 0);
    if (status == LUA_OK)
        fail_msg("sandboxed call succeeded (%d allocation(s) done) although the next "
                 "allocation was set to fail",
                 allocs_done);
    assert_int_equal(allocs_done, 0);
    assert_true(lua_istable(L, -1));
    char buf[320];
    assert_string_equal(field_str(L, -1, "kind", buf, sizeof buf), "memory");
    lua_settop(L, top);

    /* Exactly one: the next call allocates normally. */
    lua_pushcfunction(L, two_allocs);
    status = sandbox_pcall(L, 0, 0);
    assert_int_equal(status, LUA_OK);
    assert_int_equal(allocs_done, 2);
    lua_settop(L, top);
}

/* Same switch from Lua: a later ordinary error in the call must not be
 * reported as a memory error. */
static void test_fail_next_alloc_from_lua(void **state)
{
    lua_State *L = open_state(state, 0, 0, 0);
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "sb.fail_next_alloc()\n"
        "local ok1, e1 = sb.call(function() return { 1, 2, 3 } end)\n"
        "local ok2, e2 = sb.call(function() error('plain', 0) end)\n"
        "return ok1, type(e1) == 'table' and e1.kind, e2.kind, e2.message\n",
        4);
    if (lua_toboolean(L, -4))
        fail_msg("the call after fail_next_alloc() succeeded");
    assert_string_equal(lua_tostring(L, -3), "memory");
    assert_string_equal(lua_tostring(L, -2), "error");
    assert_string_equal(lua_tostring(L, -1), "plain");
    lua_pop(L, 4);
}

/* ---- (3) instruction budget ---------------------------------------------- */

static void test_instruction_budget(void **state)
{
    lua_State *L = open_state(state, 0, 1000000, BACKSTOP_SECONDS);
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "count = 0\n"
        "local ok, err = sb.call(function() while true do count = count + 1 end end)\n"
        "return ok, err.kind, err.message, count\n",
        4);
    assert_false(lua_toboolean(L, -4));
    assert_string_equal(lua_tostring(L, -3), "instructions");
    const char *msg = lua_tostring(L, -2);
    if (!strstr(msg, "instruction budget of 1000000"))
        fail_msg("unexpected message: %s", msg);
    /* Each iteration is several VM instructions: well under 1e6 of them
     * ran, but far more than a handful (the budget is not tripped early). */
    lua_Integer count = lua_tointeger(L, -1);
    if (count < 100000 || count >= 1000000)
        fail_msg("%lld iterations ran under a 1e6-instruction budget", (long long)count);
    lua_pop(L, 4);

    /* Outside a sandboxed call there is no budget, right after a trip ... */
    run(L, "local s = 0 for i = 1, 2000000 do s = s + 1 end return s", 1);
    assert_int_equal(lua_tointeger(L, -1), 2000000);
    lua_pop(L, 1);

    /* The budget is per call: a short call afterwards succeeds. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "return sb.call(function() local s = 0 for i = 1, 1000 do s = s + i end return s end)\n",
        2);
    assert_true(lua_toboolean(L, -2));
    assert_int_equal(lua_tointeger(L, -1), 500500);
    lua_pop(L, 2);

    /* ... and after a successful one: the trusted library must be able to
     * run (report, roll back) without any budget. */
    run(L, "local s = 0 for i = 1, 2000000 do s = s + 1 end return s", 1);
    assert_int_equal(lua_tointeger(L, -1), 2000000);
    lua_pop(L, 1);
}

/* ---- (4) time budget ------------------------------------------------------ */

static void test_time_budget(void **state)
{
    /* Instruction backstop far beyond what 0.2 s can execute: a broken time
     * budget fails the test (kind "instructions") rather than hanging it. */
    lua_State *L = open_state(state, 0, 5000000000ull, 0.2);
    double t0 = now();
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local ok, err = sb.call(function() while true do end end)\n"
        "return ok, err.kind, err.message\n",
        3);
    double elapsed = now() - t0;
    assert_false(lua_toboolean(L, -3));
    assert_string_equal(lua_tostring(L, -2), "time");
    const char *msg = lua_tostring(L, -1);
    if (!strstr(msg, "time budget"))
        fail_msg("unexpected message: %s", msg);
    if (elapsed < 0.19 || elapsed > 2.0)
        fail_msg("time budget of 0.2 s tripped after %.3f s", elapsed);
    lua_pop(L, 3);

    /* Trusted code after the call is not timed: it may outlive the budget. */
    run(L,
        "local t0 = os.clock()\n"
        "while os.clock() - t0 < 0.3 do end\n"
        "return true\n",
        1);
    assert_true(lua_toboolean(L, -1));
    lua_pop(L, 1);
}

/* ---- (5) the sandbox pcall cannot swallow a tripped budget --------------- */

/* The outer loop is bounded so that a pcall that did swallow the trip makes
 * the call return (and the test fail) instead of spinning forever. */

static void test_pcall_cannot_swallow(void **state)
{
    lua_State *L = open_state(state, 0, 1000000, BACKSTOP_SECONDS);
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local pcall = sb.pcall\n"
        "local swallowed = 0\n"
        "local ok, err = sb.call(function()\n"
        "  while swallowed < 1000 do\n"
        "    pcall(function() while true do end end)\n"
        "    swallowed = swallowed + 1\n"
        "  end\n"
        "  return 'escaped the budget'\n"
        "end)\n"
        "return ok, err.kind, swallowed\n",
        3);
    assert_false(lua_toboolean(L, -3));
    assert_string_equal(lua_tostring(L, -2), "instructions");
    /* The first trip already escaped the inner pcall. */
    assert_int_equal(lua_tointeger(L, -1), 0);
    lua_pop(L, 3);

    /* Same for the sandbox xpcall, whose handler runs but cannot stop it. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local xpcall = sb.xpcall\n"
        "local swallowed = 0\n"
        "local ok, err = sb.call(function()\n"
        "  while swallowed < 1000 do\n"
        "    xpcall(function() while true do end end, function(m) return m end)\n"
        "    swallowed = swallowed + 1\n"
        "  end\n"
        "  return 'escaped the budget'\n"
        "end)\n"
        "return ok, err.kind, swallowed\n",
        3);
    assert_false(lua_toboolean(L, -3));
    assert_string_equal(lua_tostring(L, -2), "instructions");
    assert_int_equal(lua_tointeger(L, -1), 0);
    lua_pop(L, 3);
}

/* Without a tripped limit the sandbox pcall/xpcall behave like Lua's. */
static void test_pcall_plain_errors(void **state)
{
    lua_State *L = open_state(state, 0, 1000000, BACKSTOP_SECONDS);
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "return sb.call(function()\n"
        "  local ok1, e1 = sb.pcall(error, 'plain', 0)\n"
        "  local ok2, a, b = sb.pcall(function(x, y) return y, x end, 1, 2)\n"
        "  local ok3, e3 = sb.xpcall(function() error('inner', 0) end,\n"
        "                            function(m) return 'handled: ' .. m end)\n"
        "  return ok1, e1, ok2, a, b, ok3, e3\n"
        "end)\n",
        8);
    assert_true(lua_toboolean(L, -8)); /* the sandboxed call itself */
    assert_false(lua_toboolean(L, -7));
    assert_string_equal(lua_tostring(L, -6), "plain");
    assert_true(lua_toboolean(L, -5));
    assert_int_equal(lua_tointeger(L, -4), 2);
    assert_int_equal(lua_tointeger(L, -3), 1);
    assert_false(lua_toboolean(L, -2));
    assert_string_equal(lua_tostring(L, -1), "handled: inner");
    lua_pop(L, 8);
}

/* ---- (6) binary chunks are refused ---------------------------------------- */

static void test_load_refuses_binary(void **state)
{
    lua_State *L = open_state(state, 0, 0, 0);
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local bin = string.dump(function() return 42 end)\n"
        "assert(bin:sub(1, 4) == '\\27Lua')\n"
        "local std = assert(load(bin, 'bin', 'b'))\n" /* control: a valid chunk */
        "local ok, err = pcall(sb.load, bin, 'evil.lua', {})\n"
        "local ok2, err2 = pcall(sb.load, '\\27Lua garbage', 'evil2.lua', {})\n"
        "return std(), ok, tostring(err), ok2, tostring(err2)\n",
        5);
    assert_int_equal(lua_tointeger(L, -5), 42);
    assert_false(lua_toboolean(L, -4));
    const char *msg = lua_tostring(L, -3);
    if (!strstr(msg, "binary"))
        fail_msg("unexpected message: %s", msg);
    assert_false(lua_toboolean(L, -2));
    assert_non_null(strstr(lua_tostring(L, -1), "binary"));
    lua_pop(L, 5);

    /* Text chunks load, with the given table as their whole environment. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local f = sb.load('return x, print', 'ok.lua', { x = 7 })\n"
        "return f()\n",
        2);
    assert_int_equal(lua_tointeger(L, -2), 7);
    assert_true(lua_isnil(L, -1)); /* no access to the real globals */
    lua_pop(L, 2);
}

/* ---- (7) errors carry the script and line ---------------------------------- */

static void test_error_position(void **state)
{
    lua_State *L = open_state(state, 0, 0, 0);
    char buf[320];

    /* error() at line 3 of the main chunk. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local f = sb.load('local a = 1\\nlocal b = 2\\nerror(\"boom at three\")\\n',\n"
        "                  'scripts/9.9.9.lua', { error = error })\n"
        "local ok, err = sb.call(f)\n"
        "return ok, err\n",
        2);
    assert_false(lua_toboolean(L, -2));
    assert_true(lua_istable(L, -1));
    assert_string_equal(field_str(L, -1, "script", buf, sizeof buf), "scripts/9.9.9.lua");
    lua_getfield(L, -1, "line");
    assert_true(lua_isinteger(L, -1));
    assert_int_equal(lua_tointeger(L, -1), 3);
    lua_pop(L, 1);
    assert_non_null(strstr(field_str(L, -1, "message", buf, sizeof buf), "boom at three"));
    assert_string_equal(field_str(L, -1, "kind", buf, sizeof buf), "error");
    lua_getfield(L, -1, "traceback");
    assert_true(lua_type(L, -1) == LUA_TSTRING);
    lua_pop(L, 3);

    /* A runtime error inside a function of the script, raised through a
     * trusted helper that is not part of the script: the innermost script
     * frame is reported. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local src = 'local M = {}\\n'\n"
        "         .. 'function M.up(x)\\n'\n"
        "         .. '  local v = x + 1\\n'\n"
        "         .. '  local r = helper(v)\\n'\n" /* not a tail call */
        "         .. '  return r\\n'\n"
        "         .. 'end\\n'\n"
        "         .. 'return M\\n'\n"
        "local env = { helper = function(v) local t = nil; return t.field end }\n"
        "local M = sb.load(src, 'scripts/1.2.3.lua', env)()\n"
        "local ok, err = sb.call(M.up, 41)\n"
        "return ok, err\n",
        2);
    assert_false(lua_toboolean(L, -2));
    assert_string_equal(field_str(L, -1, "script", buf, sizeof buf), "scripts/1.2.3.lua");
    lua_getfield(L, -1, "line");
    assert_int_equal(lua_tointeger(L, -1), 4);
    lua_pop(L, 1);
    assert_non_null(strstr(field_str(L, -1, "message", buf, sizeof buf), "attempt to index"));
    lua_pop(L, 2);

    /* Errors outside any loaded script carry no position. */
    run(L,
        "local sb = require('n9e.sandbox')\n"
        "local ok, err = sb.call(function() error('not a script') end)\n"
        "return ok, err.script, err.line\n",
        3);
    assert_false(lua_toboolean(L, -3));
    assert_true(lua_isnil(L, -2));
    assert_true(lua_isnil(L, -1));
    lua_pop(L, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_cap_sandbox_pcall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_next_alloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_next_alloc_from_lua, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instruction_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcall_cannot_swallow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcall_plain_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_position, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
