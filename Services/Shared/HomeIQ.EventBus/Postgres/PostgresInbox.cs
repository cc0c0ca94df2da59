using Npgsql;

namespace HomeIQ.EventBus.Postgres;

/// <summary>The inbox for handlers that take a batch of events in one transaction (<see cref="IIntegrationEventBatchHandler{TEvent}"/>).</summary>
public static class PostgresInbox
{
    /// <summary>
    /// Records <paramref name="eventIds"/> as handled by <paramref name="handler"/> inside <paramref name="transaction"/>; returns the ids
    /// that were not recorded before (the others are redeliveries or repeated publishes, to be skipped).
    /// </summary>
    public static async Task<HashSet<Guid>> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<Guid> eventIds, string handler,
        CancellationToken cancellationToken)
    {
        var fresh = new HashSet<Guid>();
        await using var inbox = new NpgsqlCommand(
            "INSERT INTO eventbus_inbox (event_id, handler) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING RETURNING event_id", connection, transaction)
        {
            Parameters = { new() { Value = eventIds.Distinct().ToArray() }, new() { Value = handler } },
        };
        await using var reader = await inbox.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            fresh.Add(reader.GetGuid(0));
        }
        return fresh;
    }
}
