using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Log records: a ring buffer of <see cref="TelemetryLimits.MaxLogs"/>.</summary>
public sealed partial class TelemetryStore
{
    private readonly Lock _logLock = new();
    private readonly RingBuffer<LogEntry> _logs;
    private long _logsEvicted;

    /// <summary>Stores log records, evicting the oldest when full.</summary>
    public void AddLogs(IReadOnlyList<LogEntry> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        if (logs.Count == 0)
        {
            return;
        }
        var bounded = new LogEntry[logs.Count];
        for (var i = 0; i < bounded.Length; i++)
        {
            var log = logs[i];
            var attributes = Bound(log.Attributes);
            var message = Cut(log.Message, Limits.MaxMessageLength);
            bounded[i] = ReferenceEquals(attributes, log.Attributes) && ReferenceEquals(message, log.Message)
                ? log
                : log with { Attributes = attributes, Message = message };
        }
        lock (_logLock)
        {
            foreach (var log in bounded)
            {
                if (_logs.Add(log, out _))
                {
                    _logsEvicted++;
                }
            }
        }
        OnChanged(TelemetryKind.Logs);
    }

    /// <summary>Log records matching the query, newest (last received) first.</summary>
    public IReadOnlyList<LogEntry> QueryLogs(LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var result = new List<LogEntry>(Math.Min(query.Limit, 256));
        lock (_logLock)
        {
            for (var i = _logs.Count - 1; i >= 0 && result.Count < query.Limit; i--)
            {
                var log = _logs[i];
                if (query.Matches(log))
                {
                    result.Add(log);
                }
            }
        }
        return result;
    }
}

/// <summary>Filters for <see cref="TelemetryStore.QueryLogs"/>; null or empty means no filter.</summary>
public sealed record LogQuery(string? Resource = null, LogLevel? MinLevel = null, string? Text = null, string? TraceId = null, int Limit = 200)
{
    internal bool Matches(LogEntry log) =>
        (string.IsNullOrEmpty(Resource) || string.Equals(log.Resource, Resource, StringComparison.OrdinalIgnoreCase))
        && (MinLevel is null || log.Level >= MinLevel)
        && (string.IsNullOrEmpty(TraceId) || string.Equals(log.TraceId, TraceId, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(Text) || ContainsText(log, Text));

    private static bool ContainsText(LogEntry log, string text)
    {
        if (log.Message.Contains(text, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        foreach (var (_, value) in log.Attributes)
        {
            if (value.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
