namespace Psyncd.Storage;

public sealed partial class Keyspace
{
    /// <summary>
    /// Exchanges the contents of two databases (SWAPDB). Keys carry their database in the store, so the swap
    /// moves every key: those of <paramref name="first"/> to a parking database past the last one, those of
    /// <paramref name="second"/> to <paramref name="first"/>, the parked ones to <paramref name="second"/>.
    /// Each move is a <see cref="Rename"/>, so a running snapshot keeps the values of the instant before.
    /// Observers then hear of every key of both databases in both (Redis touches a watched key that exists
    /// in either database, and a blocked client may now find its list). False when all 256 database numbers
    /// are in use and no parking one is left.
    /// </summary>
    public bool SwapDatabases(int first, int second)
    {
        if (first == second)
            return true;
        int parking = _databases;
        if (parking >= _keyCounts.Length)
            return false;
        var firstKeys = new List<byte[]>();
        var secondKeys = new List<byte[]>();
        ForEachRecordOf(first, key => firstKeys.Add(key.ToArray()));
        ForEachRecordOf(second, key => secondKeys.Add(key.ToArray()));
        var observer = Observer;
        Observer = null;
        try
        {
            foreach (var key in firstKeys)
                Rename(first, key, parking, key);
            foreach (var key in secondKeys)
                Rename(second, key, first, key);
            foreach (var key in firstKeys)
                Rename(parking, key, second, key);
        }
        finally
        {
            Observer = observer;
        }
        if (observer is not null)
        {
            foreach (var key in firstKeys)
            {
                observer.KeyModified(first, key);
                observer.KeyModified(second, key);
            }
            foreach (var key in secondKeys)
            {
                observer.KeyModified(first, key);
                observer.KeyModified(second, key);
            }
        }
        return true;
    }
}
