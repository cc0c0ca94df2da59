using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Hosting.Servers;

/// <summary>What a server launcher knows about one start of its server.</summary>
internal sealed class ServerContext
{
    public required ServerResource Resource { get; init; }

    /// <summary>Where the server keeps its data (a volume when durable, else in the session directory).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where generated configuration files go; private to this start.</summary>
    public required string ConfigDirectory { get; init; }

    public required int Port { get; init; }
    public required string Password { get; init; }

    /// <summary>True for data volumes and persistent servers: keep fsync on, keep data.</summary>
    public required bool Durable { get; init; }

    /// <summary>Gives further loopback ports (RabbitMQ's distribution and epmd ports).</summary>
    public required Func<int> AllocatePort { get; init; }

    public required Action<string> Log { get; init; }

    /// <summary>Run server processes as this system user (postgres refuses root).</summary>
    public string? RunAsUser { get; init; }
}

/// <summary>Starts one kind of backing server from the machine's installed binaries.</summary>
internal interface ILocalServer
{
    /// <summary>The Debian package that provides the binaries.</summary>
    string DebianPackage { get; }

    /// <summary>Finds the binaries; throws <see cref="MissingServerBinaryException"/> naming the package when they are missing.</summary>
    void LocateBinaries(string resourceName);

    /// <summary>The signal that stops the server promptly and cleanly (SIGTERM unless the server says otherwise).</summary>
    int StopSignal => Native.SigTerm;

    /// <summary>A system user to run as when the AppHost runs as root, or null.</summary>
    string? RootRunAsUser => null;

    /// <summary>Initialises the data directory if needed, writes configuration and returns the processes to start, in order.</summary>
    Task<IReadOnlyList<ProcessSpec>> PrepareAsync(ServerContext context, CancellationToken cancellationToken);

    /// <summary>One readiness probe with the real client protocol; throws with the reason when not ready.</summary>
    Task ProbeAsync(string connectionString, CancellationToken cancellationToken);

    /// <summary>Work after the first successful probe, such as creating databases.</summary>
    Task OnReadyAsync(ServerContext context, string connectionString, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A backing server cannot start because its binary is not installed.</summary>
internal sealed class MissingServerBinaryException(string resourceName, string binary, string debianPackage)
    : Exception(
        $"Resource '{resourceName}' needs {binary}, which is not installed. Install the Debian package '{debianPackage}': " +
        $"sudo apt-get install -y {debianPackage} (the README's run command does this for you).")
{
    public string DebianPackage { get; } = debianPackage;
}

internal static class Binaries
{
    /// <summary>The first existing path of <paramref name="candidates"/>, or the program found on PATH.</summary>
    public static string? Find(string? program, params string[] candidates)
    {
        foreach (var c in candidates)
        {
            if (File.Exists(c))
            {
                return c;
            }
        }
        if (program is null)
        {
            return null;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, program);
            if (File.Exists(p))
            {
                return p;
            }
        }
        return null;
    }

    /// <summary>Runs a short command to completion, throwing its output when it fails.</summary>
    public static async Task RunAsync(ProcessSpec spec, string what, CancellationToken cancellationToken)
    {
        var output = new System.Text.StringBuilder();
        await using var process = ManagedProcess.Start(spec, (line, _) => { lock (output) { output.AppendLine(line); } });
        using var registration = cancellationToken.Register(() => process.Signal(9));
        var code = await process.Exited.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (code != 0)
        {
            throw new DistributedApplicationException($"{what} failed with exit code {code}:{Environment.NewLine}{output}");
        }
    }

    public static void WritePrivateFile(string path, string contents, string? owner = null)
    {
        File.WriteAllText(path, contents);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        if (owner is not null)
        {
            Chown(path, owner);
        }
    }

    public static void Chown(string path, string owner)
    {
        using var p = System.Diagnostics.Process.Start("chown", ["-R", $"{owner}:{owner}", path]);
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new DistributedApplicationException($"chown {owner} {path} failed with exit code {p.ExitCode}.");
        }
    }
}
