using System.Globalization;
using System.Text.Json;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>
/// What the bridge does over one authenticated connection: learn the home's entity → device map, subscribe to
/// <c>state_changed</c> and the registry updates, read the initial states, then turn every state into readings or state
/// changes until the connection ends.
/// </summary>
internal sealed class BridgeSession(
    HomeAssistantOptions options, IExternalDeviceDirectory directory, ReadingForwarder forwarder, HomeAssistantMetrics metrics,
    HomeAssistantBridgeStatus status, HomeAssistantCommands commands, ILogger logger, TimeProvider time)
{
    private static readonly TimeSpan RegistrationRetry = TimeSpan.FromMinutes(1);
    private const int MaxRemembered = 10_000;

    private readonly Guid _homeId = options.Home;
    private readonly Dictionary<string, DateTimeOffset> _registrationFailed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loggedUnknown = new(StringComparer.Ordinal);
    private volatile Dictionary<string, ExternalDevice> _devices = new(StringComparer.Ordinal);
    private int _refreshState; // 0 idle, 1 running, 2 running and asked again
    private int _stateSubscription = -1;
    private int _entityRegistrySubscription = -1;
    private int _deviceRegistrySubscription = -1;
    private int _initialStates = -1;
    private long _loadedAt;

    public async Task LoadDevicesAsync(CancellationToken cancellationToken)
    {
        var devices = await directory.ListAsync(_homeId, cancellationToken);
        var map = new Dictionary<string, ExternalDevice>(devices.Count, StringComparer.Ordinal);
        foreach (var device in devices)
        {
            map[device.ExternalId] = device;
        }
        _devices = map;
        Volatile.Write(ref _loadedAt, time.GetTimestamp());
    }

    /// <summary>Subscribes, then handles messages until Home Assistant closes the connection (returns) or it breaks (throws).</summary>
    public async Task RunAsync(HomeAssistantConnection connection, CancellationToken cancellationToken)
    {
        commands.Attach(connection);
        try
        {
            await FollowAsync(connection, cancellationToken);
        }
        finally
        {
            commands.Detach(connection);
        }
    }

    private async Task FollowAsync(HomeAssistantConnection connection, CancellationToken cancellationToken)
    {
        await LoadDevicesAsync(cancellationToken);
        _stateSubscription = await connection.SendCommandAsync("subscribe_events", "state_changed", cancellationToken);
        _entityRegistrySubscription = await connection.SendCommandAsync("subscribe_events", "entity_registry_updated", cancellationToken);
        _deviceRegistrySubscription = await connection.SendCommandAsync("subscribe_events", "device_registry_updated", cancellationToken);
        _initialStates = await connection.SendCommandAsync("get_states", null, cancellationToken);
        while (true)
        {
            using var message = await connection.ReceiveAsync(cancellationToken);
            if (message is null)
            {
                return;
            }
            if (time.GetElapsedTime(Volatile.Read(ref _loadedAt)) >= options.DeviceMapRefresh)
            {
                Volatile.Write(ref _loadedAt, time.GetTimestamp());
                RefreshDevices(cancellationToken);
            }
            if (message.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var element in message.RootElement.EnumerateArray())
                {
                    await HandleAsync(element, cancellationToken);
                }
            }
            else
            {
                await HandleAsync(message.RootElement, cancellationToken);
            }
        }
    }

    private async ValueTask HandleAsync(JsonElement message, CancellationToken cancellationToken)
    {
        var id = message.TryGetProperty("id", out var idElement) && idElement.TryGetInt32(out var value) ? value : -1;
        switch (HomeAssistantConnection.TypeOf(message))
        {
            case "event" when id == _stateSubscription:
                metrics.EventReceived();
                if (message.TryGetProperty("event", out var @event) && @event.TryGetProperty("data", out var data))
                {
                    if (data.TryGetProperty("new_state", out var newState) && newState.ValueKind == JsonValueKind.Object)
                    {
                        await HandleStateAsync(newState, cancellationToken);
                    }
                    else
                    {
                        metrics.Skip("removed");
                    }
                }
                break;
            case "event" when id == _entityRegistrySubscription || id == _deviceRegistrySubscription:
                logger.LogDebug("Home Assistant's registry changed; refreshing the entity map");
                RefreshDevices(cancellationToken);
                break;
            case "result" when commands.TryComplete(id, message):
                break;
            case "result":
                await HandleResultAsync(id, message, cancellationToken);
                break;
        }
    }

    private async ValueTask HandleResultAsync(int id, JsonElement message, CancellationToken cancellationToken)
    {
        if (!message.TryGetProperty("success", out var success) || success.ValueKind != JsonValueKind.True)
        {
            var error = message.TryGetProperty("error", out var e) ? e.GetRawText() : "no error given";
            throw new HomeAssistantProtocolException($"Home Assistant refused command {id} ({Describe(id)}): {error}");
        }
        if (id == _stateSubscription)
        {
            status.Subscribed = true;
            logger.LogInformation("Subscribed to Home Assistant state_changed events for home {HomeId}", _homeId);
        }
        else if (id == _initialStates && message.TryGetProperty("result", out var states) && states.ValueKind == JsonValueKind.Array)
        {
            foreach (var state in states.EnumerateArray())
            {
                await HandleStateAsync(state, cancellationToken);
            }
            logger.LogInformation("Read {Count} initial Home Assistant states", states.GetArrayLength());
        }
    }

    private string Describe(int id) =>
        id == _stateSubscription ? "subscribe state_changed"
        : id == _entityRegistrySubscription ? "subscribe entity_registry_updated"
        : id == _deviceRegistrySubscription ? "subscribe device_registry_updated"
        : id == _initialStates ? "get_states" : "unknown";

    private async ValueTask HandleStateAsync(JsonElement state, CancellationToken cancellationToken)
    {
        if (!state.TryGetProperty("entity_id", out var entity) || entity.GetString() is not { Length: > 0 } entityId
            || !state.TryGetProperty("state", out var stateValue) || stateValue.ValueKind != JsonValueKind.String)
        {
            metrics.Skip("malformed");
            return;
        }
        var text = stateValue.GetString()!;
        if (EntityMapper.IsUnavailable(text))
        {
            metrics.Skip("unavailable");
            return;
        }
        var attributes = state.TryGetProperty("attributes", out var a) ? a : default;
        var device = _devices.GetValueOrDefault(entityId) ?? await RegisterAsync(entityId, text, attributes, cancellationToken);
        if (device is null)
        {
            return;
        }
        var mapped = EntityMapper.Map(_homeId, device, entityId, text, attributes, Timestamp(state));
        if (mapped.SkipReason is { } reason)
        {
            metrics.Skip(reason);
            return;
        }
        if (mapped.Reading is { } reading)
        {
            await forwarder.WriteAsync(reading, cancellationToken);
        }
        if (mapped.Extra is { } extra)
        {
            foreach (var more in extra)
            {
                await forwarder.WriteAsync(more, cancellationToken);
            }
        }
        if (mapped.State is { } change)
        {
            await forwarder.WriteAsync(change, cancellationToken);
        }
    }

    private DateTimeOffset Timestamp(JsonElement state)
    {
        foreach (var name in (ReadOnlySpan<string>)["last_updated", "last_changed"])
        {
            if (state.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }
        }
        return time.GetUtcNow();
    }

    private async ValueTask<ExternalDevice?> RegisterAsync(string entityId, string state, JsonElement attributes, CancellationToken cancellationToken)
    {
        if (!options.RegisterUnknownEntities)
        {
            metrics.Skip("unknown-entity");
            LogOnce(entityId, "Skipping Home Assistant entity {EntityId}: no HomeIQ device has it as external id, and HomeAssistant:RegisterUnknownEntities is off");
            return null;
        }
        if (_registrationFailed.TryGetValue(entityId, out var until) && time.GetUtcNow() < until)
        {
            metrics.Skip("registration-failed");
            return null;
        }
        if (EntityMapper.Describe(entityId, state, attributes) is not { } registration)
        {
            metrics.Skip("unsupported-entity");
            LogOnce(entityId, "Skipping Home Assistant entity {EntityId}: HomeIQ has no device kind for it");
            return null;
        }
        try
        {
            var device = await directory.RegisterAsync(_homeId, registration, cancellationToken);
            _devices = new Dictionary<string, ExternalDevice>(_devices, StringComparer.Ordinal) { [entityId] = device };
            _registrationFailed.Remove(entityId);
            logger.LogInformation("Registered Home Assistant entity {EntityId} as {Kind} device {DeviceId}", entityId, device.Kind, device.DeviceId);
            return device;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (_registrationFailed.Count >= MaxRemembered)
            {
                _registrationFailed.Clear();
            }
            _registrationFailed[entityId] = time.GetUtcNow() + RegistrationRetry;
            metrics.Skip("registration-failed");
            logger.LogWarning(ex, "Could not register Home Assistant entity {EntityId}; its events are skipped for {Retry}", entityId, RegistrationRetry);
            return null;
        }
    }

    private void LogOnce(string entityId, string message)
    {
        if (logger.IsEnabled(LogLevel.Debug) && _loggedUnknown.Count < MaxRemembered && _loggedUnknown.Add(entityId))
        {
#pragma warning disable CA2254 // the two templates are constants of this class
            logger.LogDebug(message, entityId);
#pragma warning restore CA2254
        }
    }

    /// <summary>Reloads the map in the background; requests during a reload cause one more reload after it.</summary>
    private void RefreshDevices(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _refreshState, 2) != 0)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            do
            {
                Volatile.Write(ref _refreshState, 1);
                try
                {
                    await LoadDevicesAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
                {
                    logger.LogWarning(ex, "Could not refresh the Home Assistant entity map; keeping the previous one");
                }
            }
            while (Interlocked.CompareExchange(ref _refreshState, 0, 1) != 1 && !cancellationToken.IsCancellationRequested);
        }, CancellationToken.None);
    }
}
