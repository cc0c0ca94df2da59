using System.Net.Http.Json;

namespace HomeIQ.Notifications.Infrastructure;

/// <summary>
/// The members of a home, from Identity's internal route with this service's own token. Asked once per event: Identity owns
/// memberships, and a member added or removed a moment ago is then right for the next event. A failure throws, so the event is retried.
/// </summary>
internal sealed class HomeMembers(HttpClient http)
{
    private sealed record Member(Guid UserId, string Role);

    public async Task<Guid[]> UserIdsAsync(Guid homeId, CancellationToken ct)
    {
        var members = await http.GetFromJsonAsync<Member[]>($"/api/v1/internal/homes/{homeId}/members", ct) ?? [];
        return [.. members.Select(m => m.UserId).Distinct().Order()];
    }
}
