namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>One span as the dashboard keeps it.</summary>
public sealed record SpanEntry
{
    /// <summary>Lowercase hex trace id (32 characters).</summary>
    public required string TraceId { get; init; }

    /// <summary>Lowercase hex span id (16 characters).</summary>
    public required string SpanId { get; init; }

    /// <summary>Lowercase hex parent span id, or empty for a root span.</summary>
    public string ParentSpanId { get; init; } = "";

    /// <summary>Span name.</summary>
    public required string Name { get; init; }

    /// <summary>Span kind.</summary>
    public SpanKind Kind { get; init; }

    /// <summary>The <c>service.name</c> of the sender.</summary>
    public required string Resource { get; init; }

    /// <summary>The <c>service.instance.id</c> of the sender, or empty.</summary>
    public string Instance { get; init; } = "";

    /// <summary>Start in Unix nanoseconds.</summary>
    public required ulong StartUnixNano { get; init; }

    /// <summary>End in Unix nanoseconds.</summary>
    public required ulong EndUnixNano { get; init; }

    /// <summary>Status code.</summary>
    public SpanStatus Status { get; init; }

    /// <summary>Status message, or empty.</summary>
    public string StatusMessage { get; init; } = "";

    /// <summary>Attributes as text; the store bounds their count and length when it takes the span.</summary>
    public KeyValuePair<string, string>[] Attributes { get; init; } = [];

    /// <summary>Events recorded on the span.</summary>
    public SpanEventEntry[] Events { get; init; } = [];
}

/// <summary>An event recorded on a span.</summary>
public sealed record SpanEventEntry(string Name, ulong TimeUnixNano, KeyValuePair<string, string>[] Attributes);

/// <summary>Span kind, as in OTLP.</summary>
public enum SpanKind
{
    /// <summary>Not given.</summary>
    Unspecified,

    /// <summary>Internal operation.</summary>
    Internal,

    /// <summary>Server side of a request.</summary>
    Server,

    /// <summary>Client side of a request.</summary>
    Client,

    /// <summary>Message producer.</summary>
    Producer,

    /// <summary>Message consumer.</summary>
    Consumer,
}

/// <summary>Span status code, as in OTLP.</summary>
public enum SpanStatus
{
    /// <summary>Not set.</summary>
    Unset,

    /// <summary>Explicitly successful.</summary>
    Ok,

    /// <summary>Failed.</summary>
    Error,
}
