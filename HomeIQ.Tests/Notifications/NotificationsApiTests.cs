using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using static HomeIQ.Tests.Notifications.NotificationsClient;

namespace HomeIQ.Tests.Notifications;

/// <summary>Inboxes through the gateway, fed by events published on the real broker, on the assembly-wide AppHost (notifications runs twice).</summary>
public sealed class NotificationsApiTests(AppHostFixture fixture)
{
    private async Task<IdentityClient> ReadyAsync()
    {
        await fixture.App.WaitForEveryReplicaHealthyAsync("notifications", TestContext.Current.CancellationToken);
        return new IdentityClient(fixture.App.CreateHttpClient("gateway"));
    }

    [Fact]
    public async Task EachEventLandsExactlyOnceInTheInboxOfEveryMemberWhateverTheRedeliveries()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        var anomalyId = Guid.NewGuid();
        var deviceId = Guid.NewGuid();
        var detected = new AnomalyDetected(anomalyId, home.HomeId, deviceId, "temperature", AnomalyKind.Offline, AnomalySeverity.High,
            "No reading for 40 s.", null, 0, 16, DateTimeOffset.UtcNow);
        var failed = new AutomationRunFailed(Guid.NewGuid(), home.HomeId, "Good night", "The hall light did not answer.", Compensated: true);
        var requested = new AutomationNotificationRequested(Guid.NewGuid(), home.HomeId, "Door open", "The garage door is open.");
        // The same event twice (a redelivery), and the same anomaly under a new event id (a publisher that published it again).
        foreach (var @event in new IntegrationEvent[] { detected, detected, detected with { Id = Guid.NewGuid() }, failed, failed, requested, requested })
        {
            await PublishAsync(fixture.App, @event);
        }
        await PublishAsync(fixture.App, new AnomalyResolved(anomalyId, home.HomeId, deviceId));

        foreach (var token in new[] { home.Owner, home.Member, home.Guest })
        {
            var inbox = await SettledInboxAsync(client, token, n => n.Length >= 4);
            var titles = inbox.Select(n => n.GetProperty("title").GetString()!).Order().ToArray();
            Assert.Equal(["Device back online", "Device offline (temperature)", "Door open", "Good night failed"], titles);
            var offline = inbox.Single(n => n.GetProperty("kind").GetString() == "deviceOffline");
            Assert.Equal(home.HomeId, offline.GetProperty("homeId").GetGuid());
            Assert.Equal(anomalyId, offline.GetProperty("subjectId").GetGuid());
            Assert.Equal(deviceId, offline.GetProperty("deviceId").GetGuid());
            Assert.Equal(4, inbox.Select(n => n.GetProperty("seq").GetInt64()).Distinct().Count());
        }
        Assert.Empty(await InboxAsync(client, home.Outsider));
    }

    [Fact]
    public async Task TheInboxPagesCountsUnreadMarksReadAndCatchesUpSinceACursor()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        for (var i = 1; i <= 5; i++)
        {
            using var sent = await SendAsync(client, HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/notifications", home.Owner, new { title = $"Note {i}", message = "Hello" });
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
            Assert.Equal(3, (await sent.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("delivered").GetInt32());
        }

        var first = await GetAsync(client, "/api/v1/notifications?limit=2", home.Member);
        var firstPage = first.GetProperty("notifications").EnumerateArray().ToArray();
        var second = await GetAsync(client, $"/api/v1/notifications?limit=2&after={first.GetProperty("next").GetInt64()}", home.Member);
        var secondPage = second.GetProperty("notifications").EnumerateArray().ToArray();
        var last = await GetAsync(client, $"/api/v1/notifications?limit=2&after={second.GetProperty("next").GetInt64()}", home.Member);
        Assert.Equal(["Note 5", "Note 4"], firstPage.Select(n => n.GetProperty("title").GetString()!));
        Assert.Equal(["Note 3", "Note 2"], secondPage.Select(n => n.GetProperty("title").GetString()!));
        Assert.Equal(["Note 1"], last.GetProperty("notifications").EnumerateArray().Select(n => n.GetProperty("title").GetString()!));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next").ValueKind);

        // A client that saw up to Note 2 catches up, oldest first.
        var cursor = secondPage[1].GetProperty("seq").GetInt64();
        var missed = await InboxAsync(client, home.Member, $"since={cursor}");
        Assert.Equal(["Note 3", "Note 4", "Note 5"], missed.Select(n => n.GetProperty("title").GetString()!));

        Assert.Equal(5, (await GetAsync(client, "/api/v1/notifications/unread-count", home.Member)).GetProperty("unread").GetInt32());
        var id = firstPage[0].GetProperty("id").GetGuid();
        using var read = await SendAsync(client, HttpMethod.Post, $"/api/v1/notifications/{id}/read", home.Member);
        using var othersRead = await SendAsync(client, HttpMethod.Post, $"/api/v1/notifications/{id}/read", home.Outsider);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, othersRead.StatusCode);
        var unread = await GetAsync(client, "/api/v1/notifications/unread-count", home.Member);
        Assert.Equal(4, unread.GetProperty("unread").GetInt32());
        Assert.Equal(4, unread.GetProperty("byHome").GetProperty(home.HomeId.ToString()).GetInt32());
        Assert.Equal(4, (await InboxAsync(client, home.Member, "unread=true")).Length);

        using var upTo = await SendAsync(client, HttpMethod.Post, "/api/v1/notifications/read-all", home.Member, new { upTo = cursor });
        Assert.Equal(2, (await upTo.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("count").GetInt32());
        using var all = await SendAsync(client, HttpMethod.Post, "/api/v1/notifications/read-all", home.Member, new { homeId = home.HomeId });
        Assert.Equal(2, (await all.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("count").GetInt32());
        Assert.Equal(0, (await GetAsync(client, "/api/v1/notifications/unread-count", home.Member)).GetProperty("unread").GetInt32());
        // The owner's inbox is the owner's: untouched by the member's reading.
        Assert.Equal(5, (await GetAsync(client, "/api/v1/notifications/unread-count", home.Owner)).GetProperty("unread").GetInt32());
    }

    [Fact]
    public async Task AGuestReadsAndMarksReadItsOwnInboxButCannotWriteToTheHomeAndAnOutsiderGets404()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        using var byMember = await SendAsync(client, HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/notifications", home.Member, new { title = "Dinner", message = "At eight." });
        using var byGuest = await SendAsync(client, HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/notifications", home.Guest, new { title = "Hi", message = "Guest here." });
        using var byOutsider = await SendAsync(client, HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/notifications", home.Outsider, new { title = "Hi", message = "Outsider." });
        using var outsiderList = await SendAsync(client, HttpMethod.Get, $"/api/v1/homes/{home.HomeId}/notifications", home.Outsider);
        using var anonymous = await SendAsync(client, HttpMethod.Get, "/api/v1/notifications", null);

        Assert.Equal(HttpStatusCode.OK, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byGuest.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, byOutsider.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, outsiderList.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var guestInbox = await GetAsync(client, $"/api/v1/homes/{home.HomeId}/notifications", home.Guest);
        var dinner = Assert.Single(guestInbox.GetProperty("notifications").EnumerateArray());
        Assert.Equal("message", dinner.GetProperty("kind").GetString());
        using var read = await SendAsync(client, HttpMethod.Post, $"/api/v1/notifications/{dinner.GetProperty("id").GetGuid()}/read", home.Guest);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(JsonValueKind.String, (await read.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("readAt").ValueKind);

        var routes = await HomeRoutes.FromOpenApiAsync(fixture.App.CreateHttpClient("notifications"), "/openapi/v1.json", home.HomeId);
        Assert.NotEmpty(routes);
        Assert.Empty(await HomeRoutes.NotAnswering404Async(client, routes, home.Outsider, new { title = "x", message = "y" }));
    }

    [Fact]
    public async Task PreferencesAreKeptAndAMutedKindIsNotStored()
    {
        var client = await ReadyAsync();
        var home = await CreateHomeAsync(client);
        var defaults = await GetAsync(client, "/api/v1/notifications/preferences", home.Member);
        Assert.Equal("UTC", defaults.GetProperty("timeZone").GetString());
        using var put = await SendAsync(client, HttpMethod.Put, "/api/v1/notifications/preferences", home.Member,
            new { timeZone = "Europe/Paris", quietHours = new { from = "22:30", to = "07:00" }, mutedKinds = new[] { "automation" } });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var kept = await GetAsync(client, "/api/v1/notifications/preferences", home.Member);
        Assert.Equal("Europe/Paris", kept.GetProperty("timeZone").GetString());
        Assert.Equal("22:30", kept.GetProperty("quietHours").GetProperty("from").GetString());
        Assert.Equal("07:00", kept.GetProperty("quietHours").GetProperty("to").GetString());
        Assert.Equal(["automation"], kept.GetProperty("mutedKinds").EnumerateArray().Select(k => k.GetString()!));

        await PublishAsync(fixture.App, new AutomationNotificationRequested(Guid.NewGuid(), home.HomeId, "Muted rule", "Only the owner sees this."));
        await PublishAsync(fixture.App, new AutomationRunFailed(Guid.NewGuid(), home.HomeId, "Scene", "A step timed out.", false));

        await SettledInboxAsync(client, home.Owner, n => n.Length >= 2);
        var member = await SettledInboxAsync(client, home.Member, n => n.Length >= 1);
        Assert.Equal(["Scene failed"], member.Select(n => n.GetProperty("title").GetString()!));
        Assert.Equal(2, (await InboxAsync(client, home.Owner)).Length);
    }

    [Theory]
    [InlineData("/api/v1/notifications?limit=0", "limit")]
    [InlineData("/api/v1/notifications?limit=1000", "limit")]
    [InlineData("/api/v1/notifications?after=-1", "after")]
    [InlineData("/api/v1/notifications?after=page2", "after")]
    [InlineData("/api/v1/notifications?since=x", "since")]
    [InlineData("/api/v1/notifications?since=1&after=5", "since")]
    [InlineData("/api/v1/notifications?unread=maybe", "unread")]
    public async Task ABadQueryParameterIsAValidationProblemNamingIt(string path, string parameter)
    {
        var client = await ReadyAsync();
        var token = await Anomalies.AnomaliesClient.OutsiderAsync(client);
        using var response = await SendAsync(client, HttpMethod.Get, path, token);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Theory]
    [InlineData("""{"timeZone":"Mars/Olympus"}""", "timeZone")]
    [InlineData("""{"timeZone":"UTC","quietHours":{"from":"25:00","to":"07:00"}}""", "quietHours")]
    [InlineData("""{"timeZone":"UTC","quietHours":{"from":"22:00"}}""", "quietHours")]
    [InlineData("""{"timeZone":"UTC","quietHours":{"from":"22:00","to":"22:00"}}""", "quietHours")]
    [InlineData("""{"timeZone":"UTC","mutedKinds":["spam"]}""", "mutedKinds")]
    public async Task BadPreferencesAreAValidationProblemNamingTheField(string body, string field)
    {
        var client = await ReadyAsync();
        var token = await Anomalies.AnomaliesClient.OutsiderAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/notifications/preferences")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            Headers = { Authorization = new("Bearer", token) },
        };
        using var response = await client.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("""{"title":"","message":"x"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"title":"x"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"title":"a\u0000b","message":"x"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"title":42,"message":"x"}""", HttpStatusCode.BadRequest)]
    [InlineData("""not json""", HttpStatusCode.BadRequest)]
    public async Task ABadMessageToTheHomeIsA4xx(string body, HttpStatusCode expected)
    {
        var client = await ReadyAsync();
        var (homeId, owner) = await client.CreateHomeAsync(await Anomalies.AnomaliesClient.OutsiderAsync(client));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/homes/{homeId}/notifications")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            Headers = { Authorization = new("Bearer", owner) },
        };
        using var response = await client.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
