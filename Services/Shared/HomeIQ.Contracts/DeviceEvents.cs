namespace HomeIQ.Contracts;

/// <summary>A device was added to a home's registry.</summary>
[EventName("device.registered.v1")]
public sealed record DeviceRegistered(Guid HomeId, Guid DeviceId, Guid? RoomId, string Name, string Kind, string? ExternalId) : IntegrationEvent;

/// <summary>A device's registry entry changed.</summary>
[EventName("device.updated.v1")]
public sealed record DeviceUpdated(Guid HomeId, Guid DeviceId, Guid? RoomId, string Name, string Kind, string? ExternalId) : IntegrationEvent;

/// <summary>A device was removed from a home.</summary>
[EventName("device.removed.v1")]
public sealed record DeviceRemoved(Guid HomeId, Guid DeviceId) : IntegrationEvent;

/// <summary>A device reported a new state (on/off, level, mode).</summary>
[EventName("device.state-changed.v1")]
public sealed record DeviceStateChanged(Guid HomeId, Guid DeviceId, string State, IReadOnlyDictionary<string, string>? Attributes = null) : IntegrationEvent;
