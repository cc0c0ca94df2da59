using System.Net;
using System.Net.Http.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HomeIQ.Tests.Ingestion;

/// <summary>The pipeline and its caches in process, with a stub Devices and a recording bus.</summary>
public sealed class ReadingPipelineTests
{
    private static readonly Guid Home = Guid.NewGuid();
    private static readonly Guid Thermometer = Guid.NewGuid();

    private sealed class StubDevices : HttpMessageHandler
    {
        public int Calls;
        public bool Down;
        public TimeSpan Delay;
        public readonly HashSet<Guid> Known = [Thermometer];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(Delay, cancellationToken);
            if (Down)
            {
                throw new HttpRequestException("connection refused");
            }
            var id = Guid.Parse(request.RequestUri!.Segments[^1]);
            return Known.Contains(id)
                ? new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = JsonContent.Create(new DeviceLookup(id, Home, "sensor", [new DeviceCapability("temperature", "°C", -40, 85, false)])),
                }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

    private sealed class Factory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { BaseAddress = new("http://devices") };
    }

    private sealed class RecordingBus : IEventBus
    {
        public readonly List<IntegrationEvent> Published = [];
        public bool Down;

        public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
        {
            if (Down)
            {
                throw new EventBusPublishException("broker down");
            }
            lock (Published)
            {
                Published.Add(@event);
            }
            return Task.CompletedTask;
        }

        public async Task PublishManyAsync<TEvent>(IReadOnlyList<TEvent> events, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
        {
            foreach (var @event in events)
            {
                await PublishAsync(@event, cancellationToken);
            }
        }

        public Task SendAsync<TEvent>(string queue, TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            throw new NotSupportedException("The reading pipeline only publishes.");
    }

    private static (ReadingPipeline Pipeline, StubDevices Devices, RecordingBus Bus) Create() => Create(out _);

    private static (ReadingPipeline Pipeline, StubDevices Devices, RecordingBus Bus) Create(out BrokerBacklog backlog, int cacheSize = 100_000)
    {
        var devices = new StubDevices();
        var bus = new RecordingBus();
        var options = Options.Create(new HomeIQ.Ingestion.IngestionOptions { CacheSize = cacheSize });
        var directory = new DeviceDirectory(new Factory(devices), options, TimeProvider.System);
        // Never started: its state is what the test reports into it.
        backlog = new BrokerBacklog(null!, options, NullLogger<BrokerBacklog>.Instance);
        return (new ReadingPipeline(directory, bus, new ReadingsPublisher(bus, options), backlog, options, TimeProvider.System, NullLogger<ReadingPipeline>.Instance),
            devices, bus);
    }

    private static SensorReading Reading(double value, Guid? device = null) => new(device ?? Thermometer, "temperature", value, "°C", DateTimeOffset.UtcNow);

    [Fact]
    public async Task NonFiniteValuesAreRejectedAndTheValidOnesArePublishedAsOneEvent()
    {
        var (pipeline, _, bus) = Create();

        var outcome = await pipeline.AcceptAsync(Home, "test", [Reading(20), Reading(double.NaN), Reading(double.PositiveInfinity), Reading(21)], TestContext.Current.CancellationToken);

        Assert.Equal(2, outcome.Accepted);
        Assert.Equal([(1, RejectionCodes.NotFinite), (2, RejectionCodes.NotFinite)], outcome.Rejected.Select(r => (r.Index, r.Code)));
        var published = Assert.IsType<SensorReadingsReceived>(Assert.Single(bus.Published));
        Assert.Equal([20.0, 21.0], published.Readings.Select(r => r.Value));
        Assert.Equal(Home, published.HomeId);
    }

    [Fact]
    public async Task ConcurrentMissesForOneDeviceShareOneLookupAndLaterBatchesHitTheCache()
    {
        var (pipeline, devices, _) = Create();
        devices.Delay = TimeSpan.FromMilliseconds(200);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => pipeline.AcceptAsync(Home, "test", [Reading(20)], TestContext.Current.CancellationToken)));
        await pipeline.AcceptAsync(Home, "test", [Reading(22), Reading(23)], TestContext.Current.CancellationToken);

        Assert.Equal(1, devices.Calls);
    }

    [Fact]
    public async Task ADeviceThatLeavesTheCacheWhileItsBatchIsCheckedIsStillKnown()
    {
        // 40 devices in one batch against a cache of 16: the cache evicts most of them while the batch's lookups land. The batch is
        // checked against what the lookups answered, so none of them is reported as an unknown device (and, over MQTT, dropped).
        var (pipeline, devices, bus) = Create(out _, cacheSize: 16);
        var thermometers = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToList();
        devices.Known.UnionWith(thermometers);

        var outcome = await pipeline.AcceptAsync(Home, "test", [.. thermometers.Select(id => Reading(20, id))], TestContext.Current.CancellationToken);

        Assert.Empty(outcome.Rejected);
        Assert.Equal(40, outcome.Accepted);
        Assert.Equal(thermometers, Assert.IsType<SensorReadingsReceived>(Assert.Single(bus.Published)).Readings.Select(r => r.DeviceId));
    }

    [Fact]
    public async Task DevicesUnreachableForAnUncachedDeviceIsUnavailableNotARejection()
    {
        var (pipeline, devices, bus) = Create();
        devices.Down = true;

        var ex = await Assert.ThrowsAsync<IngestUnavailableException>(() => pipeline.AcceptAsync(Home, "test", [Reading(20)], TestContext.Current.CancellationToken));
        devices.Down = false;
        var later = await pipeline.AcceptAsync(Home, "test", [Reading(20)], TestContext.Current.CancellationToken);

        Assert.True(ex.RetryAfter > TimeSpan.Zero);
        Assert.Equal(1, later.Accepted);
        Assert.Single(bus.Published);
    }

    [Fact]
    public async Task ABrokerThatDoesNotConfirmMakesTheWholeCallUnavailable()
    {
        var (pipeline, _, bus) = Create();
        bus.Down = true;

        await Assert.ThrowsAsync<IngestUnavailableException>(() => pipeline.AcceptAsync(Home, "test", [Reading(20)], TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<IngestUnavailableException>(() => pipeline.PublishStateAsync(new DeviceStateChanged(Home, Thermometer, "on"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AFullBacklogMakesTheCallUnavailableAndPublishesNothingUntilItDrains()
    {
        var (pipeline, _, bus) = Create(out var backlog);
        var ct = TestContext.Current.CancellationToken;

        backlog.Report("2001 batches wait in the broker's 'readings' queue (the limit is 2000)");
        var refused = await Assert.ThrowsAsync<IngestUnavailableException>(() => pipeline.AcceptAsync(Home, "http", [Reading(20)], ct));
        var publishedWhileFull = bus.Published.Count;
        backlog.Report(null);
        var outcome = await pipeline.AcceptAsync(Home, "http", [Reading(21)], ct);

        Assert.Contains("'readings' queue", refused.Message, StringComparison.Ordinal);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.Equal(0, publishedWhileFull);
        Assert.Equal(1, outcome.Accepted);
        Assert.Single(bus.Published);
    }

    [Fact]
    public void TheCacheStaysWithinItsCapacity()
    {
        var cache = new LookupCache<int, string>(TimeProvider.System, 100);

        for (var i = 0; i < 1000; i++)
        {
            _ = cache.GetAsync(i, k => Task.FromResult(($"v{k}", TimeSpan.FromMinutes(1))));
        }

        Assert.InRange(cache.Count, 1, 100);
        Assert.True(cache.TryGet(999, out var last));
        Assert.Equal("v999", last);
    }
}
