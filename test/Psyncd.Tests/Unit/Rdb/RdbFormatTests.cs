using System.Buffers.Binary;
using System.Text;
using Psyncd.Rdb;
using Psyncd.Storage.Types;
using Psyncd.Tests.Support;
using static Psyncd.Tests.Unit.Rdb.KeyspaceRdb;

namespace Psyncd.Tests.Unit.Rdb;

/// <summary>The RDB format at unit level: pinned numbers, CRC64, LZF, string encodings, round trips of every type, corruption.</summary>
public class RdbFormatTests
{
    [Test]
    public void ConstantsKeepRedisNumbers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new byte[] { RdbConstants.OpFunction2, RdbConstants.OpFunction, RdbConstants.OpModuleAux, RdbConstants.OpIdle, RdbConstants.OpFreq, RdbConstants.OpAux, RdbConstants.OpResizeDb, RdbConstants.OpExpireTimeMs, RdbConstants.OpExpireTime, RdbConstants.OpSelectDb, RdbConstants.OpEof },
                Is.EqualTo(new byte[] { 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF }));
            Assert.That(new byte[] { RdbConstants.TypeString, RdbConstants.TypeList, RdbConstants.TypeSet, RdbConstants.TypeZSet, RdbConstants.TypeHash, RdbConstants.TypeZSet2, RdbConstants.TypeModule, RdbConstants.TypeModule2 },
                Is.EqualTo(new byte[] { 0, 1, 2, 3, 4, 5, 6, 7 }));
            Assert.That(new byte[] { RdbConstants.TypeHashZipmap, RdbConstants.TypeListZiplist, RdbConstants.TypeSetIntset, RdbConstants.TypeZSetZiplist, RdbConstants.TypeHashZiplist, RdbConstants.TypeListQuicklist, RdbConstants.TypeStreamListpacks, RdbConstants.TypeHashListpack, RdbConstants.TypeZSetListpack, RdbConstants.TypeListQuicklist2, RdbConstants.TypeStreamListpacks2, RdbConstants.TypeSetListpack, RdbConstants.TypeStreamListpacks3 },
                Is.EqualTo(new byte[] { 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 }));
            Assert.That(new[] { RdbConstants.EncInt8, RdbConstants.EncInt16, RdbConstants.EncInt32, RdbConstants.EncLzf }, Is.EqualTo(new byte[] { 0, 1, 2, 3 }));
            Assert.That(new[] { RdbConstants.Len32Bit, RdbConstants.Len64Bit }, Is.EqualTo(new byte[] { 0x80, 0x81 }));
            Assert.That(new[] { RdbConstants.DoubleNaN, RdbConstants.DoublePosInf, RdbConstants.DoubleNegInf }, Is.EqualTo(new byte[] { 253, 254, 255 }));
            Assert.That(new[] { RdbConstants.QuicklistNodePlain, RdbConstants.QuicklistNodePacked }, Is.EqualTo(new[] { 1, 2 }));
            Assert.That(RdbConstants.WriteVersion, Is.EqualTo(6));
        });
    }

    [Test]
    public void Crc64HasRedisCheckValueAndMatchesTheBitwiseDefinition()
    {
        Assert.That(Crc64.Compute("123456789"u8), Is.EqualTo(0xE9C6D914C4B8D9CAUL));
        var random = new Random(7);
        for (int length = 0; length < 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.That(Crc64.Compute(data), Is.EqualTo(BitwiseCrc(data)), "length " + length);
            int split = length / 3;
            Assert.That(Crc64.Update(Crc64.Compute(data.AsSpan(0, split)), data.AsSpan(split)), Is.EqualTo(Crc64.Compute(data)));
        }
    }

    private static ulong BitwiseCrc(ReadOnlySpan<byte> data)
    {
        ulong crc = 0;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x95AC9329AC4BC9B5UL : crc >> 1;
        }
        return crc;
    }

    [Test]
    public void LzfRoundTripsAndDecodesRedisOutput()
    {
        // Redis's encoding of 'a' x 100 (after C3 09 40 64).
        var redis = new byte[] { 0x01, 0x61, 0x61, 0xE0, 0x57, 0x00, 0x01, 0x61, 0x61 };
        var output = new byte[100];
        Assert.That(Lzf.Decompress(redis, output), Is.EqualTo(100));
        Assert.That(output, Is.All.EqualTo((byte)'a'));

        var random = new Random(11);
        foreach (int length in new[] { 1, 2, 3, 21, 31, 32, 33, 100, 1000, 8191, 8192, 8193, 70000 })
        {
            foreach (int alphabet in new[] { 2, 10, 256 })
            {
                var data = new byte[length];
                for (int i = 0; i < length; i++)
                    data[i] = (byte)random.Next(alphabet);
                var packed = new byte[length + length / 16 + 64];
                int n = Lzf.Compress(data, packed);
                Assert.That(n, Is.GreaterThan(0), "fits in a generous buffer");
                var back = new byte[length];
                Assert.That(Lzf.Decompress(packed.AsSpan(0, n), back), Is.EqualTo(length));
                Assert.That(back, Is.EqualTo(data), "length " + length + " alphabet " + alphabet);
                if (alphabet == 2 && length >= 1000)
                    Assert.That(n, Is.LessThan(length * 3 / 4), "compressible data compresses");
            }
        }
        Assert.That(Lzf.Compress(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, new byte[5]), Is.EqualTo(0), "does not fit");
        Assert.That(Lzf.Decompress(new byte[] { 0x20, 0x05 }, new byte[10]), Is.EqualTo(-1), "reference before the start");
    }

    [Test]
    public void StringsAreEncodedAsRedisEncodesThem()
    {
        Assert.That(Encode("12345"), Is.EqualTo(new byte[] { 0xC1, 0x39, 0x30 }));
        Assert.That(Encode("64"), Is.EqualTo(new byte[] { 0xC0, 0x40 }));
        Assert.That(Encode("-2147483648"), Is.EqualTo(new byte[] { 0xC2, 0x00, 0x00, 0x00, 0x80 }));
        Assert.That(Encode("2147483648")[0], Is.EqualTo(10), "beyond int32: raw");
        Assert.That(Encode("012")[0], Is.EqualTo(3), "not canonical: raw");
        Assert.That(Encode("-0")[0], Is.EqualTo(2));
        Assert.That(Encode("+1")[0], Is.EqualTo(2));
        // LZF output need not be byte-identical to Redis's (any valid LZF loads), but it must be LZF and decode back.
        var packed = Encode(new string('a', 100));
        Assert.That(packed[..4], Is.EqualTo(new byte[] { 0xC3, (byte)(packed.Length - 4), 0x40, 0x64 }));
        var back = new byte[100];
        Assert.That(Lzf.Decompress(packed.AsSpan(4), back), Is.EqualTo(100));
        Assert.That(back, Is.All.EqualTo((byte)'a'));
        Assert.That(Encode(new string('a', 100), compress: false)[..2], Is.EqualTo(new byte[] { 0x40, 0x64 }));
        Assert.That(Encode(new string('a', 20))[0], Is.EqualTo(20), "20 bytes are never compressed");
    }

    private static byte[] Encode(string text, bool compress = true)
    {
        var writer = new RdbWriter(compress);
        writer.WriteString(Encoding.ASCII.GetBytes(text));
        return writer.Written.ToArray();
    }

    [Test]
    public void ReadsTheMinimalRdbsRedisAccepts()
    {
        var empty = Convert.FromHexString("524544495330303130FF" + "A9FD37FE89A77EEB");
        using var ks1 = NewKeyspace();
        ks1.EnterLoop();
        Assert.That(Load(ks1, empty).KeysLoaded, Is.EqualTo(0));
        ks1.ExitLoop();

        var one = Convert.FromHexString("524544495330303130FE00FB01000003666F6F03626172FF" + "A125E41C1AD07C4C");
        using var ks2 = NewKeyspace();
        ks2.EnterLoop();
        var reader = Load(ks2, one);
        Assert.That(reader.Version, Is.EqualTo(10));
        Assert.That(ks2.Peek(0, "foo"u8).String.ToArray(), Is.EqualTo("bar"u8.ToArray()));
        ks2.ExitLoop();
    }

    [Test]
    public void EveryTypeRoundTrips([Values] bool compress)
    {
        using var source = NewKeyspace();
        using var target = NewKeyspace();
        source.EnterLoop();
        long future = source.NowMs + 3_600_000;
        source.SetString(0, "s:int"u8, "12345"u8);
        source.SetString(0, "s:neg"u8, "-7"u8);
        source.SetString(0, "s:big"u8, "9223372036854775807"u8);
        source.SetString(0, "s:empty"u8, ""u8);
        source.SetString(0, "s:text"u8, B(new string('x', 100) + "tail"), future);
        var binary = new byte[5000];
        new Random(3).NextBytes(binary);
        source.SetString(0, binary.AsSpan(0, 40), binary);
        source.SetString(0, "s:long"u8, B(string.Concat(Enumerable.Repeat("abcdefghij", 3000))));
        var list = new ListObject();
        for (int i = 0; i < 10000; i++)
            list.PushRight(B(i % 3 == 0 ? i.ToString() : "item-" + i));
        source.SetObject(0, "l:big"u8, list);
        var small = new ListObject();
        small.PushRight("a"u8);
        small.PushRight(""u8);
        small.PushRight("3"u8);
        source.SetObject(1, "l:small"u8, small, future);
        var ints = new SetObject();
        foreach (var n in new[] { "1", "-5", "100000", "9223372036854775807" })
            ints.Add(B(n));
        source.SetObject(2, "set:ints"u8, ints);
        var strings = new SetObject();
        for (int i = 0; i < 1000; i++)
            strings.Add(B("member:" + i));
        source.SetObject(2, "set:strings"u8, strings);
        var zset = new SortedSetObject();
        zset.Add("inf"u8, double.PositiveInfinity);
        zset.Add("-inf"u8, double.NegativeInfinity);
        zset.Add("frac"u8, 0.1);
        zset.Add("third"u8, 1.0 / 3);
        zset.Add("neg"u8, -2.5e-300);
        zset.Add("big"u8, 1.7976931348623157e308);
        zset.Add("int"u8, 42);
        zset.Add("huge-int"u8, 1e20);
        source.SetObject(3, "z"u8, zset);
        var hash = new HashObject();
        for (int i = 0; i < 600; i++)
            hash.Set(B("field" + i), B(i % 2 == 0 ? i.ToString() : new string('v', i)));
        source.SetObject(15, "h"u8, hash, future);
        var expected = DatasetText.Read(source);
        var rdb = Save(source, compress);
        source.ExitLoop();

        target.EnterLoop();
        var reader = Load(target, rdb);
        var actual = DatasetText.Read(target);
        target.ExitLoop();
        Assert.That(reader.Version, Is.EqualTo(6));
        Assert.That(reader.Aux["redis-ver"], Is.EqualTo("7.0.15"));
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(reader.KeysLoaded, Is.EqualTo(expected.Count));
    }

    [Test]
    public void ExpiredKeysAreDroppedOnLoadOnlyWhenAsked()
    {
        using var source = NewKeyspace();
        source.EnterLoop();
        source.SetString(0, "gone"u8, "v"u8, source.NowMs - 1000);
        source.SetString(0, "kept"u8, "v"u8, source.NowMs + 100_000);
        var rdb = Save(source);
        source.ExitLoop();

        using var master = NewKeyspace();
        master.EnterLoop();
        var reader = Load(master, rdb, dropExpired: true);
        Assert.That((reader.KeysLoaded, reader.KeysExpired), Is.EqualTo((1L, 1L)));
        Assert.That(master.KeyCount(0), Is.EqualTo(1));
        master.ExitLoop();

        using var replica = NewKeyspace();
        replica.EnterLoop();
        Load(replica, rdb, dropExpired: false);
        Assert.That(replica.KeyCount(0), Is.EqualTo(2));
        replica.ExitLoop();
    }

    [Test]
    public void ChecksumZeroIsNotVerifiedAndAWrongOneFails()
    {
        using var source = NewKeyspace();
        source.EnterLoop();
        source.SetString(0, "k"u8, "v"u8);
        var unchecked_ = Save(source, checksum: false);
        var rdb = Save(source);
        source.ExitLoop();
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(unchecked_.AsSpan(unchecked_.Length - 8)), Is.EqualTo(0UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(rdb.AsSpan(rdb.Length - 8)), Is.EqualTo(Crc64.Compute(rdb.AsSpan(0, rdb.Length - 8))));

        using var target = NewKeyspace();
        target.EnterLoop();
        Load(target, unchecked_);
        rdb[^1] ^= 1;
        var e = Assert.Throws<RdbCorruptException>(() => Load(target, rdb))!;
        target.ExitLoop();
        Assert.That(e.Reason, Does.StartWith("Wrong RDB checksum"));
        Assert.That(e.Offset, Is.EqualTo(rdb.Length - 8));
    }

    [Test]
    public void EveryTruncationAndEveryFlippedByteFailsCleanly()
    {
        using var source = NewKeyspace();
        source.EnterLoop();
        source.SetString(0, "str"u8, B(new string('q', 60) + "z"));
        source.SetString(0, "n"u8, "300"u8, source.NowMs + 100_000);
        var list = new ListObject();
        list.PushRight("x"u8);
        list.PushRight("yy"u8);
        source.SetObject(1, "l"u8, list);
        var zset = new SortedSetObject();
        zset.Add("m"u8, 1.5);
        source.SetObject(2, "z"u8, zset);
        var rdb = Save(source);
        source.ExitLoop();

        using var target = NewKeyspace();
        target.EnterLoop();
        try
        {
            for (int cut = 0; cut < rdb.Length; cut++)
            {
                var e = Assert.Throws<RdbCorruptException>(() => Load(target, rdb[..cut]), "cut at " + cut)!;
                Assert.That(e.Offset, Is.LessThanOrEqualTo(cut));
                target.FlushAll();
            }
            for (int at = 0; at < rdb.Length; at++)
            {
                foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
                {
                    var bad = (byte[])rdb.Clone();
                    bad[at] ^= mask;
                    Assert.Throws<RdbCorruptException>(() => Load(target, bad), "byte " + at + " ^ " + mask);
                    target.FlushAll();
                }
            }
        }
        finally
        {
            target.ExitLoop();
        }
    }

    [Test]
    public void StreamsAndUnknownTypesFailWithAClearReason()
    {
        var body = new List<byte>("REDIS0010"u8.ToArray()) { 0xFE, 0x00, 15, 0x01, (byte)'s' };
        body.AddRange(new byte[] { 0x00, 0x00 });
        using var ks = NewKeyspace();
        ks.EnterLoop();
        var e = Assert.Throws<RdbCorruptException>(() => Load(ks, body.ToArray()))!;
        Assert.That(e.Reason, Does.Contain("Stream"));
        Assert.That(e.Offset, Is.EqualTo(11));
        var unknown = Assert.Throws<RdbCorruptException>(() => Load(ks, "REDIS0010"u8.ToArray().Concat(new byte[] { 0x63, 0x01, 0x61 }).ToArray()))!;
        Assert.That(unknown.Reason, Does.Contain("Unknown RDB value type 99"));
        var version = Assert.Throws<RdbCorruptException>(() => Load(ks, "REDIS0012"u8.ToArray().Append((byte)0xFF).ToArray()))!;
        Assert.That(version.Reason, Does.Contain("Can't handle RDB format version 12"));
        ks.ExitLoop();
    }

    [Test]
    public void ModuleAuxFunctionsAndUnknownAuxAreSkipped()
    {
        var w = new RdbWriter(compress: false);
        w.WriteRaw("REDIS0010"u8);
        w.WriteAux("some-future-field", "x"u8);
        w.WriteByte(RdbConstants.OpModuleAux);
        w.WriteLength(12345); // module id
        w.WriteLength(2);     // when opcode
        w.WriteLength(1);     // when
        w.WriteLength(RdbConstants.ModuleOpcodeUInt);
        w.WriteLength(7);
        w.WriteLength(RdbConstants.ModuleOpcodeString);
        w.WriteString("module data"u8);
        w.WriteLength(RdbConstants.ModuleOpcodeDouble);
        w.WriteRaw(new byte[8]);
        w.WriteLength(RdbConstants.ModuleOpcodeEof);
        w.WriteByte(RdbConstants.OpFunction2);
        w.WriteString("#!lua name=lib\nredis.register_function('f', function() return 1 end)"u8);
        w.WriteByte(RdbConstants.OpSelectDb);
        w.WriteLength(0);
        w.WriteByte(RdbConstants.OpResizeDb);
        w.WriteLength(1);
        w.WriteLength(0);
        w.WriteByte(RdbConstants.OpIdle);
        w.WriteLength(100);
        w.WriteByte(RdbConstants.OpFreq);
        w.WriteByte(5);
        w.WriteByte(RdbConstants.TypeString);
        w.WriteString("k"u8);
        w.WriteString("v"u8);
        w.WriteEof();
        var bytes = w.Written.ToArray().Concat(new byte[8]).ToArray();
        using var ks = NewKeyspace();
        ks.EnterLoop();
        var reader = Load(ks, bytes);
        Assert.That(reader.Aux["some-future-field"], Is.EqualTo("x"));
        Assert.That(ks.Peek(0, "k"u8).String.ToArray(), Is.EqualTo("v"u8.ToArray()));
        ks.ExitLoop();
    }
}
