using Microsoft.Extensions.Configuration;

namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>Reads a query's endpoints from <c>Services:{service}:{endpointName}</c> on every call, so reloads take effect at once.</summary>
internal static class ConfigurationEndpointReader
{
    private const string SectionName = "Services";
    private const string DefaultEndpointName = "default";

    /// <summary>The endpoints for the query after section choice and scheme filtering; throws when there are none.</summary>
    /// <summary>The key of <see cref="Exception.Data"/> that names the unresolved service, so callers need not parse the message.</summary>
    public const string ServiceNameDataKey = "homeiq.service";

    // Still a plain InvalidOperationException naming the service, as the contract says.
    private static InvalidOperationException NotFound(string serviceName, string message) => new(message) { Data = { [ServiceNameDataKey] = serviceName } };

    public static IReadOnlyList<Uri> Read(IConfiguration configuration, ServiceQuery query)
    {
        var service = configuration.GetSection(SectionName).GetSection(query.ServiceName);
        IEnumerable<string> candidates = query.EndpointName is { } name ? [name] : [DefaultEndpointName, .. query.Schemes];
        var looked = candidates.Select(c => $"{SectionName}:{query.ServiceName}:{c}").ToList();
        var section = candidates.Select(service.GetSection).FirstOrDefault(s => s.Exists());
        if (section is null)
        {
            throw NotFound(query.ServiceName,
                $"No endpoints are configured for service '{query.ServiceName}' (query '{query.Key}'). Configuration keys looked at: {string.Join(", ", looked)}.");
        }

        var endpoints = Values(section).Select(v => ParseEndpoint(v.Key, v.Value, query.Schemes[0])).ToList();
        var filtered = FilterBySchemePriority(endpoints, query.Schemes);
        if (filtered.Count == 0)
        {
            var found = endpoints.Count == 0 ? "none" : string.Join(", ", endpoints);
            throw NotFound(query.ServiceName,
                $"No endpoints for service '{query.ServiceName}' at '{section.Path}' match the scheme(s) '{string.Join('+', query.Schemes)}' (found: {found}).");
        }

        return filtered;
    }

    /// <summary>Keeps only the endpoints of the best-priority scheme that is present.</summary>
    internal static List<Uri> FilterBySchemePriority(IReadOnlyList<Uri> endpoints, IReadOnlyList<string> schemes)
    {
        var best = schemes.FirstOrDefault(s => endpoints.Any(e => e.Scheme.Equals(s, StringComparison.OrdinalIgnoreCase)));
        return best is null ? [] : [.. endpoints.Where(e => e.Scheme.Equals(best, StringComparison.OrdinalIgnoreCase))];
    }

    private static IEnumerable<(string Key, string Value)> Values(IConfigurationSection section)
    {
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return [(section.Path, section.Value)];
        }

        return section.GetChildren()
            .Select(c => (Index: int.TryParse(c.Key, out var i) ? i : -1, c.Path, c.Value))
            .Where(c => c.Index >= 0 && !string.IsNullOrWhiteSpace(c.Value))
            .OrderBy(c => c.Index)
            .Select(c => (c.Path, c.Value!));
    }

    private static Uri ParseEndpoint(string key, string value, string defaultScheme)
    {
        var text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = $"{defaultScheme}://{text}";
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Configuration key '{key}' holds '{value}', which is not an endpoint such as 'http://localhost:5001'.");
    }
}
