using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.HomeAssistant;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Commands;

/// <summary>
/// Which commands go to Home Assistant: those for a device of the bridged home that has an external id (the entity it was registered
/// from). The home's entity map comes from Devices, cached for half a minute and read again when a device is not in it (a device
/// registered a moment ago), at most every 2 s. Without a bridge configured nothing goes to Home Assistant.
/// </summary>
internal sealed class HomeAssistantRoute(IOptions<HomeAssistantOptions> options, IServiceProvider services, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MissRefresh = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _load = new(1, 1);
    private Dictionary<Guid, string> _entities = [];
    private long _loadedAt = long.MinValue;

    /// <summary>The bridged home, when a bridge is configured.</summary>
    public Guid? Home => Guid.TryParse(options.Value.HomeId, out var home) && !string.IsNullOrWhiteSpace(options.Value.Url) ? home : null;

    /// <summary>The entity id of the device when Home Assistant bridges it; null otherwise. Throws when Devices cannot be asked.</summary>
    public async Task<string?> EntityOfAsync(Guid homeId, Guid deviceId)
    {
        if (Home != homeId || services.GetService<IExternalDeviceDirectory>() is not { } directory)
        {
            return null;
        }
        var age = _loadedAt == long.MinValue ? TimeSpan.MaxValue : time.GetElapsedTime(Volatile.Read(ref _loadedAt));
        if (age < Lifetime && _entities.TryGetValue(deviceId, out var cached))
        {
            return cached;
        }
        if (age < MissRefresh)
        {
            return null;
        }
        await _load.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_loadedAt == long.MinValue || time.GetElapsedTime(_loadedAt) >= MissRefresh)
            {
                var devices = await directory.ListAsync(homeId, CancellationToken.None).ConfigureAwait(false);
                _entities = devices.ToDictionary(d => d.DeviceId, d => d.ExternalId);
                Volatile.Write(ref _loadedAt, time.GetTimestamp());
            }
            return _entities.GetValueOrDefault(deviceId);
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>
    /// The service a command calls: the domain is the entity's; <c>turn_on</c>, <c>turn_off</c> and <c>toggle</c> are services of that name,
    /// and <c>set</c> is the domain's setter (<c>climate.set_temperature</c>, <c>cover.set_cover_position</c>, <c>number.set_value</c>…),
    /// else <c>turn_on</c> with the parameters as service data (a light's brightness).
    /// </summary>
    public static (string Domain, string Service) ServiceFor(string entityId, DeviceCommandRequested command)
    {
        var domain = EntityMapper.Domain(entityId);
        if (command.Action != DeviceCommands.Set)
        {
            return (domain, command.Action);
        }
        var parameters = command.Parameters ?? new Dictionary<string, JsonElement>();
        var service = domain switch
        {
            "climate" when parameters.ContainsKey("hvac_mode") && !parameters.ContainsKey("temperature") => "set_hvac_mode",
            "climate" => "set_temperature",
            "cover" when parameters.ContainsKey("tilt_position") => "set_cover_tilt_position",
            "cover" => "set_cover_position",
            "fan" when parameters.ContainsKey("percentage") => "set_percentage",
            "number" or "input_number" => "set_value",
            "humidifier" => "set_humidity",
            "media_player" when parameters.ContainsKey("volume_level") => "volume_set",
            _ => "turn_on",
        };
        return (domain, service);
    }
}
