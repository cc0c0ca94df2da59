using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace HomeIQ.Postgres;

/// <summary>
/// A service's tables, created before it serves. The DDL runs in one transaction under an advisory lock named after the
/// schema, so replicas starting together do not race; write it idempotently (<c>CREATE … IF NOT EXISTS</c>).
/// </summary>
public static class PostgresSchema
{
    /// <summary>Runs <paramref name="ddl"/> on the service's <see cref="NpgsqlDataSource"/> when the host starts.</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">Names the lock; one per schema owner ("identity", "eventbus").</param>
    /// <param name="ddl">Idempotent DDL.</param>
    /// <param name="beforeOtherHostedServices">Run before hosted services registered earlier (background workers that need the tables).</param>
    public static IServiceCollection AddPostgresSchema(this IServiceCollection services, string name, string ddl, bool beforeOtherHostedServices = false)
    {
        var descriptor = ServiceDescriptor.Singleton<IHostedService>(sp => new Initializer(sp.GetRequiredService<NpgsqlDataSource>(), name, ddl));
        if (beforeOtherHostedServices)
        {
            services.Insert(0, descriptor);
        }
        else
        {
            services.Add(descriptor);
        }
        return services;
    }

    /// <summary>Runs idempotent DDL under the advisory lock for <paramref name="name"/>.</summary>
    public static async Task EnsureAsync(NpgsqlDataSource db, string name, string ddl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        await using var connection = await db.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction) { Parameters = { new() { Value = LockKey(name) } } })
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var command = new NpgsqlCommand(ddl, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A stable 64-bit advisory lock key for a name.</summary>
    public static long LockKey(string name) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("homeiq-schema:" + name)), 0);

    private sealed class Initializer(NpgsqlDataSource db, string name, string ddl) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => EnsureAsync(db, name, ddl, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
