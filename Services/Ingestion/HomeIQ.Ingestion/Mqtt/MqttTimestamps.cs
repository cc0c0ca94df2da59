using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Gives a message its readings' timestamp: the time it was first seen. The same topic and payload again within
/// <see cref="MqttOptions.DuplicateWindow"/> (a QoS 1 redelivery after a replica died before acknowledging, or a device resending)
/// gets the first timestamp, so Readings, which keeps one reading per device, metric and time, stores it once. Kept in Redis, so
/// the replica that gets the redelivery finds the time the other replica gave.
/// </summary>
internal sealed class MqttTimestamps(IConnectionMultiplexer redis, IOptions<MqttOptions> options, TimeProvider time)
{
    private const string Prefix = "homeiq:ingestion:mqtt:seen:";

    public async Task<DateTimeOffset> ForAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var key = Key(topic, payload.Span);
        var now = time.GetUtcNow();
        var db = redis.GetDatabase();
        var value = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        if (await db.StringSetAsync(key, value, options.Value.DuplicateWindow, When.NotExists).WaitAsync(cancellationToken))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        }
        var first = await db.StringGetAsync(key).WaitAsync(cancellationToken);
        return long.TryParse(first.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
    }

    private static RedisKey Key(string topic, ReadOnlySpan<byte> payload)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(topic));
        hash.AppendData([0]);
        hash.AppendData(payload);
        return Prefix + Convert.ToHexString(hash.GetHashAndReset());
    }
}
