using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using RabbitMQ.Client;

namespace HomeIQ.Tests.Notifications;

/// <summary>A home with an owner, a member and a guest, and a user of another home, each with a token that carries their homes.</summary>
internal sealed record NotifyHome(Guid HomeId, string Owner, string Member, string Guest, string Outsider);

/// <summary>Reads inboxes through the gateway, publishes events on the broker as Anomalies and Automations do, and listens on the hub.</summary>
internal static class NotificationsClient
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<NotifyHome> CreateHomeAsync(IdentityClient client)
    {
        var (homeId, owner) = await client.CreateHomeAsync(await Anomalies.AnomaliesClient.OutsiderAsync(client));
        var member = await Anomalies.AnomaliesClient.AddMemberAsync(client, homeId, owner, "member");
        var guest = await Anomalies.AnomaliesClient.AddMemberAsync(client, homeId, owner, "guest");
        var (_, outsider) = await client.CreateHomeAsync(await Anomalies.AnomaliesClient.OutsiderAsync(client), "Another house");
        return new NotifyHome(homeId, owner, member, guest, outsider);
    }

    /// <summary>Publishes <paramref name="event"/> on the event exchange, as the event bus does, and waits for the broker's confirm.</summary>
    public static async Task PublishAsync(DistributedApplication app, IntegrationEvent @event)
    {
        var ct = TestContext.Current.CancellationToken;
        var factory = new ConnectionFactory { Uri = new Uri((await app.GetConnectionStringAsync("messaging", ct))!) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        var name = EventNames.Of(@event.GetType());
        var properties = new BasicProperties { MessageId = @event.Id.ToString(), Type = name, ContentType = "application/json", Persistent = true };
        await channel.BasicPublishAsync("homeiq.events", name, mandatory: true, properties, JsonSerializer.SerializeToUtf8Bytes(@event, @event.GetType(), Web), ct);
    }

    /// <summary>
    /// Sends as <paramref name="token"/>, waiting out 429s as told: the assembly-wide AppHost allows a user 2 requests a second
    /// (for the gateway's rate-limit test), and these tests make more.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(IdentityClient client, HttpMethod method, string path, string? token, object? body = null)
    {
        while (true)
        {
            var response = await client.SendAsync(method, path, token, body);
            if (response.StatusCode != System.Net.HttpStatusCode.TooManyRequests)
            {
                return response;
            }
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            response.Dispose();
        }
    }

    /// <summary>GET <paramref name="path"/> as <paramref name="token"/>; fails the test unless it answers 200.</summary>
    public static async Task<JsonElement> GetAsync(IdentityClient client, string path, string token)
    {
        using var response = await SendAsync(client, HttpMethod.Get, path, token);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    public static async Task<JsonElement[]> InboxAsync(IdentityClient client, string token, string query = "") =>
        [.. (await GetAsync(client, $"/api/v1/notifications?{query}", token)).GetProperty("notifications").EnumerateArray()];

    /// <summary>Polls the inbox until <paramref name="done"/> holds (or 60 s pass), then waits a little longer so a late duplicate would show.</summary>
    public static async Task<JsonElement[]> SettledInboxAsync(IdentityClient client, string token, Func<JsonElement[], bool> done, string query = "")
    {
        var inbox = await Anomalies.AnomaliesClient.PollAsync(() => InboxAsync(client, token, query), done, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        return await InboxAsync(client, token, query);
    }

    /// <summary>A SignalR connection to <paramref name="baseAddress"/>'s hub with the token, WebSockets only (no negotiation), and what it receives.</summary>
    public static async Task<Listener> ListenAsync(Uri baseAddress, string token, bool tokenInQuery = false)
    {
        var url = new Uri(baseAddress, "/hubs/notifications" + (tokenInQuery ? "?access_token=" + Uri.EscapeDataString(token) : ""));
        var connection = new HubConnectionBuilder()
            .WithUrl(url, o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
                if (!tokenInQuery)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }
            })
            .Build();
        var listener = new Listener(connection);
        connection.On<JsonElement>("notification", n => listener.Received.Enqueue(n));
        await connection.StartAsync(TestContext.Current.CancellationToken);
        return listener;
    }

    /// <summary>An open hub connection and the notifications pushed to it.</summary>
    internal sealed class Listener(HubConnection connection) : IAsyncDisposable
    {
        public ConcurrentQueue<JsonElement> Received { get; } = new();

        public HubConnection Connection => connection;

        /// <summary>The first notification pushed whose title is <paramref name="title"/>, or null after <paramref name="timeout"/>.</summary>
        public async Task<JsonElement?> WaitForAsync(string title, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (Received.FirstOrDefault(n => n.GetProperty("title").GetString() == title) is { ValueKind: JsonValueKind.Object } found)
                {
                    return found;
                }
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            return null;
        }

        public int Count(string title) => Received.Count(n => n.GetProperty("title").GetString() == title);

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
