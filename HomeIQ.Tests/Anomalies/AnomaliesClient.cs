using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Ingestion;

namespace HomeIQ.Tests.Anomalies;

/// <summary>Feeds a thermometer and reads its anomalies through the gateway, as a hub and an app would.</summary>
internal static class AnomaliesClient
{
    /// <summary>A noisy 21 °C, two decimals, from a seed so each test is repeatable.</summary>
    public static double[] Temperatures(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Math.Round(21 + (0.1 * (random.NextDouble() - 0.5)), 2))];
    }

    /// <summary>Posts <paramref name="values"/> as one batch of readings of <paramref name="deviceId"/>, <paramref name="step"/> apart ending at <paramref name="last"/>.</summary>
    /// <param name="newestFirst">Sends the batch in reverse time order (the detector must still learn it oldest first).</param>
    public static async Task IngestAsync(HttpClient gateway, string hubKey, Guid deviceId, IReadOnlyList<double> values, DateTimeOffset last, TimeSpan step,
        bool newestFirst = false)
    {
        var readings = values.Select((v, i) => IngestClient.Reading(deviceId, "temperature", v, "°C", last - ((values.Count - 1 - i) * step))).ToArray();
        if (newestFirst)
        {
            Array.Reverse(readings);
        }
        using var response = await IngestClient.PostAsync(gateway, hubKey, new { readings });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>GET …/anomalies with <paramref name="query"/>; fails the test unless it answers 200 with an object.</summary>
    public static async Task<JsonElement[]> ListAsync(IdentityClient client, Guid homeId, string token, string query)
    {
        using var response = await client.SendAsync(HttpMethod.Get, $"/api/v1/homes/{homeId}/anomalies?{query}", token);
        response.EnsureSuccessStatusCode();
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return [.. page.GetProperty("anomalies").EnumerateArray()];
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds or <paramref name="timeout"/> passes; returns the last value either way.</summary>
    public static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Adds a user to the home with <paramref name="role"/> and returns their token (refreshed, so it carries the home).</summary>
    public static async Task<string> AddMemberAsync(IdentityClient client, Guid homeId, string ownerToken, string role)
    {
        var email = IdentityClient.NewEmail();
        var tokens = await client.RegisterAndLoginAsync(email);
        using var added = await client.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/members", ownerToken, new { email, role });
        added.EnsureSuccessStatusCode();
        using var refreshed = await client.SendAsync(HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = tokens.GetProperty("refreshToken").GetString() });
        refreshed.EnsureSuccessStatusCode();
        return (await refreshed.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("accessToken").GetString()!;
    }

    public static async Task<string> OutsiderAsync(IdentityClient client) =>
        (await client.RegisterAndLoginAsync(IdentityClient.NewEmail())).GetProperty("accessToken").GetString()!;
}
