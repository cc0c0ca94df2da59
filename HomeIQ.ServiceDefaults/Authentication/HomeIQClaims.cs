using System.Security.Claims;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>Reads HomeIQ's claims.</summary>
public static class HomeIQClaims
{
    /// <summary>The claim holding the home memberships: a JSON object of home id → role.</summary>
    public const string Homes = "homes";

    /// <summary>The user (or service client) id: the <c>sub</c> claim.</summary>
    public static string? GetUserId(this ClaimsPrincipal user) => user?.FindFirst("sub")?.Value;

    /// <summary>The user's role in a home (<c>owner</c>, <c>member</c>, <c>guest</c>), or null when they are not a member.</summary>
    public static string? GetHomeRole(this ClaimsPrincipal user, Guid homeId)
    {
        if (user?.FindFirst(Homes)?.Value is not { Length: > 0 } json)
        {
            return null;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            foreach (var home in document.RootElement.EnumerateObject())
            {
                if (Guid.TryParse(home.Name, out var id) && id == homeId)
                {
                    return home.Value.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return null;
    }
}
