using System.Collections.Concurrent;
using HomeIQ.Contracts;
using HomeIQ.Ingestion;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>A pipeline that records what it was given; while <see cref="Down"/> it fails like a broker that does not confirm.</summary>
public sealed class RecordingPipeline : IReadingPipeline
{
    public ConcurrentQueue<(Guid HomeId, string Source, SensorReading[] Readings)> Batches { get; } = new();
    public ConcurrentQueue<DeviceStateChanged> States { get; } = new();
    public volatile bool Down;
    public int Failures;

    public IEnumerable<SensorReading> Readings => Batches.SelectMany(b => b.Readings);

    public Task<IngestOutcome> AcceptAsync(Guid homeId, string source, IReadOnlyList<SensorReading> readings, CancellationToken cancellationToken)
    {
        if (Down)
        {
            Interlocked.Increment(ref Failures);
            throw new IngestUnavailableException("The broker is down (test).", TimeSpan.FromMilliseconds(50));
        }
        Batches.Enqueue((homeId, source, [.. readings]));
        return Task.FromResult(new IngestOutcome(readings.Count, []));
    }

    public Task PublishStateAsync(DeviceStateChanged change, CancellationToken cancellationToken)
    {
        if (Down)
        {
            Interlocked.Increment(ref Failures);
            throw new IngestUnavailableException("The broker is down (test).", TimeSpan.FromMilliseconds(50));
        }
        States.Enqueue(change);
        return Task.CompletedTask;
    }
}

/// <summary>Devices' entity map in memory: registration is idempotent per external id, as the real route is.</summary>
public sealed class FakeDeviceDirectory : IExternalDeviceDirectory
{
    private readonly ConcurrentDictionary<string, ExternalDevice> _devices = new(StringComparer.Ordinal);

    public ConcurrentQueue<ExternalDeviceRegistration> Registrations { get; } = new();

    public ExternalDevice Add(string entityId, string kind, params DeviceCapability[] capabilities) =>
        _devices[entityId] = new ExternalDevice(Guid.NewGuid(), entityId, entityId, kind, capabilities);

    public Task<IReadOnlyList<ExternalDevice>> ListAsync(Guid homeId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ExternalDevice>>([.. _devices.Values]);

    public Task<ExternalDevice> RegisterAsync(Guid homeId, ExternalDeviceRegistration registration, CancellationToken cancellationToken)
    {
        Registrations.Enqueue(registration);
        return Task.FromResult(_devices.GetOrAdd(registration.ExternalId,
            id => new ExternalDevice(Guid.NewGuid(), id, registration.Name, registration.Kind, registration.Capabilities)));
    }
}

/// <summary>A lease nobody else wants (unit tests of one bridge).</summary>
public sealed class HeldLease : IBridgeLease
{
    public string Replica => "test-replica";
    public Task<bool> TryAcquireAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    public Task<bool> RenewAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    public Task ReleaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task<string?> HolderAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(Replica);
}

/// <summary>Log records kept for assertions, and copied to the test output (never throwing).</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Records { get; } = new();

    public IEnumerable<string> At(LogLevel level) => Records.Where(r => r.Level == level).Select(r => r.Message);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            logs.Records.Enqueue((logLevel, category, message));
            try
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"{logLevel} {category}: {message}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}

/// <summary>The bridge hosted in-process against a scripted Home Assistant, with fakes for the pipeline, Devices and the lease.</summary>
public sealed class BridgeHost : IAsyncDisposable
{
    private BridgeHost(IHost host, RecordingPipeline pipeline, FakeDeviceDirectory devices, CapturedLogs logs)
    {
        Host = host;
        Pipeline = pipeline;
        Devices = devices;
        Logs = logs;
    }

    public static readonly Guid HomeId = Guid.CreateVersion7();

    public IHost Host { get; }
    public RecordingPipeline Pipeline { get; }
    public FakeDeviceDirectory Devices { get; }
    public CapturedLogs Logs { get; }
    public HomeAssistantMetrics Metrics => Host.Services.GetRequiredService<HomeAssistantMetrics>();
    public HomeAssistantBridgeStatus Status => Host.Services.GetRequiredService<HomeAssistantBridgeStatus>();

    public static Dictionary<string, string?> Settings(ScriptedHomeAssistant server, string token = ScriptedHomeAssistant.ValidToken) => new()
    {
        ["HomeAssistant:Url"] = $"http://127.0.0.1:{server.Port}",
        ["HomeAssistant:AccessToken"] = token,
        ["HomeAssistant:HomeId"] = HomeId.ToString(),
        ["HomeAssistant:ReconnectInitialDelay"] = "00:00:00.100",
        ["HomeAssistant:ReconnectMaxDelay"] = "00:00:00.500",
        ["HomeAssistant:BatchLinger"] = "00:00:00.010",
    };

    /// <summary>Builds and starts the host; <paramref name="devices"/> is filled before start when given.</summary>
    public static async Task<BridgeHost> StartAsync(Dictionary<string, string?> settings, Action<FakeDeviceDirectory>? devices = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new CapturedLogs();
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        var pipeline = new RecordingPipeline();
        var directory = new FakeDeviceDirectory();
        devices?.Invoke(directory);
        builder.Services.AddSingleton<IReadingPipeline>(pipeline);
        builder.Services.AddSingleton<IExternalDeviceDirectory>(directory);
        builder.Services.AddSingleton<IBridgeLease, HeldLease>();
        builder.Services.AddHomeAssistantBridgeCore(builder.Configuration.GetSection("HomeAssistant"));
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new BridgeHost(host, pipeline, directory, logs);
    }

    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Host.StopAsync(timeout.Token);
        Host.Dispose();
    }
}
