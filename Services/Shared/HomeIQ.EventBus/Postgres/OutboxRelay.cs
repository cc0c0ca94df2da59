using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HomeIQ.EventBus.Postgres;

/// <summary>
/// Publishes outbox rows with confirms and marks them published. It is woken by the NOTIFY of each committing
/// transaction and also polls, so rows left by a crash between commit and publish go out after the restart.
/// Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>, so replicas share the work without publishing a row twice
/// (a crash after the confirm but before the mark can repeat a row; consumers' inboxes make that harmless).
/// A row the broker refuses is retried with backoff and does not hold up the others.
/// </summary>
public sealed class OutboxRelay(NpgsqlDataSource dataSource, ISerializedEventPublisher bus, IOptions<EventBusOptions> options, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    private const int BatchSize = 200;
    private readonly SemaphoreSlim _wake = new(0);
    private volatile bool _paused;

    /// <summary>Stops publishing until <see cref="Resume"/> (maintenance, tests); rows keep accumulating safely.</summary>
    public void Pause() => _paused = true;

    /// <summary>Resumes publishing.</summary>
    public void Resume()
    {
        _paused = false;
        Wake();
    }

    // Many commits between two batches need one wake-up, not one each.
    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Event names already logged as having no subscriber.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _unsubscribed = new();

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var published = 0;
            try
            {
                published = _paused ? 0 : await PublishPendingAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The relay must outlive database and broker outages: rows wait safely in the table until both are back.
                logger.LogWarning("The outbox relay will retry: {Message}", ex.Message);
            }
            if (published < BatchSize)
            {
                try
                {
                    await _wake.WaitAsync(options.Value.OutboxPollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Publishes one batch; returns how many rows it took.</summary>
    internal async Task<int> PublishPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<(Guid Id, string Name, string Payload, string? TraceParent, string? TraceState, int Attempts)>();
        await using (var select = new NpgsqlCommand(
                         """
                         SELECT id, event_name, payload::text, trace_parent, trace_state, attempts FROM eventbus_outbox
                         WHERE published_at IS NULL AND next_attempt_at <= now()
                         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
                         """, connection, transaction) { Parameters = { new() { Value = BatchSize } } })
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt32(5)));
            }
        }
        if (rows.Count == 0)
        {
            return 0;
        }
        // Publish the whole batch at once: confirms arrive pipelined instead of one round trip per row.
        var results = await Task.WhenAll(rows.Select(async row =>
        {
            ActivityContext.TryParse(row.TraceParent, row.TraceState, isRemote: false, out var parent);
            try
            {
                await bus.PublishAsync(row.Name, row.Id, Encoding.UTF8.GetBytes(row.Payload), parent, cancellationToken).ConfigureAwait(false);
                return (row, error: (string?)null);
            }
            catch (EventBusPublishException ex) when (ex.Unroutable)
            {
                // An integration event nobody subscribes to has been delivered to all of its subscribers: none. Retrying would
                // only pile rows up; a subscriber that comes later receives the events published from then on, as in any pub/sub.
                if (_unsubscribed.TryAdd(row.Name, true))
                {
                    logger.LogInformation("No queue subscribes to {Event}: its outbox events are marked published without a delivery.", row.Name);
                }
                return (row, error: (string?)null);
            }
            catch (EventBusPublishException ex)
            {
                return (row, error: ex.Message);
            }
        })).ConfigureAwait(false);

        await using var batch = new NpgsqlBatch(connection, transaction);
        var published = results.Where(r => r.error is null).Select(r => r.row.Id).ToArray();
        if (published.Length > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE eventbus_outbox SET published_at = now() WHERE id = ANY($1)") { Parameters = { new() { Value = published } } });
        }
        foreach (var (row, error) in results.Where(r => r.error is not null))
        {
            var delay = TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, row.Attempts)));
            logger.LogWarning("Outbox event {Id} ({Event}) was not published (attempt {Attempt}); retrying in {Delay}: {Error}", row.Id, row.Name, row.Attempts + 1, delay, error);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                "UPDATE eventbus_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3 WHERE id = $1")
            {
                Parameters = { new() { Value = row.Id }, new() { Value = error! }, new() { Value = delay } },
            });
        }
        // Published rows are kept for a day for diagnosis, then removed.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM eventbus_outbox WHERE published_at < now() - interval '1 day'"));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows.Count;
    }

    /// <summary>LISTENs for commits that wrote outbox rows; reconnects if the connection drops.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Outbox.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                logger.LogDebug("Outbox LISTEN connection lost ({Message}); polling until it is back", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
