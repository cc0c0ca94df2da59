using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace HomeIQ.Gateway.Apis;

/// <summary>
/// <c>GET /openapi/merged.json</c>: one document with the paths of every routed service, as clients see them through
/// the gateway; a service that is not deployed or not answering is listed under <c>x-unavailable</c>.
/// </summary>
public static partial class OpenApiMergeApi
{
    public static IEndpointRouteBuilder MapMergedOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/openapi/merged.json", MergeAsync).AllowAnonymous();
        return app;
    }

    internal static async Task<IResult> MergeAsync(IHttpClientFactory clients, IProxyConfigProvider proxy, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var config = proxy.GetConfig();
        var routes = config.Routes
            .Where(r => r.Match.Path is not null)
            .Select(r => (r.ClusterId, Template: TemplateParser.Parse(r.Match.Path!)))
            .OrderBy(r => RoutePrecedence.ComputeInbound(r.Template)) // the most specific first, as routing picks them
            .ToList();
        var documents = await Task.WhenAll(config.Clusters.Select(async cluster =>
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(options.Value.PartTimeout);
                var address = cluster.Destinations?.Values.FirstOrDefault()?.Address.TrimEnd('/');
                var text = await clients.CreateClient(OverviewApi.ClientName).GetStringAsync(new Uri($"{address}/openapi/v1.json"), cts.Token);
                return (cluster.ClusterId, document: JsonNode.Parse(text));
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or UriFormatException or OperationCanceledException
                                           or System.Text.Json.JsonException or Polly.ExecutionRejectedException)
            {
                return (cluster.ClusterId, document: (JsonNode?)null);
            }
        }));
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var (cluster, document) in documents.Where(d => d.document is not null))
        {
            foreach (var (path, item) in document!["paths"]?.AsObject() ?? [])
            {
                // Only what the gateway really routes to this service is reachable through it.
                var sample = Parameter().Replace(path, "x");
                var route = routes.FirstOrDefault(r => new TemplateMatcher(r.Template, []).TryMatch(sample, []));
                if (route.ClusterId == cluster && !paths.ContainsKey(path))
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
            ["x-unavailable"] = new JsonArray([.. documents.Where(d => d.document is null).Select(d => (JsonNode)JsonValue.Create(d.ClusterId)!)]),
        };
        return Results.Text(merged.ToJsonString(), "application/json");
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();
}
