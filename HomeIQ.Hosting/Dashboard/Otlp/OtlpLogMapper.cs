using System.Text;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Collector;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.Extensions.Logging;
using SeverityNumber = HomeIQ.Hosting.Dashboard.Otlp.Proto.Logs.SeverityNumber;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>Maps an OTLP log export to the store's log records.</summary>
internal static class OtlpLogMapper
{
    private const int MaxRenderLength = 32_768;
    private const int MaxRenderAttributes = 64;

    public static List<LogEntry> Map(ExportLogsServiceRequest request, StringPool pool)
    {
        var logs = new List<LogEntry>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var (resource, instance) = OtlpValues.Identify(resourceLogs.Resource, pool);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var category = pool.Intern(scopeLogs.Scope?.Name ?? "");
                foreach (var record in scopeLogs.LogRecords)
                {
                    var attributes = OtlpValues.Attributes(record.Attributes, pool);
                    logs.Add(new LogEntry
                    {
                        TimeUnixNano = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano,
                        Resource = resource,
                        Instance = instance,
                        Level = Level(record.SeverityNumber),
                        Category = category,
                        Message = Render(OtlpValues.Text(record.Body), attributes),
                        TraceId = OtlpValues.Hex(record.TraceId),
                        SpanId = OtlpValues.Hex(record.SpanId),
                        Attributes = attributes,
                    });
                }
            }
        }
        return logs;
    }

    /// <summary>OTLP severity ranges (1–4 trace … 21–24 fatal) as .NET levels; unspecified is Information.</summary>
    public static LogLevel Level(SeverityNumber severity) => (int)severity switch
    {
        >= 1 and <= 4 => LogLevel.Trace,
        >= 5 and <= 8 => LogLevel.Debug,
        >= 13 and <= 16 => LogLevel.Warning,
        >= 17 and <= 20 => LogLevel.Error,
        >= 21 => LogLevel.Critical,
        _ => LogLevel.Information,
    };

    /// <summary>
    /// Fills <c>{Name}</c> placeholders from attributes: without IncludeFormattedMessage the .NET exporter sends the
    /// message template as the body and the arguments as attributes. Unknown placeholders stay as they are; long bodies
    /// or many attributes are left alone so that a hostile record cannot make this quadratic.
    /// </summary>
    public static string Render(string body, KeyValuePair<string, string>[] attributes)
    {
        if (attributes.Length is 0 or > MaxRenderAttributes || body.Length > MaxRenderLength || !body.Contains('{', StringComparison.Ordinal))
        {
            return body;
        }
        var text = new StringBuilder(body.Length);
        var position = 0;
        while (position < body.Length)
        {
            var open = body.IndexOf('{', position);
            var close = open < 0 ? -1 : body.IndexOf('}', open + 1);
            if (open < 0 || close < 0)
            {
                break;
            }
            var name = body.AsSpan(open + 1, close - open - 1);
            var end = name.IndexOfAny(',', ':');
            var key = (end < 0 ? name : name[..end]).ToString();
            var found = Array.FindIndex(attributes, a => a.Key == key);
            text.Append(body, position, open - position).Append(found >= 0 ? attributes[found].Value : body.AsSpan(open, close - open + 1));
            position = close + 1;
        }
        return text.Append(body, position, body.Length - position).ToString();
    }
}
