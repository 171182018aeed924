using FASTER.core;

namespace Psyncd.Storage;

/// <summary>Where a record's value sits in the log, as reads and upserts report it.</summary>
internal unsafe struct RecordRef
{
    /// <summary>First byte of the value (its header, see <see cref="ValueLayout"/>).</summary>
    public byte* Value;

    /// <summary>Bytes of value the record has room for.</summary>
    public int Capacity;

    /// <summary>Logical address of the record in the log.</summary>
    public long Address;
}

/// <summary>
/// FASTER's callbacks for the keyspace store. They do no logic of their own: a read hands back a pointer
/// to the record's value (valid until the next store operation; records are never evicted, and the loop
/// is single-threaded), and an upsert copies the prepared value bytes. In-place upserts keep the record's
/// capacity, which is what lets strings grow in place later.
/// </summary>
internal sealed unsafe class StoreFunctions : FunctionsBase<SpanByte, SpanByte, SpanByte, RecordRef, Empty>
{
    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref RecordRef dst, ref ReadInfo readInfo)
    {
        dst.Value = value.ToPointer();
        dst.Capacity = value.Length;
        dst.Address = readInfo.Address;
        return true;
    }

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref RecordRef dst, ref ReadInfo readInfo)
    {
        dst.Value = value.ToPointer();
        dst.Capacity = value.Length;
        dst.Address = readInfo.Address;
        return true;
    }

    public override bool SingleWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref RecordRef output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        src.CopyTo(ref dst);
        output.Value = dst.ToPointer();
        output.Capacity = dst.Length;
        output.Address = upsertInfo.Address;
        return true;
    }

    public override bool ConcurrentWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref RecordRef output, ref UpsertInfo upsertInfo)
    {
        // Room enough: overwrite in place and keep the record's capacity (the header says how much is used).
        if (dst.Length < src.Length)
            return false;
        src.CopyTo(ref dst);
        output.Value = dst.ToPointer();
        output.Capacity = dst.Length;
        output.Address = upsertInfo.Address;
        return true;
    }
}
