using HomeIQ.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Testing;

/// <summary>Reaching the resources of a running application from a test.</summary>
public static class DistributedApplicationTestingExtensions
{
    /// <summary>An HttpClient whose base address is the resource's endpoint (<c>http</c>, else <c>https</c>, else the named one).</summary>
    public static HttpClient CreateHttpClient(this DistributedApplication app, string resourceName, string? endpointName = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var resource = Find(app, resourceName);
        var endpoints = resource.Annotations.All<EndpointAnnotation>().ToList();
        var endpoint = (endpointName is null
                           ? endpoints.FirstOrDefault(e => e.Name == "http") ?? endpoints.FirstOrDefault(e => e.Name == "https")
                           : endpoints.FirstOrDefault(e => e.Name == endpointName))
                       ?? throw new InvalidOperationException($"Resource '{resourceName}' has no endpoint named '{endpointName ?? "http"}'.");
        if (endpoint.AllocatedEndpoints.Count == 0)
        {
            throw new InvalidOperationException($"The endpoints of '{resourceName}' are not allocated yet; call StartAsync first.");
        }
        return new HttpClient { BaseAddress = new Uri(endpoint.AllocatedEndpoints[0].Url) };
    }

    /// <summary>The connection string a referencing project would receive for <paramref name="resourceName"/>.</summary>
    public static async Task<string?> GetConnectionStringAsync(this DistributedApplication app, string resourceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        return Find(app, resourceName) is IResourceWithConnectionString withConnectionString
            ? await withConnectionString.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false)
            : throw new ArgumentException($"Resource '{resourceName}' does not have a connection string.", nameof(resourceName));
    }

    /// <summary>The endpoint URL of a resource (first replica).</summary>
    public static Uri GetEndpoint(this DistributedApplication app, string resourceName, string endpointName = "http")
    {
        ArgumentNullException.ThrowIfNull(app);
        var resource = Find(app, resourceName);
        return resource is IResourceWithEndpoints withEndpoints
            ? new Uri(new EndpointReference(withEndpoints, endpointName).Url)
            : throw new ArgumentException($"Resource '{resourceName}' has no endpoints.", nameof(resourceName));
    }

    private static IResource Find(DistributedApplication app, string name) =>
        app.Resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"There is no resource named '{name}'. Known resources: {string.Join(", ", app.Resources.Select(r => r.Name))}.", nameof(name));
}
