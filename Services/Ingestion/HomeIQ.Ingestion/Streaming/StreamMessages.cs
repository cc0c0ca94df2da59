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
