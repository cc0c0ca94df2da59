using System.Net.Http.Json;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>A device of the home with an external id (the Home Assistant <c>entity_id</c>).</summary>
public sealed record ExternalDevice(Guid DeviceId, string ExternalId, string Name, string Kind, IReadOnlyList<DeviceCapability> Capabilities);

/// <summary>An entity to register as a device.</summary>
public sealed record ExternalDeviceRegistration(string ExternalId, string Name, string Kind, IReadOnlyList<DeviceCapability> Capabilities);

/// <summary>The Devices service's view of a home's entities: list them, and register an unknown one.</summary>
public interface IExternalDeviceDirectory
{
    /// <summary>Every device of the home that has an external id.</summary>
    Task<IReadOnlyList<ExternalDevice>> ListAsync(Guid homeId, CancellationToken cancellationToken);

    /// <summary>Registers the entity (idempotent per external id); returns the device, new or existing.</summary>
    Task<ExternalDevice> RegisterAsync(Guid homeId, ExternalDeviceRegistration registration, CancellationToken cancellationToken);
}

/// <summary>Calls Devices' internal routes with the ingestion service token.</summary>
internal sealed class DevicesExternalDirectory(HttpClient http) : IExternalDeviceDirectory
{
    private static string Path(Guid homeId) => $"/api/v1/internal/homes/{homeId}/devices/external";

    public async Task<IReadOnlyList<ExternalDevice>> ListAsync(Guid homeId, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<ExternalDevice[]>(Path(homeId), cancellationToken) ?? [];

    public async Task<ExternalDevice> RegisterAsync(Guid homeId, ExternalDeviceRegistration registration, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(Path(homeId), registration, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"Devices refused to register {registration.ExternalId}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        return await response.Content.ReadFromJsonAsync<ExternalDevice>(cancellationToken)
            ?? throw new HttpRequestException($"Devices answered an empty registration of {registration.ExternalId}.");
    }
}
