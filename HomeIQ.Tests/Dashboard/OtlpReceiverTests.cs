using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HomeIQ.Tests.Dashboard;

/// <summary>The OTLP receiver with the real OpenTelemetry .NET exporter, bad requests, and the query API.</summary>
public sealed class OtlpReceiverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheRealExporterDeliversAParentAndChildSpanAsOneTraceWithTheParentFirst()
    {
        await using var host = await OtlpTestHost.StartAsync();
        using var source = new ActivitySource("otlp-test-" + Guid.NewGuid());
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(source.Name)
            .ConfigureResource(r => r.AddService("sample-svc")).AddOtlpExporter(o => Configure(o, host, "/v1/traces")).Build())
        {
            using (var parent = source.StartActivity("turn on lights", ActivityKind.Server))
            {
                parent?.SetTag("device.id", "lamp-1");
                using var child = source.StartActivity("send zigbee command");
                child?.SetTag("zigbee.payload", "{\"state\":\"ON\",\"brightness\":254}");
            }
            provider.ForceFlush();
        }

        var traces = await host.GetJsonAsync("/api/v1/traces?resource=sample-svc");
        var summary = Assert.Single(traces.EnumerateArray());
        Assert.Equal("turn on lights", summary.GetProperty("name").GetString());
        Assert.Equal(2, summary.GetProperty("spanCount").GetInt32());
        Assert.Equal(["sample-svc"], summary.GetProperty("resources").EnumerateArray().Select(r => r.GetString()));
        var trace = await host.GetJsonAsync($"/api/v1/traces/{summary.GetProperty("traceId").GetString()}");
        var spans = trace.GetProperty("spans").EnumerateArray().ToList();
        Assert.Equal(["turn on lights", "send zigbee command"], spans.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal([0, 1], spans.Select(s => s.GetProperty("depth").GetInt32()));
        Assert.Equal(spans[0].GetProperty("spanId").GetString(), spans[1].GetProperty("parentSpanId").GetString());
        Assert.Equal("Server", spans[0].GetProperty("kind").GetString());
        Assert.Equal("lamp-1", spans[0].GetProperty("attributes").GetProperty("device.id").GetString());
        Assert.Equal("{\"state\":\"ON\",\"brightness\":254}", spans[1].GetProperty("attributes").GetProperty("zigbee.payload").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync("/api/v1/traces/0123456789abcdef0123456789abcdef", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheRealExporterDeliversAWarningThatTheLevelAndTextFiltersFindWithItsTraceId()
    {
        await using var host = await OtlpTestHost.StartAsync();
        string traceId;
        using (var factory = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("sample-svc"));
            o.AddOtlpExporter(e => Configure(e, host, "/v1/logs"));
        })))
        {
            var logger = factory.CreateLogger("HomeIQ.Devices.Thermostat");
            using var activity = new Activity("poll").Start();
            traceId = activity.TraceId.ToHexString();
            logger.LogInformation("Polled {Device}", "thermostat-7");
            logger.LogWarning("Battery low on {Device}: {Percent}%", "thermostat-7", 9);
        }

        var found = await host.GetJsonAsync("/api/v1/logs?level=warning&text=THERMOSTAT-7&resource=sample-svc");
        var log = Assert.Single(found.EnumerateArray());
        Assert.Equal("Warning", log.GetProperty("level").GetString());
        Assert.Equal("Battery low on thermostat-7: 9%", log.GetProperty("message").GetString());
        Assert.Equal("HomeIQ.Devices.Thermostat", log.GetProperty("category").GetString());
        Assert.Equal(traceId, log.GetProperty("traceId").GetString());
        Assert.Equal("9", log.GetProperty("attributes").GetProperty("Percent").GetString());
        Assert.Equal(2, (await host.GetJsonAsync($"/api/v1/logs?traceId={traceId}")).GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Http.GetAsync("/api/v1/logs?level=loud", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheRealExporterDeliversACounterAndAHistogramWhosePercentilesStayInTheRecordedRange()
    {
        await using var host = await OtlpTestHost.StartAsync();
        using var meter = new Meter("otlp-test-" + Guid.NewGuid());
        var counter = meter.CreateCounter<long>("sample.commands", "{command}", "Commands sent");
        var histogram = meter.CreateHistogram<double>("sample.latency", "ms");
        using (var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).ConfigureResource(r => r.AddService("sample-svc"))
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, host, "/v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 600_000;
            }).Build())
        {
            for (var round = 0; round < 3; round++)
            {
                counter.Add(10, new KeyValuePair<string, object?>("room", "kitchen"));
                for (var v = 12; v <= 90; v += 6)
                {
                    histogram.Record(v);
                }
                await Task.Delay(50, Ct);
                provider.ForceFlush();
            }
        }

        var metrics = (await host.GetJsonAsync("/api/v1/metrics?resource=sample-svc")).EnumerateArray().ToList();
        Assert.Equal(["counter", "histogram"], metrics.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal("Commands sent", metrics[0].GetProperty("description").GetString());
        var commands = await host.GetJsonAsync("/api/v1/metrics/sample-svc/sample.commands");
        var series = Assert.Single(commands.GetProperty("series").EnumerateArray());
        Assert.Equal("kitchen", series.GetProperty("attributes").GetProperty("room").GetString());
        var rates = series.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToList();
        Assert.True(rates.Count >= 3, "one point per flush, and one more when the provider is disposed");
        Assert.All(rates.Take(3), rate => Assert.True(rate > 0));
        var latency = await host.GetJsonAsync("/api/v1/metrics/sample-svc/sample.latency");
        var points = Assert.Single(latency.GetProperty("series").EnumerateArray()).GetProperty("points").EnumerateArray()
            .Where(p => p.GetProperty("count").GetUInt64() > 0).ToList();
        Assert.Equal(3, points.Count);
        Assert.All(points, p => Assert.Equal(14UL, p.GetProperty("count").GetUInt64()));
        Assert.All(points.SelectMany(p => new[] { p.GetProperty("p50"), p.GetProperty("p90"), p.GetProperty("p99") }),
            v => Assert.InRange(v.GetDouble(), 12, 90));
    }

    [Fact]
    public async Task BadRequestsGetClearClientErrorsAndTheReceiverStillAcceptsAGoodOneAfterThem()
    {
        await using var host = await OtlpTestHost.StartAsync(new TelemetryLimits { MaxRequestBodyBytes = 64 * 1024 });
        var good = OtlpTestHost.Spans(0, 3).ToByteArray();

        Assert.Equal(HttpStatusCode.BadRequest, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf([0x0a, 0xff, 0xff, 0x01, 0x02])));
        Assert.Equal(HttpStatusCode.Unauthorized, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(good), key: "wrong-key"));
        Assert.Equal(HttpStatusCode.Unauthorized, await host.PostAsync("/v1/logs", OtlpTestHost.Protobuf(good), key: null));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await host.PostAsync("/v1/metrics", OtlpTestHost.Protobuf(good, "text/plain")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(good), encoding: "br"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(new byte[100_000])));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await host.PostAsync("/v1/traces", new OtlpTestHost.ChunkedContent(1_000_000) { Headers = { ContentType = new("application/x-protobuf") } }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(Gzip(new byte[1_000_000])), encoding: "gzip"));
        Assert.Equal(HttpStatusCode.BadRequest, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf([1, 2, 3]), encoding: "gzip"));

        using var json = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new StringContent("{}", null, "application/json") };
        json.Headers.Add("x-otlp-api-key", OtlpTestHost.ApiKey);
        using var jsonResponse = await host.Http.SendAsync(json, Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, jsonResponse.StatusCode);
        Assert.Equal("application/problem+json", jsonResponse.Content.Headers.ContentType?.MediaType);
        Assert.Contains("OTLP/JSON is not supported", await jsonResponse.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(Gzip(good)), encoding: "gzip"));
        using var ok = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = OtlpTestHost.Protobuf(OtlpTestHost.Spans(1, 2)) };
        ok.Headers.Add("x-otlp-api-key", OtlpTestHost.ApiKey);
        using var okResponse = await host.Http.SendAsync(ok, Ct);
        Assert.Equal(HttpStatusCode.OK, okResponse.StatusCode);
        Assert.Equal("application/x-protobuf", okResponse.Content.Headers.ContentType?.MediaType);
        ExportTraceServiceResponse.Parser.ParseFrom(await okResponse.Content.ReadAsByteArrayAsync(Ct));
        var stats = await host.GetJsonAsync("/api/v1/telemetry/stats");
        Assert.Equal(5, stats.GetProperty("traces").GetInt64());
        Assert.Equal(10, stats.GetProperty("requestsRejected").GetInt64());
    }

    private static void Configure(OtlpExporterOptions options, OtlpTestHost host, string path)
    {
        options.Endpoint = new Uri(host.Address + path);
        options.Protocol = OtlpExportProtocol.HttpProtobuf;
        options.Headers = $"x-otlp-api-key={OtlpTestHost.ApiKey}";
        options.ExportProcessorType = ExportProcessorType.Simple;
    }

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }
        return output.ToArray();
    }
}

/// <summary>A flood of spans stays within the trace cap and a memory bound; runs alone so the heap measure is its own.</summary>
[Collection(nameof(OtlpFloodTests))]
[CollectionDefinition(nameof(OtlpFloodTests), DisableParallelization = true)]
public sealed class OtlpFloodTests
{
    [Fact]
    public async Task AHundredThousandSpansLeaveAtMostTheTraceCapAndABoundedHeap()
    {
        await using var host = await OtlpTestHost.StartAsync(new TelemetryLimits { MaxTraces = 1_000 });
        Assert.Equal(HttpStatusCode.OK, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(OtlpTestHost.Spans(-1, 10))));
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var batch = 0; batch < 200; batch++)
        {
            Assert.Equal(HttpStatusCode.OK, await host.PostAsync("/v1/traces", OtlpTestHost.Protobuf(OtlpTestHost.Spans(batch, 500))));
        }

        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        TestContext.Current.TestOutputHelper?.WriteLine($"managed heap growth after a full GC: {growth / 1024} KiB");
        var stats = await host.GetJsonAsync("/api/v1/telemetry/stats");
        Assert.Equal(1_000, stats.GetProperty("traces").GetInt64());
        Assert.Equal(100_010 - 1_000, stats.GetProperty("tracesEvicted").GetInt64());
        Assert.Equal(1_000, (await host.GetJsonAsync("/api/v1/traces?limit=5000")).GetArrayLength());
        // 1,000 kept spans of about 1.5 KB (five 100-character attributes) hold ~2 MB; keeping all 100,000 would be ~150 MB.
        Assert.True(growth < 32 * 1024 * 1024, $"managed heap grew by {growth / (1024 * 1024)} MiB");
    }
}
