using System.Net;

namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>A parsed service query such as <c>https+http://_admin.devices</c>: schemes in priority order, optional endpoint name, service name.</summary>
internal sealed record ServiceQuery(IReadOnlyList<string> Schemes, string? EndpointName, string ServiceName)
{
    private const string SchemeSeparator = "://";

    /// <summary>The canonical text of the query, used as the round-robin key.</summary>
    public string Key { get; } = $"{string.Join('+', Schemes)}://{(EndpointName is null ? "" : $"_{EndpointName}.")}{ServiceName}".ToLowerInvariant();

    /// <summary>Parses <c>scheme[+scheme…]://[_endpoint.]service[:port][/path]</c>; a bare name means <c>http://name</c>.</summary>
    public static ServiceQuery Parse(string query)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var separator = query.IndexOf(SchemeSeparator, StringComparison.Ordinal);
        var schemeText = separator < 0 ? "http" : query[..separator];
        var rest = separator < 0 ? query : query[(separator + SchemeSeparator.Length)..];
        var hostEnd = rest.IndexOfAny([':', '/', '?', '#']);
        var host = hostEnd < 0 ? rest : rest[..hostEnd];
        var schemes = schemeText.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (schemes.Length == 0 || host.Length == 0)
        {
            throw new ArgumentException($"'{query}' is not a service query such as 'http://devices' or 'https+http://_admin.devices'.", nameof(query));
        }

        return FromParts(schemes, host) ?? throw new ArgumentException($"'{host}' in '{query}' is not a service name.", nameof(query));
    }

    /// <summary>Builds the query for a request URI, or returns null when its host is not a service name and should pass through.</summary>
    public static ServiceQuery? FromUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return null;
        }

        return FromParts(uri.Scheme.Split('+', StringSplitOptions.RemoveEmptyEntries), uri.Host);
    }

    /// <summary>True when the host names a service rather than a machine: not an IP, not <c>localhost</c>, no dot except in <c>_endpoint.service</c>.</summary>
    public static bool IsServiceHost(string host) => SplitHost(host) is not null;

    private static ServiceQuery? FromParts(string[] schemes, string host)
    {
        if (schemes.Length == 0 || SplitHost(host) is not { } parts)
        {
            return null;
        }

        return new ServiceQuery([.. schemes.Select(s => s.ToLowerInvariant())], parts.EndpointName, parts.ServiceName);
    }

    private static (string? EndpointName, string ServiceName)? SplitHost(string host)
    {
        if (string.IsNullOrWhiteSpace(host)
            || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.StartsWith('[')
            || IPAddress.TryParse(host, out _))
        {
            return null;
        }

        var dot = host.IndexOf('.');
        if (dot < 0)
        {
            return (null, host);
        }

        // "_admin.devices": endpoint "admin" of service "devices"; any other dotted host is a real machine name.
        var service = host[(dot + 1)..];
        if (host[0] != '_' || dot < 2 || service.Length == 0 || service.Contains('.'))
        {
            return null;
        }

        return (host[1..dot], service);
    }
}
