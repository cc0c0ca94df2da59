using HomeIQ.ServiceDefaults.Clients;
using HomeIQ.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers a RabbitMQ <see cref="IConnection"/> as Aspire.RabbitMQ.Client does.</summary>
public static class RabbitMQClientExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="IConnection"/> from the AMQP URI in <c>ConnectionStrings:{connectionName}</c>, with automatic
    /// connection and topology recovery, and a readiness check on the connection.
    /// </summary>
    public static void AddRabbitMQClient(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var uri = new Uri(ConnectionStrings.Require(builder.Configuration, connectionName, "RabbitMQ"));
        var serviceName = builder.Environment.ApplicationName;
        builder.Services.AddSingleton(_ => new ConnectionFactory
        {
            Uri = uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
            ClientProvidedName = serviceName,
        });
        builder.Services.AddSingleton(sp => ConnectAsync(sp.GetRequiredService<ConnectionFactory>()).GetAwaiter().GetResult());
        builder.Services.AddReadinessCheck($"rabbitmq-{connectionName}", sp => new RabbitMQHealthCheck(sp));
    }

    /// <summary>The broker may still be booting when a service starts without WaitFor: retry for a while before giving up.</summary>
    private static async Task<IConnection> ConnectAsync(ConnectionFactory factory)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await factory.CreateConnectionAsync().ConfigureAwait(false);
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException) when (attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
            }
        }
    }

    private sealed class RabbitMQHealthCheck(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var connection = services.GetRequiredService<IConnection>();
                return Task.FromResult(connection.IsOpen
                    ? HealthCheckResult.Healthy()
                    : new HealthCheckResult(context.Registration.FailureStatus, $"The RabbitMQ connection is closed: {connection.CloseReason?.ReplyText}"));
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException ex)
            {
                return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"RabbitMQ is unreachable: {ex.Message}", ex));
            }
        }
    }
}
