using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HomeIQ.Tests.Identity;

/// <summary>
/// The per-home routes a service documents in its OpenAPI file, so "an outsider gets 404 everywhere" covers new routes
/// without anyone editing the test.
/// </summary>
internal static class HomeRoutes
{
    public sealed record Route(HttpMethod Method, string Template, string Path);

    /// <summary>
    /// Every operation under a path with <c>{homeId}</c>; known ids are filled in, other parameters get random ids. Routes under
    /// <c>/api/v1/internal/</c> are for service tokens only (any user gets 403, whatever the home) and are left out unless
    /// <paramref name="internalOnly"/>, which lists only them.
    /// </summary>
    public static async Task<List<Route>> FromOpenApiAsync(HttpClient http, string documentPath, Guid homeId, IReadOnlyDictionary<string, Guid>? ids = null,
        bool internalOnly = false)
    {
        var document = JsonDocument.Parse(await http.GetStringAsync(documentPath, TestContext.Current.CancellationToken)).RootElement;
        return [.. document.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.Contains("{homeId}", StringComparison.Ordinal) && p.Name.StartsWith("/api/v1/internal/", StringComparison.Ordinal) == internalOnly)
            .SelectMany(p => p.Value.EnumerateObject().Select(m => new Route(new HttpMethod(m.Name.ToUpperInvariant()), p.Name, Fill(p.Name, homeId, ids))))];
    }

    /// <summary>The routes that answered anything but 404 to <paramref name="outsiderToken"/> (waiting out 429s as told).</summary>
    public static async Task<List<string>> NotAnswering404Async(IdentityClient client, IEnumerable<Route> routes, string outsiderToken, object writeBody)
    {
        var wrong = new List<string>();
        foreach (var route in routes)
        {
            var body = route.Method == HttpMethod.Get || route.Method == HttpMethod.Delete ? null : writeBody;
            var response = await client.SendAsync(route.Method, route.Path, outsiderToken, body);
            while (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
                response.Dispose();
                response = await client.SendAsync(route.Method, route.Path, outsiderToken, body);
            }
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                wrong.Add($"{route.Method} {route.Template} answered {(int)response.StatusCode}");
            }
            response.Dispose();
        }
        return wrong;
    }

    private static string Fill(string template, Guid homeId, IReadOnlyDictionary<string, Guid>? ids)
    {
        var path = template.Replace("{homeId}", homeId.ToString(), StringComparison.Ordinal);
        foreach (var (name, id) in ids ?? new Dictionary<string, Guid>())
        {
            path = path.Replace("{" + name + "}", id.ToString(), StringComparison.Ordinal);
        }
        return Regex.Replace(path, "{[^}]+}", Guid.NewGuid().ToString());
    }
}
