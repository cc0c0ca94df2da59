using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using HomeIQ.Hosting.Dashboard.Otlp;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Common;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Trace;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using OtlpResource = HomeIQ.Hosting.Dashboard.Otlp.Proto.Common.Resource;

namespace HomeIQ.Tests.Dashboard;

/// <summary>The OTLP receiver and query API on a minimal loopback web app, with request helpers for the tests.</summary>
internal sealed class OtlpTestHost : IAsyncDisposable
{
    public const string ApiKey = "test-otlp-key";

    private readonly WebApplication _app;

    private OtlpTestHost(WebApplication app, TelemetryStore store, string address)
    {
        _app = app;
        Store = store;
        Address = address;
        Http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public TelemetryStore Store { get; }

    public string Address { get; }

    public HttpClient Http { get; }

    public static async Task<OtlpTestHost> StartAsync(TelemetryLimits? limits = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var store = new TelemetryStore(limits ?? new TelemetryLimits());
        app.MapOtlpReceiver(store, ApiKey);
        app.MapGroup("/api/v1").MapTelemetryApi(store);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new OtlpTestHost(app, store, app.Urls.First());
    }

    public Task<JsonElement> GetJsonAsync(string path) =>
        Http.GetFromJsonAsync<JsonElement>(path, TestContext.Current.CancellationToken);

    public async Task<HttpStatusCode> PostAsync(string path, HttpContent content, string? key = ApiKey, string? encoding = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (key is not null)
        {
            request.Headers.Add(OtlpReceiver.ApiKeyHeader, key);
        }
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    public static ByteArrayContent Protobuf(IMessage message, string contentType = OtlpReceiver.ProtobufContentType) =>
        Protobuf(message.ToByteArray(), contentType);

    public static ByteArrayContent Protobuf(byte[] body, string contentType = OtlpReceiver.ProtobufContentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new(contentType);
        return content;
    }

    /// <summary>A trace export of <paramref name="spans"/> root spans, each in its own trace, with 5 attributes of 100 characters.</summary>
    public static ExportTraceServiceRequest Spans(int batch, int spans, string service = "flood-svc")
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "flood" } };
        for (var i = 0; i < spans; i++)
        {
            var id = new byte[16];
            BitConverter.TryWriteBytes(id, batch);
            BitConverter.TryWriteBytes(id.AsSpan(8), i + 1);
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(id),
                SpanId = ByteString.CopyFrom(id, 8, 8),
                Name = $"op {i}",
                Kind = Span.Types.SpanKind.Server,
                StartTimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)((batch * spans) + i),
                EndTimeUnixNano = 1_700_000_000_001_000_000UL + (ulong)((batch * spans) + i),
            };
            for (var a = 0; a < 5; a++)
            {
                span.Attributes.Add(new KeyValue { Key = $"attr.{a}", Value = new AnyValue { StringValue = new string((char)('a' + a), 100) + i } });
            }
            scope.Spans.Add(span);
        }
        var resource = new OtlpResource();
        resource.Attributes.Add(new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } });
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans { Resource = resource, ScopeSpans = { scope } });
        return request;
    }

    public static LogEntry Log(string message, LogLevel level) =>
        new() { TimeUnixNano = 1, Resource = "svc", Level = level, Message = message };

    public static SpanEntry TestSpan(string traceId, string spanId, string attribute = "") => new()
    {
        TraceId = traceId, SpanId = spanId, Name = spanId, Resource = "svc", StartUnixNano = 1, EndUnixNano = 2, Attributes = [new("a", attribute)],
    };

    public static MetricData Gauge(string room, params double[] values) => new()
    {
        Resource = "svc", Name = "temperature", Type = MetricType.Gauge,
        Points = [.. values.Select((v, i) => new MetricDataPoint([new("room", room)], new MetricPoint(0, (ulong)i + 1, v)))],
    };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(TestContext.Current.CancellationToken);
        await _app.DisposeAsync();
    }

    /// <summary>A body of unknown length, so HttpClient sends it chunked.</summary>
    public sealed class ChunkedContent(int size) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[8192];
            for (var sent = 0; sent < size; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
