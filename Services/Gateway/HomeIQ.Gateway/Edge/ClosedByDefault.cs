using Yarp.ReverseProxy.Configuration;

namespace HomeIQ.Gateway.Edge;

/// <summary>A route without an <c>AuthorizationPolicy</c> needs a valid token: forgetting the policy closes a route instead of opening it.</summary>
internal sealed class ClosedByDefault : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(string.IsNullOrEmpty(route.AuthorizationPolicy) ? route with { AuthorizationPolicy = "default" } : route);
}
