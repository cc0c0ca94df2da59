using System.Globalization;
using System.Text.Json;
using Npgsql;
using StackExchange.Redis;

namespace HomeIQ.Devices.Infrastructure;

/// <summary>The last known value of one device metric, as the API returns it.</summary>
public sealed record StateValue(JsonElement Value, string? Unit, DateTimeOffset Ts);

/// <summary>
/// The read side: <c>device:{id}:state</c>, a Redis hash metric → JSON <c>{value, unit, ts}</c>, projected from <c>device_state</c>
/// in Postgres (the source of truth). Writes only replace a field with a newer timestamp, so late or replayed writes never go back in time.
/// </summary>
internal sealed class DeviceStateView(IConnectionMultiplexer redis, NpgsqlDataSource db, ILogger<DeviceStateView> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ts is a fixed-width UTC string, so comparing strings compares instants.
    private const string MergeIfNewer = """
        local written = 0
        for i = 1, #ARGV, 3 do
          local current = redis.call('HGET', KEYS[1], ARGV[i])
          if (not current) or cjson.decode(current).ts < ARGV[i + 2] then
            redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
            written = written + 1
          end
        end
        return written
        """;

    public static string Key(Guid deviceId) => $"device:{deviceId}:state";

    private sealed record Entry(JsonElement Value, string? Unit, string Ts);

    private sealed record Row(Guid DeviceId, string Metric, JsonElement Value, string? Unit, DateTimeOffset Ts);

    private static string Format(DateTimeOffset ts) => ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The device's view; when the hash is missing but Postgres has state, the view is rebuilt from it first.</summary>
    public async Task<IReadOnlyDictionary<string, StateValue>> GetAsync(Guid deviceId, CancellationToken ct)
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(Key(deviceId));
        if (entries.Length > 0)
        {
            return entries.ToDictionary(e => (string)e.Name!, e => JsonSerializer.Deserialize<StateValue>((string)e.Value!, Json)!, StringComparer.Ordinal);
        }
        var rows = await ReadAsync("ds.device_id = ANY($1)", new Guid[] { deviceId }, ct);
        await WriteAsync(rows);
        return rows.ToDictionary(r => r.Metric, r => new StateValue(r.Value, r.Unit, r.Ts), StringComparer.Ordinal);
    }

    /// <summary>Projects the committed state of <paramref name="deviceIds"/> into Redis.</summary>
    public async Task RefreshAsync(IReadOnlyCollection<Guid> deviceIds, CancellationToken ct)
    {
        if (deviceIds.Count > 0)
        {
            await WriteAsync(await ReadAsync("ds.device_id = ANY($1)", deviceIds.ToArray(), ct));
        }
    }

    /// <summary>Rebuilds the view of every device of a home; returns how many devices had state.</summary>
    public async Task<int> RebuildHomeAsync(Guid homeId, CancellationToken ct)
    {
        var rows = await ReadAsync("d.home_id = $1", homeId, ct);
        await WriteAsync(rows);
        return rows.Select(r => r.DeviceId).Distinct().Count();
    }

    public Task RemoveAsync(Guid deviceId) => redis.GetDatabase().KeyDeleteAsync(Key(deviceId));

    private async Task<List<Row>> ReadAsync(string where, object parameter, CancellationToken ct)
    {
        var rows = new List<Row>();
        await using var select = db.CreateCommand(
            $"SELECT ds.device_id, ds.metric, ds.value::text, ds.unit, ds.ts FROM device_state ds JOIN devices d ON d.id = ds.device_id WHERE {where}");
        select.Parameters.Add(new() { Value = parameter });
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            using var value = JsonDocument.Parse(reader.GetString(2));
            rows.Add(new Row(reader.GetGuid(0), reader.GetString(1), value.RootElement.Clone(), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return rows;
    }

    /// <summary>One merge script per device, all sent before any answer is awaited (pipelined: one round trip for the batch).</summary>
    private async Task WriteAsync(List<Row> rows)
    {
        var database = redis.GetDatabase();
        var merges = rows.GroupBy(r => r.DeviceId).Select(device =>
        {
            var arguments = device.SelectMany(r =>
            {
                var ts = Format(r.Ts);
                return new RedisValue[] { r.Metric, JsonSerializer.Serialize(new Entry(r.Value, r.Unit, ts), Json), ts };
            }).ToArray();
            return (DeviceId: device.Key, Written: database.ScriptEvaluateAsync(MergeIfNewer, [Key(device.Key)], arguments));
        }).ToList();
        await Task.WhenAll(merges.Select(m => m.Written));
        if (logger.IsEnabled(LogLevel.Debug))
        {
            foreach (var (deviceId, written) in merges)
            {
                logger.LogDebug("Projected {Count} metrics of {DeviceId}", (int)written.Result, deviceId);
            }
        }
    }
}
