using System.Collections.Concurrent;
using System.Collections.Immutable;
using HomeIQ.Contracts;

namespace HomeIQ.Ingestion.Commands;

/// <summary>
/// The hub connections of this replica, by home, and which one last sent readings for each device, so that a command goes to the
/// hub that reaches the device. Homes with a connection here are announced in Redis (<see cref="CommandRegistry"/>).
/// </summary>
internal sealed class HubConnections(CommandRegistry registry)
{
    private readonly ConcurrentDictionary<Guid, ImmutableList<ICommandTarget>> _byHome = new();
    private readonly ConcurrentDictionary<Guid, ICommandTarget> _byDevice = new();
    private readonly ConcurrentDictionary<ICommandTarget, ConcurrentDictionary<Guid, byte>> _devicesOf = new();

    /// <summary>Adds a connection; the first of its home is announced before this returns (a failure to announce only delays it).</summary>
    public async Task AddAsync(ICommandTarget connection)
    {
        _devicesOf[connection] = new();
        var list = _byHome.AddOrUpdate(connection.HomeId, _ => [connection], (_, existing) => existing.Add(connection));
        if (list.Count == 1)
        {
            await registry.AnnounceHubAsync(connection.HomeId).ConfigureAwait(false);
        }
    }

    public void Remove(ICommandTarget connection)
    {
        if (_devicesOf.TryRemove(connection, out var devices))
        {
            foreach (var device in devices.Keys)
            {
                _byDevice.TryRemove(KeyValuePair.Create(device, connection));
            }
        }
        while (_byHome.TryGetValue(connection.HomeId, out var list))
        {
            var rest = list.Remove(connection);
            if (rest.IsEmpty ? _byHome.TryRemove(KeyValuePair.Create(connection.HomeId, list)) : _byHome.TryUpdate(connection.HomeId, rest, list))
            {
                if (rest.IsEmpty)
                {
                    registry.WithdrawHub(connection.HomeId);
                }
                return;
            }
        }
    }

    /// <summary>Notes that <paramref name="connection"/> sent these readings: it is now the way to their devices.</summary>
    public void Saw(ICommandTarget connection, IReadOnlyList<SensorReading> readings)
    {
        if (!_devicesOf.TryGetValue(connection, out var devices))
        {
            return;
        }
        foreach (var reading in readings)
        {
            if (_byDevice.TryGetValue(reading.DeviceId, out var current) && current == connection)
            {
                continue;
            }
            _byDevice[reading.DeviceId] = connection;
            devices[reading.DeviceId] = 0;
            registry.AnnounceDevice(connection.HomeId, reading.DeviceId);
        }
    }

    /// <summary>Whether a hub of the home is connected here.</summary>
    public bool HasHome(Guid homeId) => _byHome.ContainsKey(homeId);

    /// <summary>The connection that last sent readings for the device, else any connection of its home here; null when none.</summary>
    public ICommandTarget? Find(Guid homeId, Guid deviceId)
    {
        if (_byDevice.TryGetValue(deviceId, out var last) && last.HomeId == homeId)
        {
            return last;
        }
        return _byHome.TryGetValue(homeId, out var list) && list.Count > 0 ? list[^1] : null;
    }
}
