using System.Net;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using static HomeIQ.Tests.Ingestion.IngestClient;

namespace HomeIQ.Tests.Ingestion;

/// <summary>A stack of its own, whose broker this class stops.</summary>
public sealed class IngestionBrokerDownFixture : IngestionFixture;

/// <summary>While the broker is down nothing is accepted: 503 with Retry-After; once it is back, 202 again.</summary>
public sealed class IngestionBrokerDownTests(IngestionBrokerDownFixture fixture) : IClassFixture<IngestionBrokerDownFixture>
{
    [Fact]
    public async Task WhileTheBrokerIsDownBatchesGet503WithRetryAfterAndTheStreamSaysUnavailableThenBothWorkAgain()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(3));
        var home = await fixture.NewHubHomeAsync();
        var body = new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C") } };
        using (var before = await PostAsync(fixture.Ingestion(), home.HubKey, body))
        {
            Assert.Equal(HttpStatusCode.Accepted, before.StatusCode);
        }
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);
        await SendAsync(socket, new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C", sequence: 1) } });
        var firstAck = await ReceiveAsync(socket);

        await fixture.App.CommandAsync("messaging", KnownResourceCommands.StopCommand, ct);
        using var down = await PostAsync(fixture.Ingestion(), home.HubKey, body);
        var downBody = await down.Content.ReadAsStringAsync(ct);
        await SendAsync(socket, new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C", sequence: 2) } });
        var unavailable = await ReceiveAsync(socket);
        var closed = await ReceiveAsync(socket);

        await fixture.App.CommandAsync("messaging", KnownResourceCommands.StartCommand, ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("messaging", ct);
        HttpStatusCode after;
        var attempts = 0;
        do
        {
            // The client library reconnects on its own (every 2 s); until then ingestion keeps answering 503.
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            using var retry = await PostAsync(fixture.Ingestion(), home.HubKey, body);
            after = retry.StatusCode;
            Assert.True(after is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, $"unexpected {after}");
        }
        while (after != HttpStatusCode.Accepted && ++attempts < 60);

        Assert.Equal(1, firstAck!.Value.GetProperty("sequence").GetInt64());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
        Assert.True(down.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {down.Headers.RetryAfter}; body {downBody}");
        Assert.Equal("unavailable", unavailable!.Value.GetProperty("type").GetString());
        Assert.Equal(1, unavailable.Value.GetProperty("sequence").GetInt64());
        Assert.True(unavailable.Value.GetProperty("retryAfter").GetInt32() >= 1);
        Assert.Null(closed);
        Assert.Equal(1013, (int)socket.CloseStatus!.Value);
        Assert.Equal(HttpStatusCode.Accepted, after);
    }

    [Fact]
    public async Task WhileIdentityOrDevicesAreDownWhatIsNotCachedGets503WithRetryAfterAndWhatIsCachedStillWorks()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(3));
        var home = await fixture.NewHubHomeAsync();
        var fresh = await fixture.NewHubHomeAsync();
        var body = new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C") } };
        using (var warm = await PostAsync(fixture.Ingestion(), home.HubKey, body))
        {
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }

        await fixture.App.CommandAsync("devices", KnownResourceCommands.StopCommand, ct);
        using var uncachedDevice = await PostAsync(fixture.Ingestion(), home.HubKey, new { readings = new[] { Reading(Guid.NewGuid(), "temperature", 20, "°C") } });
        using var cachedDevice = await PostAsync(fixture.Ingestion(), home.HubKey, body);
        await fixture.App.CommandAsync("devices", KnownResourceCommands.StartCommand, ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("devices", ct);

        using (var warm = await PostAsync(fixture.Ingestion(), home.HubKey, body))
        {
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }
        var cachedKey = await fixture.NewHubHomeAsync();
        using (var warm = await PostAsync(fixture.Ingestion(), cachedKey.HubKey, new { readings = new[] { Reading(cachedKey.DeviceId, "temperature", 20, "°C") } }))
        {
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }
        await fixture.App.CommandAsync("identity", KnownResourceCommands.StopCommand, ct);
        using var unknownToIngestion = await PostAsync(fixture.Ingestion(), fresh.HubKey, new { readings = new[] { Reading(fresh.DeviceId, "temperature", 20, "°C") } });
        using var knownToIngestion = await PostAsync(fixture.Ingestion(), cachedKey.HubKey, new { readings = new[] { Reading(cachedKey.DeviceId, "temperature", 20, "°C") } });
        await fixture.App.CommandAsync("identity", KnownResourceCommands.StartCommand, ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("identity", ct);

        foreach (var unavailable in new[] { uncachedDevice, unknownToIngestion })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
            Assert.Equal("application/problem+json", unavailable.Content.Headers.ContentType?.MediaType);
            Assert.True(unavailable.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 });
        }
        Assert.Equal(HttpStatusCode.Accepted, cachedDevice.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, knownToIngestion.StatusCode);
    }
}
