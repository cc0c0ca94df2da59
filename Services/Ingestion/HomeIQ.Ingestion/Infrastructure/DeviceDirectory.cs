using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.Infrastructure;

/// <summary>One capability of a device, as Devices describes it.</summary>
public sealed record DeviceCapability(string Metric, string? Unit, double? Min, double? Max, bool Writable);

/// <summary>A device's home, kind and capabilities: Devices' answer on <c>GET /api/v1/internal/devices/{id}</c>.</summary>
public sealed record DeviceLookup(Guid DeviceId, Guid HomeId, string Kind, DeviceCapability[] Capabilities);

/// <summary>Devices could not be asked (down, timing out, refusing this service's token).</summary>
public sealed class DevicesUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Device lookups against Devices' internal route, cached: a device for <see cref="IngestionOptions.DeviceCacheLifetime"/>,
/// "no such device" for <see cref="IngestionOptions.UnknownDeviceCacheLifetime"/>. Failures are never cached.
/// </summary>
internal sealed class DeviceDirectory
{
    /// <summary>Bounds the lookups in flight towards Devices, however many unknown ids one batch carries.</summary>
    private readonly SemaphoreSlim _concurrency = new(32, 32);
    public const string HttpClientName = "devices";
    private readonly IHttpClientFactory _http;
    private readonly IngestionOptions _options;
    private readonly LookupCache<Guid, DeviceLookup?> _cache;
    private readonly Func<Guid, Task<(DeviceLookup?, TimeSpan)>> _load;

    public DeviceDirectory(IHttpClientFactory http, IOptions<IngestionOptions> options, TimeProvider clock)
    {
        _http = http;
        _options = options.Value;
        _cache = new(clock, _options.CacheSize);
        _load = LoadAsync;
    }

    /// <summary>The cached answer, if fresh: null inside means "no such device".</summary>
    public bool TryGetCached(Guid deviceId, out DeviceLookup? device) => _cache.TryGet(deviceId, out device);

    /// <summary>The device, or null when Devices does not know it; throws <see cref="DevicesUnavailableException"/> when Devices cannot be asked.</summary>
    public Task<DeviceLookup?> FindAsync(Guid deviceId) => _cache.GetAsync(deviceId, _load);

    private async Task<(DeviceLookup?, TimeSpan)> LoadAsync(Guid deviceId)
    {
        await _concurrency.WaitAsync().ConfigureAwait(false);
        try
        {
            using var response = await _http.CreateClient(HttpClientName).GetAsync($"/api/v1/internal/devices/{deviceId}", HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return (null, _options.UnknownDeviceCacheLifetime);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new DevicesUnavailableException($"Devices answered the lookup of {deviceId} with {(int)response.StatusCode}.");
            }
            var device = await response.Content.ReadFromJsonAsync(IngestJsonContext.Default.DeviceLookup).ConfigureAwait(false)
                ?? throw new DevicesUnavailableException($"Devices answered the lookup of {deviceId} with an empty body.");
            return (device, _options.DeviceCacheLifetime);
        }
        catch (Exception ex) when (ex is not DevicesUnavailableException)
        {
            throw new DevicesUnavailableException($"Devices could not be asked about {deviceId}: {ex.Message}", ex);
        }
        finally
        {
            _concurrency.Release();
        }
    }
}
