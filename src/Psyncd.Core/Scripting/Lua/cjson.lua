-- psyncd: the `cjson` library of Redis scripts (lua-cjson 2.1's API and output), in Lua 5.4.
-- Numbers are written with "%.14g" (lua-cjson's default precision); decoded numbers with an integral value
-- become Lua integers, so that they print as Lua 5.1 printed them ("5", not "5.0"). Objects are written in
-- the order pairs() visits their keys.
local sandbox = ...
local fail = sandbox.user_error
local null = sandbox.null
local math_type, tointeger, floor, huge = math.type, math.tointeger, math.floor, math.huge
local sformat, sbyte, schar, ssub, sfind, sgsub = string.format, string.byte, string.char, string.sub, string.find, string.gsub
local type, next, error, tostring, concat = type, next, error, tostring, table.concat

local config = {
  encode_max_depth = 1000,
  decode_max_depth = 1000,
  encode_number_precision = 14,
  sparse_convert = false,
  sparse_ratio = 2,
  sparse_safe = 10,
  encode_invalid_numbers = false,
  decode_invalid_numbers = true,
  encode_keep_buffer = true,
}

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t', ['\127'] = '\\u007f',
}
for i = 0, 31 do
  local c = schar(i)
  if not escapes[c] then escapes[c] = sformat('\\u%04x', i) end
end

local function encode_string(s)
  return '"' .. sgsub(s, '[%c"\\/\127]', escapes) .. '"'
end

local function encode_number(n)
  if n ~= n or n == huge or n == -huge then
    if not config.encode_invalid_numbers then
      fail('Cannot serialise number: must not be NaN or Inf')
    end
    if n ~= n then return 'nan' end
    return n > 0 and 'inf' or '-inf'
  end
  return sformat('%.' .. config.encode_number_precision .. 'g', n)
end

-- lua-cjson's array test: positive integer keys only; too sparse an array is refused.
local function array_length(t)
  local max, count = 0, 0
  for k in next, t do
    if math_type(k) == 'float' then k = tointeger(k) end
    if math_type(k) ~= 'integer' or k < 1 then return -1 end
    if k > max then max = k end
    count = count + 1
  end
  if config.sparse_ratio > 0 and max > config.sparse_safe and max > count * config.sparse_ratio then
    if not config.sparse_convert then
      fail('Cannot serialise table: excessively sparse array')
    end
    return -1
  end
  return max
end

local encode_value

local function encode_table(t, depth)
  depth = depth + 1
  if depth > config.encode_max_depth then
    fail('Cannot serialise, excessive nesting (' .. depth .. ')')
  end
  local n = array_length(t)
  local parts = {}
  if n > 0 then
    for i = 1, n do parts[i] = encode_value(t[i], depth) end
    return '[' .. concat(parts, ',') .. ']'
  end
  for k, v in next, t do
    local key
    if type(k) == 'string' then
      key = encode_string(k)
    elseif type(k) == 'number' then
      key = '"' .. encode_number(k) .. '"'
    else
      fail('Cannot serialise table: table key must be a number or string')
    end
    parts[#parts + 1] = key .. ':' .. encode_value(v, depth)
  end
  return '{' .. concat(parts, ',') .. '}'
end

encode_value = function(v, depth)
  local t = type(v)
  if t == 'string' then return encode_string(v) end
  if t == 'number' then return encode_number(v) end
  if t == 'boolean' then return v and 'true' or 'false' end
  if t == 'nil' or v == null then return 'null' end
  if t == 'table' then return encode_table(v, depth) end
  fail('Cannot serialise ' .. t .. ': type not supported')
end

local cjson = { _NAME = 'cjson', _VERSION = '2.1.0', null = null }

function cjson.encode(...)
  if select('#', ...) ~= 1 then fail("bad argument #1 to 'encode' (expected 1 argument)") end
  return encode_value((...), 0)
end

-- ---- decoding ----

local function decode_error(s, pos, expected)
  local found
  local c = ssub(s, pos, pos)
  if c == '' then found = 'T_END'
  elseif sfind(c, '[%[%]{}:,]') then found = "'" .. c .. "'"
  elseif c == '"' then found = 'string'
  elseif sfind(c, '[%-%d]') then found = 'number'
  else found = 'invalid token' end
  fail('Expected ' .. expected .. ' but found ' .. found .. ' at character ' .. pos)
end

local function skip(s, pos)
  return (sfind(s, '[^ \t\r\n]', pos)) or #s + 1
end

local function utf8_char(code)
  if code < 0x80 then return schar(code) end
  if code < 0x800 then return schar(0xc0 | (code >> 6), 0x80 | (code & 0x3f)) end
  if code < 0x10000 then return schar(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)) end
  return schar(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f))
end

local simple_escapes = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }

local function decode_string(s, pos)
  local parts, i = {}, pos + 1
  while true do
    local j = sfind(s, '["\\]', i)
    if not j then fail('Expected object key string but found invalid token at character ' .. pos) end
    parts[#parts + 1] = ssub(s, i, j - 1)
    if ssub(s, j, j) == '"' then return concat(parts), j + 1 end
    local e = ssub(s, j + 1, j + 1)
    if simple_escapes[e] then
      parts[#parts + 1] = simple_escapes[e]
      i = j + 2
    elseif e == 'u' then
      local code = tonumber(ssub(s, j + 2, j + 5), 16)
      if not code then fail('Expected value but found invalid unicode escape code at character ' .. pos) end
      i = j + 6
      if code >= 0xd800 and code <= 0xdbff and ssub(s, i, i + 1) == '\\u' then
        local low = tonumber(ssub(s, i + 2, i + 5), 16)
        if low and low >= 0xdc00 and low <= 0xdfff then
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
          i = i + 6
        end
      end
      parts[#parts + 1] = utf8_char(code)
    else
      fail('Expected value but found invalid escape code at character ' .. pos)
    end
  end
end

local function decode_number(s, pos)
  local text = s:match('^-?[%w%.%+%-]+', pos)
  local n = text and tonumber(text)
  if n == nil then decode_error(s, pos, 'value') end
  if math_type(n) == 'float' and n == floor(n) and n > -2^53 and n < 2^53 then
    n = tointeger(n)
  end
  return n, pos + #text
end

local decode_value

local function decode_array(s, pos, depth)
  local t, n = {}, 0
  pos = skip(s, pos + 1)
  if ssub(s, pos, pos) == ']' then return t, pos + 1 end
  while true do
    local v
    v, pos = decode_value(s, pos, depth)
    n = n + 1
    t[n] = v
    pos = skip(s, pos)
    local c = ssub(s, pos, pos)
    if c == ']' then return t, pos + 1 end
    if c ~= ',' then decode_error(s, pos, "comma or array end") end
    pos = skip(s, pos + 1)
  end
end

local function decode_object(s, pos, depth)
  local t = {}
  pos = skip(s, pos + 1)
  if ssub(s, pos, pos) == '}' then return t, pos + 1 end
  while true do
    if ssub(s, pos, pos) ~= '"' then decode_error(s, pos, 'object key string') end
    local k
    k, pos = decode_string(s, pos)
    pos = skip(s, pos)
    if ssub(s, pos, pos) ~= ':' then decode_error(s, pos, 'colon') end
    local v
    v, pos = decode_value(s, skip(s, pos + 1), depth)
    t[k] = v
    pos = skip(s, pos)
    local c = ssub(s, pos, pos)
    if c == '}' then return t, pos + 1 end
    if c ~= ',' then decode_error(s, pos, 'comma or object end') end
    pos = skip(s, pos + 1)
  end
end

decode_value = function(s, pos, depth)
  pos = skip(s, pos)
  local c = ssub(s, pos, pos)
  if c == '{' or c == '[' then
    depth = depth + 1
    if depth > config.decode_max_depth then
      fail('Found too many nested data structures (' .. depth .. ') at character ' .. pos)
    end
    if c == '{' then return decode_object(s, pos, depth) end
    return decode_array(s, pos, depth)
  end
  if c == '"' then return decode_string(s, pos) end
  if ssub(s, pos, pos + 3) == 'true' then return true, pos + 4 end
  if ssub(s, pos, pos + 4) == 'false' then return false, pos + 5 end
  if ssub(s, pos, pos + 3) == 'null' then return null, pos + 4 end
  if sfind(c, '[%-%d]') or (config.decode_invalid_numbers and sfind(c, '[%+%.iInN]')) then
    return decode_number(s, pos)
  end
  decode_error(s, pos, 'value')
end

function cjson.decode(...)
  if select('#', ...) ~= 1 then fail("bad argument #1 to 'decode' (expected 1 argument)") end
  local s = ...
  if type(s) ~= 'string' then s = tostring(s) end
  local v, pos = decode_value(s, 1, 0)
  pos = skip(s, pos)
  if pos <= #s then decode_error(s, pos, 'the end') end
  return v
end

-- ---- configuration (lua-cjson's setters return the current values) ----

local function option(name)
  return function(value)
    if value ~= nil then config[name] = value end
    return config[name]
  end
end
cjson.encode_max_depth = option('encode_max_depth')
cjson.decode_max_depth = option('decode_max_depth')
cjson.encode_number_precision = option('encode_number_precision')
cjson.encode_keep_buffer = option('encode_keep_buffer')
cjson.encode_invalid_numbers = option('encode_invalid_numbers')
cjson.decode_invalid_numbers = option('decode_invalid_numbers')
function cjson.encode_sparse_array(convert, ratio, safe)
  if convert ~= nil then config.sparse_convert = convert end
  if ratio ~= nil then config.sparse_ratio = ratio end
  if safe ~= nil then config.sparse_safe = safe end
  return config.sparse_convert, config.sparse_ratio, config.sparse_safe
end
function cjson.new() return cjson end

return cjson
