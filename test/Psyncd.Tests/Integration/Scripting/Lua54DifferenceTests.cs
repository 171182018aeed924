using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Scripting;

/// <summary>
/// psyncd runs scripts on Lua 5.4, Redis on Lua 5.1 (README, "Lua scripting"). These pin what the 5.1
/// compatibility shims give back and what stays different, so that a change to either is seen.
/// </summary>
public class Lua54DifferenceTests
{
    private ServerProcess _server = null!;
    private RawClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _server = ServerProcess.StartPsyncd();
        _client = _server.Connect();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _client?.Dispose();
        _server?.Dispose();
    }

    private string Eval(string script) => _client.Command("EVAL", script, "0");

    [TestCase("return unpack({1, 2, 3})", ":1\r\n")]
    [TestCase("return {unpack({1, 2, 3})}", "*3\r\n:1\r\n:2\r\n:3\r\n")]
    [TestCase("return loadstring('return 40 + 2')()", ":42\r\n")]
    [TestCase("return table.getn({1, 2, 3})", ":3\r\n")]
    [TestCase("return table.maxn({[1] = 1, [7] = 2})", ":7\r\n")]
    [TestCase("local s = 0 table.foreach({5, 6}, function(k, v) s = s + v end) return s", ":11\r\n")]
    [TestCase("local s = 0 table.foreachi({5, 6}, function(i, v) s = s + i * v end) return s", ":17\r\n")]
    [TestCase("return math.pow(2, 10)", ":1024\r\n")]
    [TestCase("return math.mod(7, 3)", ":1\r\n")]
    [TestCase("return math.log10(1000)", ":3\r\n")]
    [TestCase("return tostring(math.atan2(1, 1) * 4)", "$15\r\n3.1415926535898\r\n")]
    [TestCase("return tostring(math.ldexp(0.75, 4))", "$2\r\n12\r\n")]
    [TestCase("return {math.frexp(12)}", "*2\r\n:0\r\n:4\r\n")]
    [TestCase("return tostring(math.cosh(0))", "$1\r\n1\r\n")]
    [TestCase("local t = {} for w in string.gfind('a b c', '%a') do t[#t + 1] = w end return t", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")]
    [TestCase("return type(gcinfo())", "$6\r\nnumber\r\n")]
    // tostring prints a float with an integral value as 5.1 did ("%.14g")...
    [TestCase("return tostring(10 / 2)", "$1\r\n5\r\n")]
    [TestCase("return tostring(0.1)", "$3\r\n0.1\r\n")]
    // ...but the 5.4 VM's own conversions (concatenation, string.format's %s) keep ".0".
    [TestCase("return 'x' .. 10 / 2", "$4\r\nx5.0\r\n")]
    [TestCase("return string.format('%s', 10 / 2)", "$3\r\n5.0\r\n")]
    // Lua 5.4 has integers: integer division, bitwise operators, math.type, and exact 64-bit arithmetic.
    [TestCase("return {7 // 2, 6 & 3, 1 << 4, math.type(1), math.type(1.0)}", "*5\r\n:3\r\n:2\r\n:16\r\n$7\r\ninteger\r\n$5\r\nfloat\r\n")]
    [TestCase("return tostring(9007199254740993)", "$16\r\n9007199254740993\r\n")]
    // A number argument of redis.call: an integer keeps every digit (5.1's double would not), a float is %.17g.
    [TestCase("redis.call('set', 'l54:n', 9007199254740993) return redis.call('get', 'l54:n')", "$16\r\n9007199254740993\r\n")]
    [TestCase("redis.call('set', 'l54:n', 10 / 2) return redis.call('get', 'l54:n')", "$1\r\n5\r\n")]
    // goto and \u{...} escapes exist only in 5.4.
    [TestCase("local n = 0 for i = 1, 3 do if i == 2 then goto skip end n = n + i ::skip:: end return n", ":4\r\n")]
    [TestCase("return '\\u{48}i'", "$2\r\nHi\r\n")]
    [TestCase("return _VERSION", "$7\r\nLua 5.4\r\n")]
    // Lua 5.4's wording of runtime errors ("(local 'x')" comes last).
    [TestCase("local x = nil return x.y", "-ERR user_script:1: attempt to index a nil value (local 'x') script: dbafed325e02e5a72def04db03ab922632f5e30e, on @user_script:1.\r\n")]
    // Compiled scripts only: bytecode is refused (5.4's load would accept it, and bytecode can crash the VM).
    [TestCase("local f, e = load(string.dump(function() return 1 end)) return e", "$44\r\nattempt to load a binary chunk (mode is 't')\r\n")]
    public void ScriptRepliesAsDocumented(string script, string expected)
    {
        Assert.That(Eval(script), Is.EqualTo(expected));
    }

    [Test]
    public void LoadedChunksRunInTheProtectedEnvironment()
    {
        Assert.That(Eval("return loadstring('x = 1')()"), Does.Contain("Attempt to modify a readonly table"));
        Assert.That(Eval("return load('return y')()"), Does.Contain("Script attempted to access nonexistent global variable 'y'"));
    }

    [Test]
    public void ProtectedTablesCannotBeUnprotected()
    {
        Assert.That(Eval("setmetatable(_G, nil)"), Does.StartWith("-ERR user_script:1: cannot change a protected metatable"));
        Assert.That(Eval("getmetatable('').__index = {}"), Does.Contain("Attempt to modify a readonly table"));
        Assert.That(Eval("string.len = nil"), Does.Contain("Attempt to modify a readonly table"));
        Assert.That(Eval("return rawget(string, 'len')"), Is.EqualTo("$-1\r\n"), "library tables are empty proxies");
        Assert.That(Eval("local n = 0 for k in pairs(string) do n = n + 1 end return n > 10"), Is.EqualTo(":1\r\n"), "pairs sees through the proxy");
    }

    [Test]
    public void TopLevelYieldIsAnError()
    {
        Assert.That(Eval("coroutine.yield(1)"), Does.StartWith("-ERR attempt to yield from outside a coroutine"));
        Assert.That(Eval("local co = coroutine.wrap(function() coroutine.yield(5) end) return co()"), Is.EqualTo(":5\r\n"));
    }
}
