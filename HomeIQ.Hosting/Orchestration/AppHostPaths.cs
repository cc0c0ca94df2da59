using System.Security.Cryptography;
using System.Text;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// Where an AppHost keeps its data:
/// <c>{root}/{apphost}-{hash}/sessions/{run}</c> for session data (removed on exit),
/// <c>…/volumes/{name}</c> for data volumes and persistent resources, and <c>…/secrets.json</c> for generated passwords.
/// An isolated run (the testing builder's default) keeps everything, volumes included, inside its session directory,
/// so parallel test runs never share data and disposal leaves nothing behind.
/// </summary>
internal sealed class AppHostPaths
{
    public AppHostPaths(string root, string appHostName, string appHostDirectory, bool isolated = false)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(appHostDirectory)))[..8];
        Root = root;
        AppHostRoot = Path.Combine(root, $"{appHostName.ToLowerInvariant()}-{hash}");
        SessionsRoot = isolated ? AppHostRoot : Path.Combine(AppHostRoot, "sessions");
        SessionDirectory = Path.Combine(SessionsRoot, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        VolumesDirectory = Path.Combine(isolated ? SessionDirectory : AppHostRoot, "volumes");
        SecretsFile = Path.Combine(AppHostRoot, "secrets.json");
        IsIsolated = isolated;
    }

    public bool IsIsolated { get; }

    public string Root { get; }
    public string AppHostRoot { get; }
    public string SessionsRoot { get; }
    public string SessionDirectory { get; }
    public string VolumesDirectory { get; }
    public string SecretsFile { get; }

    /// <summary>The default data root: /var/lib/homeiq for root, else $XDG_DATA_HOME/homeiq (~/.local/share/homeiq).</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("HOMEIQ_DATA_DIR") is { Length: > 0 } configured)
        {
            return configured;
        }
        if (Environment.UserName == "root")
        {
            return "/var/lib/homeiq";
        }
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share") : xdg, "homeiq");
    }

    /// <summary>The data root used by the testing builder, shared by all test runs so stale sessions can be swept.</summary>
    public static string TestingRoot() => Path.Combine(Path.GetTempPath(), "homeiq-tests");

    /// <summary>Creates a directory that other local users (the postgres user) may traverse but not list.</summary>
    public static string EnsureDirectory(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
        return path;
    }

    /// <summary>Creates the directories from the root down to <paramref name="path"/>, each traversable.</summary>
    public void EnsureTree(string path)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetFullPath(Root);
        EnsureDirectory(current);
        foreach (var part in Path.GetRelativePath(current, full).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = EnsureDirectory(Path.Combine(current, part));
        }
    }
}
