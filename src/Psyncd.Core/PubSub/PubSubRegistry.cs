using Psyncd.Execution;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.PubSub;

/// <summary>
/// Pub/sub's bookkeeping (Redis's server.pubsub_channels and server.pubsub_patterns): the subscribers of
/// each channel and of each pattern, and message delivery (each delivery checks the subscriber's
/// <c>client-output-buffer-limit</c>, see PsyncdServer.OutputLimits).
/// Lives inside the command loop.
/// </summary>
public sealed class PubSubRegistry : IClientLifecycle
{
    void IClientLifecycle.ClientRemoved(Client client) => UnsubscribeAll(client);

    private readonly OutputLimiter _limiter;

    /// <summary>Channel → subscribers, in subscription order.</summary>
    private readonly Dictionary<byte[], List<Client>> _channels = new(ByteArrayComparer.Instance);

    /// <summary>Pattern → subscribers, in subscription order.</summary>
    private readonly Dictionary<byte[], List<Client>> _patterns = new(ByteArrayComparer.Instance);

    public PubSubRegistry(OutputLimiter limiter)
    {
        _limiter = limiter;
    }

    /// <summary>Channels with at least one subscriber (INFO's pubsub_channels).</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Patterns with at least one subscriber (INFO's pubsub_patterns, PUBSUB NUMPAT).</summary>
    public int PatternCount => _patterns.Count;

    /// <summary>Subscribes <paramref name="client"/> to a channel; false when it already was.</summary>
    public bool SubscribeChannel(Client client, ReadOnlySpan<byte> channel)
    {
        var mine = client.SubscribedChannels ??= new HashSet<byte[]>(ByteArrayComparer.Instance);
        if (mine.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(channel))
            return false;
        var lookup = _channels.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(channel, out var name, out var subscribers))
        {
            name = channel.ToArray();
            subscribers = new List<Client>(1);
            _channels[name] = subscribers;
        }
        subscribers.Add(client);
        mine.Add(name);
        Recount(client);
        return true;
    }

    /// <summary>Unsubscribes <paramref name="client"/> from a channel; false when it was not subscribed.</summary>
    public bool UnsubscribeChannel(Client client, ReadOnlySpan<byte> channel)
    {
        var mine = client.SubscribedChannels;
        if (mine is null || !mine.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(channel))
            return false;
        var lookup = _channels.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(channel, out var name, out var subscribers))
        {
            subscribers.Remove(client);
            if (subscribers.Count == 0)
                _channels.Remove(name);
        }
        if (mine.Count == 0)
            client.SubscribedChannels = null;
        Recount(client);
        return true;
    }

    /// <summary>Subscribes <paramref name="client"/> to a pattern; false when it already was.</summary>
    public bool SubscribePattern(Client client, ReadOnlySpan<byte> pattern)
    {
        var mine = client.SubscribedPatterns ??= new List<byte[]>();
        foreach (var existing in mine)
        {
            if (pattern.SequenceEqual(existing))
                return false;
        }
        var lookup = _patterns.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(pattern, out var name, out var subscribers))
        {
            name = pattern.ToArray();
            subscribers = new List<Client>(1);
            _patterns[name] = subscribers;
        }
        subscribers.Add(client);
        mine.Add(name);
        Recount(client);
        return true;
    }

    /// <summary>Unsubscribes <paramref name="client"/> from a pattern; false when it was not subscribed.</summary>
    public bool UnsubscribePattern(Client client, ReadOnlySpan<byte> pattern)
    {
        var mine = client.SubscribedPatterns;
        if (mine is null)
            return false;
        int index = -1;
        for (int i = 0; i < mine.Count; i++)
        {
            if (pattern.SequenceEqual(mine[i]))
            {
                index = i;
                break;
            }
        }
        if (index < 0)
            return false;
        var name = mine[index];
        mine.RemoveAt(index);
        if (_patterns.TryGetValue(name, out var subscribers))
        {
            subscribers.Remove(client);
            if (subscribers.Count == 0)
                _patterns.Remove(name);
        }
        if (mine.Count == 0)
            client.SubscribedPatterns = null;
        Recount(client);
        return true;
    }

    /// <summary>Drops every subscription of a client that went away (no replies).</summary>
    public void UnsubscribeAll(Client client)
    {
        if (client.SubscribedChannels is { } channels)
        {
            foreach (var channel in channels.ToArray())
                UnsubscribeChannel(client, channel);
        }
        if (client.SubscribedPatterns is { } patterns)
        {
            foreach (var pattern in patterns.ToArray())
                UnsubscribePattern(client, pattern);
        }
    }

    /// <summary>
    /// Delivers <paramref name="message"/> to the subscribers of <paramref name="channel"/> and of every
    /// matching pattern; returns how many deliveries were made (PUBLISH's reply).
    /// </summary>
    public long Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        long receivers = 0;
        if (_channels.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var subscribers))
        {
            foreach (var client in subscribers)
            {
                var output = client.Output;
                output.WritePushHeader(3);
                output.WriteBulk("message"u8);
                output.WriteBulk(channel);
                output.WriteBulk(message);
                Delivered(client);
                receivers++;
            }
        }
        if (_patterns.Count > 0)
        {
            foreach (var (pattern, patternSubscribers) in _patterns)
            {
                if (!GlobMatcher.IsMatch(pattern, channel))
                    continue;
                foreach (var client in patternSubscribers)
                {
                    var output = client.Output;
                    output.WritePushHeader(4);
                    output.WriteBulk("pmessage"u8);
                    output.WriteBulk(pattern);
                    output.WriteBulk(channel);
                    output.WriteBulk(message);
                    Delivered(client);
                    receivers++;
                }
            }
        }
        return receivers;
    }

    /// <summary>Subscribers of a channel, patterns not counted (PUBSUB NUMSUB).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel)
        => _channels.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var subscribers) ? subscribers.Count : 0;

    /// <summary>Active channels matching <paramref name="pattern"/> (all when null), for PUBSUB CHANNELS.</summary>
    public List<byte[]> ActiveChannels(byte[]? pattern)
    {
        var result = new List<byte[]>();
        foreach (var channel in _channels.Keys)
        {
            if (pattern is null || GlobMatcher.IsMatch(pattern, channel))
                result.Add(channel);
        }
        return result;
    }

    private void Recount(Client client)
    {
        int patterns = client.SubscribedPatterns?.Count ?? 0;
        int count = (client.SubscribedChannels?.Count ?? 0) + patterns;
        client.SubscriptionCount = count;
        client.PatternSubscriptionCount = patterns;
    }

    private void Delivered(Client client)
    {
        client.Output.RequestFlush();
        _limiter.CheckOutputLimit(client);
    }
}
