using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using HomeIQ.Tests.Ingestion;

namespace HomeIQ.Tests.Automations;

/// <summary>How the scripted hub answers one command: success or failure, with the device's state after it; null means it never answers.</summary>
internal sealed record HubAnswer(bool Success, string? Message = null, string? State = null, IReadOnlyDictionary<string, string>? Attributes = null);

/// <summary>
/// A hub connected on the ingestion stream (through the gateway, with its hub key) that receives <c>command</c> frames and answers
/// each with a <c>command-result</c> as its script says: at once, never, or later when the test says so.
/// </summary>
internal sealed class ScriptedHub : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _send = new(1, 1);

    private ScriptedHub(ClientWebSocket socket)
    {
        _socket = socket;
        _loop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Every command received, in order.</summary>
    public ConcurrentQueue<JsonElement> Commands { get; } = new();

    /// <summary>Decides the answer to each command (default: success, state <c>on</c>); null holds it (see <see cref="AnswerAsync"/>).</summary>
    public Func<JsonElement, HubAnswer?> Script { get; set; } = _ => new HubAnswer(true, State: "on");

    /// <summary>Connects and returns once ingestion has registered the hub for commands (one reading of the lamp's power acked).</summary>
    public static async Task<ScriptedHub> ConnectAsync(Uri stream, string hubKey, Guid deviceId) =>
        new(await IngestClient.ConnectRegisteredAsync(stream, hubKey, deviceId, "power", 0, "W"));

    /// <summary>The commands for <paramref name="deviceId"/>.</summary>
    public List<JsonElement> CommandsFor(Guid deviceId) => [.. Commands.Where(c => c.GetProperty("deviceId").GetGuid() == deviceId)];

    /// <summary>Waits until <paramref name="count"/> commands have arrived.</summary>
    public async Task<List<JsonElement>> WaitForCommandsAsync(int count, CancellationToken ct)
    {
        while (Commands.Count < count)
        {
            await Task.Delay(50, ct);
        }
        return [.. Commands];
    }

    /// <summary>Sends the answer to a command now (one the script held).</summary>
    public async Task AnswerAsync(JsonElement command, HubAnswer answer)
    {
        await _send.WaitAsync(_stop.Token);
        try
        {
            await IngestClient.SendAsync(_socket, new
            {
                type = "command-result",
                commandId = command.GetProperty("commandId").GetGuid(),
                success = answer.Success,
                message = answer.Message,
                state = answer.State,
                attributes = answer.Attributes,
            });
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
        {
            JsonElement? message;
            try
            {
                message = await IngestClient.ReceiveAsync(_socket, TimeSpan.FromMinutes(10));
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                return;
            }
            if (message is not { } m)
            {
                return;
            }
            if (m.GetProperty("type").GetString() == "command")
            {
                Commands.Enqueue(m);
                if (Script(m) is { } answer)
                {
                    await AnswerAsync(m, answer);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or OperationCanceledException)
        {
        }
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _stop.Dispose();
        _send.Dispose();
    }
}
