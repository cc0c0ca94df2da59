using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>OTLP/HTTP (protobuf) receiver endpoints that feed a <see cref="TelemetryStore"/>.</summary>
public static class OtlpReceiver
{
    /// <summary>The header that must carry the API key.</summary>
    public const string ApiKeyHeader = "x-otlp-api-key";

    /// <summary>The only content type accepted.</summary>
    public const string ProtobufContentType = "application/x-protobuf";

    /// <summary>
    /// Maps <c>POST /v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c>. Requests need <see cref="ApiKeyHeader"/>
    /// equal to <paramref name="apiKey"/> (401), a protobuf body (415; gzip or identity encoding) no larger than
    /// <see cref="TelemetryLimits.MaxRequestBodyBytes"/> (413) that parses (400). Success is 200 with an empty
    /// protobuf Export…ServiceResponse.
    /// </summary>
    public static IEndpointRouteBuilder MapOtlpReceiver(this IEndpointRouteBuilder endpoints, TelemetryStore store, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var expectedKey = SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

        Func<HttpContext, Task<IResult>> traces = context => ReceiveAsync(context, store, expectedKey, ExportTraceServiceRequest.Parser,
            request => store.AddSpans(OtlpTraceMapper.Map(request, store.Strings)), new ExportTraceServiceResponse());
        Func<HttpContext, Task<IResult>> logs = context => ReceiveAsync(context, store, expectedKey, ExportLogsServiceRequest.Parser,
            request => store.AddLogs(OtlpLogMapper.Map(request, store.Strings)), new ExportLogsServiceResponse());
        Func<HttpContext, Task<IResult>> metrics = context => ReceiveAsync(context, store, expectedKey, ExportMetricsServiceRequest.Parser,
            request => store.AddMetrics(OtlpMetricMapper.Map(request, store.Strings)), new ExportMetricsServiceResponse());
        endpoints.MapPost("/v1/traces", traces).ExcludeFromDescription();
        endpoints.MapPost("/v1/logs", logs).ExcludeFromDescription();
        endpoints.MapPost("/v1/metrics", metrics).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<IResult> ReceiveAsync<TRequest>(HttpContext context, TelemetryStore store, byte[] expectedKey,
        MessageParser<TRequest> parser, Action<TRequest> accept, IMessage response)
        where TRequest : IMessage<TRequest>
    {
        var request = context.Request;
        var limit = store.Limits.MaxRequestBodyBytes;
        if (!HasKey(request, expectedKey))
        {
            return Reject(store, StatusCodes.Status401Unauthorized, "Unauthorized", $"Missing or wrong {ApiKeyHeader} header.");
        }
        if (ContentTypeProblem(request.ContentType) is { } typeProblem)
        {
            return Reject(store, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", typeProblem);
        }
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Reject(store, StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                $"Content-Encoding '{encoding}' is not supported; send the body uncompressed or gzip-encoded.");
        }
        if (request.ContentLength > limit)
        {
            return TooLarge(store, limit);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        OtlpRequestBody? body;
        try
        {
            body = await OtlpRequestBody.ReadAsync(request.Body, gzip, request.ContentLength, limit, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(store, limit);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or InvalidDataException or IOException or OperationCanceledException)
        {
            return Reject(store, StatusCodes.Status400BadRequest, "Bad request body", gzip ? "The body could not be read or is not valid gzip." : "The body could not be read.");
        }
        if (body is null)
        {
            return TooLarge(store, limit);
        }

        TRequest message;
        using (body)
        {
            try
            {
                message = parser.ParseFrom(body.Span);
            }
            catch (InvalidProtocolBufferException ex)
            {
                return Reject(store, StatusCodes.Status400BadRequest, "Malformed protobuf", $"The body is not a valid {typeof(TRequest).Name}: {ex.Message}");
            }
        }
        accept(message);
        return TypedResults.Bytes(response.ToByteArray(), ProtobufContentType);
    }

    private static bool HasKey(HttpRequest request, byte[] expectedKey)
    {
        var values = request.Headers[ApiKeyHeader];
        if (values.Count != 1 || values[0] is not { } key)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(key)), expectedKey);
    }

    private static string? ContentTypeProblem(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return $"Content-Type must be {ProtobufContentType}.";
        }
        if (string.Equals(mediaType.MediaType, ProtobufContentType, StringComparison.OrdinalIgnoreCase)
            || string.Equals(mediaType.MediaType, "application/protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return string.Equals(mediaType.MediaType, "application/json", StringComparison.OrdinalIgnoreCase)
            ? $"OTLP/JSON is not supported; export with the http/protobuf protocol ({ProtobufContentType})."
            : $"Content-Type '{mediaType.MediaType}' is not supported; send {ProtobufContentType}.";
    }

    private static IResult TooLarge(TelemetryStore store, long limit) =>
        Reject(store, StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body exceeds the limit of {limit} bytes; export smaller batches.");

    private static IResult Reject(TelemetryStore store, int status, string title, string detail)
    {
        store.RecordRejectedRequest();
        return TypedResults.Problem(detail, statusCode: status, title: title);
    }
}
