using System.Buffers.Binary;

namespace Psyncd.Storage;

/// <summary>
/// The write journal: which keys the command being executed may have changed, so that a command that fails
/// half-way (an unexpected exception) can still propagate exactly what it did.
/// </summary>
/// <remarks>
/// A key enters the journal before it can change: when looked up for writing (collections are changed in
/// place after <see cref="LookupWrite"/>), and when a write, a deletion, an expiry change or a rename
/// reaches it. The journal is a superset of what changed; that is enough, because the command processor
/// propagates the current state of each journaled key, which is a no-op on a replica for a key that did
/// not change. It records only between <see cref="BeginJournal"/> and <see cref="EndJournal"/> (commands),
/// never for loads or the cron, and holds at most <see cref="MaxJournalBytes"/>: beyond that (or after a
/// whole database was flushed) it only says it overflowed.
/// </remarks>
public sealed partial class Keyspace
{
    /// <summary>Bound of the journal's buffer: a command touching more keys than this is not described key by key.</summary>
    private const int MaxJournalBytes = 1 << 20;

    /// <summary>Entries: [db: 1 byte][key length: 4 bytes LE][key bytes].</summary>
    private byte[] _journal = new byte[256];
    private int _journalLength;
    private bool _journaling;

    /// <summary>True when the current command changed more than the journal can list (or flushed a database).</summary>
    public bool JournalOverflowed { get; private set; }

    /// <summary>Starts recording the keys the command about to run may change (forgets the previous command's).</summary>
    public void BeginJournal()
    {
        _journalLength = 0;
        JournalOverflowed = false;
        _journaling = true;
    }

    /// <summary>Stops recording; what was recorded stays readable until the next <see cref="BeginJournal"/>.</summary>
    public void EndJournal() => _journaling = false;

    /// <summary>The distinct (database, key) pairs recorded since <see cref="BeginJournal"/>, in first-touch order.</summary>
    public List<(int Db, byte[] Key)> JournaledKeys()
    {
        var keys = new List<(int, byte[])>();
        // An entry's bytes (database, length, key) identify the pair.
        var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
        int offset = 0;
        while (offset < _journalLength)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(_journal.AsSpan(offset + 1));
            if (seen.Add(_journal.AsSpan(offset, 5 + length).ToArray()))
                keys.Add((_journal[offset], _journal.AsSpan(offset + 5, length).ToArray()));
            offset += 5 + length;
        }
        return keys;
    }

    /// <summary>Records that (db, key) may change; called before the change.</summary>
    private void Journal(int db, ReadOnlySpan<byte> key)
    {
        if (!_journaling || JournalOverflowed)
            return;
        int needed = _journalLength + 5 + key.Length;
        if (needed > _journal.Length)
        {
            if (needed > MaxJournalBytes)
            {
                JournalOverflowed = true;
                return;
            }
            Array.Resize(ref _journal, Math.Min(MaxJournalBytes, Math.Max(needed, _journal.Length * 2)));
        }
        _journal[_journalLength] = (byte)db;
        BinaryPrimitives.WriteInt32LittleEndian(_journal.AsSpan(_journalLength + 1), key.Length);
        key.CopyTo(_journal.AsSpan(_journalLength + 5));
        _journalLength = needed;
    }

    /// <summary>A whole database changed at once: no key list describes that.</summary>
    private void JournalFlush()
    {
        if (_journaling)
            JournalOverflowed = true;
    }
}
