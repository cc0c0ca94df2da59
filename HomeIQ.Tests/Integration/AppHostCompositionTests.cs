using HomeIQ.Hosting.Mqtt;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
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
    [InlineData("mqtt")]
    [InlineData("identitydb")]
    [InlineData("devicesdb")]
    [InlineData("readingsdb")]
    public async Task EveryBackingResourceOfTheAppHostIsRunningAndHealthy(string resource)
    {
        var e = await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, TestApps.Timeout());

        Assert.Equal(KnownResourceStates.Running, e.Snapshot.State?.Text);
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
    public async Task PostgresRunsWithTheOptionsTheAppHostGivesItsContainer()
    {
        var ct = TestApps.Timeout();
        var postgres = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<PostgresServerResource>().Single();
        List<object> given = [];
        foreach (var annotation in postgres.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(new CommandLineArgsCallbackContext(given, postgres, ct));
        }
        var args = given.Select(a => a.ToString()!).ToArray();
        var options = args.Select((arg, i) => (arg, i)).Where(a => a.arg == "-c" && a.i + 1 < args.Length).Select(a => args[a.i + 1].Split('=', 2)).ToList();
        await using var connection = new NpgsqlConnection(await App.GetConnectionStringAsync("devicesdb", ct));
        await connection.OpenAsync(ct);

        Assert.Contains(options, o => o[0] == "backend_flush_after");
        foreach (var option in options)
        {
            await using var setting = new NpgsqlCommand("SELECT current_setting($1)", connection) { Parameters = { new() { Value = option[0] } } };
            Assert.Equal(option[1], await setting.ExecuteScalarAsync(ct));
        }
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
    [InlineData("mqtt-password")]
    public async Task ServerPasswordsAreGeneratedSecretsOfAtLeast22Characters(string parameter)
    {
        var password = App.Resources().OfType<IResourceWithConnectionString>()
            .Select(r => r switch { PostgresServerResource p => p.PasswordParameter, RedisResource c => c.PasswordParameter, RabbitMQServerResource m => m.PasswordParameter, MqttBrokerResource q => q.PasswordParameter, _ => null })
            .Single(p => p?.Name == parameter)!;
        var value = await password.GetValueAsync(TestApps.Timeout()) ?? "";

        Assert.True(password.Secret);
        Assert.True(value.Length >= 22, $"{parameter} has {value.Length} characters");
        Assert.DoesNotContain(value, new[] { "postgres", "guest", "password" });
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
        Assert.Equal(App.GetEndpoint("echo-replicated", "http").ToString().TrimEnd('/'), env["services__echo-replicated__http__0"]);
        Assert.Equal("echo", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("from-apphost", env["HOMEIQ_SAMPLE"]);
        Assert.False(env.ContainsKey("ConnectionStrings__readingsdb"), "only referenced resources are injected");
    }

    [Fact]
    public async Task ReplicasAreDistinctProcessesBehindOneEndpoint()
    {
        var ct = TestApps.Timeout();
        using var http = App.CreateHttpClient("echo-replicated");

        var answered = new HashSet<int>();
        for (var i = 0; i < 40 && answered.Count < 2; i++)
        {
            // A new connection each time: the endpoint's proxy balances connections, not requests.
            using var request = new HttpRequestMessage(HttpMethod.Get, "/pid") { Headers = { ConnectionClose = true } };
            using var response = await http.SendAsync(request, ct);
            answered.Add(await response.Content.ReadFromJsonAsync<int>(ct));
        }

        var replicas = await App.InstancesAsync("echo-replicated");
        Assert.Equal(2, replicas.Count);
        Assert.Equal(2, answered.Count);
        Assert.Equal(answered.Order(), replicas.Select(r => TestApps.ServiceProcess(r.Pid()!.Value)).Order());
    }

    [Fact]
    public async Task AKilledProjectIsRestartedAndBecomesHealthyAgain()
    {
        var ct = TestApps.Timeout();
        await App.ResourceNotifications.WaitForResourceHealthyAsync("restartable", ct);
        var before = await App.ResourceNotifications.WaitForResourceAsync("restartable", e => e.Pid() is not null, ct);
        var pid = TestApps.ServiceProcess(before.Pid()!.Value);

        System.Diagnostics.Process.GetProcessById(pid).Kill();
        var restarted = await App.ResourceNotifications.WaitForResourceAsync("restartable", e => e.Pid() is { } p && p != before.Pid(), ct);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("restartable", ct);

        using var http = App.CreateHttpClient("restartable");
        Assert.Equal(TestApps.ServiceProcess(restarted.Pid()!.Value), await http.GetFromJsonAsync<int>("/pid", ct));
    }

    [Fact]
    public async Task BackingServersListenOnLoopbackOnly()
    {
        foreach (var name in new[] { "postgres", "cache", "messaging", "mqtt" })
        {
            var port = App.GetEndpoint(name, "tcp").Port;
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
