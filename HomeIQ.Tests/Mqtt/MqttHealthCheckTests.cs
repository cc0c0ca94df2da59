using HomeIQ.Ingestion.Mqtt;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomeIQ.Tests.Mqtt;

/// <summary>What ingestion's <c>mqtt-subscriber</c> health entry says: never Unhealthy, since MQTT devices' messages wait in the broker.</summary>
public sealed class MqttHealthCheckTests
{
    private static async Task<HealthCheckResult> CheckAsync(MqttStatus status) =>
        await new MqttHealthCheck(status, new MqttConnection("mqtt://homeiq:secret@127.0.0.1:1883", "ingestion-a"))
            .CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

    [Fact]
    public async Task SubscribedIsHealthyDisconnectedIsDegradedWithTheReasonAndNoHomeIsHealthy()
    {
        var subscribed = await CheckAsync(new MqttStatus { Subscribed = true, Problem = null });
        var lost = await CheckAsync(new MqttStatus { Subscribed = false, Problem = "The connection was lost; reconnecting." });
        var idle = await CheckAsync(new MqttStatus { Configured = false, Subscribed = false });

        Assert.Equal(HealthStatus.Healthy, subscribed.Status);
        Assert.Equal(HealthStatus.Degraded, lost.Status);
        Assert.Contains("connection was lost", lost.Description, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1883", lost.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", lost.Description + string.Join(",", lost.Data.Values), StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.Contains("Mqtt:HomeId", idle.Description, StringComparison.Ordinal);
    }
}
