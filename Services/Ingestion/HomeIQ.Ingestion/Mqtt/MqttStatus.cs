using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>Where this replica's MQTT subscription stands, for the health check and the tests.</summary>
internal sealed class MqttStatus
{
    /// <summary>Whether any home is configured (without one nothing is subscribed, and that is not a fault).</summary>
    public bool Configured { get; set; } = true;

    /// <summary>Whether the subscriber is connected and its subscriptions granted.</summary>
    public bool Subscribed { get; set; }

    /// <summary>Why it is not, when it is not.</summary>
    public string? Problem { get; set; } = "Not connected yet.";
}

/// <summary>
/// Says whether this replica follows the MQTT broker; never fails readiness (the broker being down stops MQTT devices only, and their
/// messages wait in the broker), so it is Degraded at worst.
/// </summary>
internal sealed class MqttHealthCheck(MqttStatus status, MqttConnection connection) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["broker"] = connection.Endpoint, ["clientId"] = connection.ClientId, ["subscribed"] = status.Subscribed };
        return Task.FromResult(status switch
        {
            { Configured: false } => HealthCheckResult.Healthy("No home is configured for MQTT (Mqtt:HomeId or Mqtt:Homes): nothing is subscribed.", data),
            { Subscribed: true } => HealthCheckResult.Healthy($"Subscribed at the MQTT broker {connection.Endpoint}.", data),
            _ => HealthCheckResult.Degraded($"Not following the MQTT broker {connection.Endpoint}: {status.Problem}", data: data),
        });
    }
}
