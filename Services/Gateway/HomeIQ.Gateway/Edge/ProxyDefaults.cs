using Yarp.ReverseProxy.Configuration;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// Defaults for every configured route and cluster. A route without an <c>AuthorizationPolicy</c> needs a valid token:
/// forgetting the policy closes a route instead of opening it. Header values are sent on as UTF-8, as clients sent them
/// (Kestrel accepts UTF-8): HttpClient's default refuses non-ASCII values, which made a client's header a 503.
/// </summary>
internal sealed class ProxyDefaults : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) =>
        ValueTask.FromResult(cluster.HttpClient?.RequestHeaderEncoding is not null
            ? cluster
            : cluster with { HttpClient = (cluster.HttpClient ?? new HttpClientConfig()) with { RequestHeaderEncoding = "utf-8" } });

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(string.IsNullOrEmpty(route.AuthorizationPolicy) ? route with { AuthorizationPolicy = "default" } : route);
}
