using HomeIQ.Contracts;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using HomeIQ.Ingestion.Commands;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;
using HomeIQ.Ingestion.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace HomeIQ.Ingestion.Apis;

/// <summary>Readings from hubs, authenticated by hub key: HTTP batches and a WebSocket stream.</summary>
public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        var ingest = app.MapGroup("/api/v1/ingest").RequireAuthorization(HubKeyPrincipal.Policy);
        ingest.MapPost("/readings", IngestReadings)
            .WithName("IngestReadings")
            .WithSummary("Ingest a batch of readings (hub key in X-Hub-Key); 202 only once the broker confirmed them")
            .Accepts<IngestBatch>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        ingest.MapGet("/stream", StreamReadings)
            .WithName("StreamReadings")
            .WithSummary("WebSocket stream of readings (hub key in X-Hub-Key on the upgrade request)")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    internal static async Task<Results<Accepted<IngestAccepted>, ProblemHttpResult>> IngestReadings(
        HttpContext context, ClaimsPrincipal user, IReadingPipeline pipeline, IOptions<IngestionOptions> options, CancellationToken ct)
    {
        var settings = options.Value;
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return TypedResults.Problem(title: "Unsupported media type", detail: "The body is JSON: Content-Type: application/json.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }
        var (encoding, unknownCharset) = BodyEncoding(request);
        if (unknownCharset is not null)
        {
            return TypedResults.Problem(title: "Unsupported media type", detail: $"The charset '{unknownCharset}' is not a known encoding; send UTF-8.",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }
        List<SensorReading> readings;
        try
        {
            // A charset other than UTF-8 is transcoded, as the minimal-API binder of the other services does.
            await using var transcoded = encoding is null ? null : Encoding.CreateTranscodingStream(request.Body, encoding, Encoding.UTF8, leaveOpen: true);
            readings = await IngestBatchReader.ReadAsync(transcoded ?? request.Body, transcoded is null ? request.ContentLength : null, ct);
        }
        catch (JsonException ex)
        {
            return IngestProblems.BadRequest($"The body is not a valid batch: {ex.Message}");
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's body size limit (413) or a broken request body.
            return TypedResults.Problem(title: ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Batch too large" : "Bad request",
                detail: ex.Message, statusCode: ex.StatusCode);
        }
        if (readings.Count == 0)
        {
            return IngestProblems.BadRequest("The batch carries no readings.");
        }
        if (readings.Count > settings.MaxBatchSize)
        {
            return TypedResults.Problem(title: "Batch too large", detail: $"A batch carries at most {settings.MaxBatchSize} readings; this one has {readings.Count}.",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        IngestOutcome outcome;
        try
        {
            outcome = await pipeline.AcceptAsync(user.HomeId(), "http", readings, ct);
        }
        catch (IngestUnavailableException ex)
        {
            return IngestProblems.Unavailable(context, ex);
        }
        if (outcome.Accepted == 0)
        {
            return TypedResults.Problem(title: "No reading was valid", detail: "Every reading of the batch was rejected; see rejected.",
                statusCode: StatusCodes.Status422UnprocessableEntity, extensions: new Dictionary<string, object?> { ["rejected"] = outcome.Rejected });
        }
        return TypedResults.Accepted((string?)null, new IngestAccepted(outcome.Accepted, outcome.Rejected));
    }

    /// <summary>The encoding the Content-Type's charset names (null for UTF-8 or no charset), or the charset when no encoding has that name.</summary>
    private static (Encoding? Encoding, string? UnknownCharset) BodyEncoding(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || StringSegment.IsNullOrEmpty(type.Charset))
        {
            return (null, null);
        }
        var charset = HeaderUtilities.RemoveQuotes(type.Charset).ToString();
        try
        {
            var encoding = Encoding.GetEncoding(charset);
            return (encoding.CodePage == Encoding.UTF8.CodePage ? null : encoding, null);
        }
        catch (ArgumentException)
        {
            return (null, charset);
        }
    }

    internal static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamReadings(
        HttpContext context, ClaimsPrincipal user, IReadingPipeline pipeline, HubConnections hubs, IOptions<IngestionOptions> options, ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(title: "WebSocket required", detail: "This route is a WebSocket stream: send an upgrade request.",
                statusCode: StatusCodes.Status400BadRequest);
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new StreamConnection(socket, user.HomeId(), pipeline, hubs, options.Value, loggers.CreateLogger<StreamConnection>()).RunAsync();
        return TypedResults.Empty;
    }
}
