-- psyncd: the world an EVAL script sees, built once per Lua state (LuaRuntime runs this file with the
-- state's full standard libraries, then only what this file hands back stays reachable by scripts).
--
-- It reproduces Redis 7.0.15's scripting environment on Lua 5.4:
--  * the same globals (and no others: no io, os, package, require, dofile, loadfile, print, debug);
--  * globals protection: reading an unknown global and writing any global are errors, and the library
--    tables are read-only ("Attempt to modify a readonly table"), as Redis 7.0.15 makes them;
--  * Lua 5.1 names scripts rely on (unpack, loadstring, table.getn, math.pow, gcinfo...);
--  * the redis.* API, whose C# half is `native` (its functions never raise: they return what failed,
--    and the wrappers below raise it, because a Lua error cannot cross C# frames).
--
-- Read-only tables are empty proxies (__index to the real table, __newindex raising, __pairs and __len
-- forwarding), since Lua 5.4 has no read-only flag: rawget/next on a library table therefore see nothing.

local native, null = ...

local INTERNAL = '=psyncd' -- chunk name of this file and the libraries: never blamed for an error

local G = _G
local dbg_getinfo = debug.getinfo
local raw_error, raw_pcall, raw_load, raw_tostring = error, pcall, load, tostring
local type, rawget, rawset, setmetatable, select, next, pairs, ipairs =
      type, rawget, rawset, setmetatable, select, next, pairs, ipairs
local math_type, floor, sformat, sfind, ssub, sgsub = math.type, math.floor, string.format, string.find, string.sub, string.gsub
local native_call, native_rand, native_srand = native.call, native.rand, native.srand

local function readonly_error()
  raw_error('Attempt to modify a readonly table', 2)
end

local function protect(real)
  return setmetatable({}, {
    __index = real,
    __newindex = readonly_error,
    __pairs = function() return next, real, nil end,
    __len = function() return #real end,
    __metatable = false,
  })
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Lua 5.1 printed every number with "%.14g": 5.4 prints a float with an integral value as "5.0".
local function tostring51(v)
  if math_type(v) == 'float' then return sformat('%.14g', v) end
  return raw_tostring(v)
end

-- The globals scripts see (`real`) and the protected view of them (`env`, the scripts' _ENV).
local real = {}
-- Where the script last named a library (redis, cjson...): in `return redis.call(...)` Lua 5.4 makes a
-- tail call, which drops the script's frame, so an error raised by the library could not say its line
-- without this. Only library names are tracked: the other globals are read far more often.
local tracked = { redis = true, cjson = true, cmsgpack = true, struct = true, bit = true }
local lib_source, lib_line
-- The libraries written in Lua are compiled when a script first names one: most scripts use none, and
-- their code would otherwise be most of used_memory_lua.
local exports = {}
local lazy = { cjson = true, cmsgpack = true, struct = true, bit = true }
local protect_library
local env = setmetatable({}, {
  __index = function(_, name)
    if tracked[name] then
      local i = dbg_getinfo(2, 'Sl')
      lib_source, lib_line = i.source, i.currentline
    end
    local v = real[name]
    if v == nil and lazy[name] then
      lazy[name] = nil
      v = protect_library(raw_load(native.library(name), INTERNAL, 't', G)(exports))
      real[name] = v
    end
    if v == nil then
      raw_error("Script attempted to access nonexistent global variable '" .. raw_tostring(name) .. "'", 2)
    end
    return v
  end,
  __newindex = readonly_error,
  __pairs = function()
    for name in pairs(lazy) do
      local _ = env[name]
    end
    return next, real, nil
  end,
  __metatable = false,
})

for _, name in ipairs { 'assert', 'collectgarbage', 'getmetatable', 'ipairs', 'next', 'pairs', 'rawequal',
                        'rawget', 'rawset', 'select', 'setmetatable', 'tonumber', 'type', 'xpcall' } do
  real[name] = G[name]
end
real._G = env
real._VERSION = _VERSION
real.tostring = tostring51
real.unpack = table.unpack
real.gcinfo = function() return floor(collectgarbage('count')) end

-- error: Lua 5.1 added the position to a number message too (5.4 only to strings).
real.error = function(message, level)
  if math_type(message) then message = tostring51(message) end
  level = level or 1
  if level > 0 then level = level + 1 end
  raw_error(message, level)
end

-- pcall: Redis 7.0.15 hands a caught error table carrying `err` to the script as that string.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'table' then
    local message = rawget(e, 'err')
    if type(message) == 'string' then return false, message end
  end
  return false, e
end
real.pcall = function(f, ...)
  return pcall_result(raw_pcall(f, ...))
end

-- load/loadstring: source text only (bytecode can crash the VM), in the scripts' environment.
real.load = function(chunk, name, _, chunkenv)
  return raw_load(chunk, name, 't', chunkenv or env)
end
real.loadstring = function(text, name)
  return raw_load(text, name or text, 't', env)
end

-- ---- libraries ----

local str = copy(string)
str.gfind = string.gmatch
real.string = protect(str)
-- Methods on strings ("x"):upper() go through the protected table too.
local string_meta = getmetatable('')
string_meta.__index = real.string
string_meta.__metatable = protect({ __index = real.string })

local tbl = copy(table)
tbl.getn = function(t) return #t end
tbl.setn = function() raw_error("'setn' is obsolete", 2) end
tbl.maxn = function(t)
  local max = 0
  for k in next, t do
    if math_type(k) and k > max then max = k end
  end
  return max
end
tbl.foreach = function(t, f)
  for k, v in next, t do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
tbl.foreachi = function(t, f)
  for i = 1, #t do
    local r = f(i, t[i])
    if r ~= nil then return r end
  end
end
real.table = protect(tbl)

local m = copy(math)
local exp, log = math.exp, math.log
m.pow = function(x, y) return x ^ y end
m.mod = math.fmod
m.log10 = function(x) return log(x, 10) end
m.atan2 = function(y, x) return math.atan(y, x) end
m.cosh = function(x) return (exp(x) + exp(-x)) / 2 end
m.sinh = function(x) return (exp(x) - exp(-x)) / 2 end
m.tanh = function(x)
  if x > 20 then return 1.0 elseif x < -20 then return -1.0 end
  local a, b = exp(x), exp(-x)
  return (a - b) / (a + b)
end
m.ldexp = function(x, e) return x * 2.0 ^ e end
m.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(log(math.abs(x), 2)) + 1
  local f = x / 2.0 ^ e
  if math.abs(f) >= 1 then f = f / 2; e = e + 1 elseif math.abs(f) < 0.5 then f = f * 2; e = e - 1 end
  return f, e
end
-- Redis's PRNG (rand48, seeded with 0 before every script), with Lua 5.1's math.random arithmetic.
local function checkint(v, n)
  local x = tonumber(v)
  if x == nil then
    raw_error("bad argument #" .. n .. " to 'random' (number expected, got " .. type(v) .. ")", 3)
  end
  if x >= 0 then return floor(x) end
  return -floor(-x)
end
m.random = function(...)
  local n = select('#', ...)
  local r = native_rand()
  if n == 0 then return r end
  if n == 1 then
    local u = checkint((...), 1)
    if not (1 <= u) then raw_error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local l, u = ...
    l, u = checkint(l, 1), checkint(u, 2)
    if not (l <= u) then raw_error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  raw_error('wrong number of arguments', 2)
end
m.randomseed = function(seed)
  native_srand(checkint(seed, 1))
end
real.math = protect(m)

real.coroutine = protect(copy(coroutine))

-- ---- redis.* ----

-- An error table as Redis 7.0 builds one: "-CODE message" keeps its code, anything else gets "ERR";
-- line breaks at either end are trimmed.
local function error_table(text)
  local code, message
  if ssub(text, 1, 1) == '-' then
    local space = sfind(text, ' ', 1, true)
    if space then
      code, message = ssub(text, 2, space - 1), ssub(text, space + 1)
    else
      code, message = 'ERR', ssub(text, 2)
    end
  else
    code, message = 'ERR', text
  end
  message = sgsub(sgsub(message, '^[\r\n]+', ''), '[\r\n]+$', '')
  return { err = code .. ' ' .. message }
end

-- Raises error table `e` on behalf of the redis.* function at `level`, recording where its caller is.
local function raise(e, level)
  if rawget(e, 'source') == nil then
    local i = dbg_getinfo(level + 1, 'Sl')
    if dbg_getinfo(level, 't').istailcall or i == nil or i.what == 'C' then
      e.source, e.line = lib_source, lib_line
    else
      e.source, e.line = i.source, i.currentline
    end
  end
  raw_error(e, 0)
end

local redis = {}
redis.call = function(...)
  local r, failed = native_call(...)
  if failed then raise(r, 2) end
  return r
end
redis.pcall = function(...)
  return (native_call(...))
end
redis.error_reply = function(...)
  local text = ...
  if select('#', ...) ~= 1 or type(text) ~= 'string' then
    return { err = 'ERR wrong number or type of arguments' }
  end
  if ssub(text, 1, 1) ~= '-' then text = '-' .. text end
  return error_table(text)
end
redis.status_reply = function(...)
  local text = ...
  if select('#', ...) ~= 1 or (type(text) ~= 'string' and type(text) ~= 'number') then
    return { err = 'ERR wrong number or type of arguments' }
  end
  return { ok = text }
end
redis.sha1hex = function(...)
  local text = ...
  if select('#', ...) ~= 1 then raise({ err = 'ERR wrong number of arguments' }, 2) end
  return native.sha1hex(text)
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.log = function(...)
  local n = select('#', ...)
  if n < 2 then raise({ err = 'ERR redis.log() requires two arguments or more.' }, 2) end
  local level = ...
  if math_type(level) == nil then raise({ err = 'ERR First argument must be a number' }, 2) end
  if level < 0 or level > 3 then raise({ err = 'ERR Invalid debug level.' }, 2) end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring51(v) end
  end
  native.log(level, table.concat(parts, ' '))
end
redis.setresp = function(...)
  if select('#', ...) ~= 1 then raise({ err = 'ERR redis.setresp() requires one argument.' }, 2) end
  local version = ...
  if version ~= 2 and version ~= 3 then raise({ err = 'ERR RESP version must be 2 or 3.' }, 2) end
  native.setresp(version)
end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then raise({ err = 'ERR redis.set_repl() requires one argument.' }, 2) end
  local flags = ...
  if math_type(flags) == nil or flags < 0 or flags > 3 then
    raise({ err = 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.' }, 2)
  end
  native.set_repl(floor(flags))
end
-- Redis 7.0 always replicates effects: this is accepted and does nothing.
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = function(...)
  local r, failed = native.acl_check(...)
  if failed then raise(r, 2) end
  return r
end
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = native.version, native.version_num
real.redis = protect(redis)

-- ---- what LuaRuntime keeps ----

-- Raises `message` from a library written in Lua as a C library's luaL_error does: with the position of
-- the script's line that called the library.
local function user_error(message)
  for level = 2, 200 do
    local i = dbg_getinfo(level, 'S')
    if not i then break end
    if i.what ~= 'C' and i.source ~= INTERNAL then
      if dbg_getinfo(level - 1, 't').istailcall then break end
      raw_error(message, level)
    end
  end
  if lib_source then
    raw_error(ssub(lib_source, 2) .. ':' .. lib_line .. ': ' .. message, 0)
  end
  raw_error(message, 0)
end

protect_library = protect

-- Compiles a script's body in the scripts' environment.
local function compile(body)
  return raw_load(body, '@user_script', 't', env)
end

-- What a script that failed reports: the message and where it was raised (skipping C functions and
-- this file, as Redis's error handler skips to the user's frame).
local function describe_error(co, e)
  local message, source, line
  if type(e) == 'table' then
    local m = rawget(e, 'err')
    if m == nil then
      message = 'ERR unknown error'
    else
      message = tostring51(m)
    end
    source, line = rawget(e, 'source'), rawget(e, 'line')
  else
    message = 'ERR ' .. tostring51(e)
  end
  if source == nil then
    for level = 0, 200 do
      local i = dbg_getinfo(co, level, 'Sl')
      if not i then break end
      if i.what ~= 'C' and i.source ~= INTERNAL then
        source, line = i.source, i.currentline
        break
      end
      if i.istailcall then break end
    end
    if source == nil then source, line = lib_source, lib_line end
  end
  return message, source, line
end

-- Sets KEYS and ARGV for the next run.
local function set_arguments(keys, argv)
  real.KEYS, real.ARGV = keys, argv
end

-- What the libraries are given.
exports.null = null
exports.tostring51 = tostring51
exports.user_error = user_error

-- Short-lived garbage (KEYS, ARGV, replies) dominates: the generational collector keeps the state small.
collectgarbage('generational')

return {
  compile = compile,
  describe_error = describe_error,
  set_arguments = set_arguments,
}
