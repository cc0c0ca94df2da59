using HomeIQ.Energy.Domain;

namespace HomeIQ.Tests.Energy;

/// <summary>
/// The service's incremental recompute (store new points once, recompute the hours between their stored neighbours, set those hours),
/// replayed here step for step on an in-memory store, gives the offline totals whatever the order, repetition and batching of readings.
/// </summary>
public sealed class EnergyPropertyTests
{
    private static readonly TimeSpan Gap = TimeSpan.FromMinutes(15);

    /// <summary>What energy_points and energy_hourly hold for one series, changed as EnergyReadingsHandler changes them.</summary>
    private sealed class IncrementalSeries(SeriesKind kind)
    {
        public SortedDictionary<DateTime, double> Points { get; } = [];

        public Dictionary<DateTime, double> Hours { get; } = [];

        public void Apply(IEnumerable<EnergyPoint> batch)
        {
            var inserted = batch.Where(p => Points.TryAdd(p.Ts, p.Value)).Select(p => p.Ts).ToList(); // ON CONFLICT DO NOTHING
            if (inserted.Count == 0)
            {
                return;
            }
            var (earliest, latest) = (inserted.Min(), inserted.Max());
            DateTime? previous = Points.Keys.Where(t => t < earliest).Select(t => (DateTime?)t).LastOrDefault();
            DateTime? next = Points.Keys.Where(t => t > latest).Select(t => (DateTime?)t).FirstOrDefault();
            var window = EnergyCalculator.Window(earliest, latest, previous, next);
            // As EnergyStore.SeriesPointsAsync: the points inside the window and one on each side.
            var low = Points.Keys.Where(t => t < window.Start).Select(t => (DateTime?)t).LastOrDefault() ?? window.Start;
            var high = Points.Keys.Where(t => t > window.End).Select(t => (DateTime?)t).FirstOrDefault() ?? window.End;
            var loaded = Points.Where(p => p.Key >= low && p.Key <= high).Select(p => new EnergyPoint(p.Key, p.Value)).ToList();
            foreach (var hour in Hours.Keys.Where(h => h >= window.Start && h < window.End).ToList())
            {
                Hours.Remove(hour);
            }
            foreach (var (hour, kWh) in EnergyCalculator.Hourly(kind, loaded, Gap, window))
            {
                Hours[hour] = kWh;
            }
        }
    }

    private static List<EnergyPoint> RandomSeries(Random random, SeriesKind kind)
    {
        var points = new List<EnergyPoint>();
        var ts = new DateTime(2026, 3, 10, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next(3600));
        var counter = random.NextDouble() * 1000;
        for (var i = 0; i < 300; i++)
        {
            // Mostly a few minutes apart, sometimes past the maximum gap, now and then hours apart.
            ts = ts.AddSeconds(random.Next(10) switch { 0 => random.Next(900, 4 * 3600), 1 => random.Next(1, 30), _ => random.Next(30, 600) });
            double value;
            if (kind == SeriesKind.Counter)
            {
                counter = random.Next(40) == 0 ? random.NextDouble() : counter + (random.NextDouble() * 0.3); // a reset now and then
                value = counter;
            }
            else
            {
                value = random.Next(20) == 0 ? 0 : random.NextDouble() * 5000;
            }
            points.Add(new EnergyPoint(ts, value));
        }
        return points;
    }

    [Theory]
    [InlineData(1, SeriesKind.Power)]
    [InlineData(2, SeriesKind.Power)]
    [InlineData(3, SeriesKind.Power)]
    [InlineData(4, SeriesKind.Counter)]
    [InlineData(5, SeriesKind.Counter)]
    [InlineData(6, SeriesKind.Counter)]
    public void ShuffledRepeatedAndLateReadingsInAnyBatchesGiveTheOfflineTotals(int seed, SeriesKind kind)
    {
        var random = new Random(seed);
        var points = RandomSeries(random, kind);
        var offline = EnergyCalculator.Hourly(kind, points, Gap);
        // Every reading once, a third of them again (resends and redeliveries), in random order; a tenth held back to arrive last (hours late).
        var deliveries = points.Concat(points.Where(_ => random.Next(3) == 0)).OrderBy(_ => random.Next()).ToList();
        var late = deliveries.Where(_ => random.Next(10) == 0).ToList();
        deliveries = [.. deliveries.Except(late), .. late];
        var series = new IncrementalSeries(kind);

        for (var i = 0; i < deliveries.Count;)
        {
            var size = random.Next(1, 40);
            series.Apply(deliveries.Skip(i).Take(size));
            i += size;
        }

        Assert.Equal(offline.Keys.Order(), series.Hours.Keys.Order());
        Assert.All(offline, h => Assert.Equal(h.Value, series.Hours[h.Key], 9));
        Assert.True(offline.Values.Sum() > 0);
    }

    [Fact]
    public void TheOfflineTotalOfAKnownSeriesIsTheHandComputedOne()
    {
        var t0 = new DateTime(2026, 3, 10, 10, 0, 0, DateTimeKind.Utc);
        EnergyPoint[] points = [new(t0, 0), new(t0.AddMinutes(10), 600), new(t0.AddMinutes(20), 600), new(t0.AddMinutes(60), 600), new(t0.AddMinutes(70), 1200)];
        var series = new IncrementalSeries(SeriesKind.Power);

        series.Apply([points[4], points[0]]);
        series.Apply([points[2], points[2]]);
        series.Apply([points[1], points[3], points[0]]);

        // 0→600 W for 10 min (50 Wh), 600 W for 10 min (100 Wh), 40-minute gap (nothing), 600→1200 W for 10 min (150 Wh).
        Assert.Equal(0.15, series.Hours[t0], 12);
        Assert.Equal(0.15, series.Hours[t0.AddHours(1)], 12);
        Assert.Equal(0.3, EnergyCalculator.Hourly(SeriesKind.Power, points, Gap).Values.Sum(), 12);
    }
}
