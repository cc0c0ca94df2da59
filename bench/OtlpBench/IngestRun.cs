using System.Diagnostics;
using System.Net.Http.Headers;
using Google.Protobuf;
using HomeIQ.Hosting.Dashboard.Otlp;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Common;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Trace;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace OtlpBench;

/// <summary>One measurement: receiver and store on loopback, N posters replaying pre-encoded batches for a fixed time.</summary>
internal static class IngestRun
{
    public const int SpansPerBatch = 512;
    private const int Batches = 128;
    private const int SpansPerTrace = 16;
    private const string ApiKey = "bench-key";

    public static async Task<RunResult> RunAsync(BenchOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        var store = new TelemetryStore(new TelemetryLimits());
        app.MapOtlpReceiver(store, ApiKey);
        await app.StartAsync();
        var batches = Enumerable.Range(0, Batches).Select(b => Encode(b).ToByteArray()).ToArray();

        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds));
        var peakRss = 0.0;
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakRss = Math.Max(peakRss, RssMiB());
                await Task.Delay(100);
            }
        });
        long requests = 0;
        long failures = 0;
        var clock = Stopwatch.StartNew();
        var posters = Enumerable.Range(0, options.Concurrency).Select(p => Task.Run(async () =>
        {
            for (var i = p; !stop.IsCancellationRequested; i += options.Concurrency)
            {
                if (Interlocked.Increment(ref requests) > options.MaxRequests)
                {
                    Interlocked.Decrement(ref requests);
                    return;
                }
                using var content = new ByteArrayContent(batches[i % batches.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue(OtlpReceiver.ProtobufContentType);
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
                request.Headers.Add(OtlpReceiver.ApiKeyHeader, ApiKey);
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        await Task.WhenAll(posters);
        var elapsed = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} requests failed");
        }
        var stats = store.GetStats();
        var endRss = RssMiB();
        Console.Error.WriteLine($"managed heap after full GC: {GC.GetTotalMemory(true) / 1048576.0:N0} MiB, RSS after it {RssMiB():N0} MiB");
        await app.StopAsync();
        return new RunResult(requests * SpansPerBatch / elapsed, requests, Math.Max(peakRss, endRss), endRss, stats.Spans, stats.Traces);
    }

    private static ExportTraceServiceRequest Encode(int batch)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "Microsoft.AspNetCore" } };
        for (var i = 0; i < SpansPerBatch; i++)
        {
            var trace = new byte[16];
            BitConverter.TryWriteBytes(trace, batch);
            BitConverter.TryWriteBytes(trace.AsSpan(8), i / SpansPerTrace);
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(trace),
                SpanId = ByteString.CopyFrom(BitConverter.GetBytes(((long)batch << 32) | (uint)i)),
                ParentSpanId = i % SpansPerTrace == 0 ? ByteString.Empty : ByteString.CopyFrom(BitConverter.GetBytes(((long)batch << 32) | (uint)(i - (i % SpansPerTrace)))),
                Name = i % SpansPerTrace == 0 ? "GET /api/devices/{id}" : "SELECT homeiq.devices",
                Kind = i % SpansPerTrace == 0 ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client,
                StartTimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)(i * 1000),
                EndTimeUnixNano = 1_700_000_000_000_500_000UL + (ulong)(i * 1000),
                Status = new Status { Code = Status.Types.StatusCode.Unset },
            };
            span.Attributes.Add(Attribute("http.request.method", "GET"));
            span.Attributes.Add(Attribute("url.path", $"/api/devices/{i}"));
            span.Attributes.Add(Attribute("http.route", "/api/devices/{id}"));
            span.Attributes.Add(Attribute("server.address", "localhost"));
            span.Attributes.Add(new KeyValue { Key = "http.response.status_code", Value = new AnyValue { IntValue = 200 } });
            scope.Spans.Add(span);
        }
        var resource = new HomeIQ.Hosting.Dashboard.Otlp.Proto.Common.Resource();
        resource.Attributes.Add(Attribute("service.name", "devices"));
        resource.Attributes.Add(Attribute("service.instance.id", "devices-1"));
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans { Resource = resource, ScopeSpans = { scope } });
        return request;
    }

    private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static double RssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return 0;
    }
}
