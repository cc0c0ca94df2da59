using HomeIQ.ServiceDefaults.Clients;
using HomeIQ.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers an <see cref="NpgsqlDataSource"/> as Aspire.Npgsql does.</summary>
public static class NpgsqlClientExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:{connectionName}</c> and a readiness check
    /// that runs <c>SELECT 1</c>. Npgsql's own traces and metrics are collected by the service defaults.
    /// </summary>
    public static void AddNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName, Action<NpgsqlDataSourceBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = ConnectionStrings.Require(builder.Configuration, connectionName, "PostgreSQL");
        builder.Services.AddSingleton(_ =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            configure?.Invoke(dataSource);
            return dataSource.Build();
        });
        builder.Services.AddReadinessCheck($"postgres-{connectionName}", sp => new NpgsqlHealthCheck(sp.GetRequiredService<NpgsqlDataSource>()));
    }

    private sealed class NpgsqlHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL is unreachable: {ex.Message}", ex);
            }
        }
    }
}
