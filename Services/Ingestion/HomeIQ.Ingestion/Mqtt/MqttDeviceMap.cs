using System.Collections.Concurrent;
using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Infrastructure;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Each home's MQTT devices by external id, through the same Devices routes the Home Assistant bridge uses
/// (<see cref="IExternalDeviceDirectory"/>): listed, refreshed when an unknown id shows up, and registered when
/// <see cref="MqttOptions.RegisterUnknownDevices"/> allows.
/// </summary>
internal sealed class MqttDeviceMap(IExternalDeviceDirectory directory, IOptions<MqttOptions> options, TimeProvider time)
{
    private readonly MqttOptions _options = options.Value;
    private readonly MqttHomes _homes = options.Value.Routes;
    private readonly ConcurrentDictionary<Guid, HomeDevices> _byHome = new();

    /// <summary>The device of <paramref name="message"/>, registering it when allowed; null when it has none.</summary>
    public async ValueTask<ExternalDevice?> ResolveAsync(Guid homeId, MqttDeviceMessage message, CancellationToken cancellationToken)
    {
        var home = _byHome.GetOrAdd(homeId, _ => new());
        if (home.Devices.TryGetValue(message.ExternalId, out var known))
        {
            return known;
        }
        await home.Gate.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(homeId, home, _options.DeviceMapRefresh, cancellationToken);
            if (home.Devices.TryGetValue(message.ExternalId, out known) || !_options.RegisterUnknownDevices)
            {
                return known;
            }
            var device = await directory.RegisterAsync(homeId, Describe(message), cancellationToken);
            home.Devices = new Dictionary<string, ExternalDevice>(home.Devices, StringComparer.Ordinal) { [device.ExternalId] = device };
            return device;
        }
        finally
        {
            home.Gate.Release();
        }
    }

    /// <summary>
    /// The MQTT external id of a device of a home on the broker (<c>mqtt:…</c>), or null when it is not an MQTT device; a device not in the
    /// map reloads it (one registered a moment ago, perhaps by the other replica). Throws when Devices cannot be asked.
    /// </summary>
    public async Task<string?> ExternalIdOfAsync(Guid homeId, Guid deviceId, CancellationToken cancellationToken)
    {
        if (_homes.PrefixOf(homeId) is null)
        {
            return null;
        }
        var home = _byHome.GetOrAdd(homeId, _ => new());
        if (home.Find(deviceId) is { } known)
        {
            return known;
        }
        await home.Gate.WaitAsync(cancellationToken);
        try
        {
            if (home.Find(deviceId) is { } loaded)
            {
                return loaded; // another command's load found it
            }
            // Commands are few, and the device may have been registered a moment ago, by the other replica: always ask Devices again.
            await LoadAsync(homeId, home, TimeSpan.Zero, cancellationToken);
            return home.Find(deviceId);
        }
        finally
        {
            home.Gate.Release();
        }
    }

    private async Task LoadAsync(Guid homeId, HomeDevices home, TimeSpan olderThan, CancellationToken cancellationToken)
    {
        if (home.LoadedAt == long.MinValue || time.GetElapsedTime(home.LoadedAt) >= olderThan)
        {
            var listed = await directory.ListAsync(homeId, cancellationToken);
            home.Devices = listed.Where(d => d.ExternalId.StartsWith("mqtt:", StringComparison.Ordinal)).ToDictionary(d => d.ExternalId, StringComparer.Ordinal);
            home.LoadedAt = time.GetTimestamp();
        }
    }

    private sealed class HomeDevices
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public volatile Dictionary<string, ExternalDevice> Devices = new(StringComparer.Ordinal);

        public long LoadedAt = long.MinValue;

        public string? Find(Guid deviceId) => Devices.Values.FirstOrDefault(d => d.DeviceId == deviceId)?.ExternalId;
    }

    /// <summary>A switch when it reports a state, a meter when it reports power or energy, else a sensor; one capability per value.</summary>
    internal static ExternalDeviceRegistration Describe(MqttDeviceMessage message)
    {
        var capabilities = message.Values.Select(v => new DeviceCapability(v.Metric, v.Unit, null, null, false)).ToList();
        if (message.State is not null)
        {
            capabilities.Add(new DeviceCapability("state", null, null, null, true));
        }
        var kind = message.State is not null ? "switch"
            : message.Values.Any(v => v.Metric is "power" or "energy") ? "meter"
            : "sensor";
        return new ExternalDeviceRegistration(message.ExternalId, message.Name, kind, capabilities);
    }
}
