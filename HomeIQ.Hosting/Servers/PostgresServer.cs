using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Orchestration;
using Npgsql;

namespace HomeIQ.Hosting.Servers;

/// <summary>PostgreSQL from the Debian <c>postgresql</c> package: initdb on first start, then postgres on loopback.</summary>
internal sealed class PostgresServer : ILocalServer
{
    private string _binDirectory = "";

    public string DebianPackage => "postgresql";

    public string? RootRunAsUser => "postgres";

    /// <summary>SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect, as SIGTERM would.</summary>
    public int StopSignal => 2;

    public void LocateBinaries(string resourceName)
    {
        _binDirectory = FindBinDirectory() ?? throw new MissingServerBinaryException(resourceName, "PostgreSQL (initdb and postgres)", DebianPackage);
    }

    /// <summary>The newest /usr/lib/postgresql/N/bin that has both initdb and postgres.</summary>
    internal static string? FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(d => (dir: Path.Combine(d, "bin"), version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.dir, "postgres")) && File.Exists(Path.Combine(x.dir, "initdb")))
            .OrderByDescending(x => x.version)
            .Select(x => x.dir)
            .FirstOrDefault();
    }

    public async Task<IReadOnlyList<ProcessSpec>> PrepareAsync(ServerContext context, CancellationToken cancellationToken)
    {
        var data = context.DataDirectory;
        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            context.Log($"initdb {data}");
            Directory.CreateDirectory(data);
            var pwfile = Path.Combine(context.ConfigDirectory, "pwfile");
            Binaries.WritePrivateFile(pwfile, context.Password, context.RunAsUser);
            if (context.RunAsUser is not null)
            {
                Binaries.Chown(data, context.RunAsUser);
            }
            try
            {
                List<string> args = ["-D", data, "-U", "postgres", $"--pwfile={pwfile}", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C"];
                if (!context.Durable)
                {
                    args.Add("--no-sync");
                }
                await Binaries.RunAsync(new ProcessSpec(Path.Combine(_binDirectory, "initdb"), args) { RunAsUser = context.RunAsUser }, "initdb", cancellationToken)
                    .ConfigureAwait(false);
            }
            finally
            {
                File.Delete(pwfile);
            }
        }
        List<string> serverArgs =
        [
            "-D", data, "-p", context.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-k", data, "-c", "max_connections=300",
        ];
        if (!context.Durable)
        {
            // Session data is thrown away on exit: trade durability for start-up and test speed.
            serverArgs.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        return [new ProcessSpec(Path.Combine(_binDirectory, "postgres"), serverArgs) { RunAsUser = context.RunAsUser, WorkingDirectory = "/" }];
    }

    public async Task ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 }.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task OnReadyAsync(ServerContext context, string connectionString, CancellationToken cancellationToken)
    {
        var server = (PostgresServerResource)context.Resource;
        if (server.Databases.Count == 0)
        {
            return;
        }
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var database in server.Databases.Values)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                context.Log($"created database {database}");
            }
        }
    }
}
