using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using HomeIQ.Contracts;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using static HomeIQ.Tests.Notifications.NotificationsClient;

namespace HomeIQ.Tests.Notifications;

/// <summary>The SignalR hub through the gateway and on each replica: who gets a push, quiet hours, and the Redis backplane between the two replicas.</summary>
public sealed class NotificationPushTests(AppHostFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<IdentityClient> ReadyAsync()
    {
        await fixture.App.WaitForEveryReplicaHealthyAsync("notifications", TestContext.Current.CancellationToken);
        return new IdentityClient(fixture.App.CreateHttpClient("gateway"));
    }

    private Uri Gateway => fixture.App.GetEndpoint("gateway");

    [Fact]
    public async Task AMemberConnectedThroughTheGatewayGetsThePushAndAUserOfAnotherHomeDoesNot()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        await using var member = await ListenAsync(Gateway, home.Member);
        await using var guest = await ListenAsync(Gateway, home.Guest, tokenInQuery: true); // as browsers send it on a WebSocket
        await using var outsider = await ListenAsync(Gateway, home.Outsider);

        var anomalyId = Guid.NewGuid();
        await PublishAsync(fixture.App, new AnomalyDetected(anomalyId, home.HomeId, Guid.NewGuid(), "humidity", AnomalyKind.Outlier, AnomalySeverity.Medium,
            "1 reading(s) up to 95.", 95, 40, 55, DateTimeOffset.UtcNow));

        var pushed = await member.WaitForAsync("Unusual reading: humidity", Patience);
        Assert.NotNull(pushed);
        Assert.Equal(anomalyId, pushed.Value.GetProperty("subjectId").GetGuid());
        Assert.Equal("anomaly", pushed.Value.GetProperty("kind").GetString());
        Assert.NotNull(await guest.WaitForAsync("Unusual reading: humidity", Patience));
        // Pushes of one event go out together: had the outsider been sent one, it would have arrived by now.
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Empty(outsider.Received);
        // What was pushed is the inbox's record, with the same id and seq.
        var stored = Assert.Single(await InboxAsync(client, home.Member));
        Assert.Equal(pushed.Value.GetProperty("id").GetGuid(), stored.GetProperty("id").GetGuid());
        Assert.Equal(pushed.Value.GetProperty("seq").GetInt64(), stored.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task TheHubRefusesAConnectionWithoutAValidToken()
    {
        await ReadyAsync();
        var noToken = await Assert.ThrowsAsync<WebSocketException>(() => ListenAsync(Gateway, ""));
        var forged = await Assert.ThrowsAsync<WebSocketException>(() => ListenAsync(Gateway, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", tokenInQuery: true));
        Assert.Contains("'401'", noToken.Message, StringComparison.Ordinal);
        Assert.Contains("'401'", forged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuringQuietHoursANotificationIsStoredButNotPushed()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        // A window around the present in Tokyo (no daylight saving), whatever the hour this test runs.
        var tokyo = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        var quietHours = new { from = tokyo.AddHours(-1).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture),
            to = tokyo.AddHours(1).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture) };
        using var put = await SendAsync(client, HttpMethod.Put, "/api/v1/notifications/preferences", home.Member, new { timeZone = "Asia/Tokyo", quietHours });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await using var quiet = await ListenAsync(Gateway, home.Member);
        await using var awake = await ListenAsync(Gateway, home.Owner);

        await PublishAsync(fixture.App, new AutomationRunFailed(Guid.NewGuid(), home.HomeId, "Wake-up", "The blinds did not answer.", false));

        Assert.NotNull(await awake.WaitForAsync("Wake-up failed", Patience));
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Empty(quiet.Received);
        Assert.Equal(["Wake-up failed"], (await InboxAsync(client, home.Member)).Select(n => n.GetProperty("title").GetString()!));
    }

    [Fact]
    public async Task TheBackplaneCarriesAPushRaisedOnOneReplicaToAClientConnectedToTheOther()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        var replicas = await ReplicaEndpointsAsync();
        Assert.Equal(2, replicas.Count);
        var (a, b) = (replicas[0], replicas[1]);
        await using var onA = await ListenAsync(a, home.Member);
        await using var onB = await ListenAsync(b, home.Member);

        // Raised on A (its API writes the inbox and pushes): the client on B can only get it through Redis. Then the other way round.
        foreach (var (raisedOn, title) in new[] { (a, "Raised on A"), (b, "Raised on B") })
        {
            using var http = new HttpClient { BaseAddress = raisedOn };
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/notifications")
            {
                Content = JsonContent.Create(new { title, message = "Through the backplane." }),
                Headers = { Authorization = new("Bearer", home.Owner) },
            };
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.NotNull(await onB.WaitForAsync("Raised on A", Patience));
        Assert.NotNull(await onA.WaitForAsync("Raised on B", Patience));
        Assert.NotNull(await onA.WaitForAsync("Raised on A", Patience));
        Assert.NotNull(await onB.WaitForAsync("Raised on B", Patience));
        Assert.Equal(1, onA.Count("Raised on A"));
        Assert.Equal(1, onB.Count("Raised on A"));
    }

    /// <summary>
    /// Each replica's own address, not the resource's endpoint (a proxy that spreads connections over both): the port the replica
    /// itself listens on, from the environment Aspire gave its process.
    /// </summary>
    private async Task<List<Uri>> ReplicaEndpointsAsync()
    {
        var endpoints = new List<Uri>();
        foreach (var instance in await fixture.App.InstancesAsync("notifications"))
        {
            var urls = instance.Snapshot.EnvironmentVariables.FirstOrDefault(e => e.Name == "ASPNETCORE_URLS")?.Value;
            if (urls is null && instance.Pid() is { } pid)
            {
                var environ = File.ReadAllText($"/proc/{TestApps.ServiceProcess(pid)}/environ").Split('\0');
                urls = environ.FirstOrDefault(e => e.StartsWith("ASPNETCORE_URLS=", StringComparison.Ordinal))?["ASPNETCORE_URLS=".Length..];
            }
            Assert.False(string.IsNullOrEmpty(urls), $"no ASPNETCORE_URLS for {instance.ResourceId}");
            var url = urls.Split(';').First(u => u.StartsWith("http://", StringComparison.Ordinal));
            endpoints.Add(new Uri(url.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"notifications replicas: {string.Join(", ", endpoints)}");
        return endpoints;
    }
}
