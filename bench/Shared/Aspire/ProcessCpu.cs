using System.Diagnostics;
using System.Globalization;

namespace HomeIQ.Bench;

/// <summary>
/// CPU per resource, from /proc: the process DCP started for each running instance (its <c>executable.pid</c>) and everything under it
/// (for a project, <c>dotnet run</c> and the service; for a local server, the server and its children), the replicas of a resource together.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>The root process of each running instance, grouped by resource name.</summary>
    public static async Task<Dictionary<string, HashSet<int>>> ProcessesByResourceAsync(DistributedApplication app)
    {
        var latest = new Dictionary<string, ResourceEvent>();
        // WatchAsync first replays the current state of every instance, then waits for changes.
        using var replayed = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            await foreach (var e in app.ResourceNotifications.WatchAsync(replayed.Token))
            {
                latest[e.ResourceId] = e;
            }
        }
        catch (OperationCanceledException)
        {
        }
        var result = new Dictionary<string, HashSet<int>>();
        foreach (var e in latest.Values)
        {
            int? pid = e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
            {
                int value => value,
                long value => (int)value,
                string text when int.TryParse(text, CultureInfo.InvariantCulture, out var value) => value,
                _ => null,
            };
            if (pid is { } found && e.Snapshot.State?.Text == KnownResourceStates.Running)
            {
                (result.TryGetValue(e.Resource.Name, out var pids) ? pids : result[e.Resource.Name] = []).Add(found);
            }
        }
        return result;
    }

    /// <summary>Every process's parent and CPU seconds so far (user + system).</summary>
    public static (Dictionary<int, int> Parents, Dictionary<int, double> CpuSeconds) Snapshot()
    {
        var parents = new Dictionary<int, int>();
        var cpu = new Dictionary<int, double>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var fields = File.ReadAllText(Path.Combine(dir, "stat")).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                cpu[pid] = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
            }
        }
        return (parents, cpu);
    }

    /// <summary>Whether <paramref name="pid"/> is one of <paramref name="roots"/> or under one (within 10 generations).</summary>
    public static bool IsUnder(int pid, HashSet<int> roots, Dictionary<int, int> parents)
    {
        for (var hops = 0; hops < 10 && pid > 1; hops++)
        {
            if (roots.Contains(pid))
            {
                return true;
            }
            pid = parents.GetValueOrDefault(pid);
        }
        return false;
    }

    /// <summary>CPU seconds so far of each resource's process trees, and of this process as "load generator".</summary>
    public static Dictionary<string, double> ByResource(Dictionary<string, HashSet<int>> roots)
    {
        var (parents, cpu) = Snapshot();
        var result = new Dictionary<string, double>();
        foreach (var (resource, pids) in roots)
        {
            result[resource] = cpu.Where(p => IsUnder(p.Key, pids, parents)).Sum(p => p.Value);
        }
        result["load generator"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        return result;
    }
}
