using System.Diagnostics;
using System.Globalization;
using OtlpBench;

// Usage: OtlpBench [--seconds 10] [--concurrency 4] [--runs 3] [--max-requests 50000]
// Each run is a fresh child process (so RSS is its own); the parent prints the medians as a markdown table.
var options = BenchOptions.Parse(args);
if (options.Single)
{
    var result = await IngestRun.RunAsync(options);
    Console.WriteLine(result.ToLine());
    return 0;
}

Console.WriteLine($"OTLP ingest: {options.Seconds} s per run, {options.Concurrency} concurrent posters, {IngestRun.SpansPerBatch} spans per request, {options.Runs} runs");
var results = new List<RunResult>();
for (var run = 1; run <= options.Runs; run++)
{
    var start = new ProcessStartInfo(Environment.ProcessPath!)
    {
        ArgumentList = { "--single", "--seconds", options.Seconds.ToString(CultureInfo.InvariantCulture),
            "--concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture), "--max-requests", options.MaxRequests.ToString(CultureInfo.InvariantCulture) },
        RedirectStandardOutput = true,
    };
    if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
    {
        start.ArgumentList.Insert(0, typeof(Program).Assembly.Location);
    }
    using var child = Process.Start(start)!;
    var output = await child.StandardOutput.ReadToEndAsync();
    await child.WaitForExitAsync();
    var result = RunResult.Parse(output.Trim().Split('\n')[^1]);
    Console.WriteLine($"run {run}: {result.SpansPerSecond:N0} spans/s, {result.Requests:N0} requests, peak RSS {result.PeakRssMiB:N0} MiB, end RSS {result.EndRssMiB:N0} MiB, held {result.HeldSpans:N0} spans / {result.HeldTraces:N0} traces");
    results.Add(result);
}


Console.WriteLine();
Console.WriteLine("| posters | runs | median spans/s | runs (spans/s) | median peak RSS (MiB) | median end RSS (MiB) | held spans / traces at end |");
Console.WriteLine("|---|---|---|---|---|---|---|");
var last = results[^1];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {options.Concurrency} | {results.Count} | {Median(results.Select(r => r.SpansPerSecond)):N0} | {string.Join(", ", results.Select(r => r.SpansPerSecond.ToString("N0", CultureInfo.InvariantCulture)))} | {Median(results.Select(r => r.PeakRssMiB)):N0} | {Median(results.Select(r => r.EndRssMiB)):N0} | {last.HeldSpans:N0} / {last.HeldTraces:N0} |"));
return 0;
