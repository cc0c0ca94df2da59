using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using static HomeIQ.Tests.Ingestion.IngestClient;

namespace HomeIQ.Tests.Ingestion;

/// <summary>The WebSocket stream: acks of the highest confirmed sequence, malformed frames, backpressure.</summary>
[Collection(IngestionCollection.Name)]
public sealed class StreamTests(IngestionFixture fixture)
{
    private static object Frame(Guid deviceId, long firstSequence, int count, string metric = "temperature", string unit = "°C") => new
    {
        readings = Enumerable.Range(0, count).Select(i => Reading(deviceId, metric, 20 + i % 10, unit, DateTimeOffset.UtcNow, firstSequence + i)).ToArray(),
    };

    /// <summary>Reads acks until one covers <paramref name="sequence"/>; returns every message seen.</summary>
    private static async Task<List<JsonElement>> ReadUntilAckedAsync(WebSocket socket, long sequence)
    {
        var seen = new List<JsonElement>();
        while (true)
        {
            var message = await ReceiveAsync(socket) ?? throw new InvalidOperationException("The server closed the stream: " + socket.CloseStatusDescription);
            seen.Add(message);
            if (message.GetProperty("type").GetString() == "ack" && message.GetProperty("sequence").GetInt64() >= sequence)
            {
                return seen;
            }
        }
    }

    [Fact]
    public async Task AcksCarryTheHighestConfirmedSequenceAndGrowMonotonically()
    {
        var home = await fixture.NewHubHomeAsync();
        await using var tap = await fixture.TapAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);

        for (var frame = 0; frame < 10; frame++)
        {
            await SendAsync(socket, Frame(home.DeviceId, 1 + frame * 100, 100));
        }
        var messages = await ReadUntilAckedAsync(socket, 1000);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestContext.Current.CancellationToken);
        var published = await tap.ReadingsOfAsync(home.HomeId, atLeast: 1000);

        var acks = messages.Where(m => m.GetProperty("type").GetString() == "ack").ToList();
        var sequences = acks.Select(a => a.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);
        Assert.All(sequences, s => Assert.Equal(0, s % 100)); // an ack covers whole frames only
        Assert.Equal(1000, sequences[^1]);
        Assert.Equal(1000, acks.Sum(a => a.GetProperty("accepted").GetInt32()));
        Assert.Equal(1000, published.Count);
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), published.Select(r => r.Sequence!.Value).Order());
    }

    [Fact]
    public async Task RejectedReadingsOfAFrameAreListedBySequence()
    {
        var home = await fixture.NewHubHomeAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);

        await SendAsync(socket, new
        {
            readings = new[]
            {
                Reading(home.DeviceId, "temperature", 20, "°C", sequence: 7),
                Reading(home.DeviceId, "temperature", 500, "°C", sequence: 8),
                Reading(Guid.NewGuid(), "temperature", 20, "°C", sequence: 9),
            },
        });
        var ack = Assert.Single(await ReadUntilAckedAsync(socket, 9));

        Assert.Equal(1, ack.GetProperty("accepted").GetInt32());
        Assert.Equal(
            [(8L, "out-of-range"), (9L, "unknown-device")],
            ack.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("sequence").GetInt64(), r.GetProperty("code").GetString())).ToArray());
    }

    [Fact]
    public async Task MalformedFramesGetAnErrorAndTheConnectionStaysUsable()
    {
        var home = await fixture.NewHubHomeAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);
        string[] malformed =
        [
            "not json at all",
            "{\"readings\":[]}",
            "{\"readings\":null}",
            "[1,2,3]",
            JsonSerializer.Serialize(new { readings = new[] { Reading(home.DeviceId, "temperature", 20, "°C") } }, JsonSerializerOptions.Web), // no sequence
            JsonSerializer.Serialize(Frame(home.DeviceId, 10, 1), JsonSerializerOptions.Web).Replace("\"value\":20", "\"value\":\"20\"", StringComparison.Ordinal),
        ];

        await SendAsync(socket, Frame(home.DeviceId, 1, 5));
        var first = await ReadUntilAckedAsync(socket, 5);
        var errors = new List<JsonElement>();
        foreach (var text in malformed)
        {
            await SendTextAsync(socket, text);
            errors.Add((await ReceiveAsync(socket))!.Value);
        }
        await SendAsync(socket, Frame(home.DeviceId, 3, 1)); // not above the last sequence
        errors.Add((await ReceiveAsync(socket))!.Value);
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        errors.Add((await ReceiveAsync(socket))!.Value);
        await SendAsync(socket, Frame(home.DeviceId, 6, 5));
        var after = await ReadUntilAckedAsync(socket, 10);

        Assert.Equal(5, first[^1].GetProperty("sequence").GetInt64());
        Assert.Equal(malformed.Length + 2, errors.Count);
        Assert.All(errors, e =>
        {
            Assert.Equal("error", e.GetProperty("type").GetString());
            Assert.Equal(5, e.GetProperty("sequence").GetInt64());
            Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString()));
        });
        Assert.Equal(5, after[^1].GetProperty("accepted").GetInt32());
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task AFrameAboveTheSizeLimitClosesTheStreamWith1009()
    {
        var home = await fixture.NewHubHomeAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);

        await SendTextAsync(socket, "{\"readings\":[" + new string(' ', 2 * 1024 * 1024) + "]}");
        var message = await ReceiveAsync(socket);

        Assert.Null(message);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task TheStreamNeedsAHubKeyAndAWebSocket()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await fixture.NewHubHomeAsync();
        using var anonymous = new ClientWebSocket();
        using var plain = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ingest/stream");
        plain.Headers.Add("X-Hub-Key", home.HubKey);

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => anonymous.ConnectAsync(fixture.StreamUri(), ct));
        using var notUpgraded = await fixture.Ingestion().SendAsync(plain, ct);

        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notUpgraded.StatusCode);
        Assert.Equal("application/problem+json", notUpgraded.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AClientThatNeverReadsIsToldToSlowDownThenDisconnectedAndTheServerStopsReadingItsFrames()
    {
        var home = await fixture.NewHubHomeAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);
        // Every reading is rejected (no such metric), so each ack lists 1000 rejections: acks the client never reads fill the connection fast.
        const int Frames = 400;
        var sent = 0;
        Exception? sendFailure = null;
        using var give = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        give.CancelAfter(IngestionFixture.SlowClientTimeout * 10);
        try
        {
            for (var i = 0; i < Frames; i++)
            {
                var frame = JsonSerializer.SerializeToUtf8Bytes(Frame(home.DeviceId, 1 + i * 1000L, 1000, metric: "co2", unit: "ppm"), JsonSerializerOptions.Web);
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, give.Token);
                sent++;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            sendFailure = ex;
        }
        var messages = new List<JsonElement>();
        try
        {
            while (await ReceiveAsync(socket, TimeSpan.FromSeconds(5)) is { } message)
            {
                messages.Add(message);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The server aborted the connection once it gave up on the client.
        }

        Assert.NotNull(sendFailure);
        Assert.False(sendFailure is OperationCanceledException, "the server never disconnected the client; the test gave up waiting");
        Assert.True(sent < Frames, $"the server kept reading: all {sent} frames were taken");
        Assert.True(socket.State is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseReceived, $"state {socket.State}");
        if (socket.CloseStatus is { } status)
        {
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        }
        var acked = messages.Where(m => m.GetProperty("type").GetString() == "ack").Select(m => m.GetProperty("sequence").GetInt64()).DefaultIfEmpty(0).Max();
        Assert.True(acked < sent * 1000L + 1, "an ack never covers a frame that was not sent");
    }

    [Fact]
    public async Task AFastClientThatReadsIsToldToSlowDownAndEveryFrameIsStillAcked()
    {
        var home = await fixture.NewHubHomeAsync();
        using var socket = await ConnectAsync(fixture.StreamUri(), home.HubKey);
        var messages = new List<JsonElement>();
        // Readings of many devices nobody registered: every frame waits for lookups, so frames arrive faster than they are done.
        var reading = Task.Run(async () => messages.AddRange(await ReadUntilAckedAsync(socket, 40 * 200)), TestContext.Current.CancellationToken);

        for (var i = 0; i < 40; i++)
        {
            await SendAsync(socket, new
            {
                readings = Enumerable.Range(0, 200).Select(j => Reading(j % 2 == 0 ? home.DeviceId : Guid.NewGuid(), "temperature", 20, "°C", sequence: 1 + i * 200L + j)).ToArray(),
            });
        }
        await reading;

        Assert.Contains(messages, m => m.GetProperty("type").GetString() == "slow-down");
        var acks = messages.Where(m => m.GetProperty("type").GetString() == "ack").ToList();
        Assert.Equal(40 * 100, acks.Sum(a => a.GetProperty("accepted").GetInt32()));
        Assert.Equal(40 * 100, acks.Sum(a => a.GetProperty("rejected").GetArrayLength()));
        Assert.Equal(WebSocketState.Open, socket.State);
    }
}
