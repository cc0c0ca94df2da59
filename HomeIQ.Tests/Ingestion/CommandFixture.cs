using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.HomeAssistant;
using Npgsql;
using RabbitMQ.Client;
using static HomeIQ.Tests.Ingestion.IngestClient;

namespace HomeIQ.Tests.Ingestion;

/// <summary>
/// The ingestion stack with two ingestion replicas, as in the AppHost (one shared command queue, a hub stream on one replica), and a
/// scripted Home Assistant bridged into <see cref="HomeAssistantHome"/> (its entities are registered as devices when the bridge starts).
/// </summary>
public sealed class CommandFixture : IngestionFixture
{
    public ScriptedHomeAssistant HomeAssistant { get; } = new();

    public Guid HomeAssistantHome { get; } = Guid.CreateVersion7();

    public override async ValueTask InitializeAsync()
    {
        HomeAssistant.SetState("light.kitchen", "off", new { friendly_name = "Kitchen light", brightness = 0 });
        HomeAssistant.SetState("switch.heater", "off", new { friendly_name = "Heater" });
        await HomeAssistant.StartAsync(TestContext.Current.CancellationToken);
        await base.InitializeAsync();
    }

    protected override void Configure(IResourceBuilder<ProjectResource> ingestion) =>
        ingestion.WithReplicas(2).WithEnvironment(context =>
        {
            context.EnvironmentVariables["HomeAssistant__Url"] = HomeAssistant.Url.ToString();
            context.EnvironmentVariables["HomeAssistant__AccessToken"] = HomeAssistant.AccessToken;
            context.EnvironmentVariables["HomeAssistant__HomeId"] = HomeAssistantHome.ToString();
            context.EnvironmentVariables["HomeAssistant__RegisterUnknownEntities"] = "true";
            context.EnvironmentVariables["HomeAssistant__ReconnectMaxDelay"] = "00:00:02";
        });

    /// <summary>The device the bridge registered for a Home Assistant entity, once it has.</summary>
    internal async Task<Guid> HomeAssistantDeviceAsync(string entityId, CancellationToken ct)
    {
        await using var db = NpgsqlDataSource.Create((await App.GetConnectionStringAsync("devicesdb", ct))!);
        while (true)
        {
            await using var select = db.CreateCommand("SELECT id FROM devices WHERE home_id = $1 AND external_id = $2");
            select.Parameters.Add(new() { Value = HomeAssistantHome });
            select.Parameters.Add(new() { Value = entityId });
            if (await select.ExecuteScalarAsync(ct) is Guid id)
            {
                return id;
            }
            await Task.Delay(200, ct);
        }
    }

    /// <summary>A requester on the broker: its own reply queue, publishing commands on the event exchange as Automations does.</summary>
    internal Task<CommandRequester> RequesterAsync() => CommandRequester.ConnectAsync(App);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await HomeAssistant.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CommandCollection : ICollectionFixture<CommandFixture>
{
    public const string Name = "commands";
}

/// <summary>Publishes <c>device.command.v1</c> and reads the replies from its own queue.</summary>
internal sealed class CommandRequester(IConnection connection, IChannel channel, string replyQueue) : IAsyncDisposable
{
    private readonly List<DeviceCommandCompleted> _replies = [];

    public string ReplyQueue => replyQueue;

    /// <summary>Connects to the stack's <c>messaging</c> broker with a reply queue of its own.</summary>
    public static async Task<CommandRequester> ConnectAsync(DistributedApplication app)
    {
        var ct = TestContext.Current.CancellationToken;
        var factory = new ConnectionFactory { Uri = new Uri((await app.GetConnectionStringAsync("messaging", ct))!) };
        var connection = await factory.CreateConnectionAsync(ct);
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: ct);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        return new CommandRequester(connection, channel, queue);
    }

    public DeviceCommandRequested Command(Guid homeId, Guid deviceId, string action = "turn_on", TimeSpan? deadline = null,
        Dictionary<string, JsonElement>? parameters = null) =>
        new(Guid.CreateVersion7(), homeId, deviceId, action, parameters, DateTimeOffset.UtcNow + (deadline ?? TimeSpan.FromSeconds(30)), replyQueue);

    /// <summary>Publishes the command as its requester's outbox relay would (the same body again for a redelivery).</summary>
    public async Task PublishAsync(DeviceCommandRequested command)
    {
        var properties = new BasicProperties
        {
            MessageId = command.Id.ToString(),
            Type = "device.command.v1",
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Persistent,
        };
        await channel.BasicPublishAsync("homeiq.events", "device.command.v1", mandatory: false, properties,
            JsonSerializer.SerializeToUtf8Bytes(command, JsonSerializerOptions.Web), TestContext.Current.CancellationToken);
    }

    /// <summary>Every reply received so far.</summary>
    public IReadOnlyList<DeviceCommandCompleted> Replies => _replies;

    /// <summary>Waits for the reply to <paramref name="commandId"/> (the test's timeout bounds the wait).</summary>
    public async Task<DeviceCommandCompleted> ReplyToAsync(Guid commandId)
    {
        while (true)
        {
            if (_replies.FirstOrDefault(r => r.CommandId == commandId) is { } reply)
            {
                return reply;
            }
            var got = await channel.BasicGetAsync(replyQueue, autoAck: true, TestContext.Current.CancellationToken);
            if (got is null)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
                continue;
            }
            Assert.Equal("device.command-completed.v1", got.BasicProperties.Type);
            _replies.Add(JsonSerializer.Deserialize<DeviceCommandCompleted>(got.Body.Span, JsonSerializerOptions.Web)!);
        }
    }

    public async Task<uint> ConsumersOfAsync(string queue) =>
        (await channel.QueueDeclarePassiveAsync(queue, TestContext.Current.CancellationToken)).ConsumerCount;

    public async ValueTask DisposeAsync()
    {
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}

/// <summary>
/// A hub on the stream that answers commands as <see cref="Answer"/> says (a frame to send, or null to ignore the command), recording the
/// commands and every other message it got. It sends one reading first, so its connection is the way to its device.
/// </summary>
internal sealed class ScriptedHub : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Task _loop;

    private ScriptedHub(ClientWebSocket socket)
    {
        _socket = socket;
        _loop = Task.Run(LoopAsync);
    }

    public Func<JsonElement, object?> Answer { get; set; } = Succeed("on");

    public ConcurrentQueue<JsonElement> Commands { get; } = new();

    public ConcurrentQueue<JsonElement> Others { get; } = new();

    public static Func<JsonElement, object?> Succeed(string state, Dictionary<string, object>? attributes = null) =>
        command => new { type = "command-result", commandId = command.GetProperty("commandId").GetGuid(), success = true, state, attributes };

    public static Func<JsonElement, object?> Fail(string message) =>
        command => new { type = "command-result", commandId = command.GetProperty("commandId").GetGuid(), success = false, message };

    public static async Task<ScriptedHub> ConnectAsync(IngestionFixture fixture, HubHome home) =>
        new(await ConnectRegisteredAsync(fixture.StreamUri(), home.HubKey, home.DeviceId, "temperature", 21, "°C"));

    public async Task SendTextAsync(string text)
    {
        await _send.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>The commands received for <paramref name="commandId"/>.</summary>
    public List<JsonElement> CommandsOf(Guid commandId) => [.. Commands.Where(c => c.GetProperty("commandId").GetGuid() == commandId)];

    private async Task LoopAsync()
    {
        try
        {
            while (await ReceiveAsync(_socket, TimeSpan.FromMinutes(10)) is { } message)
            {
                if (message.GetProperty("type").GetString() != "command")
                {
                    Others.Enqueue(message);
                    continue;
                }
                Commands.Enqueue(message);
                if (Answer(message) is { } answer)
                {
                    await SendTextAsync(JsonSerializer.Serialize(answer, JsonSerializerOptions.Web));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        await _loop;
        _socket.Dispose();
    }
}
