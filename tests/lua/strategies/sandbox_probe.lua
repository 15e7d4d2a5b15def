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
local ffi = require("ffi")
absent("ffi.load", ffi.load)
absent("ffi.cdef", ffi.cdef)
absent("ffi.C", ffi.C)
absent("ffi.metatype", ffi.metatype)
-- a chunk built with loadstring runs in the same sandbox
local f = loadstring("return io, os.exit, package")
local a, b, c = f()
absent("io via loadstring", a); absent("os.exit via loadstring", b)
absent("package via loadstring", c)
-- require only reaches qts modules and strategies/lib
assert(not pcall(require, "os"))
assert(not pcall(require, "qts.host"))
assert(type(os.time()) == "number")
local M = {}
function M.on_init(ctx) return {} end
return M
