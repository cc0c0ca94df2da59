using System.Diagnostics;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HomeIQ.Tests.Hosting;

/// <summary>Aspire's Postgres, Redis and RabbitMQ resources run as local processes by HomeIQ.Hosting: failures, data and clean-up.</summary>
public sealed class LocalServerTests
{
    [Fact]
    public async Task AMissingServerBinaryFailsTheServerAndItsWaitersWithTheDebianPackageName()
    {
        var ct = TestApps.Timeout(TimeSpan.FromSeconds(60));
        var builder = TestApps.CreateBuilder();
        builder.Configuration["HomeIQ:BinaryRoot"] = Path.Combine(Path.GetTempPath(), "homeiq-no-binaries");
        var cache = builder.AddRedis("cache");
        builder.AddProject<Projects.EchoService>("echo").WithReference(cache).WaitFor(cache);
        await using var app = await builder.BuildAsync(ct);

        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceAsync("cache", KnownResourceStates.FailedToStart, ct);
        await app.ResourceNotifications.WaitForResourceAsync("echo", KnownResourceStates.FailedToStart, ct);
        var log = await ConsoleLogAsync(app, "cache", line => line.Contains("apt-get", StringComparison.Ordinal), ct);

        Assert.Contains("needs redis-server, which is not installed", log, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y redis-server", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposalStopsEveryServerProcessAndRemovesTheSessionDirectory()
    {
        var ct = TestApps.Timeout();
        var builder = TestApps.CreateBuilder();
        var db = builder.AddPostgres("postgres").AddDatabase("appdb");
        var cache = builder.AddRedis("cache");
        var messaging = builder.AddRabbitMQ("messaging");
        builder.AddProject<Projects.EchoService>("echo")
            .WithReference(db).WaitFor(db).WithReference(cache).WaitFor(cache).WithReference(messaging).WaitFor(messaging);
        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);
        List<int> pids = [];
        foreach (var process in new[] { "postgres-server", "cache-server", "messaging-epmd", "messaging-server" })
        {
            pids.Add(Assert.Single(await app.InstancesAsync(process)).Pid() ?? throw new InvalidOperationException($"{process} has no process id"));
        }
        var postgresData = DataDirectoryOf(pids[0]);

        await app.DisposeAsync();

        Assert.StartsWith(Path.GetTempPath(), postgresData, StringComparison.Ordinal);
        Assert.All(pids, pid => Assert.False(TestApps.IsAlive(pid), $"process {pid} is still running"));
        Assert.False(Directory.Exists(postgresData), $"{postgresData} was not removed");
    }

    [Fact]
    public async Task AVolumeKeepsItsDataAcrossRunsEvenWhenALeftLockFileNamesAnotherProcess()
    {
        var ct = TestApps.Timeout();
        var args = TestApps.Args();
        string data;
        await using (var first = await StartPostgresWithVolumeAsync(args, ct))
        {
            await using var connection = new NpgsqlConnection(await first.GetConnectionStringAsync("appdb", ct));
            await connection.OpenAsync(ct);
            await using var create = new NpgsqlCommand("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('from the first run')", connection);
            await create.ExecuteNonQueryAsync(ct);
            data = DataDirectoryOf(Assert.Single(await first.InstancesAsync("postgres-server")).Pid()!.Value);
        }
        // A killed server leaves postmaster.pid behind; when its PID now belongs to another process, postgres refuses to start.
        await File.WriteAllTextAsync(Path.Combine(data, "postmaster.pid"), $"{Environment.ProcessId}\n{data}\n", ct);

        await using var second = await StartPostgresWithVolumeAsync(args, ct);
        await using var again = new NpgsqlConnection(await second.GetConnectionStringAsync("appdb", ct));
        await again.OpenAsync(ct);
        await using var read = new NpgsqlCommand("SELECT value FROM kept", again);

        Assert.Equal("from the first run", await read.ExecuteScalarAsync(ct));
    }

    private static async Task<DistributedApplication> StartPostgresWithVolumeAsync(string[] args, CancellationToken ct)
    {
        var builder = DistributedApplicationTestingBuilder.Create(args);
        builder.AddLocalServers();
        // A fixed password: a data volume keeps the one it was created with (user secrets do this for an AppHost).
        var password = builder.AddParameter("pg-password", "volume-test-password-0123456789", secret: true);
        builder.AddPostgres("postgres", password: password).WithDataVolume("homeiq-tests-volume").AddDatabase("appdb");
        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", ct);
        return app;
    }

    /// <summary>The -D argument of a postgres process.</summary>
    private static string DataDirectoryOf(int pid)
    {
        var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        return args[Array.IndexOf(args, "-D") + 1];
    }

    private static async Task<string> ConsoleLogAsync(DistributedApplication app, string resource, Func<string, bool> until, CancellationToken ct)
    {
        var lines = new List<string>();
        await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(resource).WithCancellation(ct))
        {
            lines.AddRange(batch.Select(l => l.Content));
            if (lines.Any(until))
            {
                break;
            }
        }
        return string.Join('\n', lines);
    }
}
