using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;

namespace HomeIQ.EventBus;

/// <summary>
/// The bus's ActivitySource and Meter (both <c>HomeIQ.EventBus</c>, collected by the service defaults), and W3C trace
/// context carried in message headers so a trace continues from the publisher through the broker into the consumer.
/// </summary>
internal static class EventBusTelemetry
{
    public const string Name = "HomeIQ.EventBus";
    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);
    public static readonly Counter<long> Published = Meter.CreateCounter<long>("homeiq.eventbus.published", description: "Events confirmed by the broker");
    public static readonly Counter<long> Consumed = Meter.CreateCounter<long>("homeiq.eventbus.consumed", description: "Events handled and acknowledged");
    public static readonly Counter<long> Retried = Meter.CreateCounter<long>("homeiq.eventbus.retried", description: "Failed deliveries scheduled for retry");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("homeiq.eventbus.dead_lettered", description: "Messages moved to a dead-letter queue");
    public static readonly Histogram<double> HandlerDuration = Meter.CreateHistogram<double>("homeiq.eventbus.handler.duration", "s", "Time spent in event handlers");

    public static Activity? StartPublish(string exchange, string routingKey, string messageId, ActivityContext parent = default)
    {
        var activity = Source.StartActivity($"publish {routingKey}", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "rabbitmq")
            .SetTag("messaging.operation.type", "publish")
            .SetTag("messaging.destination.name", exchange)
            .SetTag("messaging.rabbitmq.destination.routing_key", routingKey)
            .SetTag("messaging.message.id", messageId);
        return activity;
    }

    public static Activity? StartProcess(string queue, string eventName, string? messageId, IDictionary<string, object?>? headers)
    {
        var parent = Extract(headers);
        var activity = Source.StartActivity($"process {eventName}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "rabbitmq")
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.destination.name", queue)
            .SetTag("messaging.consumer.group.name", queue)
            .SetTag("messaging.rabbitmq.destination.routing_key", eventName)
            .SetTag("messaging.message.id", messageId);
        return activity;
    }

    /// <summary>Writes <c>traceparent</c> (and <c>tracestate</c>) of <paramref name="activity"/> into the headers.</summary>
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        if (activity is not null)
        {
            DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, key, value) => ((IDictionary<string, object?>)carrier!)[key] = value);
        }
    }

    public static ActivityContext Extract(IDictionary<string, object?>? headers)
    {
        if (headers is null)
        {
            return default;
        }
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = ((IDictionary<string, object?>)carrier!).TryGetValue(name, out var raw) ? HeaderString(raw) : null;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }

    /// <summary>AMQP delivers string headers as byte arrays.</summary>
    public static string? HeaderString(object? raw) => raw switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string s => s,
        null => null,
        _ => Convert.ToString(raw, System.Globalization.CultureInfo.InvariantCulture),
    };
}
