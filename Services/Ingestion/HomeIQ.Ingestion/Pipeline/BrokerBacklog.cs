using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// Keeps accepting from outrunning storing: every <see cref="IngestionOptions.BacklogPollInterval"/> it asks the broker how many
/// messages wait in each queue of <see cref="IngestionOptions.BacklogQueues"/> (a passive declare, which only reads the count), and
/// while one holds more than <see cref="IngestionOptions.MaxQueuedMessages"/> the pipeline refuses new readings with 503 and
/// Retry-After instead of piling them into the broker (a stream is told <c>unavailable</c> and reconnects later). A queue that does not exist yet counts as empty.
/// </summary>
internal sealed class BrokerBacklog(IConnection connection, IOptions<IngestionOptions> options, ILogger<BrokerBacklog> logger) : BackgroundService
{
    private readonly IngestionOptions _options = options.Value;
    private volatile string? _overLimit;

    /// <summary>Why the pipeline should refuse readings now (the queue and its length), or null while every queue is within its limit.</summary>
    public string? OverLimit => _overLimit;

    /// <summary>Records the latest reading of the queues: why readings are refused, or null.</summary>
    internal void Report(string? overLimit)
    {
        if (overLimit is not null && _overLimit is null)
        {
            logger.LogWarning("Refusing new readings (503) until the store catches up: {Backlog}", overLimit);
        }
        else if (overLimit is null && _overLimit is not null)
        {
            logger.LogInformation("The store caught up; taking readings again");
        }
        _overLimit = overLimit;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.BacklogQueues.Length == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(_options.BacklogPollInterval);
        IChannel? channel = null;
        try
        {
            do
            {
                try
                {
                    channel = channel is { IsOpen: true } ? channel : await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                    Report(await FirstOverLimitAsync(channel, stoppingToken));
                }
                catch (Exception ex) when (ex is OperationInterruptedException or AlreadyClosedException or BrokerUnreachableException or IOException or TimeoutException)
                {
                    // The broker is away: publishing fails on its own (503), and the count is read again once it is back.
                    Report(null);
                    logger.LogDebug(ex, "Could not read the broker's queue lengths");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }
    }

    private async Task<string?> FirstOverLimitAsync(IChannel channel, CancellationToken cancellationToken)
    {
        foreach (var queue in _options.BacklogQueues)
        {
            uint waiting;
            try
            {
                waiting = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
            {
                // No such queue (its consumer has not started yet); the broker closed the channel, the next poll opens another.
                continue;
            }
            // Once over the limit, readings are taken again only when the queue has drained to three quarters of it, so the answer
            // does not flip between 202 and 503 on every poll while the consumer hovers at the limit.
            var limit = _overLimit is null ? _options.MaxQueuedMessages : _options.MaxQueuedMessages / 4 * 3;
            if (waiting > limit)
            {
                return $"{waiting} messages of readings wait in the broker's '{queue}' queue (the limit is {_options.MaxQueuedMessages})";
            }
        }
        return null;
    }
}
