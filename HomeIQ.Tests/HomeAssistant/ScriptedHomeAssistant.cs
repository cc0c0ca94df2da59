using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>How the scripted Home Assistant answers a <c>call_service</c>.</summary>
public enum ServiceCallAnswer
{
    Succeed,
    Fail,
    Ignore,
}

/// <summary>
/// A Home Assistant WebSocket API (<c>/api/websocket</c> on 127.0.0.1) that speaks the documented messages: the auth flow,
/// <c>subscribe_events</c>, <c>get_states</c>, <c>ping</c>, <c>call_service</c> (answered as <see cref="OnCallService"/> says), and <c>state_changed</c>/registry events sent on command.
/// It records what clients sent, and can be stopped (dropping every connection, as a crash would) and started again on the same port.
/// Shared with bench/HomeAssistantBench.
/// </summary>
public sealed class ScriptedHomeAssistant(string accessToken = ScriptedHomeAssistant.ValidToken) : IAsyncDisposable
{
    public const string ValidToken = "scripted-long-lived-token";
    public const string Version = "2026.11.0";

    private readonly ConcurrentDictionary<Session, byte> _sessions = new();
    private readonly ConcurrentDictionary<string, string> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _received = new();
    private WebApplication? _app;
    private int _connections;
    private int _authFailures;

    /// <summary>The token that authenticates; anything else gets <c>auth_invalid</c>.</summary>
    public string AccessToken { get; set; } = accessToken;

    public int Port { get; private set; }

    public Uri Url => new($"ws://127.0.0.1:{Port}/api/websocket");

    /// <summary>WebSocket connections accepted since creation (over restarts).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>auth messages that carried a wrong token.</summary>
    public int AuthFailures => Volatile.Read(ref _authFailures);

    /// <summary>Every message clients sent, in arrival order (including the auth messages).</summary>
    public IReadOnlyList<JsonObject> Received => [.. _received.Select(m => JsonNode.Parse(m)!.AsObject())];

    /// <summary>How <c>call_service</c> is answered, by the target's entity id: success by default.</summary>
    public Func<string, ServiceCallAnswer> OnCallService { get; set; } = _ => ServiceCallAnswer.Succeed;

    /// <summary>The error message of a <c>call_service</c> answered with <see cref="ServiceCallAnswer.Fail"/>.</summary>
    public const string ServiceCallError = "Entity is currently unavailable";

    /// <summary>The <c>call_service</c> messages clients sent.</summary>
    public IReadOnlyList<JsonObject> ServiceCalls => [.. Received.Where(m => (string?)m["type"] == "call_service")];

    /// <summary>Connections now subscribed to <c>state_changed</c>.</summary>
    public int Subscribed => _sessions.Keys.Count(s => s.StateSubscription is not null);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = Port;
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/api/websocket", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            Interlocked.Increment(ref _connections);
            var session = new Session(socket, context);
            _sessions[session] = 0;
            try
            {
                await RunAsync(session, context.RequestAborted);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException)
            {
                // The client went away, or this server is stopping.
            }
            finally
            {
                _sessions.TryRemove(session, out _);
            }
        });
        await app.StartAsync(cancellationToken);
        Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        _app = app;
    }

    /// <summary>Drops every connection without a close handshake and stops listening.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app)
        {
            return;
        }
        _app = null;
        foreach (var session in _sessions.Keys)
        {
            try
            {
                session.Context.Abort();
            }
            catch (ObjectDisposedException)
            {
                // That connection ended on its own while the list was being walked: nothing left to drop.
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(timeout.Token);
        await app.DisposeAsync();
    }

    /// <summary>A Home Assistant restart: every connection drops, then the same port listens again.</summary>
    public async Task RestartAsync(TimeSpan? downtime = null)
    {
        await StopAsync();
        await Task.Delay(downtime ?? TimeSpan.Zero);
        await StartAsync();
    }

    /// <summary>Sets what <c>get_states</c> answers for an entity (without sending an event).</summary>
    public void SetState(string entityId, string state, object? attributes = null, DateTimeOffset? lastUpdated = null) =>
        _states[entityId] = StateJson(entityId, state, attributes, lastUpdated ?? DateTimeOffset.UtcNow);

    public void ClearStates() => _states.Clear();

    /// <summary>Waits until <paramref name="count"/> connections are subscribed to <c>state_changed</c>.</summary>
    public async Task WaitForSubscribedAsync(CancellationToken cancellationToken, int count = 1)
    {
        while (Subscribed < count)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Sends a <c>state_changed</c> event to every subscribed connection; returns how many received it.</summary>
    public async Task<int> EmitStateAsync(string entityId, string? state, object? attributes = null, DateTimeOffset? lastUpdated = null)
    {
        var newState = state is null ? "null" : StateJson(entityId, state, attributes, lastUpdated ?? DateTimeOffset.UtcNow);
        var oldState = _states.TryGetValue(entityId, out var previous) ? previous : "null";
        if (state is null)
        {
            _states.TryRemove(entityId, out _);
        }
        else
        {
            _states[entityId] = newState;
        }
        var sent = 0;
        foreach (var session in _sessions.Keys)
        {
            if (session.StateSubscription is { } id)
            {
                var data = $$"""{"entity_id":{{Quote(entityId)}},"old_state":{{oldState}},"new_state":{{newState}}}""";
                if (await session.TrySendAsync(Event(id, "state_changed", data)))
                {
                    sent++;
                }
            }
        }
        return sent;
    }

    /// <summary>Sends <c>entity_registry_updated</c> to every connection subscribed to it.</summary>
    public async Task<int> EmitEntityRegistryUpdatedAsync(string entityId, string action = "create")
    {
        var sent = 0;
        foreach (var session in _sessions.Keys)
        {
            if (session.Subscriptions.TryGetValue("entity_registry_updated", out var id)
                && await session.TrySendAsync(Event(id, "entity_registry_updated", $$"""{"action":{{Quote(action)}},"entity_id":{{Quote(entityId)}}}""")))
            {
                sent++;
            }
        }
        return sent;
    }

    /// <summary>
    /// Sends <c>state_changed</c> events to the first subscribed connection as fast as it reads them, until <paramref name="maxEvents"/>
    /// are sent, <paramref name="duration"/> passed, or the connection broke; returns how many were sent. Values follow <paramref name="value"/>.
    /// </summary>
    public async Task<long> FloodAsync(IReadOnlyList<string> entityIds, long maxEvents, TimeSpan duration, Func<long, double> value, CancellationToken cancellationToken)
    {
        var session = _sessions.Keys.FirstOrDefault(s => s.StateSubscription is not null) ?? throw new InvalidOperationException("No subscribed client.");
        var id = session.StateSubscription!.Value;
        var until = DateTime.UtcNow + duration;
        var sent = 0L;
        var stamp = DateTimeOffset.UtcNow;
        while (sent < maxEvents && !cancellationToken.IsCancellationRequested)
        {
            if ((sent & 1023) == 0)
            {
                if (DateTime.UtcNow >= until)
                {
                    break;
                }
                stamp = DateTimeOffset.UtcNow;
            }
            var entityId = entityIds[(int)(sent % entityIds.Count)];
            var time = stamp.AddTicks(sent % 10_000).ToString("O");
            var number = value(sent).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            var data = $$$$"""{"entity_id":"{{{{entityId}}}}","old_state":null,"new_state":{"entity_id":"{{{{entityId}}}}","state":"{{{{number}}}}","attributes":{"unit_of_measurement":"W","device_class":"power","state_class":"measurement","friendly_name":"{{{{entityId}}}}"},"last_changed":"{{{{time}}}}","last_reported":"{{{{time}}}}","last_updated":"{{{{time}}}}","context":{"id":"01JD{{{{sent:D22}}}}","parent_id":null,"user_id":null}}}""";
            if (!await session.TrySendAsync(Event(id, "state_changed", data)))
            {
                break;
            }
            sent++;
        }
        return sent;
    }

    private async Task RunAsync(Session session, CancellationToken cancellationToken)
    {
        await session.SendAsync($$"""{"type":"auth_required","ha_version":"{{Version}}"}""");
        var auth = await session.ReceiveAsync(cancellationToken);
        if (auth is null)
        {
            return;
        }
        _received.Enqueue(auth);
        using (var document = JsonDocument.Parse(auth))
        {
            var ok = document.RootElement.TryGetProperty("type", out var type) && type.GetString() == "auth"
                && document.RootElement.TryGetProperty("access_token", out var token) && token.GetString() == AccessToken;
            if (!ok)
            {
                Interlocked.Increment(ref _authFailures);
                await session.SendAsync("""{"type":"auth_invalid","message":"Invalid access token or password"}""");
                await session.Socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "auth_invalid", cancellationToken);
                return;
            }
        }
        await session.SendAsync($$"""{"type":"auth_ok","ha_version":"{{Version}}"}""");
        while (await session.ReceiveAsync(cancellationToken) is { } text)
        {
            _received.Enqueue(text);
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var id = root.GetProperty("id").GetInt32();
            switch (root.GetProperty("type").GetString())
            {
                case "subscribe_events":
                    var eventType = root.TryGetProperty("event_type", out var e) ? e.GetString() ?? "*" : "*";
                    await session.SendAsync(Result(id, "null"));
                    session.Subscriptions[eventType] = id;
                    break;
                case "get_states":
                    await session.SendAsync(Result(id, $"[{string.Join(',', _states.Values)}]"));
                    break;
                case "call_service":
                    var entity = root.TryGetProperty("target", out var target) && target.TryGetProperty("entity_id", out var entityId) ? entityId.GetString() ?? "" : "";
                    switch (OnCallService(entity))
                    {
                        case ServiceCallAnswer.Succeed:
                            await session.SendAsync(Result(id, """{"context":{"id":"01JDSCRIPTED","parent_id":null,"user_id":null},"response":null}"""));
                            break;
                        case ServiceCallAnswer.Fail:
                            await session.SendAsync($$$$"""{"id":{{{{id}}}},"type":"result","success":false,"error":{"code":"home_assistant_error","message":"{{{{ServiceCallError}}}}"}}""");
                            break;
                    }
                    break;
                case "ping":
                    await session.SendAsync($$"""{"id":{{id}},"type":"pong"}""");
                    break;
                default:
                    await session.SendAsync($$$$"""{"id":{{{{id}}}},"type":"result","success":false,"error":{"code":"unknown_command","message":"Unknown command."}}""");
                    break;
            }
        }
    }

    private static string Result(int id, string result) => $$"""{"id":{{id}},"type":"result","success":true,"result":{{result}}}""";

    private static string Event(int id, string eventType, string data) =>
        $$$$"""{"id":{{{{id}}}},"type":"event","event":{"event_type":"{{{{eventType}}}}","data":{{{{data}}}},"origin":"LOCAL","time_fired":"{{{{DateTimeOffset.UtcNow:O}}}}","context":{"id":"01JDSCRIPTED","parent_id":null,"user_id":null}}}""";

    private static string Quote(string value) => JsonSerializer.Serialize(value);

    private static string StateJson(string entityId, string state, object? attributes, DateTimeOffset lastUpdated)
    {
        var stamp = Quote(lastUpdated.ToString("O"));
        return $$$$"""{"entity_id":{{{{Quote(entityId)}}}},"state":{{{{Quote(state)}}}},"attributes":{{{{JsonSerializer.Serialize(attributes ?? new { })}}}},"last_changed":{{{{stamp}}}},"last_reported":{{{{stamp}}}},"last_updated":{{{{stamp}}}},"context":{"id":"01JDSCRIPTED","parent_id":null,"user_id":null}}""";
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private sealed class Session(WebSocket socket, HttpContext context)
    {
        private readonly SemaphoreSlim _send = new(1, 1);
        private readonly byte[] _buffer = new byte[64 * 1024];

        public WebSocket Socket => socket;

        public HttpContext Context => context;

        public ConcurrentDictionary<string, int> Subscriptions { get; } = new(StringComparer.Ordinal);

        public int? StateSubscription => Subscriptions.TryGetValue("state_changed", out var id) ? id : null;

        public async Task SendAsync(string text)
        {
            await _send.WaitAsync();
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            finally
            {
                _send.Release();
            }
        }

        public async Task<bool> TrySendAsync(string text)
        {
            try
            {
                await SendAsync(text);
                return true;
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException or ConnectionAbortedException)
            {
                return false;
            }
        }

        public async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
        {
            var count = 0;
            while (true)
            {
                var result = await socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                count += result.Count;
                if (result.EndOfMessage)
                {
                    return Encoding.UTF8.GetString(_buffer, 0, count);
                }
            }
        }
    }
}
