using System.Diagnostics;
using System.Globalization;
using AnomalyBench;
using HomeIQ.Anomalies.Detection;
using HomeIQ.Contracts;

// Runs the service's detector (HomeIQ.Anomalies.Detection.AnomalyDetector, default options) in process, one series at a time on
// one thread, over generated readings with simulated time (reading timestamps; the offline sweep simulated on a 10 s grid),
// and scores what it raised against what was injected. Seed 1 was used for tuning; report other seeds.
// Usage: dotnet run -c Release --project bench/AnomalyBench -- [--seed 2] [--seeds 3] [--devices 300] [--days 21]
// BENCH_DEBUG=1 prints every missed injection and every false raise.
var firstSeed = Arg("--seed", 2);
var seeds = Arg("--seeds", 3);
var devices = Arg("--devices", 300);
var days = Arg("--days", 21);
var sweepGrid = TimeSpan.FromSeconds(10).Ticks;
var options = new DetectorOptions();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{devices} devices × {Generator.MetricCount} metrics × {days} days, seeds {firstSeed}..{firstSeed + seeds - 1}, {Environment.ProcessorCount} cores, .NET {Environment.Version}"));
foreach (var seed in Enumerable.Range(firstSeed, seeds))
{
    var random = new Random(seed);
    var detector = new AnomalyDetector(options);
    var score = new Score();
    long readings = 0, detectTicks = 0;
    var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).UtcTicks;
    var findings = new List<Finding>();
    var raised = new List<(AnomalyKind Kind, long Decided)>();
    for (var device = 0; device < devices; device++)
    {
        for (var m = 0; m < Generator.MetricCount; m++)
        {
            var series = Generator.Generate(random, m, start, days);
            var state = new SeriesState();
            raised.Clear();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < series.Ticks.Length; i++)
            {
                var t = series.Ticks[i];
                // The sweep, simulated: had the series been due before this reading, a sweep tick after the due time raised it.
                if (detector.OfflineDueTicks(state) is { } due && t > due)
                {
                    var sweptAt = ((due / sweepGrid) + 1) * sweepGrid;
                    if (sweptAt < t)
                    {
                        raised.Add((AnomalyKind.Offline, sweptAt));
                    }
                }
                findings.Clear();
                detector.Observe(state, series.Metric, series.Unit, series.Values[i], t, findings);
                foreach (var f in findings)
                {
                    if (!f.Resolved)
                    {
                        raised.Add((f.Kind, t));
                    }
                }
            }
            detectTicks += watch.Elapsed.Ticks;
            readings += series.Ticks.Length;
            score.Add(series, raised);
        }
    }
    var seconds = detectTicks / (double)TimeSpan.TicksPerSecond;
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"seed {seed}: {readings:N0} readings, detector {seconds:0.00} s on one thread = {readings / seconds:N0} readings/s"));
    score.Print();
}

/// <summary>Matches raised anomalies to injections, per series.</summary>
internal sealed class Score
{
    private readonly Dictionary<string, (int Injected, int Found, List<double> Delays)> _recall = new();
    private readonly Dictionary<AnomalyKind, (int Raised, int True)> _precision = new();

    private static readonly Dictionary<string, (AnomalyKind[] Kinds, string DelayUnit)> Expect = new()
    {
        ["spike"] = ([AnomalyKind.Outlier, AnomalyKind.Implausible], "readings after the spike's first"),
        ["shift"] = ([AnomalyKind.LevelShift], "readings after the step"),
        ["dropout"] = ([AnomalyKind.Offline], "intervals after the last reading"),
        ["stuck"] = ([AnomalyKind.Stuck], "hours after the value froze"),
    };

    public void Add(Series series, List<(AnomalyKind Kind, long Decided)> raised)
    {
        var used = new bool[raised.Count];
        var step = (long)(series.IntervalSeconds * TimeSpan.TicksPerSecond);
        foreach (var injection in series.Injections)
        {
            var (kinds, _) = Expect[injection.Kind];
            var window = injection.Kind switch
            {
                "spike" => (injection.Start, injection.End + (3 * step)),
                "shift" => (injection.Start, injection.Start + (20 * step)),
                _ => (injection.Start, injection.End),
            };
            var entry = _recall.TryGetValue(injection.Kind, out var e) ? e : (Injected: 0, Found: 0, Delays: new List<double>());
            entry.Injected++;
            var hit = raised.FindIndex(r => kinds.Contains(r.Kind) && r.Decided >= window.Item1 && r.Decided <= window.Item2);
            if (hit < 0 && Environment.GetEnvironmentVariable("BENCH_DEBUG") == "1")
            {
                var i0 = Array.FindIndex(series.Ticks, t => t >= injection.Start);
                var around = string.Join(" ", series.Values.Skip(Math.Max(0, i0 - 3)).Take(7));
                var near = raised.Where(r => Math.Abs(r.Decided - injection.Start) < TimeSpan.TicksPerDay).Select(r => $"{r.Kind}@{(r.Decided - injection.Start) / (double)TimeSpan.TicksPerHour:0.0}h");
                Console.WriteLine($"MISS {injection.Kind} {series.Metric} every {series.IntervalSeconds}s: {around} raised {string.Join(",", near)}");
            }
            if (hit >= 0)
            {
                used[hit] = true;
                entry.Found++;
                var last = Array.FindLast(series.Ticks, t => t < injection.Start);
                entry.Delays.Add(injection.Kind switch
                {
                    "dropout" => (raised[hit].Decided - last) / (double)step,
                    "stuck" => (raised[hit].Decided - injection.Start) / (double)TimeSpan.TicksPerHour,
                    _ => Math.Round((raised[hit].Decided - injection.Start) / (double)step),
                });
            }
            _recall[injection.Kind] = entry;
        }
        for (var i = 0; i < raised.Count; i++)
        {
            if (!used[i] && Environment.GetEnvironmentVariable("BENCH_DEBUG") == "1")
            {
                var near = series.Injections.Where(x => Math.Abs(x.Start - raised[i].Decided) < TimeSpan.TicksPerDay).Select(x => $"{x.Kind}@{(raised[i].Decided - x.Start) / (double)TimeSpan.TicksPerHour:0.0}h");
                Console.WriteLine($"FP {raised[i].Kind} {series.Metric} every {series.IntervalSeconds}s at {new DateTime(raised[i].Decided):MM-dd HH:mm} near {string.Join(",", near)}");
            }
            var (r, t) = _precision.GetValueOrDefault(raised[i].Kind);
            _precision[raised[i].Kind] = (r + 1, t + (used[i] ? 1 : 0));
        }
    }

    public void Print()
    {
        Console.WriteLine("  injected  kind          recall   precision (raised)   delay median / p95");
        foreach (var (injected, (kinds, unit)) in Expect)
        {
            var (count, found, delays) = _recall.GetValueOrDefault(injected, (0, 0, new List<double>()));
            var (raisedCount, trueCount) = kinds.Aggregate((0, 0), (a, k) => (a.Item1 + _precision.GetValueOrDefault(k).Raised, a.Item2 + _precision.GetValueOrDefault(k).True));
            var sorted = delays.Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {injected,-8}  {string.Join('+', kinds),-20} {(double)found / Math.Max(count, 1),6:0.000} ({found}/{count})   {(double)trueCount / Math.Max(raisedCount, 1):0.000} ({raisedCount})   {Percentile(sorted, 0.5):0.##} / {Percentile(sorted, 0.95):0.##} {unit}"));
        }
    }
}
