namespace HomeIQ.Hosting.Dashboard;

/// <summary>Dashboard settings, section <c>Dashboard</c> of the AppHost configuration.</summary>
public sealed class DashboardOptions
{
    /// <summary>Where the pages and the JSON API are served (loopback only).</summary>
    public string Url { get; set; } = "http://localhost:18888";

    /// <summary>Where the OTLP/HTTP receiver listens (loopback only).</summary>
    public string OtlpHttpUrl { get; set; } = "http://localhost:18890";

    /// <summary>The login token; generated at each start when empty.</summary>
    public string? Token { get; set; }

    /// <summary>The key projects send as <c>x-otlp-api-key</c>; generated at each start when empty.</summary>
    public string? OtlpApiKey { get; set; }
}

/// <summary>Where the running dashboard can be reached, once it has started.</summary>
public sealed class DashboardInfo
{
    /// <summary>The base URL of the pages.</summary>
    public Uri? Url { get; internal set; }

    /// <summary>The URL that logs a browser in.</summary>
    public Uri? LoginUrl { get; internal set; }

    /// <summary>The token behind the login URL; scripts may send it as <c>Authorization: Bearer …</c>.</summary>
    public string Token { get; internal set; } = "";

    /// <summary>The OTLP/HTTP endpoint given to projects as OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public Uri? OtlpEndpoint { get; internal set; }

    /// <summary>The key projects send as <c>x-otlp-api-key</c>.</summary>
    public string OtlpApiKey { get; internal set; } = "";
}
