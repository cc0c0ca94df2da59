using System.Globalization;
using System.IO.Hashing;
using System.Text;
using StackExchange.Redis;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Gives each received message its readings' timestamp, and gives a QoS 1 redelivery the same one, so Readings (one reading per device,
/// metric and time) stores it once.
/// <para>
/// A message is new unless the broker marks it a duplicate (DUP): it gets the time it arrived, at microsecond resolution (Postgres' own),
/// made later than the last time given on its topic by any replica (one Redis script per batch), so two messages of a device are two
/// readings even when both replicas take one in the same microsecond. Before its readings are
/// published, that time is recorded under the session's client id and the message's packet identifier, with a hash of its topic and payload.
/// A redelivery is sent to the same session with the same packet identifier and DUP set (the broker may not reuse an identifier before it is
/// acknowledged), so it finds the first time. One Redis hash per session, at most one field per packet identifier (65,535): bounded,
/// and no expiry to outlast.
/// </para>
/// </summary>
internal sealed class MqttTimestamps(IConnectionMultiplexer redis, TimeProvider time)
{
    private const string Prefix = "homeiq:ingestion:mqtt:inflight:";
    private static readonly RedisKey LastKey = "homeiq:ingestion:mqtt:last";

    // Per topic: the time given is the arrival, or one microsecond after the last time given on that topic, whichever is later.
    private static readonly LuaScript Later = LuaScript.Prepare("""
        local out = {}
        for i = 1, #ARGV, 2 do
          local t = tonumber(ARGV[i + 1])
          local last = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
          if t <= last then t = last + 1 end
          redis.call('HSET', KEYS[1], ARGV[i], string.format('%d', t))
          out[#out + 1] = t
        end
        return out
        """);
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;
    private long _last;

    /// <summary>A new message's arrival time, later than any given before on this replica, at microsecond resolution.</summary>
    public DateTimeOffset Arrival()
    {
        var now = time.GetUtcNow().UtcTicks / TicksPerMicrosecond;
        long last, next;
        do
        {
            last = Interlocked.Read(ref _last);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _last, next, last) != last);
        return new DateTimeOffset(next * TicksPerMicrosecond, TimeSpan.Zero);
    }

    /// <summary>What identifies a message's content within its packet identifier: a 64-bit hash of topic and payload.</summary>
    public static ulong Fingerprint(string topic, ReadOnlySpan<byte> payload)
    {
        var hash = new XxHash64();
        hash.Append(Encoding.UTF8.GetBytes(topic));
        hash.Append([0]);
        hash.Append(payload);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>
    /// Settles the timestamps of one batch of a session's messages: a redelivery takes its recorded time when its fingerprint matches, any
    /// other is made later than its topic's last, and every QoS 1 message's time is recorded before the caller publishes its readings.
    /// Three round trips at most.
    /// </summary>
    public async Task SettleAsync(string clientId, IReadOnlyList<IMqttTimed> messages, CancellationToken cancellationToken)
    {
        RedisKey key = Prefix + clientId;
        var db = redis.GetDatabase();
        var redelivered = messages.Where(m => m.PacketId != 0 && m.Redelivered).ToArray();
        var recordedFor = new HashSet<IMqttTimed>(ReferenceEqualityComparer.Instance);
        if (redelivered.Length > 0)
        {
            var recorded = await db.HashGetAsync(key, [.. redelivered.Select(m => (RedisValue)(int)m.PacketId)]).WaitAsync(cancellationToken);
            for (var i = 0; i < redelivered.Length; i++)
            {
                if (Parse(recorded[i]) is { } first && first.Fingerprint == redelivered[i].Fingerprint)
                {
                    redelivered[i].Timestamp = first.Timestamp;
                    recordedFor.Add(redelivered[i]);
                }
            }
        }
        var fresh = messages.Where(m => !(m.Redelivered && recordedFor.Contains(m))).ToArray();
        if (fresh.Length > 0)
        {
            var args = new RedisValue[fresh.Length * 2];
            for (var i = 0; i < fresh.Length; i++)
            {
                args[2 * i] = fresh[i].Topic;
                // Microseconds since 1970 (about 2^50): exact in Lua's doubles, which ticks since year 1 would not be.
                args[(2 * i) + 1] = (fresh[i].Timestamp - DateTimeOffset.UnixEpoch).Ticks / TicksPerMicrosecond;
            }
            var later = (RedisResult[])(await db.ScriptEvaluateAsync(Later.ExecutableScript, [LastKey], args).WaitAsync(cancellationToken))!;
            for (var i = 0; i < fresh.Length; i++)
            {
                fresh[i].Timestamp = DateTimeOffset.UnixEpoch.AddTicks((long)later[i] * TicksPerMicrosecond);
            }
        }
        var entries = messages.Where(m => m.PacketId != 0)
            .Select(m => new HashEntry((int)m.PacketId, string.Create(CultureInfo.InvariantCulture, $"{m.Fingerprint:x16}:{m.Timestamp.UtcTicks}")))
            .ToArray();
        if (entries.Length > 0)
        {
            await db.HashSetAsync(key, entries).WaitAsync(cancellationToken);
        }
    }

    private static (ulong Fingerprint, DateTimeOffset Timestamp)? Parse(RedisValue value)
    {
        var text = (string?)value;
        if (text?.Split(':') is [var fingerprint, var ticks]
            && ulong.TryParse(fingerprint, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var f)
            && long.TryParse(ticks, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t))
        {
            return (f, new DateTimeOffset(t, TimeSpan.Zero));
        }
        return null;
    }
}

/// <summary>A received message as <see cref="MqttTimestamps"/> sees it.</summary>
internal interface IMqttTimed
{
    /// <summary>The packet identifier (0 for QoS 0, which is never redelivered).</summary>
    ushort PacketId { get; }

    /// <summary>Its topic: times given on one topic only ever grow.</summary>
    string Topic { get; }

    /// <summary>Whether the broker marked it a duplicate (DUP).</summary>
    bool Redelivered { get; }

    /// <summary>The hash of its topic and payload.</summary>
    ulong Fingerprint { get; }

    /// <summary>Its readings' timestamp: the arrival time, replaced by the first delivery's for a redelivery.</summary>
    DateTimeOffset Timestamp { get; set; }
}
