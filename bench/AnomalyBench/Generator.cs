namespace AnomalyBench;

/// <summary>What was injected into a series, over [Start, End) in ticks; Last is the last reading before a dropout.</summary>
internal sealed record Injection(string Kind, long Start, long End);

/// <summary>One generated series: timestamps, values, its interval and what was injected.</summary>
internal sealed record Series(string Metric, string Unit, long[] Ticks, double[] Values, double IntervalSeconds, List<Injection> Injections);

/// <summary>
/// Readings of one device metric over the given days: a daily cycle (phase and amplitude per device), a slow weekly wander,
/// Gaussian noise, the sensor's resolution, jittered intervals of 60, 120 or 300 s. After two days of clean warm-up the timeline
/// is cut into 36-hour slots and each slot gets at most one injection: a spike (1–2 readings), a level shift (a step that stays),
/// a dropout (1–6 h without readings) or a stuck value (6–24 h of the same value).
/// </summary>
internal static class Generator
{
    private static readonly (string Metric, string Unit, double Base, double Amplitude, double Noise, double Resolution)[] Metrics =
    [
        ("temperature", "°C", 21, 2.5, 0.08, 0.1),
        ("humidity", "%", 50, 8, 0.5, 0.1),
        ("power", "W", 200, 80, 5, 1),
    ];

    public static int MetricCount => Metrics.Length;

    public static Series Generate(Random random, int metricIndex, long startTicks, int days)
    {
        var (metric, unit, baseValue, amplitude, noise, resolution) = Metrics[metricIndex];
        var scale = 0.5 + random.NextDouble();
        baseValue *= metricIndex == 2 ? scale : 1;
        amplitude *= scale;
        noise *= 0.6 + (0.8 * random.NextDouble());
        var interval = new[] { 60.0, 120.0, 300.0 }[random.Next(3)];
        var phase = random.NextDouble() * 2 * Math.PI;
        var injections = Plan(random, startTicks, days, interval);
        var ticks = new List<long>();
        var values = new List<double>();
        var end = startTicks + TimeSpan.FromDays(days).Ticks;
        var offset = 0.0;
        double? frozen = null;
        var shifted = new HashSet<long>();
        var spiked = new Dictionary<long, int>();
        for (var t = startTicks; t < end; t += (long)(interval * (1 + (0.04 * (random.NextDouble() - 0.5))) * TimeSpan.TicksPerSecond))
        {
            var day = (t - startTicks) / (double)TimeSpan.TicksPerDay;
            var value = baseValue + (amplitude * Math.Sin((2 * Math.PI * day) + phase)) + (0.3 * amplitude * Math.Sin((2 * Math.PI * day / 7) + phase))
                + (noise * Gaussian(random));
            var skip = false;
            var stuck = false;
            foreach (var injection in injections)
            {
                    if (injection.Kind == "spike" && t >= injection.Start && spiked.GetValueOrDefault(injection.Start) < SpikeReadings(injection))
                {
                    // One direction and size per spike, derived from its start so both of its readings agree.
                    spiked[injection.Start] = spiked.GetValueOrDefault(injection.Start) + 1;
                    value += ((injection.Start / 7 % 2 == 0) ? -1 : 1) * (15 + (injection.Start / 13 % 25)) * noise;
                }
                if (t < injection.Start || t >= injection.End)
                {
                    continue;
                }
                switch (injection.Kind)
                {
                    case "dropout":
                        skip = true;
                        break;
                    case "stuck":
                        stuck = true;
                        break;
                }
            }
            foreach (var injection in injections)
            {
                if (injection.Kind == "shift" && t >= injection.Start && shifted.Add(injection.Start))
                {
                    // Back towards the original level when already shifted, so offsets do not pile up over the weeks.
                    offset += (offset == 0 ? (random.Next(2) == 0 ? -1 : 1) : -Math.Sign(offset)) * (12 + (18 * random.NextDouble())) * noise;
                }
            }
            if (skip)
            {
                continue;
            }
            value = Math.Round((value + offset) / resolution) * resolution;
            // A humidity sensor saturates: the generator must not produce what no sensor reports.
            value = metric == "humidity" ? Math.Clamp(value, 0, 100) : value;
            frozen = stuck ? frozen ?? values[^1] : null;
            ticks.Add(t);
            values.Add(frozen ?? value);
        }
        // Shifts start at a reading: move each to the first reading at or after its planned time.
        for (var i = 0; i < injections.Count; i++)
        {
            if (injections[i].Kind is "shift" or "spike")
            {
                var at = ticks.FindIndex(x => x >= injections[i].Start);
                injections[i] = injections[i] with { Start = ticks[at], End = ticks[at] + 1 };
            }
        }
        return new Series(metric, unit, [.. ticks], [.. values], interval, injections);
    }

    private static List<Injection> Plan(Random random, long startTicks, int days, double interval)
    {
        var injections = new List<Injection>();
        var slot = TimeSpan.FromHours(36).Ticks;
        for (var slotStart = startTicks + TimeSpan.FromDays(2).Ticks; slotStart + slot <= startTicks + TimeSpan.FromDays(days).Ticks; slotStart += slot)
        {
            var at = slotStart + (long)(random.NextDouble() * TimeSpan.FromHours(6).Ticks);
            var kind = random.Next(5);
            switch (kind)
            {
                case 0:
                    injections.Add(new("spike", at, at + 1));
                    break;
                case 1:
                    injections.Add(new("shift", at, at + 1));
                    break;
                case 2:
                    injections.Add(new("dropout", at, at + TimeSpan.FromHours(1 + (5 * random.NextDouble())).Ticks));
                    break;
                case 3:
                    injections.Add(new("stuck", at, at + TimeSpan.FromHours(6 + (18 * random.NextDouble())).Ticks));
                    break;
            }
        }
        return injections;
    }

    /// <summary>A spike lasts one or two readings.</summary>
    private static int SpikeReadings(Injection spike) => 1 + (int)(spike.Start / 3 % 2);

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
