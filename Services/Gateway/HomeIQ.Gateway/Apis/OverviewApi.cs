using System.Diagnostics;
using System.Text.Json;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Apis;

/// <summary>
/// <c>GET /api/v1/homes/{homeId}/overview</c>: the home's devices, latest readings, today's energy and cost, and open anomalies,
/// fetched in parallel with a timeout each. It always answers 200 with what it got; what failed is named in <c>degraded</c>, so
/// one service being down (or its circuit open) never takes the overview down.
/// </summary>
public static class OverviewApi
{
    public const string ClientName = "gateway-overview";

    public sealed record DegradedPart(string Part, string Reason);
    public sealed record Overview(Guid HomeId, JsonElement? Devices, JsonElement? Readings, JsonElement? Energy, JsonElement? Anomalies,
        IReadOnlyList<DegradedPart> Degraded);

    private static readonly (string Part, string Service, string Path)[] Parts =
    [
        ("devices", "devices", "devices?limit=200"),
        ("readings", "readings", "readings/latest"),
        ("energy", "energy", "energy/today"),
        ("anomalies", "anomalies", "anomalies?status=open&limit=20"),
    ];

    public static IEndpointRouteBuilder MapOverviewApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/homes/{homeId:guid}/overview", GetOverview).RequireAuthorization(HomePolicies.HomeMember);
        return app;
    }

    internal static async Task<Ok<Overview>> GetOverview(Guid homeId, HttpContext context, IHttpClientFactory clients, IOptions<GatewayOptions> options)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        var results = await Task.WhenAll(Parts.Select(p => FetchAsync(clients, p.Part, $"http://{p.Service}/api/v1/homes/{homeId}/{p.Path}", authorization,
            options.Value.PartTimeout, context.RequestAborted)));
        JsonElement? Part(string name) => results.Single(r => r.Part == name).Body;
        var degraded = results.Where(r => r.Reason is not null).Select(r => new DegradedPart(r.Part, r.Reason!)).ToList();
        return TypedResults.Ok(new Overview(homeId, Part("devices"), Part("readings"), Part("energy"), Part("anomalies"), degraded));
    }

    private static async Task<(string Part, JsonElement? Body, string? Reason)> FetchAsync(
        IHttpClientFactory clients, string part, string url, string authorization, TimeSpan timeout, CancellationToken aborted)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        cts.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cts.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (part, null, $"{part} answered {(int)response.StatusCode}");
            }
            return (part, await response.Content.ReadFromJsonAsync<JsonElement>(cts.Token), null);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return (part, null, $"{part} did not answer within {timeout.TotalMilliseconds:F0} ms");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or Polly.ExecutionRejectedException or TimeoutException)
        {
            return (part, null, $"{part} is unavailable ({ex.GetType().Name}) after {clock.ElapsedMilliseconds} ms");
        }
    }
}
