using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>List commands over TCP: exact replies and errors (as redis-server 7.0.15 writes them), and StackExchange.Redis usage.</summary>
public class ListCommandsTests : PsyncdFixture
{
    [Test]
    public void PushPopAndLength()
    {
        Assert.That(Do("RPUSH", "l:pp", "a", "b", "c"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("LPUSH", "l:pp", "z", "y"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("LRANGE", "l:pp", "0", "-1"), Is.EqualTo("*5\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"));
        Assert.That(Do("LLEN", "l:pp"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("LPOP", "l:pp"), Is.EqualTo("$1\r\ny\r\n"));
        Assert.That(Do("RPOP", "l:pp"), Is.EqualTo("$1\r\nc\r\n"));
        Assert.That(Do("LPOP", "l:pp", "2"), Is.EqualTo("*2\r\n$1\r\nz\r\n$1\r\na\r\n"));
        Assert.That(Do("RPOP", "l:pp", "0"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("RPOP", "l:pp", "5"), Is.EqualTo("*1\r\n$1\r\nb\r\n"));
        Assert.That(Do("EXISTS", "l:pp"), Is.EqualTo(":0\r\n"), "an emptied list is deleted");
        Assert.That(Do("LPOP", "l:pp"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("LPOP", "l:pp", "3"), Is.EqualTo("*-1\r\n"));
        Assert.That(Do("LPOP", "l:pp", "-1"), Is.EqualTo("-ERR value is out of range, must be positive\r\n"));
        Assert.That(Do("LPOP", "l:pp", "x"), Is.EqualTo("-ERR value is out of range, must be positive\r\n"));
        Assert.That(Do("LPOP", "l:pp", "1", "2"), Is.EqualTo("-ERR wrong number of arguments for 'lpop' command\r\n"));
        Assert.That(Do("LLEN", "l:pp"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("LPUSH", "l:pp"), Is.EqualTo("-ERR wrong number of arguments for 'lpush' command\r\n"));
    }

    [Test]
    public void PushXOnlyWhenTheListExists()
    {
        Assert.That(Do("LPUSHX", "l:x", "a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("RPUSHX", "l:x", "a", "b"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "l:x"), Is.EqualTo(":0\r\n"));
        Do("RPUSH", "l:x", "m");
        Assert.That(Do("LPUSHX", "l:x", "a", "b"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("RPUSHX", "l:x", "z"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("LRANGE", "l:x", "0", "-1"), Is.EqualTo("*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nm\r\n$1\r\nz\r\n"));
    }

    [Test]
    public void RangeAndIndexHandleNegativeAndOutOfRangeIndexes()
    {
        Do("RPUSH", "l:r", "0", "1", "2", "3", "4");
        Assert.That(Do("LRANGE", "l:r", "-2", "100"), Is.EqualTo("*2\r\n$1\r\n3\r\n$1\r\n4\r\n"));
        Assert.That(Do("LRANGE", "l:r", "-100", "1"), Is.EqualTo("*2\r\n$1\r\n0\r\n$1\r\n1\r\n"));
        Assert.That(Do("LRANGE", "l:r", "3", "1"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("LRANGE", "l:r", "5", "10"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("LRANGE", "l:r", "a", "1"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("LRANGE", "l:missing", "0", "-1"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("LINDEX", "l:r", "0"), Is.EqualTo("$1\r\n0\r\n"));
        Assert.That(Do("LINDEX", "l:r", "-1"), Is.EqualTo("$1\r\n4\r\n"));
        Assert.That(Do("LINDEX", "l:r", "5"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("LINDEX", "l:r", "-6"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("LINDEX", "l:r", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("LINDEX", "l:missing", "0"), Is.EqualTo("$-1\r\n"));
    }

    [Test]
    public void SetInsertRemoveAndTrim()
    {
        Do("RPUSH", "l:m", "a", "b", "a", "c", "a");
        Assert.That(Do("LSET", "l:m", "1", "B"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("LSET", "l:m", "-1", "A"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("LSET", "l:m", "5", "x"), Is.EqualTo("-ERR index out of range\r\n"));
        Assert.That(Do("LSET", "l:nokey", "0", "x"), Is.EqualTo("-ERR no such key\r\n"));
        Assert.That(Do("LINSERT", "l:m", "BEFORE", "c", "before-c"), Is.EqualTo(":6\r\n"));
        Assert.That(Do("LINSERT", "l:m", "after", "c", "after-c"), Is.EqualTo(":7\r\n"));
        Assert.That(Do("LINSERT", "l:m", "AFTER", "nothere", "x"), Is.EqualTo(":-1\r\n"));
        Assert.That(Do("LINSERT", "l:nokey", "AFTER", "a", "x"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("LINSERT", "l:m", "MIDDLE", "a", "x"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("LRANGE", "l:m", "0", "-1"), Is.EqualTo("*7\r\n$1\r\na\r\n$1\r\nB\r\n$1\r\na\r\n$8\r\nbefore-c\r\n$1\r\nc\r\n$7\r\nafter-c\r\n$1\r\nA\r\n"));
        Assert.That(Do("LREM", "l:m", "-1", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("LRANGE", "l:m", "0", "1"), Is.EqualTo("*2\r\n$1\r\na\r\n$1\r\nB\r\n"));
        Assert.That(Do("LREM", "l:m", "0", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("LREM", "l:m", "x", "a"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("LTRIM", "l:m", "1", "-2"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("LRANGE", "l:m", "0", "-1"), Is.EqualTo("*3\r\n$8\r\nbefore-c\r\n$1\r\nc\r\n$7\r\nafter-c\r\n"));
        Assert.That(Do("LTRIM", "l:m", "5", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("EXISTS", "l:m"), Is.EqualTo(":0\r\n"), "trimmed to nothing deletes the key");
        Assert.That(Do("LTRIM", "l:nokey", "0", "1"), Is.EqualTo("+OK\r\n"));
    }

    [Test]
    public void MovesBetweenLists()
    {
        Do("RPUSH", "l:src", "1", "2", "3");
        Assert.That(Do("RPOPLPUSH", "l:src", "l:dst"), Is.EqualTo("$1\r\n3\r\n"));
        Assert.That(Do("LMOVE", "l:src", "l:dst", "LEFT", "RIGHT"), Is.EqualTo("$1\r\n1\r\n"));
        Assert.That(Do("LRANGE", "l:dst", "0", "-1"), Is.EqualTo("*2\r\n$1\r\n3\r\n$1\r\n1\r\n"));
        Assert.That(Do("RPOPLPUSH", "l:src", "l:src"), Is.EqualTo("$1\r\n2\r\n"), "a one-element rotation");
        Assert.That(Do("LRANGE", "l:src", "0", "-1"), Is.EqualTo("*1\r\n$1\r\n2\r\n"));
        Assert.That(Do("LMOVE", "l:src", "l:dst", "LEFT", "UP"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("RPOPLPUSH", "l:none", "l:dst"), Is.EqualTo("$-1\r\n"));
        Do("SET", "l:str", "x");
        Assert.That(Do("RPOPLPUSH", "l:src", "l:str"), Does.StartWith("-WRONGTYPE"));
        Assert.That(Do("LLEN", "l:src"), Is.EqualTo(":1\r\n"), "nothing is popped when the destination is of the wrong type");
        Assert.That(Do("LMOVE", "l:src", "l:dst", "RIGHT", "LEFT"), Is.EqualTo("$1\r\n2\r\n"));
        Assert.That(Do("EXISTS", "l:src"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void EveryListCommandRefusesAnotherType()
    {
        Do("SET", "l:wrong", "string");
        string[][] commands =
        {
            new[] { "LPUSH", "l:wrong", "a" }, new[] { "RPUSH", "l:wrong", "a" }, new[] { "LPUSHX", "l:wrong", "a" },
            new[] { "RPUSHX", "l:wrong", "a" }, new[] { "LPOP", "l:wrong" }, new[] { "RPOP", "l:wrong", "2" },
            new[] { "LLEN", "l:wrong" }, new[] { "LRANGE", "l:wrong", "0", "1" }, new[] { "LINDEX", "l:wrong", "0" },
            new[] { "LSET", "l:wrong", "0", "a" }, new[] { "LREM", "l:wrong", "0", "a" }, new[] { "LTRIM", "l:wrong", "0", "1" },
            new[] { "LINSERT", "l:wrong", "BEFORE", "a", "b" }, new[] { "RPOPLPUSH", "l:wrong", "l:other" },
            new[] { "LMOVE", "l:wrong", "l:other", "LEFT", "LEFT" }, new[] { "BLPOP", "l:wrong", "0" },
            new[] { "BRPOP", "l:wrong", "0" }, new[] { "BRPOPLPUSH", "l:wrong", "l:other", "0" },
        };
        foreach (var command in commands)
            Assert.That(Do(command), Is.EqualTo("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), command[0]);
        Assert.That(Do("GET", "l:wrong"), Is.EqualTo("$6\r\nstring\r\n"));
    }

    [Test]
    public void LongListsWithLargeElementsStayConsistent()
    {
        // A model list checked against the server through pushes, pops, LSET, LINSERT (which splits nodes),
        // LREM and LTRIM, with elements of every size class (short, over 127 bytes, over a node).
        var model = new List<string>();
        var random = new Random(7);
        string Element(int i) => (i % 11) switch
        {
            0 => new string('x', 200 + i % 50),
            1 => new string('y', 9000),
            _ => "e" + (i % 40),
        };
        for (int i = 0; i < 4000; i++)
        {
            string e = Element(i);
            if (i % 2 == 0)
            {
                Do("RPUSH", "l:long", e);
                model.Add(e);
            }
            else
            {
                Do("LPUSH", "l:long", e);
                model.Insert(0, e);
            }
        }
        for (int step = 0; step < 600; step++)
        {
            int index = random.Next(model.Count);
            switch (random.Next(6))
            {
                case 0:
                    Assert.That(Do("LSET", "l:long", index.ToString(), "set" + step), Is.EqualTo("+OK\r\n"));
                    model[index] = "set" + step;
                    break;
                case 1:
                {
                    string pivot = model[index];
                    int at = model.IndexOf(pivot);
                    Assert.That(Do("LINSERT", "l:long", "AFTER", pivot, "ins" + step), Is.EqualTo(":" + (model.Count + 1) + "\r\n"));
                    model.Insert(at + 1, "ins" + step);
                    break;
                }
                case 2:
                {
                    string target = "e" + random.Next(40);
                    int count = random.Next(-3, 4);
                    long removed = 0;
                    if (count >= 0)
                    {
                        for (int i = 0; i < model.Count && (count == 0 || removed < count);)
                        {
                            if (model[i] == target)
                            {
                                model.RemoveAt(i);
                                removed++;
                            }
                            else
                            {
                                i++;
                            }
                        }
                    }
                    else
                    {
                        for (int i = model.Count - 1; i >= 0 && removed < -count; i--)
                        {
                            if (model[i] == target)
                            {
                                model.RemoveAt(i);
                                removed++;
                            }
                        }
                    }
                    Assert.That(Do("LREM", "l:long", count.ToString(), target), Is.EqualTo(":" + removed + "\r\n"));
                    break;
                }
                case 3:
                    Assert.That((string?)Client.Call("LINDEX", "l:long", index.ToString()), Is.EqualTo(model[index]));
                    break;
                case 4:
                {
                    var got = (object?[])Client.Call("LRANGE", "l:long", index.ToString(), (index + 120).ToString())!;
                    Assert.That(got.Cast<string>(), Is.EqualTo(model.Skip(index).Take(121)));
                    break;
                }
                default:
                    Assert.That((string?)Client.Call("RPOP", "l:long"), Is.EqualTo(model[^1]));
                    model.RemoveAt(model.Count - 1);
                    Assert.That((string?)Client.Call("LPOP", "l:long"), Is.EqualTo(model[0]));
                    model.RemoveAt(0);
                    break;
            }
        }
        Assert.That(Do("LLEN", "l:long"), Is.EqualTo(":" + model.Count + "\r\n"));
        var all = (object?[])Client.Call("LRANGE", "l:long", "0", "-1")!;
        Assert.That(all.Cast<string>(), Is.EqualTo(model));
        Assert.That(Do("LTRIM", "l:long", "100", "-101"), Is.EqualTo("+OK\r\n"));
        var trimmed = (object?[])Client.Call("LRANGE", "l:long", "0", "-1")!;
        Assert.That(trimmed.Cast<string>(), Is.EqualTo(model.Skip(100).Take(model.Count - 200)));
    }

    [Test]
    public void StackExchangeRedisListOperations()
    {
        using var mux = StackExchangeClient.Connect(Server.Port, "version=2.8.24");
        var db = mux.GetDatabase();
        RedisKey key = "l:se";
        Assert.That(db.ListRightPush(key, new RedisValue[] { "a", "b", "c" }), Is.EqualTo(3));
        Assert.That(db.ListLeftPush(key, "z"), Is.EqualTo(4));
        Assert.That(db.ListRange(key).Select(v => (string?)v), Is.EqualTo(new[] { "z", "a", "b", "c" }));
        Assert.That(db.ListLength(key), Is.EqualTo(4));
        Assert.That((string?)db.ListGetByIndex(key, -1), Is.EqualTo("c"));
        db.ListSetByIndex(key, 1, "A");
        Assert.That(db.ListInsertAfter(key, "A", "A2"), Is.EqualTo(5));
        Assert.That(db.ListRemove(key, "b"), Is.EqualTo(1));
        Assert.That((string?)db.ListLeftPop(key), Is.EqualTo("z"));
        Assert.That((string?)db.ListRightPop(key), Is.EqualTo("c"));
        Assert.That((string?)db.ListRightPopLeftPush(key, "l:se2"), Is.EqualTo("A2"));
        db.ListTrim(key, 0, 0);
        Assert.That(db.ListRange(key).Select(v => (string?)v), Is.EqualTo(new[] { "A" }));
        Assert.That(db.ListRange("l:se2").Select(v => (string?)v), Is.EqualTo(new[] { "A2" }));
        Assert.That(db.ListLeftPop("l:se-missing").IsNull, Is.True);
    }
}
