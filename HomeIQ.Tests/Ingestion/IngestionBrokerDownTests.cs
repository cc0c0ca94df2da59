using System.Net;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using static HomeIQ.Tests.Ingestion.IngestClient;

namespace HomeIQ.Tests.Ingestion;

/// <summary>A stack of its own, whose broker and services this class stops; the store's queue may hold only a few batches.</summary>
public sealed class IngestionBrokerDownFixture : IngestionFixture
{
    public const int MaxQueuedMessages = 20;

    protected override void Configure(IResourceBuilder<ProjectResource> ingestion) =>
        ingestion.WithEnvironment("Ingestion__MaxQueuedMessages", MaxQueuedMessages.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("Ingestion__BacklogPollInterval", "00:00:00.100");
}

/// <summary>
/// While the broker, or what ingestion depends on, is down, or the store has fallen behind, nothing is accepted: 503 with Retry-After;
/// once it is back, 202 again, and nothing that was accepted is lost.
/// </summary>
public sealed class IngestionBrokerDownTests(IngestionBrokerDownFixture fixture) : IClassFixture<IngestionBrokerDownFixture>
{
    [Fact]
    public async Task WhileTheStoreIsStoppedTheBacklogStaysBoundedWith503AndEveryAcceptedReadingIsStoredOnceItIsBack()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(3));
        var home = await fixture.NewHubHomeAsync();
        var start = DateTimeOffset.UtcNow.AddMinutes(-30);
        var sent = 0;
        // A plain client: the test client's resilience handler would retry every 503 for seconds.
        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("ingestion") };
        async Task<HttpResponseMessage> PostNextAsync() =>
            await PostAsync(http, home.HubKey, new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C", start.AddMilliseconds(++sent)) } });

        await fixture.App.CommandAsync("readings", KnownResourceCommands.StopCommand, ct);
        var accepted = 0;
        HttpResponseMessage? refused = null;
        while (refused is null && sent < 2_000)
        {
            var response = await PostNextAsync();
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted++;
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }
        var queuedAtRefusal = await QueuedAsync("readings", ct);
        var refusedWhileFull = 0;
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(20, ct);
            using var again = await PostNextAsync();
            refusedWhileFull += again.StatusCode == HttpStatusCode.ServiceUnavailable ? 1 : 0;
        }
        var queuedAfterMore = await QueuedAsync("readings", ct);

        await fixture.App.CommandAsync("readings", KnownResourceCommands.StartCommand, ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("readings", ct);
        var acceptedAgain = false;
        for (var attempt = 0; attempt < 120 && !acceptedAgain; attempt++)
        {
            using var retry = await PostNextAsync();
            acceptedAgain = retry.StatusCode == HttpStatusCode.Accepted;
            accepted += acceptedAgain ? 1 : 0;
            if (!acceptedAgain)
            {
                await Task.Delay(250, ct);
            }
        }
        long stored;
        do
        {
            await Task.Delay(200, ct);
            stored = await StoredAsync(home.HomeId, ct);
        }
        while (stored < accepted && !ct.IsCancellationRequested);

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {refused.Headers.RetryAfter}");
            Assert.Contains("'readings' queue", await refused.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        Assert.InRange(queuedAtRefusal, (uint)IngestionBrokerDownFixture.MaxQueuedMessages + 1, (uint)sent);
        Assert.Equal(50, refusedWhileFull);
        Assert.Equal(queuedAtRefusal, queuedAfterMore);
        Assert.True(acceptedAgain, "ingestion never took readings again after the store came back");
        Assert.Equal(accepted, stored);
    }

    private async Task<uint> QueuedAsync(string queue, CancellationToken ct)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri((await fixture.App.GetConnectionStringAsync("messaging", ct))!) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        return await channel.MessageCountAsync(queue, ct);
    }

    private async Task<long> StoredAsync(Guid homeId, CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(await fixture.App.GetConnectionStringAsync("readingsdb", ct));
        await connection.OpenAsync(ct);
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM readings WHERE home_id = $1", connection) { Parameters = { new() { Value = homeId } } };
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }
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
