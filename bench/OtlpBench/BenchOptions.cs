using System.Globalization;

namespace OtlpBench;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions(int Seconds, int Concurrency, int Runs, int MaxRequests, bool Single)
{
    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(10, 4, 3, 50_000, false);
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--seconds" => options with { Seconds = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--concurrency" => options with { Concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--runs" => options with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--max-requests" => options with { MaxRequests = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--single" => options with { Single = true },
                _ => throw new ArgumentException($"Unknown option {args[i]}"),
            };
        }
        return options;
    }
}

/// <summary>What one run measured; exchanged between the child and the parent process as one line.</summary>
internal sealed record RunResult(double SpansPerSecond, long Requests, double PeakRssMiB, double EndRssMiB, long HeldSpans, long HeldTraces)
{
    public string ToLine() => string.Create(CultureInfo.InvariantCulture, $"RESULT {SpansPerSecond} {Requests} {PeakRssMiB} {EndRssMiB} {HeldSpans} {HeldTraces}");

    public static RunResult Parse(string line)
    {
        var parts = line.Split(' ');
        if (parts[0] != "RESULT")
        {
            throw new InvalidOperationException($"Unexpected child output: {line}");
        }
        double D(int i) => double.Parse(parts[i], CultureInfo.InvariantCulture);
        return new RunResult(D(1), (long)D(2), D(3), D(4), (long)D(5), (long)D(6));
    }
}
