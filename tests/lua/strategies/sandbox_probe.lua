-- Fails to load if anything dangerous is reachable from a strategy.
local function absent(name, v) if v ~= nil then error("reachable: " .. name, 2) end end
absent("io", io)
absent("os.exit", os.exit)
absent("os.execute", os.execute)
absent("os.remove", os.remove)
absent("os.getenv", os.getenv)
absent("package", package)
absent("debug", debug)
absent("getfenv", getfenv)
absent("setfenv", setfenv)
absent("dofile", dofile)
absent("loadfile", loadfile)
absent("jit", jit)
-- no ffi at all: neither required nor as a global
assert(not pcall(require, "ffi"))
assert(not pcall(function() return ffi.cast end))
absent("string.dump", string.dump)
-- a chunk built with loadstring runs in the same sandbox
local f = loadstring("return io, os.exit, package")
local a, b, c = f()
absent("io via loadstring", a); absent("os.exit via loadstring", b)
absent("package via loadstring", c)
-- no bytecode, no stopping the collector
assert(loadstring("\27LJ\2") == nil)
assert(load("return 1", "x", "b") == nil)
assert(not pcall(collectgarbage, "stop"))
assert(type(collectgarbage("count")) == "number")
-- require only reaches qts modules and strategies/lib
assert(not pcall(require, "os"))
assert(not pcall(require, "qts.host"))
assert(type(os.time()) == "number")
local M = {}
function M.on_init(ctx) return {} end
return M
