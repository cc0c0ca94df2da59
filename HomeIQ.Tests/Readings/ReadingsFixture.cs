using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace HomeIQ.Tests.Readings;

/// <summary>The <see cref="ReadingsStored"/> events the test host consumed.</summary>
public sealed class StoredRecorder
{
    public ConcurrentQueue<ReadingsStored> Events { get; } = new();
}

public sealed class StoredHandler(StoredRecorder recorder) : IIntegrationEventHandler<ReadingsStored>
{
    public Task HandleAsync(ReadingsStored @event, CancellationToken cancellationToken)
    {
        recorder.Events.Enqueue(@event);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Readings with its real dependencies: Postgres (identitydb, readingsdb), RabbitMQ and the real Identity service, plus an
/// in-process host on the same broker that publishes <see cref="SensorReadingsReceived"/> through <see cref="IEventBus"/> and
/// consumes <see cref="ReadingsStored"/>. Raw retention is 400 days and maintenance runs every second, so a test can watch an
/// old partition go.
/// </summary>
public sealed class ReadingsFixture : IAsyncLifetime
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(400);
    private DistributedApplication? _app;
    private IHost? _bus;
    private NpgsqlDataSource? _db;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The readings stack has not started.");

    public IEventBus Bus => _bus?.Services.GetRequiredService<IEventBus>() ?? throw new InvalidOperationException("The bus host has not started.");

    public StoredRecorder Stored { get; } = new();

    /// <summary>readingsdb, to look at partitions and rollups directly.</summary>
    public NpgsqlDataSource Db => _db ?? throw new InvalidOperationException("The readings stack has not started.");

    public async ValueTask InitializeAsync()
    {
        var ct = TestApps.Timeout(TestApps.FixtureStartTimeout);
        var builder = TestApps.CreateBuilder();
        var postgres = builder.AddPostgres("postgres");
        var messaging = builder.AddRabbitMQ("messaging");
        var identity = builder.AddIdentityService(postgres);
        builder.AddReadingsService(postgres, messaging, identity)
            .WithEnvironment("Readings__RawRetention", "400.00:00:00")
            .WithEnvironment("Readings__MaintenanceInterval", "00:00:01");

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        // Healthy means the readings queue is declared and bound, so a publish finds it.
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("readings", ct);
        _db = NpgsqlDataSource.Create((await _app.GetConnectionStringAsync("readingsdb", ct))!);

        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "readings-tests", EnvironmentName = "Development" });
        host.Configuration["ConnectionStrings:messaging"] = await _app.GetConnectionStringAsync("messaging", ct);
        host.AddEventBus("messaging", o => o.QueueName = "readings-tests").AddSubscription<ReadingsStored, StoredHandler>();
        host.Services.AddSingleton(Stored);
        _bus = host.Build();
        await _bus.StartAsync(ct);
    }

    internal IdentityClient Identity() => new(App.CreateHttpClient("identity"));

    internal IdentityClient Readings() => new(App.CreateHttpClient("readings"));

    /// <summary>A new user with a new home: its id and the owner's token.</summary>
    public async Task<(Guid HomeId, string Token)> NewHomeAsync()
    {
        var identity = Identity();
        var tokens = await identity.RegisterAndLoginAsync(IdentityClient.NewEmail());
        return await identity.CreateHomeAsync(tokens.GetProperty("accessToken").GetString()!);
    }

    /// <summary>GETs a readings route as JSON, asserting success.</summary>
    internal async Task<JsonElement> GetAsync(string path, string token)
    {
        using var response = await Readings().SendAsync(HttpMethod.Get, path, token);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    /// <summary>Polls a readings route until <paramref name="ready"/> holds.</summary>
    internal async Task<JsonElement> WaitForAsync(string path, string token, Func<JsonElement, bool> ready, CancellationToken ct)
    {
        while (true)
        {
            var body = await GetAsync(path, token);
            if (ready(body))
            {
                return body;
            }
            await Task.Delay(100, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync(CancellationToken.None);
            _bus.Dispose();
        }
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
