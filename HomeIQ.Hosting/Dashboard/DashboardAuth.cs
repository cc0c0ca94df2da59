using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeIQ.Hosting.Dashboard;

/// <summary>
/// Token login, as the Aspire dashboard's browser-token mode: <c>/login?t={token}</c> sets an HttpOnly, SameSite=Strict
/// session cookie and redirects to the pages. Every page and API call needs that cookie, or the token as a bearer header.
/// </summary>
internal static class DashboardAuth
{
    public const string CookieName = "homeiq-dashboard";

    public static void UseTokenAuth(this WebApplication app, string token)
    {
        var expected = Encoding.UTF8.GetBytes(token);
        app.MapGet("/login", (HttpContext context, string? t) =>
        {
            if (t is null || !Matches(t, expected))
            {
                return Results.Content(Page("That login link is not valid. Use the one the AppHost printed when it started."), "text/html", statusCode: 401);
            }
            context.Response.Cookies.Append(CookieName, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
            return Results.Redirect("/#/resources");
        });
        app.Use(async (context, next) =>
        {
            if (IsCrossSiteWrite(context.Request))
            {
                await Results.Problem(title: "Cross-origin request refused", detail: "Commands are accepted only from the dashboard's own pages.", statusCode: 403)
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            if (context.Request.Path.StartsWithSegments("/login") || context.Request.Path == "/app.css" || IsAuthenticated(context.Request, expected))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            if (context.Request.Path.StartsWithSegments("/api"))
            {
                await Results.Problem(title: "Not logged in", detail: "Send the dashboard cookie or 'Authorization: Bearer <token>'.", statusCode: 401)
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            await Results.Content(Page("Log in with the URL the AppHost printed at start: <code>/login?t=…</code>"), "text/html", statusCode: 401)
                .ExecuteAsync(context).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// SameSite cookies do not tell ports apart, so any page on localhost could post a command with the dashboard cookie.
    /// A browser always sends Origin on a POST: it must be the dashboard's own. Scripts using the bearer token send none.
    /// </summary>
    private static bool IsCrossSiteWrite(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || !request.Cookies.ContainsKey(CookieName))
        {
            return false;
        }
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsAuthenticated(HttpRequest request, byte[] expected)
    {
        if (request.Cookies.TryGetValue(CookieName, out var cookie) && Matches(cookie, expected))
        {
            return true;
        }
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(header["Bearer ".Length..], expected);
    }

    private static bool Matches(string candidate, byte[] expected) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), expected);

    private static string Page(string message) =>
        $"<!doctype html><html><head><title>HomeIQ dashboard</title><link rel=\"stylesheet\" href=\"/app.css\"></head><body class=\"login\"><h1>HomeIQ dashboard</h1><p>{message}</p></body></html>";
}
