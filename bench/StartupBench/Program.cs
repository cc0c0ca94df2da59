using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

// Starts the built AppHost N times and times it from process start until it logs that every resource is running and healthy.
//   cold: a fresh data directory each run (initdb, a fresh RabbitMQ node);
//   warm: the data directory of the run before (Postgres's data volume already initialised; build outputs and disk caches warm).
// Peak RSS is the largest sum of VmRSS over the AppHost, DCP and every process either started, sampled every 50 ms until one second
// after healthy. Each run is stopped with SIGTERM, and the next starts only when every process of the run is gone.
// Usage: dotnet run -c Release --project bench/StartupBench -- [--runs 5] [--timeout 300] [--apphost path/to/HomeIQ.AppHost(.dll)]
var runs = Arg("--runs", 5);
var timeout = TimeSpan.FromSeconds(Arg("--timeout", 300));
var appHost = Path.GetFullPath(ArgValue("--apphost") ?? Path.Combine(RepoRoot(), "HomeIQ.AppHost", "bin", "Release", "net10.0", "HomeIQ.AppHost"));
if (!File.Exists(appHost))
{
    Console.Error.WriteLine($"{appHost} not found; build it first: dotnet build -c Release HomeIQ.AppHost");
    return 1;
}
Console.WriteLine($"AppHost: {appHost}");

var cold = new List<Sample>();
var warm = new List<Sample>();
string? dataDir = null;
try
{
    for (var i = 0; i < runs; i++)
    {
        DeleteDataDir(dataDir);
        dataDir = TempDir();
        cold.Add(await RunOnceAsync(appHost, dataDir, timeout));
        Console.WriteLine($"cold {i + 1}/{runs}: {cold[^1]}");
    }
    // The last cold run's data directory is the first warm run's.
    for (var i = 0; i < runs; i++)
    {
        warm.Add(await RunOnceAsync(appHost, dataDir!, timeout));
        Console.WriteLine($"warm {i + 1}/{runs}: {warm[^1]}");
    }
}
finally
{
    DeleteDataDir(dataDir);
}

Console.WriteLine();
Console.WriteLine("| start | runs | median to healthy (s) | min | max | median peak RSS of the tree (MiB) |");
Console.WriteLine("|---|---|---|---|---|---|");
Console.WriteLine(Row("cold (fresh data directory)", cold));
Console.WriteLine(Row("warm (same data directory)", warm));
Console.WriteLine(FormattableString.Invariant($"\nwarm/cold ratio of medians: {Median(warm.Select(s => s.Seconds)) / Median(cold.Select(s => s.Seconds)):F2}"));
Console.WriteLine(FormattableString.Invariant($"resources reported healthy: {string.Join(", ", cold.Concat(warm).Select(s => s.Resources).Distinct())}; median stop (SIGTERM until every process is gone): {Median(cold.Concat(warm).Select(s => s.StopSeconds)):F1} s"));
return 0;

static async Task<Sample> RunOnceAsync(string appHost, string dataDir, TimeSpan timeout)
{
    // Outside `dotnet run` there is no launch profile: the dashboard's and the resource service's addresses come from here.
    var psi = appHost.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ProcessStartInfo("dotnet", [appHost]) : new ProcessStartInfo(appHost);
    psi.RedirectStandardOutput = true;
    psi.RedirectStandardError = true;
    psi.WorkingDirectory = Path.GetDirectoryName(appHost)!;
    psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}";
    psi.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
    psi.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}";
    psi.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
    psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
    psi.Environment["DcpPublisher__RandomizePorts"] = "true";
    psi.Environment["HomeIQ__DataDirectory"] = dataDir;
    psi.Environment["NO_COLOR"] = "1";

    var clock = Stopwatch.StartNew();
    using var process = Process.Start(psi)!;
    var healthy = new TaskCompletionSource<(double Seconds, int Resources)>(TaskCreationOptions.RunContinuationsAsynchronously);
    var lastLines = new Queue<string>();
    void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (lastLines)
        {
            lastLines.Enqueue(line);
            if (lastLines.Count > 20)
            {
                lastLines.Dequeue();
            }
        }
        // Logged once by HomeIQ.Hosting's ReadyReporter.
        if (Regex.Match(line, @"All (\d+) resources are running and healthy") is { Success: true } m)
        {
            healthy.TrySetResult((clock.Elapsed.TotalSeconds, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        }
    }
    process.OutputDataReceived += (_, e) => OnLine(e.Data);
    process.ErrorDataReceived += (_, e) => OnLine(e.Data);
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();

    var tree = new RunTree(process.Id);
    long peak = 0;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            peak = Math.Max(peak, tree.Refresh().Sum(Rss));
            await Task.Delay(50).ConfigureAwait(false);
        }
    });

    var outcome = await Task.WhenAny(healthy.Task, process.WaitForExitAsync(), Task.Delay(timeout));
    if (outcome == healthy.Task)
    {
        await Task.Delay(1000); // keep sampling just after start-up, when the services settle
    }
    await sampling.CancelAsync();
    await sampler;

    var stopped = await StopAsync(process, tree);
    if (outcome != healthy.Task)
    {
        string tail;
        lock (lastLines)
        {
            tail = string.Join(Environment.NewLine, lastLines);
        }
        throw new InvalidOperationException(
            (process.HasExited ? $"the AppHost exited with code {process.ExitCode} before every resource was healthy" : $"the AppHost did not report every resource healthy within {timeout.TotalSeconds:F0} s")
            + $"; its last output:{Environment.NewLine}{tail}");
    }
    var (seconds, resources) = await healthy.Task;
    return new Sample(seconds, peak / 1024.0 / 1024.0, stopped, resources);
}

// SIGTERM to the AppHost, as a service manager (or Ctrl+C) stops it; then waits until every process of the run has gone, at most 60 s.
// Returns the seconds that took.
static async Task<double> StopAsync(Process process, RunTree tree)
{
    var clock = Stopwatch.StartNew();
    tree.Refresh();
    if (!process.HasExited)
    {
        _ = Kill(process.Id, 15);
    }
    while (clock.Elapsed < TimeSpan.FromSeconds(60))
    {
        tree.Refresh(); // processes started while stopping count too
        if (process.HasExited && tree.Alive().Count == 0)
        {
            return clock.Elapsed.TotalSeconds;
        }
        await Task.Delay(100);
    }
    // The benchmark started these: it must not leave them behind for the next run.
    var left = tree.Alive();
    Console.WriteLine($"warning: 60 s after SIGTERM still running, now killed: {string.Join(", ", left.Select(p => $"{p.Pid} ({Comm(p.Pid)})"))}");
    foreach (var (pid, _) in left)
    {
        _ = Kill(pid, 9);
    }
    if (!process.HasExited)
    {
        process.Kill();
    }
    await process.WaitForExitAsync();
    return clock.Elapsed.TotalSeconds;
}

static long Rss(int pid)
{
    var rss = TryRead($"/proc/{pid}/status")?.Split('\n').FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return rss is null ? 0 : long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

static string Comm(int pid) => TryRead($"/proc/{pid}/comm")?.Trim() ?? "?";

static string? TryRead(string path)
{
    try
    {
        return File.ReadAllText(path);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
    {
        return null;
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string TempDir() => Path.Combine(Path.GetTempPath(), "homeiq-startupbench-" + Guid.NewGuid().ToString("N")[..8]);

static void DeleteDataDir(string? dir)
{
    if (dir is not null && Directory.Exists(dir))
    {
        Directory.Delete(dir, recursive: true);
    }
}

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

internal sealed record Sample(double Seconds, double PeakMiB, double StopSeconds, int Resources)
{
    public override string ToString() =>
        FormattableString.Invariant($"{Seconds:F2}s until all {Resources} resources healthy, peak RSS {PeakMiB:F0} MiB, stopped in {StopSeconds:F1}s");
}

/// <summary>
/// Every process of one AppHost run: the AppHost, the DCP processes watching it, and all their descendants. DCP runs detached (its
/// parent is init) with <c>--monitor {AppHost pid}</c>, so it is found by that argument. Each process is remembered with its start
/// time, so one that is orphaned while stopping is still waited for, and a reused pid is not mistaken for it.
/// </summary>
internal sealed class RunTree(int appHost)
{
    private readonly HashSet<(int Pid, long Start)> _seen = [];
    private readonly HashSet<(int Pid, long Start)> _monitors = [];
    // Command lines already read, by process and program (a fork reads as its parent until it execs).
    private readonly HashSet<(int Pid, long Start, string Comm)> _checked = [];

    /// <summary>Scans /proc, remembers the run's processes and returns the pids of those running now.</summary>
    public List<int> Refresh()
    {
        var stats = new Dictionary<int, Stat>();
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(pid) is { } stat)
            {
                stats[pid] = stat;
                (children.TryGetValue(stat.Parent, out var list) ? list : children[stat.Parent] = []).Add(pid);
                if (_checked.Add((pid, stat.Start, stat.Comm)) && CommandLine(pid).Contains($"--monitor {appHost}", StringComparison.Ordinal))
                {
                    _monitors.Add((pid, stat.Start));
                }
            }
        }
        var running = new HashSet<int>();
        var stack = new Stack<int>(_monitors.Where(m => stats.TryGetValue(m.Pid, out var s) && s.Start == m.Start).Select(m => m.Pid).Append(appHost));
        while (stack.TryPop(out var pid))
        {
            if (!stats.TryGetValue(pid, out var stat) || !running.Add(pid))
            {
                continue;
            }
            _seen.Add((pid, stat.Start));
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                stack.Push(child);
            }
        }
        return [.. running];
    }

    /// <summary>The remembered processes that are still running (zombies count as gone).</summary>
    public List<(int Pid, long Start)> Alive() => [.. _seen.Where(p => Read(p.Pid) is { } stat && stat.Start == p.Start && stat.State != 'Z')];

    private readonly record struct Stat(int Parent, long Start, char State, string Comm);

    private static Stat? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            return new Stat(int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[19], CultureInfo.InvariantCulture), fields[0][0],
                stat[(stat.IndexOf('(') + 1)..close]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
