using System.Buffers;
using System.Threading.Channels;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Follows the MQTT broker (connection string <c>mqtt</c>): MQTT 5 with a persistent session per replica (stable client id, clean start
/// off, a session that does not expire), a shared subscription (<c>$share/{group}/…</c>, QoS 1) so that the replicas split the messages,
/// reconnecting with back-off.
/// <para>
/// Messages are mapped as they arrive and handled in batches: whatever has arrived (up to <see cref="MqttOptions.MaxBatchMessages"/>, at
/// most half of <see cref="MqttOptions.ReceiveMaximum"/>, the most the broker sends before an acknowledgement) becomes one publish of
/// readings and the state changes. Each message is acknowledged, in the order received, only after the broker confirmed what it
/// produced; until then the broker keeps it and sends it again after a reconnect, with the same timestamp
/// (<see cref="MqttTimestamps"/>). Unknown topics and malformed payloads are counted, logged once per topic, and acknowledged.
/// </para>
/// </summary>
internal sealed class MqttSubscriber(
    MqttConnection connection, IOptions<MqttOptions> optionsAccessor, MqttDeviceMap devices, MqttTimestamps timestamps, IReadingPipeline pipeline,
    IOptions<IngestionOptions> ingestion, MqttDiscovery discovery, MqttStatus status, MqttMetrics metrics, ILogger<MqttSubscriber> logger, TimeProvider time) : BackgroundService
{
    /// <summary>The <c>source</c> of the readings it publishes.</summary>
    public const string Source = "mqtt";

    private readonly MqttOptions _options = optionsAccessor.Value;
    private readonly MqttHomes _homes = optionsAccessor.Value.Routes;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var problem in _homes.Problems)
        {
            logger.LogError("Mqtt:Homes: {Problem}; that entry is left out", problem);
        }
        if (_homes.IsEmpty)
        {
            status.Configured = false;
            logger.LogWarning("An MQTT broker is configured but no home is: nothing is subscribed. Set Mqtt:HomeId to the home the broker's devices belong to (or Mqtt:Homes for several).");
            return;
        }
        var filters = _homes.Filters(MqttMapper.TopicFilters).ToArray();
        var delay = _options.ReconnectInitialDelay;
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            var transport = new MqttSocketTransport();
            using var connectionLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            // At most ReceiveMaximum messages are unacknowledged, so the queue never blocks the client's receive loop for long.
            var received = Channel.CreateBounded<Received>(new BoundedChannelOptions(_options.ReceiveMaximum) { SingleReader = true, SingleWriter = true });
            client.DisconnectedAsync += _ =>
            {
                connectionLost.Cancel();
                return Task.CompletedTask;
            };
            client.ApplicationMessageReceivedAsync += async e =>
            {
                e.AutoAcknowledge = false;
                await received.Writer.WriteAsync(await ReceiveAsync(e, client, connectionLost.Token), connectionLost.Token);
            };
            Task? handling = null;
            try
            {
                handling = HandleAsync(received.Reader, client, transport, connectionLost.Token);
                await client.ConnectAsync(ClientOptions(transport), stoppingToken);
                var subscribe = new MqttClientSubscribeOptionsBuilder();
                foreach (var filter in filters)
                {
                    subscribe.WithTopicFilter($"$share/{_options.ShareGroup}/{filter}", MqttQualityOfServiceLevel.AtLeastOnce);
                }
                await client.SubscribeAsync(subscribe.Build(), stoppingToken);
                await discovery.SubscribeAsync(client, stoppingToken);
                logger.LogInformation("Subscribed to {Broker} as {ClientId} for homes {Homes} ({Filters}, shared group {Group})",
                    connection.Endpoint, connection.ClientId, string.Join(", ", _homes.HomeIds), string.Join(", ", filters), _options.ShareGroup);
                if (discovery.Enabled)
                {
                    logger.LogInformation("Following Home Assistant discovery on {Filters} (every replica), discovered state topics shared", string.Join(", ", discovery.ConfigFilters));
                }
                (status.Subscribed, status.Problem) = (true, null);
                attempt = 0;
                delay = _options.ReconnectInitialDelay;
                await handling.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!stoppingToken.IsCancellationRequested)
                {
                    (status.Subscribed, status.Problem) = (false, "The connection was lost; reconnecting.");
                    logger.LogWarning("The connection to the MQTT broker {Broker} was lost; reconnecting", connection.Endpoint);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                attempt++;
                (status.Subscribed, status.Problem) = (false, $"Could not subscribe (attempt {attempt}): {ex.Message}");
                logger.Log(attempt % 10 == 1 ? LogLevel.Warning : LogLevel.Debug, ex,
                    "Could not subscribe at the MQTT broker {Broker} (attempt {Attempt}); trying again in {Delay}", connection.Endpoint, attempt, delay);
            }
            finally
            {
                await connectionLost.CancelAsync();
                if (handling is not null)
                {
                    await handling.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
            if (stoppingToken.IsCancellationRequested)
            {
                await DisconnectAsync(client);
                return;
            }
            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
        }
    }

    private MqttClientOptions ClientOptions(MqttSocketTransport transport) => new MqttClientOptionsBuilder()
        .WithTcpServer(connection.Host, connection.Port)
        .WithStreamProvider(transport)
        .WithCredentials(connection.UserName, connection.Password)
        .WithClientId(connection.ClientId)
        // MQTT 5, clean start off and a session that never expires: the subscriptions and unacknowledged messages outlive a disconnect.
        .WithProtocolVersion(MqttProtocolVersion.V500)
        .WithCleanStart(false)
        .WithSessionExpiryInterval(uint.MaxValue)
        .WithReceiveMaximum(_options.ReceiveMaximum)
        .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
        .WithTimeout(TimeSpan.FromSeconds(10))
        .Build();

    /// <summary>
    /// Maps a message as it is received (the payload is only valid until the handler returns) and gives it its arrival time. A topic no
    /// built-in mapping knows may be a Home Assistant discovery config or a discovered state topic (one device message per entity).
    /// </summary>
    private async Task<Received> ReceiveAsync(MqttApplicationMessageReceivedEventArgs e, IMqttClient client, CancellationToken cancellationToken)
    {
        metrics.Received();
        var message = e.ApplicationMessage;
        var arrival = timestamps.Arrival();
        ReadOnlyMemory<byte> payload = message.Payload.IsSingleSegment ? message.Payload.First : message.Payload.ToArray();
        var fingerprint = MqttTimestamps.Fingerprint(message.Topic, payload.Span);
        if (_homes.Route(message.Topic) is not { } route)
        {
            return new Received(e, Guid.Empty, new(MqttMessageKind.UnknownTopic), [], fingerprint, arrival);
        }
        var mapping = MqttMapper.Map(route.Topic, payload.Span);
        IReadOnlyList<MqttDeviceMessage> devices = mapping.Message is { } one ? [one] : [];
        if (mapping.Kind == MqttMessageKind.UnknownTopic)
        {
            (mapping, devices) = await discovery.MapAsync(client, _homes.PrefixOf(route.HomeId)!, message.Topic, payload.ToArray(), cancellationToken);
        }
        return new Received(e, route.HomeId, mapping, devices, fingerprint, arrival);
    }

    /// <summary>Handles the messages of one connection in batches until it is lost; a batch not confirmed by then is left unacknowledged.</summary>
    private async Task HandleAsync(ChannelReader<Received> reader, IMqttClient client, MqttSocketTransport transport, CancellationToken connectionLost)
    {
        var most = Math.Clamp(_options.MaxBatchMessages, 1, Math.Max(1, _options.ReceiveMaximum / 2));
        var batch = new List<Received>(most);
        while (await reader.WaitToReadAsync(connectionLost))
        {
            if (_options.BatchLinger > TimeSpan.Zero && reader.CanCount && reader.Count < most)
            {
                // A few milliseconds for more to arrive: at moderate rates one publish then carries many messages instead of one or two.
                await Task.Delay(_options.BatchLinger, time, connectionLost);
            }
            batch.Clear();
            while (batch.Count < most && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                await ForwardAsync(batch, client, connectionLost);
                // The batch's PUBACKs leave together, in one socket write.
                var stream = transport.Stream!;
                stream.HoldWrites();
                try
                {
                    foreach (var received in batch)
                    {
                        await received.Args.AcknowledgeAsync(connectionLost);
                    }
                }
                finally
                {
                    await stream.SendHeldAsync(connectionLost);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !connectionLost.IsCancellationRequested)
            {
                // Never let a batch end the subscription; unacknowledged, its messages come again after the next reconnect.
                logger.LogWarning(ex, "{Count} MQTT messages could not be handled; they stay unacknowledged", batch.Count);
            }
        }
    }

    /// <summary>Publishes the batch's readings and states, retrying until the broker confirms; throws when the MQTT connection went first.</summary>
    private async Task ForwardAsync(List<Received> batch, IMqttClient client, CancellationToken connectionLost)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var readings = new Dictionary<Guid, List<SensorReading>>();
                var states = new List<DeviceStateChanged>();
                var timed = new List<Received>(batch.Count);
                foreach (var received in batch)
                {
                    if (received.Mapping.Kind != MqttMessageKind.Device)
                    {
                        Skip(received);
                        continue;
                    }
                    received.Resolved.Clear();
                    foreach (var message in received.Messages)
                    {
                        if (await devices.ResolveAsync(received.HomeId, message, connectionLost) is { } device)
                        {
                            received.Resolved.Add((device, message));
                        }
                        else
                        {
                            metrics.SkippedUnknownDevice();
                            if (metrics.FirstTime(message.ExternalId))
                            {
                                logger.LogWarning("Skipping MQTT device {ExternalId}: no HomeIQ device has it as external id, and Mqtt:RegisterUnknownDevices is off (logged once)", message.ExternalId);
                            }
                        }
                    }
                    if (received.Resolved.Count > 0)
                    {
                        timed.Add(received);
                    }
                }
                await timestamps.SettleAsync(connection.ClientId, timed, connectionLost);
                foreach (var received in timed)
                {
                    if (!readings.TryGetValue(received.HomeId, out var ofHome))
                    {
                        readings[received.HomeId] = ofHome = [];
                    }
                    foreach (var (device, message) in received.Resolved)
                    {
                        foreach (var value in message.Values)
                        {
                            if (device.Capabilities.Any(c => c.Metric == value.Metric))
                            {
                                ofHome.Add(new SensorReading(device.DeviceId, value.Metric, value.Value, value.Unit, received.Timestamp));
                            }
                        }
                        if (message.State is { } state && device.Capabilities.Any(c => c.Metric == "state"))
                        {
                            states.Add(new DeviceStateChanged(received.HomeId, device.DeviceId, state));
                        }
                    }
                }
                foreach (var (homeId, ofHome) in readings)
                {
                    await PublishAsync(homeId, ofHome, connectionLost);
                }
                // Started in order, confirmed together: one round of broker confirms for the batch.
                await Task.WhenAll(states.Select(s => pipeline.PublishStateAsync(s, connectionLost)));
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !connectionLost.IsCancellationRequested)
            {
                if (!client.IsConnected)
                {
                    throw;
                }
                if (ex is IngestUnavailableException)
                {
                    // The store is behind (or the broker is away): the messages wait in the MQTT broker. Ask again soon, at a steady pace, so
                    // intake resumes as soon as the backlog shrinks; backing off further would idle a store that has caught up.
                    logger.Log(attempt == 1 || attempt % 20 == 0 ? LogLevel.Information : LogLevel.Debug,
                        "{Count} MQTT messages wait (attempt {Attempt}): {Reason}", batch.Count, attempt, ex.Message);
                    await Task.Delay(_options.BackpressureRetry, time, connectionLost);
                    continue;
                }
                logger.Log(attempt % 10 == 1 ? LogLevel.Warning : LogLevel.Debug, ex,
                    "Readings of {Count} MQTT messages were not confirmed (attempt {Attempt}); retrying in {Delay}, the messages stay unacknowledged",
                    batch.Count, attempt, delay);
                await Task.Delay(delay, time, connectionLost);
                delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
            }
        }
    }

    private async Task PublishAsync(Guid homeId, List<SensorReading> readings, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < readings.Count; offset += ingestion.Value.MaxBatchSize)
        {
            var part = readings.GetRange(offset, Math.Min(ingestion.Value.MaxBatchSize, readings.Count - offset));
            var outcome = await pipeline.AcceptAsync(homeId, Source, part, cancellationToken);
            metrics.Published(outcome.Accepted, outcome.Rejected.Count);
            foreach (var rejected in outcome.Rejected)
            {
                var reading = part[rejected.Index];
                if (metrics.FirstTime($"rejected:{reading.DeviceId}:{reading.Metric}"))
                {
                    logger.LogWarning("The pipeline rejected {Metric} readings of MQTT device {DeviceId}, e.g. {Code}: {Message} (logged once per device and metric)",
                        reading.Metric, reading.DeviceId, rejected.Code, rejected.Message);
                }
            }
        }
    }

    private void Skip(Received received)
    {
        var kind = received.Mapping.Kind;
        if (kind is not (MqttMessageKind.UnknownTopic or MqttMessageKind.Malformed) || received.Counted)
        {
            return;
        }
        received.Counted = true; // a retried batch counts it once
        metrics.Skipped(kind);
        var topic = received.Args.ApplicationMessage.Topic;
        if (metrics.FirstTime(topic))
        {
            logger.LogWarning("Skipping MQTT messages on {Topic}: {Reason} (logged once per topic)", topic,
                kind == MqttMessageKind.UnknownTopic ? "no mapping knows this topic" : received.Mapping.Problem);
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

    /// <summary>A received message: its mapping, and what handling it settles (timestamp, device).</summary>
    private sealed class Received(
        MqttApplicationMessageReceivedEventArgs args, Guid homeId, MqttMapping mapping, IReadOnlyList<MqttDeviceMessage> messages, ulong fingerprint, DateTimeOffset arrival) : IMqttTimed
    {
        public MqttApplicationMessageReceivedEventArgs Args { get; } = args;

        public Guid HomeId { get; } = homeId;

        public MqttMapping Mapping { get; } = mapping;

        /// <summary>The device messages it carries: one, or one per discovered entity on its topic.</summary>
        public IReadOnlyList<MqttDeviceMessage> Messages { get; } = messages;

        /// <summary>Those whose device is known (or was registered), with the device.</summary>
        public List<(ExternalDevice Device, MqttDeviceMessage Message)> Resolved { get; } = [];

        public ushort PacketId => Args.PacketIdentifier;

        public string Topic => Args.ApplicationMessage.Topic;

        public bool Redelivered => Args.ApplicationMessage.Dup;

        public ulong Fingerprint { get; } = fingerprint;

        public DateTimeOffset Timestamp { get; set; } = arrival;

        public bool Counted { get; set; }
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
