using System.Diagnostics;
using Npgsql;

namespace HomeIQ.Tests.Integration;

/// <summary>Persistent servers outlive their AppHost and are adopted by the next one while their configuration is unchanged.</summary>
public sealed class PersistentResourceTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "homeiq-persistent-test-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<int> _startedPids = [];

    [Fact]
    public async Task PersistentServersAreReusedOnTheSecondStartWithTheirData()
    {
        var ct = TestApps.Timeout();
        var table = "t" + Guid.NewGuid().ToString("N")[..8];

        await using (var first = await StartAsync(ct))
        {
            _startedPids.AddRange(TestApps.Pids(first, "postgres"));
            _startedPids.AddRange(TestApps.Pids(first, "cache"));
            await ExecuteAsync(first, $"CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (42)", ct);
        }
        Assert.All(_startedPids, pid => Assert.True(TestApps.IsAlive(pid), $"persistent process {pid} was stopped with its AppHost"));

        var clock = Stopwatch.StartNew();
        await using var second = await StartAsync(ct);
        var warm = clock.Elapsed;

        Assert.Equal(_startedPids.Order(), TestApps.Pids(second, "postgres").Concat(TestApps.Pids(second, "cache")).Order());
        Assert.Equal(42, await ExecuteAsync(second, $"SELECT id FROM {table}", ct));
        Assert.Contains(second.ResourceLogs.GetLines("postgres"), l => l.Text.Contains("reusing the persistent server", StringComparison.Ordinal));
        Assert.True(warm < TimeSpan.FromSeconds(30), $"warm start took {warm}");
    }

    private async Task<DistributedApplication> StartAsync(CancellationToken ct)
    {
        var builder = DistributedApplicationTestingBuilder.Create(TestApps.Options(_dataDirectory));
        builder.AddPostgres("postgres").WithLifetime(ContainerLifetime.Persistent).AddDatabase("appdb");
        builder.AddRedis("cache").WithLifetime(ContainerLifetime.Persistent);
        var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct);
        return app;
    }

    private static async Task<object?> ExecuteAsync(DistributedApplication app, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("appdb", ct));
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(ct);
    }

    /// <summary>The test started these servers, so it stops them (by PID) and removes their data.</summary>
    public void Dispose()
    {
        foreach (var pid in _startedPids.Where(TestApps.IsAlive))
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
