namespace HomeIQ.Gateway;

/// <summary>The gateway's configuration, section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>Routes in order; the first match wins.</summary>
    public List<RouteEntry> Routes { get; set; } = [];

    /// <summary>Token-bucket limits per caller.</summary>
    public RateLimitSettings RateLimits { get; set; } = new();

    /// <summary>Cross-origin settings for browser clients.</summary>
    public CorsSettings Cors { get; set; } = new();

    /// <summary>How long the overview waits for each part.</summary>
    public TimeSpan PartTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest request body forwarded.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>
/// One route: <c>Path</c> is a template where <c>*</c> matches one segment and a trailing <c>**</c> the rest;
/// <c>Service</c> is the discovery name. Anonymous routes skip the edge token check (the service may still check);
/// hub-key routes are rate limited per hub key.
/// </summary>
public sealed record RouteEntry
{
    public string Path { get; init; } = "";
    public string Service { get; init; } = "";
    public bool Anonymous { get; init; }
    public bool HubKeys { get; init; }
}

public sealed class RateLimitSettings
{
    public int PerUserPerSecond { get; set; } = 50;
    public int PerUserBurst { get; set; } = 100;
    public int PerHubPerSecond { get; set; } = 200;
    public int PerHubBurst { get; set; } = 400;
    public int AnonymousPerSecond { get; set; } = 10;
    public int AnonymousBurst { get; set; } = 20;
}

public sealed class CorsSettings
{
    public List<string> Origins { get; set; } = [];
}
