using HomeIQ.Contracts;

namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// The one way readings enter HomeIQ, shared by the HTTP batch, the WebSocket stream and the Home Assistant bridge:
/// each reading is validated, the valid ones of a home are published as one <see cref="SensorReadingsReceived"/>,
/// and the call returns only after the broker confirmed them.
/// </summary>
public interface IReadingPipeline
{
    /// <summary>
    /// Validates <paramref name="readings"/> of <paramref name="homeId"/> and publishes the valid ones.
    /// Returns what was accepted and, per item, what was rejected and why.
    /// Throws <see cref="IngestUnavailableException"/> when the broker did not confirm: then nothing of the call counts as accepted.
    /// </summary>
    Task<IngestOutcome> AcceptAsync(Guid homeId, string source, IReadOnlyList<SensorReading> readings, CancellationToken cancellationToken);

    /// <summary>Publishes a device's new on/off (or mode) state; throws <see cref="IngestUnavailableException"/> when the broker did not confirm.</summary>
    Task PublishStateAsync(DeviceStateChanged change, CancellationToken cancellationToken);
}

/// <summary>What became of a batch: how many readings were published, and each rejected one by its index in the batch.</summary>
public sealed record IngestOutcome(int Accepted, IReadOnlyList<RejectedReading> Rejected);

/// <summary>A reading that was not accepted: its index in the batch, a stable code (<c>unknown-device</c>, <c>out-of-range</c>…) and a message.</summary>
public sealed record RejectedReading(int Index, string Code, string Message);

/// <summary>Readings could not be handed to the broker (it is down or refused them); the caller should retry after <see cref="RetryAfter"/>.</summary>
public sealed class IngestUnavailableException(string message, TimeSpan retryAfter, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>When to try again.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
