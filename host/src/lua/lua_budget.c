/* lua_budget.c — the instruction limit of a replay strategy (lua_strategy.h,
 * docs/adr/0006-replay-strategies-inline.md).
 *
 * In a replay the strategies run on the core thread, and nothing else could
 * take the core back from a callback stuck in `while true do end`. A clock
 * cannot help either (no other thread reads it, and a replay must not depend
 * on wall time), so a callback is limited in Lua VM instructions instead:
 * the count hook runs every QTS_LUA_HOOK_PERIOD instructions, adds them to
 * the current callback's count, and at max_instructions fails the strategy
 * and raises.
 *
 * LuaJIT calls no hook inside JIT-compiled code, so the strategy's own code
 * must never be compiled: every function made from strategy source (the
 * file, its lib/ modules, loadstring) goes through the global loadfile,
 * loadstring or load, which install() wraps to mark the result and its
 * nested functions JIT-off (jit.off(f, true)). The host prelude (dispatcher,
 * event accessors, ctx) stays compiled: it has no unbounded loop, and a
 * trace that would call into strategy code stops there. So every loop of
 * the strategy runs interpreted and is counted; the count covers the
 * strategy's code, not the host's.
 *
 * A "callback" is one event's share of a dispatch (the count restarts when
 * qts_ffi_next_event hands over the next event, seen as a change of
 * n_events) or one other entry into Lua (load + on_init, reload, on_stop),
 * which qts_lua_budget_arm() starts. The count is exact to one hook period.
 */
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <stdio.h>

#include "log.h"
#include "lua_strategy.h"
#include "util.h"

/* Instructions between two hook calls: a C call per 4096 bytecodes costs
 * nothing measurable, and the limit is exact to this. */
#define QTS_LUA_HOOK_PERIOD 4096

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    void *ud = NULL;
    lua_getallocf(L, &ud); /* the allocator's data is the strategy */
    struct qts_lua_strategy *s = ud;
    if (!s->instr_tripped) {
        uint64_t mark = atomic_load_explicit(&s->n_events, memory_order_relaxed);
        if (mark != s->instr_mark) { /* a new event: a new callback */
            s->instr_mark = mark;
            s->instr_used = 0;
        }
        s->instr_used += QTS_LUA_HOOK_PERIOD;
        if (s->instr_used < s->max_instructions)
            return;
        s->instr_tripped = true;
        char why[200];
        snprintf(why, sizeof why,
                 "instruction limit: a callback ran more than %llu Lua instructions "
                 "(endless loop?)",
                 (unsigned long long)s->max_instructions);
        qts_strlcpy(s->last_error, why, sizeof s->last_error);
        qts_lua_strategy_halt(s, QTS_LUA_ST_FAILED, why);
        /* from now on every instruction raises, so a pcall in the strategy
         * cannot swallow the error and carry on */
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    }
    /* where the callback was (level 0: a hook has no frame of its own) */
    char limit[32];
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)s->max_instructions);
    luaL_where(L, 0);
    lua_pushfstring(L, "instruction limit exceeded (%s instructions)", limit);
    lua_concat(L, 2);
    lua_error(L);
}

/* Run before the prelude: the loaders the host compiles strategy source
 * with hand back JIT-off functions. */
static const char k_wrap_loaders[] =
    "local off, lf, ls, ld = jit.off, loadfile, loadstring, load\n"
    "local function mark(f, e) if f then off(f, true) end return f, e end\n"
    "loadfile = function(...) return mark(lf(...)) end\n"
    "loadstring = function(...) return mark(ls(...)) end\n"
    "load = function(...) return mark(ld(...)) end\n";

void qts_lua_budget_install(struct qts_lua_strategy *s)
{
    lua_State *L = s->L;
    s->instr_tripped = false;
    if (luaL_loadbuffer(L, k_wrap_loaders, sizeof k_wrap_loaders - 1, "=qts.budget") != 0 ||
        lua_pcall(L, 0, 0, 0) != 0) {
        /* cannot happen with the stock libraries; stay safe: no JIT at all */
        QTS_WARN("strategy %s: loader wrap failed (%s): JIT compiler off", s->name,
                 lua_tostring(L, -1));
        lua_pop(L, 1);
        luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    }
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, QTS_LUA_HOOK_PERIOD);
}

void qts_lua_budget_arm(struct qts_lua_strategy *s)
{
    if (!s->max_instructions || s->instr_tripped)
        return;
    s->instr_used = 0;
    s->instr_mark = atomic_load_explicit(&s->n_events, memory_order_relaxed);
    /* restarts the VM's countdown: the last callback's remainder is not ours */
    lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, QTS_LUA_HOOK_PERIOD);
}

void qts_lua_budget_disarm(struct qts_lua_strategy *s)
{
    if (s->max_instructions && s->L)
        lua_sethook(s->L, NULL, 0, 0);
}
