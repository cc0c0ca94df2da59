using System.Text.Json;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// A file in the session directory naming the AppHost process and every process it started.
/// If an AppHost is killed without cleaning up, the next AppHost with the same data root stops
/// those processes (only if they are still the ones it recorded) and removes the directory.
/// </summary>
internal sealed class SessionRecord(string directory)
{
    private const string FileName = "session.json";
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string> _processes = [];

    public string Directory { get; } = directory;

    public void Add(int pid)
    {
        lock (_gate)
        {
            _processes[pid] = StartTimeOf(pid) ?? "";
            Save();
        }
    }

    public void Remove(int pid)
    {
        lock (_gate)
        {
            if (_processes.Remove(pid))
            {
                Save();
            }
        }
    }

    private void Save()
    {
        var record = new Record(Environment.ProcessId, StartTimeOf(Environment.ProcessId) ?? "", _processes);
        // Written to a temporary file and renamed, so a kill mid-write never leaves a torn record.
        var path = Path.Combine(Directory, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(record));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Stops what dead AppHosts left behind under <paramref name="sessionsRoot"/> and removes their directories.</summary>
    public static int SweepStale(string sessionsRoot, Action<string> log)
    {
        if (!System.IO.Directory.Exists(sessionsRoot))
        {
            return 0;
        }
        var swept = 0;
        foreach (var dir in System.IO.Directory.GetDirectories(sessionsRoot))
        {
            var file = Path.Combine(dir, FileName);
            Record? record = null;
            try
            {
                record = File.Exists(file) ? JsonSerializer.Deserialize<Record>(File.ReadAllText(file)) : null;
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
            }
            if (record is null)
            {
                // A session directory without its record is younger than a second or broken; leave fresh ones alone.
                if (System.IO.Directory.GetCreationTimeUtc(dir) > DateTime.UtcNow.AddMinutes(-10))
                {
                    continue;
                }
            }
            else if (IsSameProcess(record.AppHostPid, record.AppHostStart))
            {
                continue;
            }
            foreach (var (pid, start) in record?.Processes ?? [])
            {
                if (IsSameProcess(pid, start))
                {
                    log($"stopping process {pid} left by a previous AppHost that did not shut down");
                    _ = Native.Kill(-pid, Native.SigKill);
                    _ = Native.Kill(pid, Native.SigKill);
                }
            }
            try
            {
                System.IO.Directory.Delete(dir, recursive: true);
                swept++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                log($"could not remove stale session directory {dir}: {ex.Message}");
            }
        }
        return swept;
    }

    /// <summary>The process start time from /proc, which tells a live process from a recycled PID.</summary>
    public static string? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public static bool IsSameProcess(int pid, string start) => ManagedProcess.IsAlive(pid) && StartTimeOf(pid) == start;

    private sealed record Record(int AppHostPid, string AppHostStart, Dictionary<int, string> Processes);
}
