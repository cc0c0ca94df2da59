using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>One log record as the dashboard keeps it.</summary>
public sealed record LogEntry
{
    /// <summary>Time of the event in Unix nanoseconds (the observed time when the event time is missing).</summary>
    public required ulong TimeUnixNano { get; init; }

    /// <summary>The <c>service.name</c> of the sender.</summary>
    public required string Resource { get; init; }

    /// <summary>The <c>service.instance.id</c> of the sender, or empty.</summary>
    public string Instance { get; init; } = "";

    /// <summary>Level mapped from the OTLP severity number.</summary>
    public required LogLevel Level { get; init; }

    /// <summary>The instrumentation scope name, which the .NET exporter sets to the ILogger category.</summary>
    public string Category { get; init; } = "";

    /// <summary>The body as text.</summary>
    public required string Message { get; init; }

    /// <summary>Lowercase hex trace id, or empty.</summary>
    public string TraceId { get; init; } = "";

    /// <summary>Lowercase hex span id, or empty.</summary>
    public string SpanId { get; init; } = "";

    /// <summary>Attributes as text; the store bounds their count and length when it takes the entry.</summary>
    public KeyValuePair<string, string>[] Attributes { get; init; } = [];
}
