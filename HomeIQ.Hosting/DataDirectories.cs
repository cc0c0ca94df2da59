using System.Globalization;

namespace HomeIQ.Hosting;

/// <summary>
/// Where local servers keep data: <c>{root}/volumes/{volume}</c> for data volumes (kept across runs), and
/// <c>{root}/sessions/{run}</c> for everything else (removed when the AppHost stops, or by the next run if it was killed).
/// </summary>
internal sealed class DataDirectories
{
    public DataDirectories(string? configuredRoot)
    {
        Root = configuredRoot is { Length: > 0 } ? Path.GetFullPath(configuredRoot) : DefaultRoot();
        Session = Path.Combine(Root, "sessions", $"{Environment.ProcessId}-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}");
    }

    public string Root { get; }

    public string Session { get; }

    public string Volume(string name) => Path.Combine(Root, "volumes", name);

    /// <summary>The default root: <c>/var/lib/homeiq</c> for root, else <c>$XDG_DATA_HOME/homeiq</c> (<c>~/.local/share/homeiq</c>).</summary>
    private static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("HOMEIQ_DATA_DIR") is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }
        if (Environment.UserName == "root")
        {
            return "/var/lib/homeiq";
        }
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share") : xdg, "homeiq");
    }

    /// <summary>Creates <paramref name="path"/> and its parents below the root, each traversable by other users (the postgres user) but not listable.</summary>
    public string Ensure(string path)
    {
        var current = Root;
        CreateTraversable(current);
        foreach (var part in Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            CreateTraversable(current);
        }
        return path;
    }

    private static void CreateTraversable(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>Removes session directories of runs whose AppHost is gone (killed before it could clean up).</summary>
    public void SweepStaleSessions()
    {
        var sessions = Path.Combine(Root, "sessions");
        if (!Directory.Exists(sessions))
        {
            return;
        }
        foreach (var dir in Directory.GetDirectories(sessions))
        {
            var name = Path.GetFileName(dir);
            var pidText = name.Split('-')[0];
            if (int.TryParse(pidText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId && !IsAlive(pid))
            {
                TryDelete(dir);
            }
        }
    }

    public void RemoveSession() => TryDelete(Session);

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A server may still be writing its last files; the next run sweeps what is left.
        }
    }
}
