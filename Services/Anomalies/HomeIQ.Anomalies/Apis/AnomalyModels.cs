using System.Buffers.Text;
using System.Globalization;
using System.Text;
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
    /// <summary>The keyset position after which a page starts: detection time and id of the last anomaly of the previous page.</summary>
    public (DateTime DetectedAt, Guid Id)? Cursor(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(raw)).Split('|');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks && Guid.TryParseExact(parts[1], "N", out var id))
            {
                return (new DateTime(ticks, DateTimeKind.Utc), id);
            }
        }
        catch (FormatException)
        {
        }
        Add("after", "'after' must be the 'next' cursor of a previous page.");
        return null;
    }

    public static string CursorOf(AnomalyDto last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{last.DetectedAt.UtcTicks}|{last.Id:N}")));
}
