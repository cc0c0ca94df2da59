using System.Diagnostics;
using System.Text.Json;
using HomeIQ.Contracts;
using Npgsql;

namespace HomeIQ.EventBus.Postgres;

/// <summary>
/// Writes events into the outbox table inside the caller's transaction, together with the business change.
/// The row carries the current trace context; a NOTIFY in the same transaction wakes the relay when (and only when) it commits.
/// </summary>
public sealed class Outbox
{
    internal const string Channel = "eventbus_outbox";

    /// <summary>Adds <paramref name="event"/> to the outbox as part of <paramref name="transaction"/>.</summary>
    public async Task AddAsync<TEvent>(NpgsqlConnection connection, NpgsqlTransaction transaction, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(@event);
        var activity = Activity.Current;
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "INSERT INTO eventbus_outbox (id, event_name, payload, trace_parent, trace_state) VALUES ($1, $2, $3::json, $4, $5)")
        {
            Parameters =
            {
                new() { Value = @event.Id },
                new() { Value = EventNames.Of(@event.GetType()) },
                new() { Value = JsonSerializer.Serialize(@event, @event.GetType(), EventJson.Options) },
                new() { Value = (object?)activity?.Id ?? DBNull.Value },
                new() { Value = (object?)activity?.TraceStateString ?? DBNull.Value },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"NOTIFY {Channel}"));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
