-- psyncd: the `cmsgpack` library of Redis scripts (lua-cmsgpack 0.4's API and encodings), in Lua 5.4.
-- Numbers: an integral value is encoded as the smallest integer type (Lua 5.1 had only doubles, so 1.0
-- is an integer there too), else float 32 when exact, else float 64. Tables: an array when the keys are
-- exactly 1..n, else a map; nesting deeper than 16 levels is encoded as nil, as lua-cmsgpack does.
local sandbox = ...
local fail = sandbox.user_error
local spack, sunpack, schar, sbyte = string.pack, string.unpack, string.char, string.byte
local math_type, tointeger, type, select, error, pairs, next = math.type, math.tointeger, type, select, error, pairs, next

local MAX_NESTING = 16

local encode

local function encode_integer(n, out)
  if n >= 0 then
    if n <= 0x7f then out[#out + 1] = schar(n)
    elseif n <= 0xff then out[#out + 1] = spack('>BB', 0xcc, n)
    elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xcd, n)
    elseif n <= 0xffffffff then out[#out + 1] = spack('>BI4', 0xce, n)
    else out[#out + 1] = spack('>Bi8', 0xcf, n) end
  else
    if n >= -32 then out[#out + 1] = schar(n & 0xff)
    elseif n >= -128 then out[#out + 1] = spack('>Bi1', 0xd0, n)
    elseif n >= -32768 then out[#out + 1] = spack('>Bi2', 0xd1, n)
    elseif n >= -2147483648 then out[#out + 1] = spack('>Bi4', 0xd2, n)
    else out[#out + 1] = spack('>Bi8', 0xd3, n) end
  end
end

local function encode_number(n, out)
  if math_type(n) == 'integer' then return encode_integer(n, out) end
  local i = tointeger(n)
  if i and n == n then return encode_integer(i, out) end
  if spack('f', n) and sunpack('f', spack('f', n)) == n then
    out[#out + 1] = spack('>Bf', 0xca, n)
  else
    out[#out + 1] = spack('>Bd', 0xcb, n)
  end
end

local function encode_string(s, out)
  local n = #s
  if n < 32 then out[#out + 1] = schar(0xa0 | n)
  elseif n <= 0xff then out[#out + 1] = spack('>BB', 0xd9, n)
  elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xda, n)
  else out[#out + 1] = spack('>BI4', 0xdb, n) end
  out[#out + 1] = s
end

-- lua-cmsgpack's rule: an array when every key is a positive integer and there is no hole.
local function array_length(t)
  local count, max = 0, 0
  for k in next, t do
    if math_type(k) == 'float' then k = tointeger(k) end
    if math_type(k) ~= 'integer' or k <= 0 then return nil end
    count = count + 1
    if k > max then max = k end
  end
  if count == max then return max end
  return nil
end

local function encode_table(t, out, level)
  local n = array_length(t)
  if n then
    if n < 16 then out[#out + 1] = schar(0x90 | n)
    elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xdc, n)
    else out[#out + 1] = spack('>BI4', 0xdd, n) end
    for i = 1, n do encode(t[i], out, level + 1) end
  else
    local count = 0
    for _ in next, t do count = count + 1 end
    if count < 16 then out[#out + 1] = schar(0x80 | count)
    elseif count <= 0xffff then out[#out + 1] = spack('>BI2', 0xde, count)
    else out[#out + 1] = spack('>BI4', 0xdf, count) end
    for k, v in next, t do
      encode(k, out, level + 1)
      encode(v, out, level + 1)
    end
  end
end

encode = function(v, out, level)
  local t = type(v)
  if t == 'number' then encode_number(v, out)
  elseif t == 'string' then encode_string(v, out)
  elseif t == 'boolean' then out[#out + 1] = v and '\xc3' or '\xc2'
  elseif t == 'table' and level < MAX_NESTING then encode_table(v, out, level)
  else out[#out + 1] = '\xc0' end
end

local cmsgpack = { _NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0', _COPYRIGHT = '', _DESCRIPTION = 'MessagePack C implementation for Lua' }

function cmsgpack.pack(...)
  local n = select('#', ...)
  if n == 0 then fail('MessagePack pack needs input.') end
  local out = {}
  for i = 1, n do encode((select(i, ...)), out, 0) end
  return table.concat(out)
end

local decode

local function need(s, pos, n)
  if pos + n - 1 > #s then fail('Missing bytes in input.') end
end

local function decode_array(s, pos, n)
  local t = {}
  for i = 1, n do t[i], pos = decode(s, pos) end
  return t, pos
end

local function decode_map(s, pos, n)
  local t = {}
  for _ = 1, n do
    local k, v
    k, pos = decode(s, pos)
    v, pos = decode(s, pos)
    if k ~= nil then t[k] = v end
  end
  return t, pos
end

local function fixed(s, pos, format, size)
  need(s, pos, size)
  return (sunpack(format, s, pos)), pos + size
end

local function bytes(s, pos, n)
  need(s, pos, n)
  return s:sub(pos, pos + n - 1), pos + n
end

-- Decodes the object at `pos` (1-based); returns it and the position after it.
decode = function(s, pos)
  need(s, pos, 1)
  local b = sbyte(s, pos)
  pos = pos + 1
  if b <= 0x7f then return b, pos
  elseif b >= 0xe0 then return b - 0x100, pos
  elseif b >= 0xa0 and b <= 0xbf then return bytes(s, pos, b & 0x1f)
  elseif b >= 0x90 and b <= 0x9f then return decode_array(s, pos, b & 0x0f)
  elseif b >= 0x80 and b <= 0x8f then return decode_map(s, pos, b & 0x0f)
  elseif b == 0xc0 then return nil, pos
  elseif b == 0xc2 then return false, pos
  elseif b == 0xc3 then return true, pos
  elseif b == 0xcc then return fixed(s, pos, '>I1', 1)
  elseif b == 0xcd then return fixed(s, pos, '>I2', 2)
  elseif b == 0xce then return fixed(s, pos, '>I4', 4)
  elseif b == 0xcf then
    local v, p = fixed(s, pos, '>i8', 8)
    if v < 0 then v = v + 18446744073709551616.0 end
    return v, p
  elseif b == 0xd0 then return fixed(s, pos, '>i1', 1)
  elseif b == 0xd1 then return fixed(s, pos, '>i2', 2)
  elseif b == 0xd2 then return fixed(s, pos, '>i4', 4)
  elseif b == 0xd3 then return fixed(s, pos, '>i8', 8)
  elseif b == 0xca then return fixed(s, pos, '>f', 4)
  elseif b == 0xcb then return fixed(s, pos, '>d', 8)
  elseif b == 0xd9 or b == 0xc4 then local n; n, pos = fixed(s, pos, '>I1', 1); return bytes(s, pos, n)
  elseif b == 0xda or b == 0xc5 then local n; n, pos = fixed(s, pos, '>I2', 2); return bytes(s, pos, n)
  elseif b == 0xdb or b == 0xc6 then local n; n, pos = fixed(s, pos, '>I4', 4); return bytes(s, pos, n)
  elseif b == 0xdc then local n; n, pos = fixed(s, pos, '>I2', 2); return decode_array(s, pos, n)
  elseif b == 0xdd then local n; n, pos = fixed(s, pos, '>I4', 4); return decode_array(s, pos, n)
  elseif b == 0xde then local n; n, pos = fixed(s, pos, '>I2', 2); return decode_map(s, pos, n)
  elseif b == 0xdf then local n; n, pos = fixed(s, pos, '>I4', 4); return decode_map(s, pos, n)
  end
  fail('Bad data format in input.')
end

-- Decodes up to `limit` objects (0: all) from `offset` (0-based); returns the next offset (-1 at the end) and them.
local function unpack_from(s, limit, offset)
  if type(s) ~= 'string' then fail("bad argument #1 to 'unpack' (string expected, got " .. type(s) .. ")") end
  local results, count, pos = {}, 0, offset + 1
  while pos <= #s and (limit == 0 or count < limit) do
    count = count + 1
    results[count], pos = decode(s, pos)
  end
  return pos > #s and -1 or pos - 1, results, count
end

function cmsgpack.unpack(s)
  local _, results, count = unpack_from(s, 0, 0)
  return table.unpack(results, 1, count)
end

function cmsgpack.unpack_one(s, offset)
  local next_offset, results, count = unpack_from(s, 1, offset or 0)
  return next_offset, table.unpack(results, 1, count)
end

function cmsgpack.unpack_limit(s, limit, offset)
  local next_offset, results, count = unpack_from(s, limit or 0, offset or 0)
  return next_offset, table.unpack(results, 1, count)
end

return cmsgpack
