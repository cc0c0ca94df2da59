using System.Net.Http.Json;
using System.Text;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace HomeIQ.Tests.Integration;

/// <summary>The AppHost's backing servers, started for real, used through their connection strings.</summary>
public sealed class AppHostCompositionTests(AppHostFixture fixture)
{
    private DistributedApplication App => fixture.App;

    [Theory]
    [InlineData("postgres")]
    [InlineData("cache")]
    [InlineData("messaging")]
    [InlineData("identitydb")]
    [InlineData("devicesdb")]
    [InlineData("readingsdb")]
    [InlineData("notificationsdb")]
    public async Task EveryBackingResourceOfTheAppHostIsRunningAndHealthy(string resource)
    {
        var e = await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, TestApps.Timeout());

        Assert.Equal(KnownResourceStates.Running, e.Snapshot.State);
    }

    [Fact]
    public async Task ThePostgresDatabaseConnectionStringRunsAQueryInThatDatabase()
    {
        var cs = await App.GetConnectionStringAsync("devicesdb", TestApps.Timeout());
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync(TestApps.Timeout());
        await using var command = new NpgsqlCommand("SELECT current_database(), current_user", connection);
        await using var reader = await command.ExecuteReaderAsync(TestApps.Timeout());
        Assert.True(await reader.ReadAsync(TestApps.Timeout()));

        Assert.Equal("devicesdb", reader.GetString(0));
        Assert.Equal("postgres", reader.GetString(1));
    }

    [Fact]
    public async Task TheRedisConnectionStringSetsAndGetsWithStackExchangeRedis()
    {
        var cs = await App.GetConnectionStringAsync("cache", TestApps.Timeout());
        using var redis = await ConnectionMultiplexer.ConnectAsync(cs!);
        var db = redis.GetDatabase();
        var key = $"test:{Guid.NewGuid()}";
        var value = Guid.NewGuid().ToString();

        Assert.True(await db.StringSetAsync(key, value));
        Assert.Equal(value, (string?)await db.StringGetAsync(key));
    }

    [Fact]
    public async Task RedisRefusesAClientWithoutThePassword()
    {
        var cs = await App.GetConnectionStringAsync("cache", TestApps.Timeout());
        var endpoint = cs!.Split(',')[0];

        var ex = await Record.ExceptionAsync(async () =>
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync($"{endpoint},abortConnect=true,connectTimeout=2000");
            await redis.GetDatabase().StringSetAsync("k", "v");
        });

        Assert.NotNull(ex);
    }

    [Fact]
    public async Task TheRabbitMqConnectionStringPublishesAndConsumesWithConfirms()
    {
        var ct = TestApps.Timeout();
        var cs = await App.GetConnectionStringAsync("messaging", ct);
        var factory = new ConnectionFactory { Uri = new Uri(cs!) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        var queue = (await channel.QueueDeclareAsync($"test-{Guid.NewGuid()}", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        var body = Encoding.UTF8.GetBytes($"reading {Guid.NewGuid()}");

        await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties(), body, ct);
        BasicGetResult? got = null;
        for (var i = 0; i < 50 && got is null; i++)
        {
            got = await channel.BasicGetAsync(queue, autoAck: true, ct);
            if (got is null)
            {
                await Task.Delay(100, ct);
            }
        }

        Assert.NotNull(got);
        Assert.Equal(body, got.Body.ToArray());
    }

    [Theory]
    [InlineData("postgres-password")]
    [InlineData("cache-password")]
    [InlineData("messaging-password")]
    public void ServerPasswordsAreGeneratedSecretsOfAtLeast22Characters(string parameter)
    {
        var password = App.Resources.OfType<ParameterResource>().Single(p => p.Name == parameter);

        Assert.True(password.Secret);
        Assert.True(password.Value.Length >= 22, $"{parameter} has {password.Value.Length} characters");
        Assert.DoesNotContain(password.Value, new[] { "postgres", "guest", "password" });
    }

    [Fact]
    public async Task ASampleProjectReceivesTheConnectionStringsAndServiceEndpointsOfItsReferences()
    {
        var ct = TestApps.Timeout();
        using var http = App.CreateHttpClient("echo");

        var env = await http.GetFromJsonAsync<Dictionary<string, string>>("/env", ct);

        Assert.NotNull(env);
        Assert.Equal(await App.GetConnectionStringAsync("devicesdb", ct), env["ConnectionStrings__devicesdb"]);
        Assert.Equal(await App.GetConnectionStringAsync("cache", ct), env["ConnectionStrings__cache"]);
        Assert.Equal(await App.GetConnectionStringAsync("messaging", ct), env["ConnectionStrings__messaging"]);
        var replicas = App.Resources.Single(r => r.Name == "echo-replicated").Annotations.All<EndpointAnnotation>().Single().AllocatedEndpoints;
        Assert.Equal(replicas[0].Url, env["services__echo-replicated__http__0"]);
        Assert.Equal(replicas[1].Url, env["services__echo-replicated__http__1"]);
        Assert.Equal(http.BaseAddress!.ToString().TrimEnd('/'), env["ASPNETCORE_URLS"]);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("echo", env["OTEL_SERVICE_NAME"]);
        Assert.StartsWith("service.instance.id=", env["OTEL_RESOURCE_ATTRIBUTES"], StringComparison.Ordinal);
        Assert.Equal("from-apphost", env["HOMEIQ_SAMPLE"]);
        Assert.False(env.ContainsKey("ConnectionStrings__readingsdb"), "only referenced resources are injected");
    }

    [Fact]
    public async Task ReplicasListenOnDistinctPortsAndAreDistinctProcesses()
    {
        var ct = TestApps.Timeout();
        var endpoints = App.Resources.Single(r => r.Name == "echo-replicated").Annotations.All<EndpointAnnotation>().Single().AllocatedEndpoints;
        using var http = new HttpClient();

        var pids = new List<int>();
        foreach (var endpoint in endpoints)
        {
            pids.Add(await http.GetFromJsonAsync<int>($"{endpoint.Url}/pid", ct));
        }

        Assert.Equal(2, endpoints.Count);
        Assert.NotEqual(endpoints[0].Port, endpoints[1].Port);
        Assert.Equal(2, pids.Distinct().Count());
        Assert.Equal(pids.Order(), TestApps.Pids(App, "echo-replicated").Order());
    }

    [Fact]
    public async Task AKilledProjectIsRestartedAndBecomesHealthyAgain()
    {
        var ct = TestApps.Timeout();
        var before = await App.ResourceNotifications.WaitForResourceHealthyAsync("restartable", ct);
        var pid = Assert.Single(before.Snapshot.ProcessIds);

        System.Diagnostics.Process.GetProcessById(pid).Kill();
        var restarted = await App.ResourceNotifications.WaitForResourceAsync("restartable",
            e => e.Snapshot.RestartCount > before.Snapshot.RestartCount && ResourceNotificationService.IsHealthy(e.Snapshot), ct);

        var newPid = Assert.Single(restarted.Snapshot.ProcessIds);
        Assert.NotEqual(pid, newPid);
        using var http = App.CreateHttpClient("restartable");
        Assert.Equal(newPid, await http.GetFromJsonAsync<int>("/pid", ct));
    }

    [Fact]
    public async Task BackingServersListenOnLoopbackOnly()
    {
        foreach (var name in new[] { "postgres", "cache", "messaging" })
        {
            var port = App.GetEndpoint(name, ServerResource.PrimaryEndpointName).Port;
            var listeners = await ListeningAddressesAsync(port);

            Assert.NotEmpty(listeners);
            Assert.All(listeners, address => Assert.True(address is "127.0.0.1" or "::1", $"{name} listens on {address}:{port}"));
        }
    }

    /// <summary>The local addresses listening on <paramref name="port"/>, from /proc/net/tcp and tcp6.</summary>
    private static async Task<List<string>> ListeningAddressesAsync(int port)
    {
        var result = new List<string>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in (await File.ReadAllLinesAsync(file)).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1].Split(':');
                if (fields[3] == "0A" && Convert.ToInt32(local[1], 16) == port)
                {
                    var bytes = Convert.FromHexString(local[0]);
                    var address = bytes.Length == 4
                        ? new System.Net.IPAddress([.. bytes.Reverse()])
                        : new System.Net.IPAddress([.. bytes.Chunk(4).SelectMany(c => c.Reverse())]);
                    result.Add(address.ToString());
                }
            }
        }
        return result;
    }
}
