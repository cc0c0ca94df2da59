using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Servers;

/// <summary>One start of a local server: where it keeps data and configuration, its port and password.</summary>
internal sealed class ServerContext
{
    public required IResource Resource { get; init; }

    /// <summary>Where the server keeps its data: the data volume's directory, or one in the session directory.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Generated configuration files (some hold the password): private to this run.</summary>
    public required string ConfigDirectory { get; init; }

    public required int Port { get; init; }

    /// <summary>True for data volumes: keep fsync on and the data across runs.</summary>
    public required bool Durable { get; init; }

    /// <summary>A system user to run the server as (postgres refuses root), or null.</summary>
    public string? RunAsUser { get; init; }

    /// <summary>Further loopback ports the server needs (RabbitMQ's distribution and epmd ports).</summary>
    public Dictionary<string, int> ExtraPorts { get; } = [];
}

/// <summary>A process DCP runs for a local server: the server itself or a helper it needs first.</summary>
internal sealed record ServerProcess(string Name, string Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory);

/// <summary>Starts one kind of backing server from the machine's installed binaries.</summary>
internal abstract class LocalServer
{
    /// <summary>The Debian package that provides the binaries.</summary>
    public abstract string DebianPackage { get; }

    /// <summary>A system user to run as when the AppHost runs as root, or null.</summary>
    public virtual string? RootRunAsUser => null;

    /// <summary>
    /// True when the container's arguments are the server's own options, so the local server takes them too (after its own):
    /// the postgres image runs <c>postgres</c> with arguments such as <c>-c name=value</c>. Other images' arguments are a shell
    /// command line of the image's own, with nothing for a local process.
    /// </summary>
    public virtual bool TakesContainerArgs => false;

    /// <summary>
    /// Finds the binaries below <paramref name="root"/> (<c>/</c> unless <c>HomeIQ:BinaryRoot</c> says otherwise); throws
    /// <see cref="MissingServerBinaryException"/> naming the package when one is missing.
    /// </summary>
    public abstract void LocateBinaries(string resourceName, string root);

    /// <summary>Allocates any further ports into <see cref="ServerContext.ExtraPorts"/>.</summary>
    public virtual void AllocatePorts(ServerContext context)
    {
    }

    /// <summary>The processes to run, in order; the last is the server.</summary>
    public abstract IReadOnlyList<ServerProcess> Processes(ServerContext context);

    /// <summary>Before each start of the server process: initialise data, write configuration with the password.</summary>
    public abstract Task PrepareAsync(ServerContext context, string password, Action<string> log, CancellationToken cancellationToken);

    /// <summary>The command line that runs <paramref name="command"/> as <see cref="ServerContext.RunAsUser"/> (setpriv execs, so the PID is the server's).</summary>
    protected static (string Command, IReadOnlyList<string> Args) AsUser(ServerContext context, string command, IEnumerable<string> args) =>
        context.RunAsUser is null
            ? (command, [.. args])
            : ("setpriv", [$"--reuid={context.RunAsUser}", $"--regid={context.RunAsUser}", "--init-groups", "--", command, .. args]);
}

/// <summary>A backing server cannot start because its binary is not installed.</summary>
internal sealed class MissingServerBinaryException(string resourceName, string binary, string debianPackage)
    : DistributedApplicationException(
        $"Resource '{resourceName}' needs {binary}, which is not installed. Install the Debian package '{debianPackage}': " +
        $"sudo apt-get install -y {debianPackage} (the README's run command does this for you).");

internal static class Binaries
{
    /// <summary>The first existing path of <paramref name="candidates"/> below <paramref name="root"/>, or <paramref name="program"/> found on PATH.</summary>
    public static string? Find(string root, string? program, params string[] candidates)
    {
        var onPath = program is null || root != "/"
            ? []
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, program));
        return candidates.Select(c => Path.Join(root, c)).Concat(onPath).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a short command to completion, throwing with its output when it fails.</summary>
    public static async Task RunAsync(string command, IEnumerable<string> args, string what, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi) ?? throw new DistributedApplicationException($"{what} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException($"{what} failed with exit code {process.ExitCode}:{Environment.NewLine}{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }

    /// <summary>Writes a file only its owner can read (it may hold a password).</summary>
    public static void WritePrivateFile(string path, string contents, string? owner = null)
    {
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.WriteAllText(path, contents);
        if (owner is not null)
        {
            Chown(path, owner);
        }
    }

    public static void Chown(string path, string owner)
    {
        using var p = Process.Start("chown", ["-R", $"{owner}:{owner}", path]);
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new DistributedApplicationException($"chown {owner} {path} failed with exit code {p.ExitCode}.");
        }
    }
}
