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
using MetricPoint = HomeIQ.Hosting.Dashboard.Telemetry.MetricPoint;

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

/// <summary>The store's bounds and the query maths, without HTTP.</summary>
public sealed class TelemetryStoreTests
{
    private const ulong Second = 1_000_000_000;

    [Fact]
    public void TheLogRingEvictsTheOldestRecordsFirstAndFiltersByMinimumLevel()
    {
        var store = new TelemetryStore(new TelemetryLimits { MaxLogs = 3 });
        LogLevel[] levels = [LogLevel.Information, LogLevel.Warning, LogLevel.Debug, LogLevel.Error, LogLevel.Critical];
        store.AddLogs([.. levels.Select((level, i) => OtlpTestHost.Log($"m{i}", level))]);

        Assert.Equal(["m4", "m3", "m2"], store.QueryLogs(new LogQuery()).Select(l => l.Message));
        Assert.Equal(["m4", "m3"], store.QueryLogs(new LogQuery(MinLevel: LogLevel.Warning)).Select(l => l.Message));
        Assert.Equal(2, store.GetStats().LogsEvicted);
    }

    [Fact]
    public void WholeOldestTracesAreEvictedAFullTraceRefusesMoreSpansAndLongValuesAreCut()
    {
        var store = new TelemetryStore(new TelemetryLimits { MaxTraces = 2, MaxSpansPerTrace = 2, MaxAttributeValueLength = 10 });
        store.AddSpans([OtlpTestHost.TestSpan("a", "a1"), OtlpTestHost.TestSpan("a", "a2"), OtlpTestHost.TestSpan("a", "a3"), OtlpTestHost.TestSpan("b", "b1", new string('x', 50))]);
        Assert.Equal(2, store.GetTrace("a")?.Count);
        store.AddSpans([OtlpTestHost.TestSpan("c", "c1")]);

        Assert.Null(store.GetTrace("a"));
        Assert.Equal(["b", "c"], store.GetTraces().Select(t => t.TraceId).Order());
        Assert.Equal(new string('x', 10), Assert.Single(store.GetTrace("b")!).Attributes[0].Value);
        var stats = store.GetStats();
        Assert.Equal((2, 2, 1, 1, 1L), (stats.Traces, stats.Spans, stats.TracesEvicted, stats.SpansDropped, stats.ValuesTruncated));
    }

    [Fact]
    public void NewMetricSeriesBeyondTheCapAreDroppedWhileHeldSeriesKeepTheirLatestPoints()
    {
        var store = new TelemetryStore(new TelemetryLimits { MaxMetricSeries = 2, MaxPointsPerSeries = 3 });
        store.AddMetrics([OtlpTestHost.Gauge("kitchen", 20, 21, 22, 23, 24), OtlpTestHost.Gauge("hall", 18), OtlpTestHost.Gauge("attic", 30, 31)]);

        var metric = store.GetMetric("svc", "temperature")!;
        Assert.Equal(2, metric.Series.Count);
        Assert.Equal([22, 23, 24], metric.Series.Single(s => s.Attributes[0].Value == "kitchen").Points.Select(p => p.Value));
        var stats = store.GetStats();
        Assert.Equal((2, 4, 2, 2L), (stats.MetricSeries, stats.MetricPoints, stats.MetricSeriesDropped, stats.MetricPointsDropped));
    }

    [Fact]
    public void CumulativeCounterPointsBecomeRatesPerSecondAcrossAReset()
    {
        MetricPoint[] points =
        [
            new(0, 10 * Second, 100), new(0, 20 * Second, 300), new(25 * Second, 30 * Second, 50), new(25 * Second, 40 * Second, 150),
        ];

        var rates = MetricMath.CounterRates(points, MetricTemporality.Cumulative);

        Assert.Equal([20.0, 10.0, 10.0], rates.Select(r => r.Rate)); // the first point has no start time, so no interval of its own
        Assert.Equal([2.0], MetricMath.CounterRates([new MetricPoint(8 * Second, 10 * Second, 4)], MetricTemporality.Delta).Select(r => r.Rate));
    }

    [Fact]
    public void HistogramPercentilesInterpolateInsideBucketsOfTheIntervalBetweenCumulativePoints()
    {
        double[] bounds = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        var uniform = new HistogramValue(100, 5050, bounds, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10], 1, 100);

        Assert.Equal(50, MetricMath.Percentile(uniform, 0.50)!.Value, 6);
        Assert.Equal(90, MetricMath.Percentile(uniform, 0.90)!.Value, 6);
        Assert.Equal(99, MetricMath.Percentile(uniform, 0.99)!.Value, 6);
        Assert.Null(MetricMath.Percentile(uniform with { BucketCounts = new ulong[10] }, 0.5));

        var later = uniform with { Count = 120, BucketCounts = [10, 10, 10, 10, 10, 10, 10, 10, 10, 30] };
        var window = MetricMath.Percentiles([new(0, Second, 0, uniform), new(0, 2 * Second, 0, later)], MetricTemporality.Cumulative)[1];
        Assert.Equal(20UL, window.Count);
        Assert.Equal(95, window.P50!.Value, 6);
    }
}
