using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>Where the bridge stands on this replica, for the health check and the tests.</summary>
public sealed class HomeAssistantBridgeStatus
{
    /// <summary>This replica's name.</summary>
    public string Replica { get; internal set; } = "";

    /// <summary>Whether this replica holds the lease (and so runs the bridge).</summary>
    public bool HoldsLease { get; internal set; }

    /// <summary>The replica holding the lease when it was last checked.</summary>
    public string? Holder { get; internal set; }

    /// <summary>Whether this replica has an authenticated connection to Home Assistant.</summary>
    public bool Connected { get; internal set; }

    /// <summary>Whether the state_changed subscription of the current connection succeeded.</summary>
    public bool Subscribed { get; internal set; }

    /// <summary>Why the last connection failed or ended.</summary>
    public string? LastError { get; internal set; }
}

/// <summary>Says which replica holds the bridge and whether it is connected; never fails readiness (Home Assistant being down is not ours).</summary>
internal sealed class HomeAssistantBridgeHealthCheck(HomeAssistantBridgeStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["replica"] = status.Replica, ["holder"] = status.Holder ?? "none", ["connected"] = status.Connected,
        };
        var result = status switch
        {
            { HoldsLease: true, Connected: true } => HealthCheckResult.Healthy($"Replica {status.Replica} runs the Home Assistant bridge and is connected.", data),
            { HoldsLease: true } => HealthCheckResult.Degraded($"Replica {status.Replica} runs the Home Assistant bridge but is not connected: {status.LastError}", data: data),
            _ => HealthCheckResult.Healthy($"Standby: replica {status.Holder ?? "none"} runs the Home Assistant bridge.", data),
        };
        return Task.FromResult(result);
    }
}
