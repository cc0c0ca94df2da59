using HomeIQ.ServiceDefaults.Clients;
using HomeIQ.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers an <see cref="IConnectionMultiplexer"/> as Aspire.StackExchange.Redis does.</summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="IConnectionMultiplexer"/> from <c>ConnectionStrings:{connectionName}</c> (connected on first use,
    /// retrying in the background rather than failing start-up) and a readiness check that PINGs the server.
    /// </summary>
    public static void AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ConfigurationOptions.Parse(ConnectionStrings.Require(builder.Configuration, connectionName, "Redis"));
        options.AbortOnConnectFail = false;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddReadinessCheck($"redis-{connectionName}", sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()));
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"Redis is unreachable: {ex.Message}", ex);
            }
        }
    }
}
