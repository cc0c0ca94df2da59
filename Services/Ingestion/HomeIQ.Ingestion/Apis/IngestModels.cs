using HomeIQ.Contracts;
using HomeIQ.Ingestion.Pipeline;

namespace HomeIQ.Ingestion.Apis;

/// <summary>
/// A batch of readings: <c>{"readings":[{"deviceId","metric","value","unit","timestamp","sequence"?}]}</c>.
/// Every field but <c>sequence</c> is required (on the stream, <c>sequence</c> is required too and increases).
/// </summary>
public sealed record IngestBatch(List<SensorReading> Readings);

/// <summary>The answer to an accepted batch: how many readings the broker confirmed, and each rejected one by its index.</summary>
public sealed record IngestAccepted(int Accepted, IReadOnlyList<RejectedReading> Rejected);
