using System.Globalization;
using Psyncd.Diagnostics;
using Psyncd.Persistence;
using Psyncd.Rdb;
using Psyncd.Replication;

namespace Psyncd.Server;

/// <summary>Wiring of the replication subsystem into the server.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>Replication in both roles: replicas of this server, and this server's link to its master.</summary>
    public ReplicationManager Replication { get; private set; } = null!;

    private void InitializeReplication()
    {
        Replication = new ReplicationManager(this, Role) { Rdb = new ReplicationRdb(this) };
        Processor.MasterStream = Replication;
        AddSecondJob(Replication.Cron);
        Loop.AddExitHook(Replication.BeforeSleep);
        Registry.AddLifecycle(Replication);
    }

    /// <summary>Starts replicating from the configured master (the slaveof directive), once listening.</summary>
    private void StartReplicationFromConfig()
    {
        if (Options.SlaveOf is { } master)
            Loop.Run(() => Replication.BecomeReplicaOf(master.Host, master.Port));
    }

    /// <summary>Replication's view of persistence: a BGSAVE of the dump file carrying the replication AUX fields.</summary>
    private sealed class ReplicationRdb : IRdbService
    {
        private readonly PsyncdServer _server;

        public ReplicationRdb(PsyncdServer server)
        {
            _server = server;
        }

        public bool SnapshotInProgress => _server.RdbPersistence.BgsaveInProgress || _server.Keyspace.IsSnapshotRunning;

        public bool TryStartSnapshot(IReadOnlyList<KeyValuePair<string, string>> aux, Action<string?, string?> done)
        {
            if (SnapshotInProgress)
                return false;
            var header = Header(aux);
            Action<bool>? handler = null;
            handler = ok =>
            {
                _server.RdbPersistence.BgsaveDoneHandlers.Remove(handler!);
                done(ok ? _server.RdbPersistence.RdbPath : null, ok ? null : "background save failed");
            };
            _server.RdbPersistence.BgsaveDoneHandlers.Add(handler);
            if (_server.RdbPersistence.StartBgsave(header) is { } error)
            {
                _server.RdbPersistence.BgsaveDoneHandlers.Remove(handler);
                return false;
            }
            return true;
        }

        public Action<Stream>? TryStartStreaming(IReadOnlyList<KeyValuePair<string, string>> aux)
        {
            if (SnapshotInProgress)
                return null;
            var snapshot = RdbSnapshot.Begin(_server.Loop, _server.Keyspace, Header(aux), _server.Options.RdbCompression);
            bool checksum = _server.Options.RdbChecksum;
            return stream => snapshot.StreamTo(stream, checksum);
        }

        private RdbHeader Header(IReadOnlyList<KeyValuePair<string, string>> aux)
        {
            var fields = aux.ToDictionary(p => p.Key, p => p.Value);
            return new RdbHeader(ServerIdentity.RedisVersion, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), _server.UsedMemory())
            {
                ReplStreamDb = int.Parse(fields["repl-stream-db"], CultureInfo.InvariantCulture),
                ReplId = fields["repl-id"],
                ReplOffset = long.Parse(fields["repl-offset"], CultureInfo.InvariantCulture),
            };
        }

        public IReadOnlyDictionary<string, string> LoadReplacingDataset(string path)
        {
            _server.Keyspace.FlushAll();
            _server.Loading = true;
            try
            {
                return _server.RdbPersistence.LoadRdbFile(path, letOthersIn: true).Aux;
            }
            finally
            {
                _server.Loading = false;
            }
        }
    }
}
