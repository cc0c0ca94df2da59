using System.Globalization;
using RabbitMQ.Client;

namespace HomeIQ.EventBus.RabbitMQ;

/// <summary>
/// The broker objects of one consuming service:
/// <list type="bullet">
/// <item>the shared topic exchange (routing key = event name);</item>
/// <item><c>{queue}</c>: durable, bound to each event name the service handles;</item>
/// <item><c>{queue}.retry.{n}</c>: one durable queue per retry delay, whose TTL dead-letters messages back into <c>{queue}</c>;</item>
/// <item><c>{queue}.dlq</c>: the dead-letter queue, where messages keep their body and headers plus the reason.</item>
/// </list>
/// </summary>
internal static class Topology
{
    public static string RetryQueue(string queue, int level) => $"{queue}.retry.{level}";

    public static string DeadLetterQueue(string queue) => $"{queue}.dlq";

    public static Task DeclareExchangeAsync(IChannel channel, EventBusOptions options, CancellationToken cancellationToken) =>
        channel.ExchangeDeclareAsync(options.ExchangeName, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);

    public static async Task DeclareConsumerAsync(IChannel channel, EventBusOptions options, IEnumerable<string> eventNames, CancellationToken cancellationToken)
    {
        await DeclareExchangeAsync(channel, options, cancellationToken).ConfigureAwait(false);
        var queue = options.QueueName;
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var name in eventNames)
        {
            await channel.QueueBindAsync(queue, options.ExchangeName, name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        for (var level = 0; level < options.RetryDelays.Length; level++)
        {
            var arguments = new Dictionary<string, object?>
            {
                ["x-message-ttl"] = (long)options.RetryDelays[level].TotalMilliseconds,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = queue,
            };
            await channel.QueueDeclareAsync(RetryQueue(queue, level), durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        await channel.QueueDeclareAsync(DeadLetterQueue(queue), durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The retry queue for a delivery that failed on attempt <paramref name="attempt"/> (1-based).</summary>
    public static string RetryQueueFor(EventBusOptions options, int attempt) =>
        RetryQueue(options.QueueName, Math.Min(attempt - 1, options.RetryDelays.Length - 1));

    public static string Describe(TimeSpan delay) => delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
