using HomeIQ.ServiceDefaults.Errors;

namespace HomeIQ.Anomalies.Apis;

/// <summary>One anomaly. Kind: outlier, offline, stuck, levelShift, implausible; status: open, acknowledged, resolved; severity: low, medium, high.</summary>
/// <param name="ExpectedLow">The low end of what the detector expected (for offline and stuck: 0 seconds).</param>
/// <param name="ExpectedHigh">The high end of what it expected (for offline and stuck: the silence or stillness it expected at most, in seconds).</param>
/// <param name="DetectedAt">When the reading that showed it was measured (offline: when the sweep noticed the silence).</param>
public sealed record AnomalyDto(Guid Id, Guid HomeId, Guid DeviceId, string Metric, string Kind, string Status, string Severity, string Description,
    double? Value, double? ExpectedLow, double? ExpectedHigh, DateTimeOffset DetectedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt);

/// <summary>A page of anomalies, newest first; <paramref name="Next"/> is the <c>after</c> cursor of the next page, null on the last.</summary>
public sealed record AnomalyPage(IReadOnlyList<AnomalyDto> Anomalies, string? Next);

/// <summary>Parses and checks query parameters, collecting errors by parameter name.</summary>
internal sealed class AnomaliesQuery : QueryErrors
{
    public static string CursorOf(AnomalyDto last) => TimeIdCursorOf(last.DetectedAt, last.Id);
}
