using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

// Starts the built AppHost N times and times it from process start until it reports every resource healthy.
//   cold: a fresh data directory each run (initdb, fresh RabbitMQ node);
//   warm: HomeIQ__PersistentServers=true, after one unmeasured run that leaves the servers running.
// Peak RSS is the largest sum of VmRSS over the AppHost and every process it started, sampled every 50 ms.
// Usage: dotnet run -c Release --project bench/StartupBench -- [--runs 5] [--apphost path/to/HomeIQ.AppHost.dll]
var runs = ArgValue("--runs") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : 5;
var appHost = Path.GetFullPath(ArgValue("--apphost") ?? Path.Combine(RepoRoot(), "HomeIQ.AppHost", "bin", "Release", "net10.0", "HomeIQ.AppHost.dll"));
if (!File.Exists(appHost))
{
    Console.Error.WriteLine($"{appHost} not found; build it first: dotnet build -c Release HomeIQ.AppHost");
    return 1;
}

var cold = new List<Sample>();
for (var i = 0; i < runs; i++)
{
    var dir = TempDir();
    try
    {
        cold.Add(await RunOnceAsync(appHost, dir, persistent: false));
        Console.WriteLine($"cold {i + 1}/{runs}: {cold[^1]}");
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

var warm = new List<Sample>();
var warmDir = TempDir();
try
{
    Console.WriteLine($"warm-up (unmeasured): {await RunOnceAsync(appHost, warmDir, persistent: true)}");
    for (var i = 0; i < runs; i++)
    {
        warm.Add(await RunOnceAsync(appHost, warmDir, persistent: true));
        Console.WriteLine($"warm {i + 1}/{runs}: {warm[^1]}");
    }
}
finally
{
    StopPersistentServers(warmDir);
    Directory.Delete(warmDir, recursive: true);
}

Console.WriteLine();
Console.WriteLine("| start | runs | median to healthy (s) | min | max | median peak RSS of the tree (MiB) |");
Console.WriteLine("|---|---|---|---|---|---|");
Console.WriteLine(Row("cold (fresh data)", cold));
Console.WriteLine(Row("warm (persistent servers)", warm));
Console.WriteLine(FormattableString.Invariant($"\nwarm/cold ratio of medians: {Median(warm.Select(s => s.Seconds)) / Median(cold.Select(s => s.Seconds)):F2}"));
return 0;

static async Task<Sample> RunOnceAsync(string appHost, string dataDir, bool persistent)
{
    var psi = new ProcessStartInfo("dotnet", [appHost])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        WorkingDirectory = Path.GetDirectoryName(appHost)!,
        Environment = { ["AppHost__DataDirectory"] = dataDir, ["HomeIQ__PersistentServers"] = persistent ? "true" : "false", ["NO_COLOR"] = "1" },
    };
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(psi)!;
    var healthy = new TaskCompletionSource<double>();
    var failed = new TaskCompletionSource<string>();
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data is null)
        {
            return;
        }
        if (Regex.Match(e.Data, @"All \d+ resources are healthy after ([\d.]+)s") is { Success: true } m)
        {
            healthy.TrySetResult(clock.Elapsed.TotalSeconds);
        }
        else if (e.Data.Contains("failed to start", StringComparison.Ordinal))
        {
            failed.TrySetResult(e.Data);
        }
    };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();

    long peak = 0;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            peak = Math.Max(peak, TreeRss(process.Id));
            await Task.Delay(50).ConfigureAwait(false);
        }
    });
    var done = await Task.WhenAny(healthy.Task, failed.Task.ContinueWith(_ => -1.0), Task.Delay(TimeSpan.FromSeconds(120)).ContinueWith(_ => -2.0));
    var seconds = await done;
    await Task.Delay(1000); // keep sampling just after start-up, when the services settle
    await sampling.CancelAsync();
    await sampler;
    _ = Kill(process.Id, 15); // SIGTERM, as a service manager would; Ctrl+C takes the same path
    var stopClock = Stopwatch.StartNew();
    if (!process.WaitForExit(30_000))
    {
        process.Kill(entireProcessTree: true);
    }
    if (seconds < 0)
    {
        throw new InvalidOperationException(seconds == -1 ? $"the AppHost reported a failure: {failed.Task.Result}" : "the AppHost did not become healthy within 120 s");
    }
    return new Sample(seconds, peak / 1024.0 / 1024.0, stopClock.Elapsed.TotalSeconds);
}

static long TreeRss(int root)
{
    var children = new Dictionary<int, List<int>>();
    foreach (var dir in Directory.GetDirectories("/proc"))
    {
        if (int.TryParse(Path.GetFileName(dir), out var pid) && TryRead($"{dir}/stat") is { } stat)
        {
            var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            (children.TryGetValue(ppid, out var list) ? list : children[ppid] = []).Add(pid);
        }
    }
    long total = 0;
    var stack = new Stack<int>([root]);
    while (stack.TryPop(out var pid))
    {
        var rss = TryRead($"/proc/{pid}/status")?.Split('\n').FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        if (rss is not null)
        {
            total += long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        foreach (var child in children.GetValueOrDefault(pid) ?? [])
        {
            stack.Push(child);
        }
    }
    return total;
}

// The warm runs left persistent servers running; the benchmark started them, so it stops them by the PIDs their state files record.
static void StopPersistentServers(string dataDir)
{
    foreach (var state in Directory.EnumerateFiles(dataDir, "*.state.json", SearchOption.AllDirectories))
    {
        foreach (Match m in Regex.Matches(File.ReadAllText(state), "\"Pid\":(\\d+)"))
        {
            var pid = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
            }
        }
    }
}

static string? TryRead(string path)
{
    try
    {
        return File.ReadAllText(path);
    }
    catch (IOException)
    {
        return null;
    }
    catch (UnauthorizedAccessException)
    {
        return null;
    }
}

static string TempDir() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "homeiq-bench-" + Guid.NewGuid().ToString("N")[..8])).FullName;


static string Row(string name, List<Sample> samples) => FormattableString.Invariant(
    $"| {name} | {samples.Count} | {Median(samples.Select(s => s.Seconds)):F2} | {samples.Min(s => s.Seconds):F2} | {samples.Max(s => s.Seconds):F2} | {Median(samples.Select(s => s.PeakMiB)):F0} |");

static string? ArgValue(string name)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string RepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomeIQ.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? Environment.CurrentDirectory;
}

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
#pragma warning disable SYSLIB1054
static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054

internal sealed record Sample(double Seconds, double PeakMiB, double StopSeconds)
{
    public override string ToString() => FormattableString.Invariant($"{Seconds:F2}s to healthy, peak RSS {PeakMiB:F0} MiB, stopped in {StopSeconds:F1}s");
}
