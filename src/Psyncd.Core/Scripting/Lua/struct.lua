-- psyncd: the `struct` library of Redis scripts (Roberto Ierusalimschy's struct API: pack, unpack,
-- size), written over Lua 5.4's string.pack, which shares most of its format letters. The differences
-- handled here: struct's `s` is a zero-terminated string (5.4's `z`), `c0` takes its length from the
-- string (pack) or from the previous value (unpack), and integers given as floats are truncated.
local sandbox = ...
local fail = sandbox.user_error
local spack, sunpack, spacksize = string.pack, string.unpack, string.packsize
local math_type, tointeger, floor, error, type, tostring, select =
      math.type, math.tointeger, math.floor, error, type, tostring, select

-- Splits a struct format into items: { letter, count-or-nil, translated string.pack format }.
local function items(fmt)
  local list, i = {}, 1
  while i <= #fmt do
    local c = fmt:sub(i, i)
    local digits = fmt:match('^%d+', i + 1)
    local n = digits and tonumber(digits) or nil
    i = i + 1 + (digits and #digits or 0)
    if c == ' ' then
      -- ignored
    elseif c == '<' or c == '>' or c == '=' then
      list[#list + 1] = { c, nil, c }
    elseif c == '!' then
      list[#list + 1] = { c, n or 8, nil }
    elseif c == 'x' then
      list[#list + 1] = { c, nil, 'x' }
    elseif c == 'b' or c == 'B' or c == 'h' or c == 'H' or c == 'l' or c == 'L' or c == 'T' or c == 'f' or c == 'd' then
      list[#list + 1] = { c, nil, c == 'T' and 'T' or c }
    elseif c == 'i' or c == 'I' then
      list[#list + 1] = { c, n, c .. (n or 4) }
    elseif c == 's' then
      list[#list + 1] = { c, nil, 'z' }
    elseif c == 'c' then
      list[#list + 1] = { c, n or 1, nil }
    else
      fail("invalid format option '" .. c .. "'")
    end
  end
  return list
end

local function integer(v, n)
  if math_type(v) == 'integer' then return v end
  local x = tonumber(v)
  if x == nil then fail('bad argument #' .. n .. " to 'pack' (number expected, got " .. type(v) .. ')') end
  if math_type(x) == 'float' then
    x = x >= 0 and floor(x) or -floor(-x)
    x = tointeger(x) or 0
  end
  return x
end

-- struct aligns a number to min(its size, the '!' alignment) from the start of the data.
local function padding(total, size, maxalign)
  local align = size < maxalign and size or maxalign
  if align <= 1 then return 0 end
  return (align - total % align) % align
end

local struct = {}

function struct.pack(fmt, ...)
  local out, endian, arg, maxalign, total = {}, '<', 1, 1, 0
  local function add(bytes)
    out[#out + 1] = bytes
    total = total + #bytes
  end
  for _, item in ipairs(items(fmt)) do
    local c, n, f = item[1], item[2], item[3]
    if c == '<' or c == '>' or c == '=' then
      endian = f
    elseif c == '!' then
      maxalign = n
    elseif c == 'x' then
      add('\0')
    elseif c == 'c' then
      local s = tostring((select(arg, ...)))
      arg = arg + 1
      if n == 0 then n = #s end
      if #s < n then s = s .. string.rep('\0', n - #s) end
      add(s:sub(1, n))
    elseif c == 's' then
      add(spack(endian .. 'z', tostring((select(arg, ...)))))
      arg = arg + 1
    elseif c == 'f' or c == 'd' then
      add(string.rep('\0', padding(total, spacksize(f), maxalign)))
      add(spack(endian .. f, tonumber((select(arg, ...))) or 0))
      arg = arg + 1
    else
      local v = integer((select(arg, ...)), arg + 1)
      arg = arg + 1
      local size = spacksize(f)
      if size < 8 then
        -- struct wraps out-of-range values; string.pack would refuse them.
        local bits = size * 8
        v = v & ((1 << bits) - 1)
        if (c == 'b' or c == 'h' or c == 'i' or c == 'l') and v >= (1 << (bits - 1)) then v = v - (1 << bits) end
      end
      add(string.rep('\0', padding(total, spacksize(f), maxalign)))
      add(spack(endian .. f, v))
    end
  end
  return table.concat(out)
end

function struct.unpack(fmt, data, init)
  local pos = init or 1
  local results, endian, last, maxalign = {}, '<', nil, 1
  for _, item in ipairs(items(fmt)) do
    local c, n, f = item[1], item[2], item[3]
    if c == '<' or c == '>' or c == '=' then
      endian = f
    elseif c == '!' then
      maxalign = n
    elseif c == 'x' then
      pos = pos + 1
    elseif c == 'c' then
      if n == 0 then
        n = tonumber(last)
        if n == nil then fail('format c0 needs a previous size') end
        results[#results] = nil
      end
      if pos + n - 1 > #data then fail('data string too short') end
      local s = data:sub(pos, pos + n - 1)
      results[#results + 1] = s
      last = s
      pos = pos + n
    else
      local v
      if c ~= 's' then pos = pos + padding(pos - 1, spacksize(f), maxalign) end
      v, pos = sunpack(endian .. f, data, pos)
      results[#results + 1] = v
      last = v
    end
  end
  results[#results + 1] = pos
  return table.unpack(results, 1, #results)
end

function struct.size(fmt)
  local size, maxalign = 0, 1
  for _, item in ipairs(items(fmt)) do
    local c, n, f = item[1], item[2], item[3]
    if c == '!' then maxalign = n end
    if c == 's' or (c == 'c' and n == 0) then fail('options s and c0 have no fixed size') end
    if c == 'c' then
      size = size + n
    elseif c == 'x' then
      size = size + 1
    elseif c ~= '<' and c ~= '>' and c ~= '=' and c ~= '!' then
      size = size + padding(size, spacksize(f), maxalign) + spacksize(f)
    end
  end
  return size
end

return struct
