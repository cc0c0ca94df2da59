using System.Diagnostics;
using System.Net;
using HomeIQ.Energy.Domain;
using HomeIQ.Tests.Integration;
using HomeIQ.Tests.Pipeline;

namespace HomeIQ.Tests.Energy;

/// <summary>
/// kill -9 of the Energy service while a hub sends power and energy readings without pause: once it is back and has caught up, the
/// home's kWh is the offline computation over exactly the readings ingestion acknowledged, none counted twice or lost.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class EnergyKillTests(PipelineFixture fixture)
{
    private const int ReadingsPerDevicePerPost = 25;

    private sealed record Sent(Guid DeviceId, string Metric, double Value, string Unit, DateTimeOffset Timestamp);

    /// <summary>A hub that posts power and counter readings with synthetic, increasing timestamps and remembers what was acknowledged.</summary>
    private sealed class Hub(EnergyHome home, DateTimeOffset start, int seed)
    {
        private readonly Random _random = new(seed);
        private DateTimeOffset _ts = start;
        private double _counter = 1000;

        public List<Sent> Acknowledged { get; } = [];

        public int Posts { get; private set; }

        public async Task PostAsync()
        {
            var batch = new List<Sent>();
            for (var i = 0; i < ReadingsPerDevicePerPost; i++)
            {
                // Mostly seconds apart, sometimes past the 15-minute maximum gap; the meter is reset now and then.
                _ts = _ts.AddSeconds(_random.Next(100) == 0 ? 1200 : _random.Next(1, 8));
                _counter = _random.Next(200) == 0 ? _random.NextDouble() : _counter + (_random.NextDouble() * 0.01);
                batch.Add(new Sent(home.Heater, "power", Math.Round(_random.NextDouble() * 4000, 1), "W", _ts));
                batch.Add(new Sent(home.Meter, "energy", _counter, "kWh", _ts));
            }
            // A hub resends until it is answered 202, so every batch ends up acknowledged (some perhaps twice).
            await home.IngestAsync([.. batch.Select(s => EnergyHome.Reading(s.DeviceId, s.Metric, s.Value, s.Unit, s.Timestamp))]);
            Acknowledged.AddRange(batch);
            Posts++;
        }

        public DateTimeOffset Last => _ts;
    }

    private static double Offline(IEnumerable<Sent> readings) =>
        readings.GroupBy(r => (r.DeviceId, r.Metric)).Sum(series =>
        {
            var kind = series.Key.Metric == "energy" ? SeriesKind.Counter : SeriesKind.Power;
            var points = series.DistinctBy(r => r.Timestamp).OrderBy(r => r.Timestamp).Select(r => new EnergyPoint(r.Timestamp.UtcDateTime, r.Value)).ToList();
            return EnergyCalculator.Hourly(kind, points, TimeSpan.FromMinutes(15)).Values.Sum();
        });

    [Fact]
    public async Task AKilledEnergyServiceCountsEveryAcknowledgedReadingExactlyOnce()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(6));
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("energy", ct);
        var home = await EnergyHome.CreateAsync(fixture.App.CreateHttpClient("gateway"));
        // About 6.5 minutes of readings per post: six and a half days back leaves room for some 1,400 posts before a timestamp
        // would reach the present (ingestion refuses the future), and stays within ingestion's 7-day limit for old readings.
        var start = DateTimeOffset.UtcNow.AddHours(-156);
        var hub = new Hub(home, new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero), seed: 42);
        using var stop = new CancellationTokenSource();
        var posts = 0;
        var running = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await hub.PostAsync();
                Interlocked.Increment(ref posts);
            }
        }, ct);

        await KillTests.UntilAsync(() => Volatile.Read(ref posts) >= 30, running, ct);
        await using (var killed = await fixture.App.KillOneAsync("energy")) // a batch may be half written, uncommitted, and unacknowledged
        {
            Log($"killed energy (pid {killed.Pid}) after {Volatile.Read(ref posts)} posts");
            await killed.BackAsync(ct);
        }
        var recovered = Volatile.Read(ref posts);
        Log($"energy is back after {recovered} posts");
        await KillTests.UntilAsync(() => Volatile.Read(ref posts) >= recovered + 30, running, ct);
        await stop.CancelAsync();
        await running;

        var expected = Offline(hub.Acknowledged);
        var range = $"from={EnergyHome.Q(start.AddHours(-1))}&to={EnergyHome.Q(hub.Last.AddHours(1))}&bucket=month";
        var counted = await SettledAsync(home, range, expected, ct);
        Log($"{hub.Posts} posts, {hub.Acknowledged.Count} readings acknowledged: {expected:F6} kWh offline, {counted:F6} kWh counted");
        Assert.True(expected > 1);
        Assert.Equal(expected, counted, 4);
    }

    /// <summary>The counted kWh once it matches, or once it stopped changing for 30 s (then the test shows the difference).</summary>
    private static async Task<double> SettledAsync(EnergyHome home, string range, double expected, CancellationToken ct)
    {
        var last = double.NaN;
        var unchangedSince = Stopwatch.StartNew();
        while (true)
        {
            var (status, body) = await home.GetAsync($"summary?{range}");
            var counted = status == HttpStatusCode.OK ? body.GetProperty("total").GetProperty("consumedKWh").GetDouble() : double.NaN;
            if (Math.Abs(counted - expected) < 1e-4 && counted == last)
            {
                return counted;
            }
            if (counted != last)
            {
                last = counted;
                unchangedSince.Restart();
            }
            else if (unchangedSince.Elapsed > TimeSpan.FromSeconds(30))
            {
                return counted;
            }
            await Task.Delay(1000, ct);
        }
    }

    private static void Log(string line)
    {
        try
        {
            TestContext.Current.TestOutputHelper?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
