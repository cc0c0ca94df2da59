using System.Diagnostics;
using HomeIQ.Contracts;
using HomeIQ.Ingestion;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;
using HomeIQ.Tests.HomeAssistant;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The bridge (as Ingestion hosts it, minus Redis and Devices) reading a scripted Home Assistant that sends state_changed events
// as fast as the bridge takes them, into a pipeline that "confirms" each batch after a fixed latency. Server and bridge share
// this process (and the machine's 2 cores), so the memory figures include the server.
// Usage: dotnet run -c Release --project bench/HomeAssistantBench -- [--seconds 20] [--events 2000000] [--entities 200] [--confirm-ms 2]
var seconds = Arg("--seconds", 20);
var maxEvents = Arg("--events", 2_000_000);
var entityCount = Arg("--entities", 200);
var confirmMs = Arg("--confirm-ms", 2);

await using var server = new ScriptedHomeAssistant();
await server.StartAsync();
var homeId = Guid.NewGuid();
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["HomeAssistant:Url"] = server.Url.ToString(),
    ["HomeAssistant:AccessToken"] = ScriptedHomeAssistant.ValidToken,
    ["HomeAssistant:HomeId"] = homeId.ToString(),
});
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
var pipeline = new CountingPipeline(TimeSpan.FromMilliseconds(confirmMs));
var entities = Enumerable.Range(0, entityCount).Select(i => $"sensor.bench_power_{i}").ToArray();
builder.Services.AddSingleton<IReadingPipeline>(pipeline);
builder.Services.AddSingleton<IExternalDeviceDirectory>(new BenchDirectory(entities));
builder.Services.AddSingleton<IBridgeLease, BenchLease>();
builder.Services.AddHomeAssistantBridgeCore(builder.Configuration.GetSection("HomeAssistant"));
using var host = builder.Build();
await host.StartAsync();
var metrics = host.Services.GetRequiredService<HomeAssistantMetrics>();
using (var subscribed = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
{
    await server.WaitForSubscribedAsync(subscribed.Token);
}

Console.WriteLine($"Flooding {entityCount} entities for up to {seconds} s / {maxEvents:N0} events; pipeline confirm latency {confirmMs} ms per batch");
Console.WriteLine("   t  received/s  published/s  buffered   RSS MB  GC heap MB  gen2");
var process = Process.GetCurrentProcess();
var started = Stopwatch.StartNew();
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
var flood = Task.Run(() => server.FloodAsync(entities, maxEvents, TimeSpan.FromSeconds(seconds), i => i % 5000, stop.Token));
var samples = new List<(double Received, double Published, double RssMb, double HeapMb)>();
long lastReceived = 0, lastPublished = 0;
var lastTime = started.Elapsed;
while (!flood.IsCompleted || metrics.ReadingsPublished < metrics.EventsReceived)
{
    await Task.Delay(1000);
    var now = started.Elapsed;
    var received = metrics.EventsReceived;
    var published = metrics.ReadingsPublished;
    var interval = (now - lastTime).TotalSeconds;
    process.Refresh();
    var sample = ((received - lastReceived) / interval, (published - lastPublished) / interval, process.WorkingSet64 / 1048576.0, GC.GetTotalMemory(false) / 1048576.0);
    samples.Add(sample);
    Console.WriteLine($"{now.TotalSeconds,4:F0}  {sample.Item1,10:N0}  {sample.Item2,11:N0}  {metrics.Buffered,8:N0}  {sample.Item3,7:F1}  {sample.Item4,10:F1}  {GC.CollectionCount(2),4}");
    (lastReceived, lastPublished, lastTime) = (received, published, now);
    if (started.Elapsed > TimeSpan.FromSeconds(seconds + 20))
    {
        break;
    }
}
var sent = await flood;
var elapsed = started.Elapsed.TotalSeconds;
await host.StopAsync();

var steady = samples.Skip(samples.Count / 2).ToList();
Console.WriteLine();
Console.WriteLine($"sent {sent:N0}, received {metrics.EventsReceived:N0}, readings published {metrics.ReadingsPublished:N0}, skipped {metrics.Skipped:N0}, batches {pipeline.Batches:N0} (avg {(double)pipeline.Readings / Math.Max(1, pipeline.Batches):F0} readings)");
Console.WriteLine($"throughput: {metrics.EventsReceived / elapsed:N0} events/s received, {metrics.ReadingsPublished / elapsed:N0} readings/s published over {elapsed:F1} s; " +
    $"peak 1-s rate {samples.Max(s => s.Received):N0}/s");
Console.WriteLine($"memory: RSS peak {samples.Max(s => s.RssMb):F1} MB, first-half mean {samples.Take(samples.Count / 2).DefaultIfEmpty().Average(s => s.RssMb):F1} MB, " +
    $"second-half mean {steady.DefaultIfEmpty().Average(s => s.RssMb):F1} MB; GC heap peak {samples.Max(s => s.HeapMb):F1} MB, second-half mean {steady.DefaultIfEmpty().Average(s => s.HeapMb):F1} MB");
return sent == metrics.ReadingsPublished ? 0 : 1;

int Arg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;

/// <summary>Counts readings; each batch "waits for the broker" for a fixed latency.</summary>
internal sealed class CountingPipeline(TimeSpan confirmLatency) : IReadingPipeline
{
    private long _readings;
    private long _batches;

    public long Readings => Interlocked.Read(ref _readings);
    public long Batches => Interlocked.Read(ref _batches);

    public async Task<IngestOutcome> AcceptAsync(Guid homeId, string source, IReadOnlyList<SensorReading> readings, CancellationToken cancellationToken)
    {
        await Task.Delay(confirmLatency, cancellationToken);
        Interlocked.Add(ref _readings, readings.Count);
        Interlocked.Increment(ref _batches);
        return new IngestOutcome(readings.Count, []);
    }

    public Task PublishStateAsync(DeviceStateChanged change, CancellationToken cancellationToken) => Task.Delay(confirmLatency, cancellationToken);
}

internal sealed class BenchDirectory(string[] entities) : IExternalDeviceDirectory
{
    private readonly ExternalDevice[] _devices =
        [.. entities.Select(e => new ExternalDevice(Guid.NewGuid(), e, e, "meter", [new DeviceCapability("power", "W", 0, null, false)]))];

    public Task<IReadOnlyList<ExternalDevice>> ListAsync(Guid homeId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ExternalDevice>>(_devices);

    public Task<ExternalDevice> RegisterAsync(Guid homeId, ExternalDeviceRegistration registration, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The bench knows every entity.");
}

internal sealed class BenchLease : IBridgeLease
{
    public string Replica => "bench";
    public Task<bool> TryAcquireAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    public Task<bool> RenewAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    public Task ReleaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task<string?> HolderAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(Replica);
}
