using HomeIQ.Contracts;
using HomeIQ.Tests.Integration;
using Npgsql;

namespace HomeIQ.Tests.Readings;

public sealed partial class ReadingsTests
{
    [Fact]
    public async Task AggregatesOfEveryBucketSizeMatchWhatTheSentDataGivesAndRollupsEqualRawAggregates()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        // Across midnight UTC and several hours; values are multiples of 0.5, so every sum is exact in binary.
        var start = Midnight(0).AddMinutes(-70).AddSeconds(13);
        var sent = Enumerable.Range(0, 90).Select(i => new SensorReading(device, "power", (i * 7 % 23) * 0.5 - 3, "W", start.AddSeconds(i * 97))).ToList();
        var noise = new SensorReading(device, "voltage", 230, "V", start.AddMinutes(1));
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [.. sent.Take(45), noise]), ct);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [.. sent.Skip(45)]), ct);
        var home = $"/api/v1/homes/{homeId}/readings";
        var from = start.AddMinutes(-2);
        var to = sent[^1].Timestamp.AddMinutes(2);
        await fixture.WaitForAsync($"{home}/raw?deviceId={device}&metric=power&from={Q(from)}&to={Q(to)}", token,
            r => r.GetProperty("readings").GetArrayLength() == sent.Count, ct);

        foreach (var (bucket, width) in new[] { ("1m", TimeSpan.FromMinutes(1)), ("5m", TimeSpan.FromMinutes(5)), ("1h", TimeSpan.FromHours(1)), ("1d", TimeSpan.FromDays(1)) })
        {
            var expected = sent.GroupBy(r => Floor(r.Timestamp, width)).OrderBy(g => g.Key)
                .Select(g => (Start: g.Key, Min: g.Min(r => r.Value), Max: g.Max(r => r.Value), Avg: g.Sum(r => r.Value) / g.Count(), Count: (long)g.Count())).ToList();

            var page = await fixture.GetAsync($"{home}/aggregate?deviceId={device}&metric=power&bucket={bucket}&from={Q(from)}&to={Q(to)}", token);

            var actual = page.GetProperty("buckets").EnumerateArray().Select(b => (Start: b.GetProperty("start").GetDateTimeOffset(), Min: b.GetProperty("min").GetDouble(),
                Max: b.GetProperty("max").GetDouble(), Avg: b.GetProperty("avg").GetDouble(), Count: b.GetProperty("count").GetInt64())).ToList();
            Assert.Equal(expected, actual);
            Assert.True(expected.Count > 1, $"{bucket}: the data spans more than one bucket");
            Assert.Equal(bucket, page.GetProperty("bucket").GetString());
            Assert.Equal(Floor(from, width), page.GetProperty("from").GetDateTimeOffset());
        }

        await using var rollup = fixture.Db.CreateCommand("""
            SELECT count(*) FROM (
                SELECT bucket, min, max, sum, count FROM readings_1h WHERE device_id = $1 AND metric = 'power'
                EXCEPT
                SELECT date_bin('1 hour', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00'), min(value), max(value), sum(value), count(*)
                FROM readings WHERE device_id = $1 AND metric = 'power' GROUP BY 1) d
            """);
        rollup.Parameters.Add(new NpgsqlParameter { Value = device });
        Assert.Equal(0L, await rollup.ExecuteScalarAsync(ct));
        Assert.Equal((long)sent.Count, await ScalarAsync("SELECT sum(count) FROM readings_1h WHERE device_id = $1 AND metric = 'power'", device));
    }
}
