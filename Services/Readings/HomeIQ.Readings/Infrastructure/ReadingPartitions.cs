using System.Collections.Concurrent;
using System.Globalization;
using HomeIQ.Postgres;
using Npgsql;

namespace HomeIQ.Readings.Infrastructure;

/// <summary>
/// Creates the day partitions <c>readings_YYYYMMDD</c> ([day 00:00 UTC, next day 00:00 UTC)) on demand and remembers which exist.
/// Creation runs under an advisory lock with <c>IF NOT EXISTS</c>, so replicas creating the same day do not collide.
/// </summary>
internal sealed class ReadingPartitions(NpgsqlDataSource db, ILogger<ReadingPartitions> logger)
{
    private const string LockName = "readings-partitions";
    private readonly ConcurrentDictionary<DateOnly, byte> _known = new();

    public static string NameOf(DateOnly day) => "readings_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static bool TryParseName(string name, out DateOnly day) =>
        DateOnly.TryParseExact(name.StartsWith("readings_", StringComparison.Ordinal) ? name["readings_".Length..] : "", "yyyyMMdd",
            CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    /// <summary>Makes sure a partition exists for each day.</summary>
    public async Task EnsureAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        var missing = days.Where(d => !_known.ContainsKey(d)).Distinct().Order().ToList();
        if (missing.Count == 0)
        {
            return;
        }
        var ddl = string.Join('\n', missing.Select(d => string.Create(CultureInfo.InvariantCulture,
            $"CREATE TABLE IF NOT EXISTS {NameOf(d)} PARTITION OF readings FOR VALUES FROM ('{d:yyyy-MM-dd} 00:00:00+00') TO ('{d.AddDays(1):yyyy-MM-dd} 00:00:00+00');")));
        await PostgresSchema.EnsureAsync(db, LockName, ddl, cancellationToken);
        foreach (var day in missing)
        {
            _known[day] = 0;
        }
        logger.LogDebug("Partitions ensured for {Days}", string.Join(", ", missing));
    }

    /// <summary>Forgets what it knew, after a row found no partition (another replica's retention dropped one).</summary>
    public void Forget() => _known.Clear();

    /// <summary>Drops the partitions whose whole day ends at or before <paramref name="cutoff"/>; returns their names.</summary>
    public async Task<IReadOnlyList<string>> DropEndingBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction)
                     { Parameters = { new() { Value = PostgresSchema.LockKey(LockName) } } })
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        var expired = new List<(string Name, DateOnly Day)>();
        await using (var list = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'readings' AND p.relnamespace = 'public'::regnamespace
            """, connection, transaction))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var name = reader.GetString(0);
                if (TryParseName(name, out var day) && new DateTimeOffset(day.AddDays(1), TimeOnly.MinValue, TimeSpan.Zero) <= cutoff)
                {
                    expired.Add((name, day));
                }
            }
        }
        foreach (var (name, _) in expired)
        {
            await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {name}", connection, transaction);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        foreach (var (_, day) in expired)
        {
            _known.TryRemove(day, out _);
        }
        return [.. expired.Select(e => e.Name).Order(StringComparer.Ordinal)];
    }
}
