using System.Buffers;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Follows the MQTT broker (connection string <c>mqtt</c>): a persistent session per replica (stable client id, clean session off),
/// a shared subscription (<c>$share/{group}/…</c>, QoS 1) so that the replicas split the messages, reconnecting with back-off. A message
/// is acknowledged only after the broker confirmed the readings and state it produced; until then the broker keeps it and sends it
/// again after a reconnect. Unknown topics and malformed payloads are counted, logged once per topic, and acknowledged.
/// </summary>
internal sealed class MqttSubscriber(
    MqttConnection connection, IOptions<MqttOptions> optionsAccessor, MqttDeviceMap devices, MqttTimestamps timestamps, IReadingPipeline pipeline,
    MqttMetrics metrics, ILogger<MqttSubscriber> logger, TimeProvider time, MqttDiscovery discovery) : BackgroundService
{
    /// <summary>The <c>source</c> of the readings it publishes.</summary>
    public const string Source = "mqtt";

    private readonly MqttOptions _options = optionsAccessor.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Home is not { } homeId)
        {
            logger.LogWarning("An MQTT broker is configured but Mqtt:HomeId is not: nothing is subscribed. Set Mqtt:HomeId to the home the broker's devices belong to.");
            return;
        }
        var delay = _options.ReconnectInitialDelay;
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.DisconnectedAsync += _ =>
            {
                lost.TrySetResult();
                return Task.CompletedTask;
            };
            client.ApplicationMessageReceivedAsync += e =>
            {
                e.AutoAcknowledge = false;
                return HandleAsync(homeId, e, client, stoppingToken);
            };
            try
            {
                await client.ConnectAsync(ClientOptions(), stoppingToken);
                var subscribe = new MqttClientSubscribeOptionsBuilder();
                foreach (var filter in MqttMapper.TopicFilters)
                {
                    subscribe.WithTopicFilter($"$share/{_options.ShareGroup}/{filter}", MqttQualityOfServiceLevel.AtLeastOnce);
                }
                await client.SubscribeAsync(subscribe.Build(), stoppingToken);
                await discovery.SubscribeAsync(client, stoppingToken);
                logger.LogInformation("Subscribed to {Broker} as {ClientId} for home {HomeId} ({Filters}, shared group {Group})",
                    connection.Endpoint, connection.ClientId, homeId, string.Join(", ", MqttMapper.TopicFilters), _options.ShareGroup);
                if (discovery.Enabled)
                {
                    logger.LogInformation("Following Home Assistant discovery on {Filters} (every replica), discovered state topics shared", string.Join(", ", discovery.ConfigFilters));
                }
                attempt = 0;
                delay = _options.ReconnectInitialDelay;
                await lost.Task.WaitAsync(stoppingToken);
                logger.LogWarning("The connection to the MQTT broker {Broker} was lost; reconnecting", connection.Endpoint);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                await DisconnectAsync(client);
                return;
            }
            catch (Exception ex)
            {
                attempt++;
                logger.Log(attempt % 10 == 1 ? LogLevel.Warning : LogLevel.Debug, ex,
                    "Could not subscribe at the MQTT broker {Broker} (attempt {Attempt}); trying again in {Delay}", connection.Endpoint, attempt, delay);
            }
            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
        }
    }

    private MqttClientOptions ClientOptions() => new MqttClientOptionsBuilder()
        .WithTcpServer(connection.Host, connection.Port)
        .WithCredentials(connection.UserName, connection.Password)
        .WithClientId(connection.ClientId)
        // MQTT 3.1.1 with clean session off: the session (subscriptions, unacknowledged messages) outlives a disconnect without an expiry to set.
        .WithProtocolVersion(MqttProtocolVersion.V311)
        .WithCleanSession(false)
        .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
        .WithTimeout(TimeSpan.FromSeconds(10))
        .Build();

    private async Task HandleAsync(Guid homeId, MqttApplicationMessageReceivedEventArgs e, IMqttClient client, CancellationToken stoppingToken)
    {
        metrics.Received();
        var message = e.ApplicationMessage;
        ReadOnlyMemory<byte> payload = message.Payload.IsSingleSegment ? message.Payload.First : message.Payload.ToArray();
        var mapping = MqttMapper.Map(message.Topic, payload.Span);
        try
        {
            IReadOnlyList<MqttDeviceMessage> messages = mapping.Message is { } mapped ? [mapped] : [];
            if (mapping.Kind == MqttMessageKind.UnknownTopic)
            {
                (mapping, messages) = await discovery.MapAsync(client, message.Topic, payload, stoppingToken); // Home Assistant discovery
            }
            switch (mapping.Kind)
            {
                case MqttMessageKind.Device:
                    foreach (var device in messages)
                    {
                        if (!await ForwardAsync(homeId, message.Topic, payload, device, client, stoppingToken))
                        {
                            return; // not confirmed and the connection is gone: the broker sends it again
                        }
                    }
                    break;
                case MqttMessageKind.UnknownTopic or MqttMessageKind.Malformed:
                    metrics.Skipped(mapping.Kind);
                    if (metrics.FirstTime(message.Topic))
                    {
                        logger.LogWarning("Skipping MQTT messages on {Topic}: {Reason} (logged once per topic)", message.Topic,
                            mapping.Kind == MqttMessageKind.UnknownTopic ? "no mapping knows this topic" : mapping.Problem);
                    }
                    break;
            }
            await e.AcknowledgeAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Never let one message end the subscription; unacknowledged, it comes again after the next reconnect.
            logger.LogWarning(ex, "An MQTT message on {Topic} could not be handled; it stays unacknowledged", message.Topic);
        }
    }

    /// <summary>Publishes the message's readings and state, retrying until the broker confirms; false when the MQTT connection went first.</summary>
    private async Task<bool> ForwardAsync(Guid homeId, string topic, ReadOnlyMemory<byte> payload, MqttDeviceMessage message, IMqttClient client, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var device = await devices.ResolveAsync(homeId, message, stoppingToken);
                if (device is null)
                {
                    metrics.SkippedUnknownDevice();
                    if (metrics.FirstTime(message.ExternalId))
                    {
                        logger.LogWarning("Skipping MQTT device {ExternalId}: no HomeIQ device has it as external id, and Mqtt:RegisterUnknownDevices is off (logged once)", message.ExternalId);
                    }
                    return true;
                }
                var timestamp = await timestamps.ForAsync(topic, payload, stoppingToken);
                var readings = message.Values
                    .Where(v => device.Capabilities.Any(c => c.Metric == v.Metric))
                    .Select(v => new SensorReading(device.DeviceId, v.Metric, v.Value, v.Unit, timestamp))
                    .ToArray();
                var outcome = await pipeline.AcceptAsync(homeId, Source, readings, stoppingToken);
                if (message.State is { } state && device.Capabilities.Any(c => c.Metric == "state"))
                {
                    await pipeline.PublishStateAsync(new DeviceStateChanged(homeId, device.DeviceId, state), stoppingToken);
                }
                metrics.Published(outcome.Accepted, outcome.Rejected.Count);
                if (outcome.Rejected.Count > 0 && metrics.FirstTime($"rejected:{message.ExternalId}"))
                {
                    logger.LogWarning("The pipeline rejected readings of MQTT device {ExternalId}, e.g. {Code}: {Message} (logged once per device)",
                        message.ExternalId, outcome.Rejected[0].Code, outcome.Rejected[0].Message);
                }
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (!client.IsConnected)
                {
                    return false;
                }
                var wait = ex is IngestUnavailableException unavailable && unavailable.RetryAfter > delay ? unavailable.RetryAfter : delay;
                wait = wait > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : wait;
                logger.Log(attempt % 10 == 1 ? LogLevel.Warning : LogLevel.Debug, ex,
                    "Readings of MQTT device {ExternalId} were not confirmed (attempt {Attempt}); retrying in {Delay}, the message stays unacknowledged",
                    message.ExternalId, attempt, wait);
                await Task.Delay(wait, time, stoppingToken);
                delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
            }
        }
    }

    private static async Task DisconnectAsync(IMqttClient client)
    {
        if (!client.IsConnected)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await client.DisconnectAsync(cancellationToken: timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
        }
    }
}

/// <summary>The broker's address and credentials from the <c>mqtt</c> connection string (<c>mqtt://user:password@host:port</c>), and this replica's client id.</summary>
internal sealed class MqttConnection
{
    public MqttConnection(string connectionString, string replica)
    {
        var uri = new Uri(connectionString);
        var credentials = uri.UserInfo.Split(':', 2);
        Host = uri.Host;
        Port = uri.Port > 0 ? uri.Port : 1883;
        UserName = Uri.UnescapeDataString(credentials[0]);
        Password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : null;
        ClientId = $"homeiq-ingestion-{replica}";
    }

    public string Host { get; }

    public int Port { get; }

    public string UserName { get; }

    public string? Password { get; }

    /// <summary>Stable per replica, so a restarted replica resumes its persistent session (and gets what it had not acknowledged).</summary>
    public string ClientId { get; }

    public string Endpoint => $"{Host}:{Port}";
}
