using System.Globalization;
using Aspire.Hosting;

namespace HomeIQ.Hosting.Servers;

/// <summary>PostgreSQL from the Debian <c>postgresql</c> package: initdb on first start, then postgres on loopback.</summary>
internal sealed class PostgresLocalServer : LocalServer
{
    private string _binDirectory = "";

    public override string DebianPackage => "postgresql";

    public override string? RootRunAsUser => "postgres";

    public override bool TakesContainerArgs => true;

    public override void LocateBinaries(string resourceName, string root) =>
        _binDirectory = FindBinDirectory(Path.Join(root, "usr/lib/postgresql")) ?? throw new MissingServerBinaryException(resourceName, "PostgreSQL (initdb and postgres)", DebianPackage);

    /// <summary>The newest /usr/lib/postgresql/N/bin that has both initdb and postgres.</summary>
    private static string? FindBinDirectory(string root)
    {
        return !Directory.Exists(root)
            ? null
            : Directory.GetDirectories(root)
                .Select(d => (dir: Path.Combine(d, "bin"), version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(x => File.Exists(Path.Combine(x.dir, "postgres")) && File.Exists(Path.Combine(x.dir, "initdb")))
                .OrderByDescending(x => x.version)
                .Select(x => x.dir)
                .FirstOrDefault();
    }

    public override IReadOnlyList<ServerProcess> Processes(ServerContext context)
    {
        List<string> args =
        [
            "-D", context.DataDirectory, "-p", context.Port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-k", context.ConfigDirectory, "-c", "max_connections=300",
        ];
        if (!context.Durable)
        {
            // Session data is thrown away at the end of the run: trade durability for start-up and test speed.
            args.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        var (command, commandArgs) = AsUser(context, Path.Combine(_binDirectory, "postgres"), args);
        return [new ServerProcess(context.Resource.Name, command, commandArgs, new Dictionary<string, string>(), "/")];
    }

    public override async Task PrepareAsync(ServerContext context, string password, Action<string> log, CancellationToken cancellationToken)
    {
        var data = context.DataDirectory;
        if (context.RunAsUser is not null)
        {
            Binaries.Chown(context.ConfigDirectory, context.RunAsUser);
        }
        RemoveStaleLockFile(data, log);
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            return;
        }
        if (Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data).Any())
        {
            throw new DistributedApplicationException($"{data} is not empty but holds no PostgreSQL data directory (no PG_VERSION); move it away or choose another volume.");
        }
        // initdb works in a staging directory that is renamed into place when complete: an AppHost killed mid-initdb leaves
        // no half-made data directory behind, only a staging one that the next start replaces.
        var staging = data.TrimEnd('/') + ".initdb";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        log($"initdb {data}");
        Directory.CreateDirectory(staging);
        var pwfile = Path.Combine(context.ConfigDirectory, "pwfile");
        Binaries.WritePrivateFile(pwfile, password, context.RunAsUser);
        if (context.RunAsUser is not null)
        {
            Binaries.Chown(staging, context.RunAsUser);
        }
        try
        {
            List<string> args = ["-D", staging, "-U", "postgres", $"--pwfile={pwfile}", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C"];
            if (!context.Durable)
            {
                args.Add("--no-sync");
            }
            var (command, commandArgs) = AsUser(context, Path.Combine(_binDirectory, "initdb"), args);
            await Binaries.RunAsync(command, commandArgs, "initdb", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(pwfile);
        }
        if (Directory.Exists(data))
        {
            Directory.Delete(data);
        }
        Directory.Move(staging, data);
    }

    /// <summary>
    /// A postmaster.pid left by a server that was killed makes postgres refuse to start when its PID now belongs to another
    /// process. Remove it unless a postgres process still holds it (then postgres itself says the directory is in use).
    /// </summary>
    private static void RemoveStaleLockFile(string data, Action<string> log)
    {
        var lockFile = Path.Combine(data, "postmaster.pid");
        if (!File.Exists(lockFile))
        {
            return;
        }
        var first = File.ReadLines(lockFile).FirstOrDefault();
        if (int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && IsPostgres(pid))
        {
            return;
        }
        log($"removing the stale lock file {lockFile} (PID {first} is not a running postgres)");
        File.Delete(lockFile);
    }

    private static bool IsPostgres(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == "postgres";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
