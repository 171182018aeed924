-- psyncd: the `bit` library of Redis scripts (LuaBitOp's API), on Lua 5.4's integer operators.
-- Every result is a signed 32-bit number, as LuaBitOp returns; arguments are numbers, taken modulo 2^32
-- (a float is rounded to the nearest integer first).
local sandbox = ...
local fail = sandbox.user_error
local math_type, floor, tointeger, select, sformat, type, error =
      math.type, math.floor, math.tointeger, select, string.format, type, error

local function toint(x, n, name)
  local t = math_type(x)
  if t == 'integer' then return x end
  if t == 'float' then
    -- LuaBitOp adds 2^52 + 2^51: the double's rounding (to nearest, ties to even) picks the integer.
    local r = (x + 6755399441055744.0) - 6755399441055744.0
    return tointeger(r) or tointeger(x % 4294967296.0 // 1) or 0
  end
  local converted = tonumber(x)
  if converted then return toint(converted, n, name) end
  fail("bad argument #" .. n .. " to '" .. name .. "' (number expected, got " .. (x == nil and 'no value' or type(x)) .. ")")
end

local function signed(x)
  x = x & 0xffffffff
  if x >= 0x80000000 then return x - 0x100000000 end
  return x
end

local bit = {}

function bit.tobit(x) return signed(toint(x, 1, 'tobit')) end
function bit.bnot(x) return signed(~toint(x, 1, 'bnot')) end

local function fold(name, op)
  return function(x, ...)
    local r = toint(x, 1, name)
    for i = 1, select('#', ...) do
      r = op(r, toint((select(i, ...)), i + 1, name))
    end
    return signed(r)
  end
end
bit.band = fold('band', function(a, b) return a & b end)
bit.bor = fold('bor', function(a, b) return a | b end)
bit.bxor = fold('bxor', function(a, b) return a ~ b end)

function bit.lshift(x, n) return signed(toint(x, 1, 'lshift') << (toint(n, 2, 'lshift') & 31)) end
function bit.rshift(x, n) return signed((toint(x, 1, 'rshift') & 0xffffffff) >> (toint(n, 2, 'rshift') & 31)) end
function bit.arshift(x, n)
  local v, s = signed(toint(x, 1, 'arshift')), toint(n, 2, 'arshift') & 31
  return signed(v >> s | (v < 0 and ~(0xffffffff >> s) or 0))
end
function bit.rol(x, n)
  local v, s = toint(x, 1, 'rol') & 0xffffffff, toint(n, 2, 'rol') & 31
  return signed((v << s) | (v >> (32 - s)))
end
function bit.ror(x, n)
  local v, s = toint(x, 1, 'ror') & 0xffffffff, toint(n, 2, 'ror') & 31
  return signed((v >> s) | (v << (32 - s)))
end
function bit.bswap(x)
  local v = toint(x, 1, 'bswap') & 0xffffffff
  return signed(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24))
end
function bit.tohex(x, n)
  local v = toint(x, 1, 'tohex') & 0xffffffff
  n = n == nil and 8 or toint(n, 2, 'tohex')
  local upper = n < 0
  if upper then n = -n end
  if n > 8 then n = 8 end
  local s = sformat(upper and '%08X' or '%08x', v)
  return s:sub(9 - n)
end

return bit
