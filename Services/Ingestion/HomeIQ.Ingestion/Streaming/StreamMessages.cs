using System.Text.Json;

namespace HomeIQ.Ingestion.Streaming;

/// <summary>
/// <c>{"type":"ack","sequence":S,"accepted":a,"rejected":[…]}</c>: every frame up to and including sequence S is done (published and
/// confirmed by the broker, or rejected). <c>sequence</c> is null while nothing on this connection is done yet.
/// </summary>
public sealed record StreamAck(string Type, long? Sequence, int Accepted, IReadOnlyList<StreamRejection> Rejected);

/// <summary>A rejected reading of a stream frame, by its sequence.</summary>
public sealed record StreamRejection(long Sequence, string Code, string Message);

/// <summary><c>{"type":"error","sequence":S,"message":…}</c>: a frame was malformed and dropped as a whole; the connection stays usable.</summary>
public sealed record StreamError(string Type, long? Sequence, string Message);

/// <summary>
/// <c>{"type":"unavailable","retryAfter":secs,"sequence":S}</c>, followed by close 1013: the broker (or Devices) is unavailable;
/// reconnect after <c>retryAfter</c> seconds and resend from sequence S + 1.
/// </summary>
public sealed record StreamUnavailable(string Type, int RetryAfter, long? Sequence);

/// <summary><c>{"type":"slow-down"}</c>: the connection's queue is full and the server stopped reading until it drains.</summary>
public sealed record StreamNotice(string Type);

/// <summary>
/// <c>{"type":"command","commandId":…,"deviceId":…,"action":…,"parameters":{…},"deadline":…}</c>: carry out <c>action</c>
/// (<c>turn_on</c>, <c>turn_off</c>, <c>toggle</c>, <c>set</c>) on the device and answer with a <see cref="StreamCommandResult"/> before the deadline.
/// </summary>
public sealed record StreamCommand(string Type, Guid CommandId, Guid DeviceId, string Action, IReadOnlyDictionary<string, JsonElement> Parameters, DateTimeOffset Deadline);

/// <summary>
/// The hub's answer to a <see cref="StreamCommand"/>: <c>{"type":"command-result","commandId":…,"success":true|false,"message":…,"state":…,"attributes":{…}}</c>;
/// <c>message</c> (why it failed), <c>state</c> (the device's state after it, e.g. <c>on</c>) and <c>attributes</c> are optional.
/// </summary>
public sealed record StreamCommandResult(string Type, Guid CommandId, bool Success, string? Message = null, string? State = null,
    Dictionary<string, JsonElement>? Attributes = null);
