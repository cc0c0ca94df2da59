using Npgsql;

namespace HomeIQ.ServiceDefaults.Errors;

/// <summary>
/// Failures of a backing server that pass (a restart, a dropped connection): callers get 503 with Retry-After instead of a 500.
/// After a Postgres restart every idle pooled connection is dead, and Npgsql hands each out once more before it notices;
/// the first such failure clears the pools, so one request fails instead of one per pooled connection.
/// </summary>
public static class DependencyFailures
{
    /// <summary>Seconds a caller should wait before retrying.</summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>True for a transient database failure (also when wrapped); clears Npgsql's pools when the server went away.</summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    // 57P01–57P03: the server shut down or is starting; 08xxx: the connection failed.
                    var connectionLost = postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) || postgres.SqlState.StartsWith("08", StringComparison.Ordinal);
                    if (connectionLost)
                    {
                        NpgsqlConnection.ClearAllPools();
                    }
                    return connectionLost || postgres.IsTransient;
                case NpgsqlException { IsTransient: true } npgsql:
                    if (npgsql.InnerException is IOException or System.Net.Sockets.SocketException)
                    {
                        NpgsqlConnection.ClearAllPools();
                    }
                    return true;
                case TimeoutException or StackExchange.Redis.RedisConnectionException:
                    return true;
            }
        }
        return false;
    }
}
