using System.Globalization;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using Npgsql;

namespace HomeIQ.Tests.Readings;

public sealed partial class ReadingsTests(ReadingsFixture fixture) : IClassFixture<ReadingsFixture>
{
    private static readonly DateTimeOffset Origin = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Postgres keeps microseconds; whole milliseconds come back exactly.</summary>
    private static DateTimeOffset Ms(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    private static string Q(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));

    private static DateTimeOffset Floor(DateTimeOffset time, TimeSpan width) =>
        Origin + TimeSpan.FromTicks((time - Origin).Ticks / width.Ticks * width.Ticks);

    private static DateTimeOffset Midnight(int daysFromToday) => new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(daysFromToday);

    private static string PartitionOf(DateTimeOffset day) => "readings_" + day.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private async Task<long> ScalarAsync(string sql, params object[] values)
    {
        await using var command = fixture.Db.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), CultureInfo.InvariantCulture);
    }

    private async Task<List<RawRow>> RawPagesAsync(string token, string query, int pageSize)
    {
        var rows = new List<RawRow>();
        string? next = null;
        do
        {
            var page = await fixture.GetAsync(query + $"&limit={pageSize}" + (next is null ? "" : "&after=" + Uri.EscapeDataString(next)), token);
            var readings = page.GetProperty("readings");
            Assert.True(readings.GetArrayLength() <= pageSize);
            rows.AddRange(readings.EnumerateArray().Select(RawRow.From));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (next is not null);
        return rows;
    }

    private sealed record RawRow(Guid DeviceId, string Metric, DateTimeOffset Timestamp, double Value, string Unit, long? Sequence)
    {
        public static RawRow From(JsonElement e) => new(e.GetProperty("deviceId").GetGuid(), e.GetProperty("metric").GetString()!,
            e.GetProperty("timestamp").GetDateTimeOffset(), e.GetProperty("value").GetDouble(), e.GetProperty("unit").GetString()!,
            e.GetProperty("sequence").ValueKind == JsonValueKind.Null ? null : e.GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task PublishedReadingsBecomeQueryableInTimeOrderAcrossPages()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        var start = new DateTimeOffset(DateTime.UtcNow.AddMinutes(-30).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var temperatures = Enumerable.Range(0, 23).Select(i => new SensorReading(device, "temperature", 18 + i * 0.25, "°C", start.AddSeconds(i * 7), i)).ToList();
        var humidity = Enumerable.Range(0, 5).Select(i => new SensorReading(device, "humidity", 40 + i, "%", start.AddSeconds(i * 11))).ToList();
        // Out of order inside the batch, and over two messages.
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [.. temperatures.Skip(10).Reverse(), .. humidity]), ct);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [.. temperatures.Take(10)]), ct);
        var home = $"/api/v1/homes/{homeId}/readings";
        var from = Q(start.AddMinutes(-1));
        var to = Q(start.AddMinutes(10));

        await fixture.WaitForAsync($"{home}/raw?from={from}&to={to}&limit=10000", token, b => b.GetProperty("readings").GetArrayLength() == 28, ct);
        var temperaturePages = await RawPagesAsync(token, $"{home}/raw?deviceId={device}&metric=temperature&from={from}&to={to}", 7);
        var allPages = await RawPagesAsync(token, $"{home}/raw?from={from}&to={to}", 4);

        Assert.Equal(temperatures.Select(r => (r.Timestamp, r.Value, r.Unit, r.Sequence)), temperaturePages.Select(r => (r.Timestamp, r.Value, r.Unit, r.Sequence)));
        Assert.All(temperaturePages, r => Assert.Equal((device, "temperature"), (r.DeviceId, r.Metric)));
        Assert.Equal(28, allPages.Count);
        Assert.Equal(allPages.OrderBy(r => r.Timestamp).ThenBy(r => r.DeviceId).ThenBy(r => r.Metric, StringComparer.Ordinal), allPages);
        Assert.Equal(humidity.Select(r => (r.Timestamp, r.Value)), allPages.Where(r => r.Metric == "humidity").Select(r => (r.Timestamp, r.Value)));
        var narrow = await fixture.GetAsync($"{home}/raw?deviceId={device}&metric=temperature&from={Q(temperatures[3].Timestamp)}&to={Q(temperatures[6].Timestamp)}", token);
        Assert.Equal(temperatures[3..6].Select(r => r.Value), narrow.GetProperty("readings").EnumerateArray().Select(r => r.GetProperty("value").GetDouble()));
    }

    [Fact]
    public async Task LatestAnswersTheNewestValuePerDeviceAndMetricOfTheHomeOnly()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var (otherHome, _) = await fixture.NewHomeAsync();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var now = Ms(DateTimeOffset.UtcNow.AddMinutes(-5));
        SensorReading[] sent =
        [
            new(a, "temperature", 20.5, "°C", now.AddSeconds(-20)), new(a, "temperature", 21.5, "°C", now), new(a, "temperature", 19, "°C", now.AddSeconds(-40)),
            new(a, "humidity", 41, "%", now.AddSeconds(-3)), new(b, "power", 130, "W", now.AddSeconds(-1)), new(b, "power", 120, "W", now.AddSeconds(-2)),
        ];
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", sent), ct);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(otherHome, "test", [new SensorReading(Guid.NewGuid(), "power", 1, "W", now)]), ct);
        // An older reading afterwards does not replace the newest.
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [new SensorReading(a, "temperature", 5, "°C", now.AddMinutes(-10))]), ct);
        var home = $"/api/v1/homes/{homeId}/readings";
        await fixture.WaitForAsync($"{home}/raw?deviceId={a}&metric=temperature&from={Q(now.AddMinutes(-11))}&to={Q(now.AddMinutes(1))}", token,
            r => r.GetProperty("readings").GetArrayLength() == 4, ct);

        var latest = await fixture.GetAsync($"{home}/latest", token);
        var ofA = await fixture.GetAsync($"{home}/latest?deviceId={a}", token);

        var expected = sent.GroupBy(r => (r.DeviceId, r.Metric)).Select(g => g.MaxBy(r => r.Timestamp)!)
            .Select(r => (r.DeviceId, r.Metric, r.Value, r.Unit, r.Timestamp)).OrderBy(r => r.DeviceId).ThenBy(r => r.Metric, StringComparer.Ordinal).ToList();
        var actual = latest.GetProperty("readings").EnumerateArray().Select(r => (r.GetProperty("deviceId").GetGuid(), r.GetProperty("metric").GetString()!,
            r.GetProperty("value").GetDouble(), r.GetProperty("unit").GetString()!, r.GetProperty("timestamp").GetDateTimeOffset())).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(homeId, latest.GetProperty("homeId").GetGuid());
        Assert.Equal(expected.Count(r => r.DeviceId == a), ofA.GetProperty("readings").GetArrayLength());
        Assert.All(ofA.GetProperty("readings").EnumerateArray(), r => Assert.Equal(a, r.GetProperty("deviceId").GetGuid()));
    }

    [Fact]
    public async Task TheSameBatchPublishedTwiceOrResentUnderANewIdIsStoredAndCountedOnce()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        var start = Ms(DateTimeOffset.UtcNow.AddHours(-2));
        var readings = Enumerable.Range(0, 40).Select(i => new SensorReading(device, "energy", i * 0.5, "kWh", start.AddMinutes(i * 3))).ToList();
        var batch = new SensorReadingsReceived(homeId, "test", readings);
        await fixture.Bus.PublishAsync(batch, ct);
        await fixture.Bus.PublishAsync(batch, ct);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "resend", readings[10..30]), ct);
        // The same reading twice inside one message is one reading too.
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [readings[0], readings[0]]), ct);
        var last = new SensorReading(device, "energy", 99, "kWh", start.AddMinutes(118.5));
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [last]), ct);
        var home = $"/api/v1/homes/{homeId}/readings";
        await fixture.WaitForAsync($"{home}/latest?deviceId={device}", token,
            r => r.GetProperty("readings").EnumerateArray().Any(x => x.GetProperty("value").GetDouble() == 99), ct);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);

        var rows = await ScalarAsync("SELECT count(*) FROM readings WHERE device_id = $1", device);
        var rolledUp = await ScalarAsync("SELECT coalesce(sum(count), 0) FROM readings_1h WHERE device_id = $1", device);
        var distinct = readings.Append(last).Select(r => r.Timestamp).Distinct().Count();
        Assert.Equal(distinct, rows);
        Assert.Equal(distinct, rolledUp);
        var raw = await RawPagesAsync(token, $"{home}/raw?deviceId={device}&from={Q(start.AddMinutes(-1))}&to={Q(start.AddHours(2))}", 1000);
        Assert.Equal(readings.Append(last).Select(r => (r.Timestamp, r.Value)), raw.Select(r => (r.Timestamp, r.Value)));

        // What Devices' state view hears: every stored reading counted once, and the newest value.
        await WaitAsync(() => fixture.Stored.Events.Where(e => e.HomeId == homeId).Sum(e => e.Count) >= distinct, ct);
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        var stored = fixture.Stored.Events.Where(e => e.HomeId == homeId).ToList();
        Assert.Equal(distinct, stored.Sum(e => e.Count));
        Assert.Contains(stored, e => e.Latest.Any(l => l.DeviceId == device && l.Metric == "energy" && l.Value == 99 && l.Timestamp == last.Timestamp));
        Assert.All(stored, e => Assert.All(e.Latest, l => Assert.Equal(device, l.DeviceId)));
    }

    [Fact]
    public async Task ReadingsStoredCarriesTheCountAndTheLatestValuePerDeviceMetric()
    {
        var ct = TestApps.Timeout();
        var (homeId, _) = await fixture.NewHomeAsync();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var now = Ms(DateTimeOffset.UtcNow.AddMinutes(-1));
        SensorReading[] sent = [new(a, "power", 10, "W", now.AddSeconds(-2)), new(a, "power", 12, "W", now), new(b, "temperature", 7.5, "°C", now.AddSeconds(-1))];

        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", sent), ct);

        await WaitAsync(() => fixture.Stored.Events.Any(e => e.HomeId == homeId), ct);
        var stored = Assert.Single(fixture.Stored.Events, e => e.HomeId == homeId);
        Assert.Equal(sent.Length, stored.Count);
        var expected = sent.GroupBy(r => (r.DeviceId, r.Metric)).Select(g => g.MaxBy(r => r.Timestamp)!).Select(r => (r.DeviceId, r.Metric, r.Value, r.Timestamp));
        Assert.Equal(expected.OrderBy(x => x.DeviceId), stored.Latest.Select(l => (l.DeviceId, l.Metric, l.Value, l.Timestamp)).OrderBy(x => x.DeviceId));
    }

    [Fact]
    public async Task BatchesEitherSideOfMidnightLandInTwoDayPartitionsCreatedOnDemand()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        // Five days ahead: beyond the partitions made in advance, so the consumer creates them.
        var midnight = Midnight(5);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [new SensorReading(device, "temperature", 1, "°C", midnight.AddSeconds(-1))]), ct);
        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", [new SensorReading(device, "temperature", 2, "°C", midnight.AddSeconds(1))]), ct);
        var home = $"/api/v1/homes/{homeId}/readings";
        await fixture.WaitForAsync($"{home}/raw?deviceId={device}&from={Q(midnight.AddHours(-1))}&to={Q(midnight.AddHours(1))}", token,
            r => r.GetProperty("readings").GetArrayLength() == 2, ct);

        await using var command = fixture.Db.CreateCommand("SELECT tableoid::regclass::text FROM readings WHERE device_id = $1 ORDER BY ts");
        command.Parameters.Add(new NpgsqlParameter { Value = device });
        var partitions = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                partitions.Add(reader.GetString(0));
            }
        }
        Assert.Equal([PartitionOf(midnight.AddDays(-1)), PartitionOf(midnight)], partitions);
        Assert.Equal(0, await ScalarAsync(
            "SELECT count(*) FROM pg_partitioned_table t JOIN pg_class p ON p.oid = t.partrelid WHERE p.relname = 'readings' AND t.partdefid <> 0"));
    }

    [Fact]
    public async Task PartitionsAreMadeAheadAndRetentionDropsAnOldDayButKeepsItsRollups()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        var day = Midnight(-(int)ReadingsFixture.Retention.TotalDays - 20);
        var sent = Enumerable.Range(0, 12).Select(i => new SensorReading(device, "power", 100 + i * 2.5, "W", day.AddHours(9).AddMinutes(i * 17))).ToList();

        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test", sent), ct);

        var home = $"/api/v1/homes/{homeId}/readings";
        var daily = $"{home}/aggregate?deviceId={device}&metric=power&bucket=1d&from={Q(day)}&to={Q(day.AddDays(1))}";
        // The rollup only ever counts rows that were inserted, so a full count proves the old day was stored before it went.
        var aggregate = await fixture.WaitForAsync(daily, token, r => r.GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()) == sent.Count, ct);
        await WaitAsync(async () => await ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = $1", PartitionOf(day)) == 0, ct);

        var bucket = Assert.Single(aggregate.GetProperty("buckets").EnumerateArray());
        Assert.Equal(sent.Min(r => r.Value), bucket.GetProperty("min").GetDouble());
        Assert.Equal(sent.Max(r => r.Value), bucket.GetProperty("max").GetDouble());
        Assert.Equal(sent.Average(r => r.Value), bucket.GetProperty("avg").GetDouble(), 9);
        var after = await fixture.GetAsync(daily, token);
        Assert.Equal(sent.Count, after.GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));
        Assert.Equal(sent.Count, await ScalarAsync("SELECT sum(count) FROM readings_1h WHERE device_id = $1", device));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM readings WHERE device_id = $1", device));
        foreach (var ahead in new[] { -1, 0, 1, 2 })
        {
            Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = $1", PartitionOf(Midnight(ahead))));
        }
    }

    [Fact]
    public async Task AnOutsiderGets404OnEveryReadingsRoute()
    {
        var (homeId, token) = await fixture.NewHomeAsync();
        var (_, outsider) = await fixture.NewHomeAsync();
        var readings = fixture.Readings();
        var routes = await HomeRoutes.FromOpenApiAsync(readings.Http, "/openapi/v1.json", homeId);

        var wrong = await HomeRoutes.NotAnswering404Async(readings, routes, outsider, new { });

        Assert.Equal(3, routes.Count);
        Assert.Empty(wrong);
        using var member = await readings.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/readings/latest", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, member.StatusCode);
        using var anonymous = await readings.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/readings/latest", null);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static async Task WaitAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(100, ct);
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        while (!await condition())
        {
            await Task.Delay(200, ct);
        }
    }
}
