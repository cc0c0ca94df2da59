using HomeIQ.Contracts;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>The names kinds, severities and statuses have in the database and the API (camelCase, as JSON writes names).</summary>
internal static class KindNames
{
    public static string Of(AnomalyKind kind) => kind switch
    {
        AnomalyKind.Outlier => "outlier",
        AnomalyKind.Offline => "offline",
        AnomalyKind.Stuck => "stuck",
        AnomalyKind.LevelShift => "levelShift",
        AnomalyKind.Implausible => "implausible",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static readonly string[] All = [.. Enum.GetValues<AnomalyKind>().Select(Of)];

    public static AnomalyKind Parse(string name) => Enum.GetValues<AnomalyKind>().First(k => Of(k) == name);

    public static string Of(AnomalySeverity severity) => severity switch
    {
        AnomalySeverity.Low => "low",
        AnomalySeverity.Medium => "medium",
        _ => "high",
    };
}
