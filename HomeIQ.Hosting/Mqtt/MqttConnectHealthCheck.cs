using Microsoft.Extensions.Diagnostics.HealthChecks;
using MQTTnet;

namespace HomeIQ.Hosting.Mqtt;

/// <summary>Healthy when the broker accepts an MQTT connection with the connection string's credentials.</summary>
internal sealed class MqttConnectHealthCheck(Func<string?> connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (connectionString() is not { Length: > 0 } value)
        {
            return HealthCheckResult.Unhealthy("The broker's connection string is not available yet.");
        }
        var uri = new Uri(value);
        var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(uri.Host, uri.Port)
            .WithCredentials(credentials[0], credentials.Length > 1 ? credentials[1] : "")
            .WithClientId($"homeiq-health-{Guid.NewGuid():N}")
            .WithTimeout(TimeSpan.FromSeconds(3))
            .Build();
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                return HealthCheckResult.Unhealthy($"The broker refused the connection: {result.ResultCode}.");
            }
            await client.DisconnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The broker did not accept an MQTT connection.", ex);
        }
    }
}
