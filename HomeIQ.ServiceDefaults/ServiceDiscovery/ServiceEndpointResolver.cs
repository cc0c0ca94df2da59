using Microsoft.Extensions.Configuration;

namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>Resolves service queries such as <c>https+http://devices</c> to endpoints from <c>Services:{service}:{endpoint}</c> configuration.</summary>
/// <remarks>Configuration is read on every call, so reloads take effect at once. Picks among endpoints round robin, per query.</remarks>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    /// <summary>Whether <paramref name="exception"/> is discovery saying that <paramref name="serviceName"/> has no endpoint (not deployed).</summary>
    public static bool IsServiceNotFound(Exception exception, string serviceName) =>
        exception is InvalidOperationException && exception.Data[ConfigurationEndpointReader.ServiceNameDataKey] as string == serviceName;

    private readonly IConfiguration _configuration = configuration ?? throw new ArgumentNullException(nameof(configuration));
    private readonly RoundRobinCounter _counter = new();

    /// <summary>All endpoints of a query such as <c>https+http://devices</c>, <c>http://_admin.devices</c> or <c>devices</c> (meaning <c>http://devices</c>).</summary>
    /// <exception cref="InvalidOperationException">No endpoint is configured for the service.</exception>
    public ValueTask<IReadOnlyList<Uri>> GetEndpointsAsync(string serviceQuery, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ConfigurationEndpointReader.Read(_configuration, ServiceQuery.Parse(serviceQuery)));
    }

    /// <summary>Replaces the scheme, host and port of a service URI with the next endpoint, keeping path, query and fragment.</summary>
    /// <remarks>URIs whose host is an IP, <c>localhost</c> or a dotted machine name are returned unchanged.
    /// <c>ws</c>/<c>wss</c> are looked up as <c>http</c>/<c>https</c> and the result keeps the WebSocket scheme.</remarks>
    /// <exception cref="InvalidOperationException">No endpoint is configured for the service.</exception>
    public ValueTask<Uri> ResolveAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Resolve(uri));
    }

    /// <summary>The synchronous core of <see cref="ResolveAsync"/>; reading configuration never blocks on I/O.</summary>
    internal Uri Resolve(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (ServiceQuery.FromUri(uri) is not { } query)
        {
            return uri;
        }

        var webSocket = query.Schemes.Any(IsWebSocketScheme);
        if (webSocket)
        {
            query = query with { Schemes = [.. query.Schemes.Select(ToHttpScheme)] };
        }

        var endpoints = ConfigurationEndpointReader.Read(_configuration, query);
        var endpoint = endpoints[_counter.Next(query.Key, endpoints.Count)];
        var scheme = webSocket ? ToWebSocketScheme(endpoint.Scheme) : endpoint.Scheme;
        var pathBase = endpoint.AbsolutePath.TrimEnd('/');
        return new Uri($"{scheme}://{endpoint.Authority}{pathBase}{uri.PathAndQuery}{uri.Fragment}");
    }

    private static bool IsWebSocketScheme(string scheme) => scheme is "ws" or "wss";

    private static string ToHttpScheme(string scheme) => scheme switch { "ws" => "http", "wss" => "https", _ => scheme };

    private static string ToWebSocketScheme(string scheme) => scheme switch { "http" => "ws", "https" => "wss", _ => scheme };
}
