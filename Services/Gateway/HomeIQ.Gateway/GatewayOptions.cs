namespace HomeIQ.Gateway;

/// <summary>The gateway's configuration, section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>Token-bucket limits per caller (see <c>Edge/EdgeRateLimits.cs</c>).</summary>
    public RateLimitSettings RateLimits { get; set; } = new();

    /// <summary>Cross-origin settings for browser clients.</summary>
    public CorsSettings Cors { get; set; } = new();

    /// <summary>How long the overview waits for each part.</summary>
    public TimeSpan PartTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest request body forwarded.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Token-bucket sizes: requests per second and the burst allowed above it.</summary>
public sealed class RateLimitSettings
{
    public int PerUserPerSecond { get; set; } = 50;
    public int PerUserBurst { get; set; } = 100;
    public int PerHubPerSecond { get; set; } = 200;
    public int PerHubBurst { get; set; } = 400;
    public int PerAddressOnHubRoutesPerSecond { get; set; } = 1000;
    public int PerAddressOnHubRoutesBurst { get; set; } = 2000;
    public int AnonymousPerSecond { get; set; } = 10;
    public int AnonymousBurst { get; set; } = 20;
}

public sealed class CorsSettings
{
    public List<string> Origins { get; set; } = [];
}
