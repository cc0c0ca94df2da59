using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeIQ.Hosting.Dashboard;

/// <summary>The dashboard's pages: three files embedded in this assembly, no CDN.</summary>
internal static class StaticAssets
{
    private static readonly Dictionary<string, (string ResourceName, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        ["/"] = ("dashboard/index.html", "text/html; charset=utf-8"),
        ["/app.js"] = ("dashboard/app.js", "text/javascript; charset=utf-8"),
        ["/app.css"] = ("dashboard/app.css", "text/css; charset=utf-8"),
    };

    public static IEndpointRouteBuilder MapStaticAssets(this IEndpointRouteBuilder endpoints)
    {
        var cache = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (path, (resourceName, contentType)) in Files)
        {
            using var stream = typeof(StaticAssets).Assembly.GetManifestResourceStream(resourceName)
                ?? throw new InvalidOperationException($"The dashboard asset '{resourceName}' is not embedded in HomeIQ.Hosting.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            endpoints.MapGet(path, () => Results.Bytes(bytes, contentType));
        }
        return endpoints;
    }
}
