using HomeIQ.Ingestion.HomeAssistant;
using HomeIQ.Ingestion.Infrastructure;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// The home's MQTT devices by external id, through the same Devices routes the Home Assistant bridge uses
/// (<see cref="IExternalDeviceDirectory"/>): listed, refreshed when an unknown id shows up, and registered when
/// <see cref="MqttOptions.RegisterUnknownDevices"/> allows.
/// </summary>
internal sealed class MqttDeviceMap(IExternalDeviceDirectory directory, IOptions<MqttOptions> options, TimeProvider time)
{
    private readonly MqttOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, ExternalDevice> _devices = new(StringComparer.Ordinal);
    private long _loadedAt = long.MinValue;

    /// <summary>The device of <paramref name="message"/>, registering it when allowed; null when it has none.</summary>
    public async ValueTask<ExternalDevice?> ResolveAsync(Guid homeId, MqttDeviceMessage message, CancellationToken cancellationToken)
    {
        if (_devices.TryGetValue(message.ExternalId, out var known))
        {
            return known;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_loadedAt == long.MinValue || time.GetElapsedTime(_loadedAt) >= _options.DeviceMapRefresh)
            {
                var listed = await directory.ListAsync(homeId, cancellationToken);
                _devices = listed.Where(d => d.ExternalId.StartsWith("mqtt:", StringComparison.Ordinal)).ToDictionary(d => d.ExternalId, StringComparer.Ordinal);
                _loadedAt = time.GetTimestamp();
            }
            if (_devices.TryGetValue(message.ExternalId, out known) || !_options.RegisterUnknownDevices)
            {
                return known;
            }
            var device = await directory.RegisterAsync(homeId, Describe(message), cancellationToken);
            _devices = new Dictionary<string, ExternalDevice>(_devices, StringComparer.Ordinal) { [device.ExternalId] = device };
            return device;
        }
        finally
        {
            _gate.Release();
        }
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
