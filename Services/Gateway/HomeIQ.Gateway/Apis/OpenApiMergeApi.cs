using System.Text.Json.Nodes;
using HomeIQ.Gateway.Forwarding;
using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Apis;

/// <summary>
/// <c>GET /openapi/merged.json</c>: one document with the paths of every routed service, as clients see them through
/// the gateway; a service that is not deployed or not answering is listed under <c>x-unavailable</c>.
/// </summary>
public static class OpenApiMergeApi
{
    public static IEndpointRouteBuilder MapMergedOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/openapi/merged.json", MergeAsync).AllowAnonymous();
        return app;
    }

    internal static async Task<IResult> MergeAsync(IHttpClientFactory clients, IOptions<GatewayOptions> options, RouteTable routes, CancellationToken ct)
    {
        var services = options.Value.Routes.Select(r => r.Service).Distinct(StringComparer.Ordinal).ToList();
        var documents = await Task.WhenAll(services.Select(async service =>
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(options.Value.PartTimeout);
                var text = await clients.CreateClient(OverviewApi.ClientName).GetStringAsync(new Uri($"http://{service}/openapi/v1.json"), cts.Token);
                return (service, document: JsonNode.Parse(text));
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or OperationCanceledException or System.Text.Json.JsonException
                                           or Polly.ExecutionRejectedException)
            {
                return (service, document: (JsonNode?)null);
            }
        }));
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var (service, document) in documents.Where(d => d.document is not null))
        {
            foreach (var (path, item) in document!["paths"]?.AsObject() ?? [])
            {
                // Only what the gateway really routes to this service is reachable through it.
                if (routes.Match(path.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal))?.Service == service && !paths.ContainsKey(path))
                {
                    paths[path] = item?.DeepClone();
                }
            }
            foreach (var (name, schema) in document["components"]?["schemas"]?.AsObject() ?? [])
            {
                schemas[name] ??= schema?.DeepClone();
            }
        }
        var merged = new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject { ["title"] = "HomeIQ API (through the gateway)", ["version"] = "v1" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
            ["x-unavailable"] = new JsonArray([.. documents.Where(d => d.document is null).Select(d => (JsonNode)JsonValue.Create(d.service)!)]),
        };
        return Results.Text(merged.ToJsonString(), "application/json");
    }
}
