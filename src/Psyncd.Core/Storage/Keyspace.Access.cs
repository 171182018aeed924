using System.Runtime.CompilerServices;
using Psyncd.Config;

namespace Psyncd.Storage;

/// <summary>
/// Each key's access field: the 24 bits of a record's header that Redis keeps in an object's <c>lru</c>. Under an
/// LRU (or no) policy it is the LRU clock of the last access, in seconds; under an LFU policy it is Redis's LFU
/// pair: the time of the last decrement in minutes (16 bits) and a logarithmic access counter (8 bits). Lookups
/// update it in the record itself (no allocation); eviction and OBJECT IDLETIME/FREQ read it.
/// </summary>
public sealed unsafe partial class Keyspace
{
    /// <summary>The counter a new key starts with under LFU (Redis's LFU_INIT_VAL), so it is not evicted at once.</summary>
    private const int LfuInitialCounter = 5;

    private readonly ServerOptions _options;

    /// <summary>True while the maxmemory policy is an LFU one: access fields hold LFU pairs.</summary>
    private bool IsLfu => _options.MaxMemoryPolicy.IsLfu();

    /// <summary>Minutes on a 16-bit clock, as Redis's LFUGetTimeInMinutes.</summary>
    private int LfuMinutes => (int)((NowMs / 60_000) & 0xFFFF);

    /// <summary>The access field of a key being created: now on the LRU clock, or a fresh LFU pair.</summary>
    private int NewAccessField => IsLfu ? (LfuMinutes << 8) | LfuInitialCounter : LruClock;

    /// <summary>
    /// The access field of a value replacing the record's: under LFU the old value's counter carries over (Redis's
    /// dbSetValue keeps <c>lru</c> on overwrite), otherwise the LRU clock of now.
    /// </summary>
    private int AccessFieldReplacing(bool existed, RecordRef record)
        => existed && IsLfu ? ValueLayout.Lru(record.Value) : NewAccessField;

    /// <summary>Records an access to the record (Redis's lookupKey without LOOKUP_NOTOUCH): LRU clock, or LFU decay and increment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TouchLru(RecordRef record)
    {
        if (record.Address < _store.Log.ReadOnlyAddress)
            return;
        if (!IsLfu)
        {
            ValueLayout.SetLru(record.Value, LruClock);
            return;
        }
        int counter = LfuIncrement(LfuDecayed(ValueLayout.Lru(record.Value)));
        ValueLayout.SetLru(record.Value, (LfuMinutes << 8) | counter);
    }

    /// <summary>The LFU counter of an access field after the decay of the minutes since its last decrement (LFUDecrAndReturn).</summary>
    private int LfuDecayed(int field)
    {
        int lastMinutes = field >> 8;
        int counter = field & 0xFF;
        int now = LfuMinutes;
        int elapsed = now >= lastMinutes ? now - lastMinutes : 0xFFFF - lastMinutes + now;
        int decayTime = _options.LfuDecayTime;
        long periods = decayTime > 0 ? elapsed / decayTime : 0;
        return periods > counter ? 0 : counter - (int)periods;
    }

    /// <summary>Redis's LFULogIncr: the counter grows by one with a probability that falls as it grows.</summary>
    private int LfuIncrement(int counter)
    {
        if (counter == 255)
            return 255;
        double baseValue = Math.Max(0, counter - LfuInitialCounter);
        double p = 1.0 / ((baseValue * _options.LfuLogFactor) + 1);
        return _random.NextDouble() < p ? counter + 1 : counter;
    }

    /// <summary>OBJECT FREQ: the key's LFU counter, decayed to now (meaningful under an LFU policy only).</summary>
    public int Frequency(in Entry entry) => LfuDecayed(entry.Lru);

    /// <summary>
    /// Sets the access field of an existing key as RESTORE's IDLETIME or FREQ asks (Redis's objectSetLRUOrLFU):
    /// <paramref name="idleSeconds"/> under an LRU policy, <paramref name="frequency"/> under an LFU one (-1: not given).
    /// </summary>
    public void SetAccess(int db, ReadOnlySpan<byte> key, long idleSeconds, int frequency)
    {
        if (!TryReadRecord(db, key, out var record) || record.Address < _store.Log.ReadOnlyAddress)
            return;
        if (IsLfu && frequency >= 0)
        {
            ValueLayout.SetLru(record.Value, (LfuMinutes << 8) | frequency);
        }
        else if (!IsLfu && idleSeconds >= 0)
        {
            long clock = LruClock - idleSeconds;
            if (clock < 0)
                clock += ValueLayout.LruClockMax;
            ValueLayout.SetLru(record.Value, (int)Math.Max(0, clock));
        }
    }
}
