using HomeIQ.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace HomeIQ.EventBus;

/// <summary>Which event names this service handles, and how to call the handler of each.</summary>
public sealed class EventSubscriptions
{
    private readonly Dictionary<string, Subscription> _byName = new(StringComparer.Ordinal);

    internal IReadOnlyCollection<string> EventNames => _byName.Keys;

    internal bool TryGet(string eventName, out Subscription subscription) => _byName.TryGetValue(eventName, out subscription!);

    internal void Add<TEvent, THandler>() where TEvent : IntegrationEvent where THandler : class, IIntegrationEventHandler<TEvent>
    {
        var name = Contracts.EventNames.Of<TEvent>();
        if (!_byName.TryAdd(name, new Subscription(typeof(TEvent), typeof(THandler),
                (services, e, ct) => services.GetRequiredService<THandler>().HandleAsync((TEvent)e, ct))))
        {
            throw new InvalidOperationException($"'{name}' already has a handler ({_byName[name].HandlerType.Name}); a service handles each event with one handler.");
        }
    }

    internal void AddBatch<TEvent, THandler>(int maxBatch, TimeSpan maxWait) where TEvent : IntegrationEvent where THandler : class, IIntegrationEventBatchHandler<TEvent>
    {
        var name = Contracts.EventNames.Of<TEvent>();
        var batch = new BatchSettings(maxBatch, maxWait, (services, events, ct) =>
        {
            var typed = new TEvent[events.Count];
            for (var i = 0; i < typed.Length; i++)
            {
                typed[i] = (TEvent)events[i];
            }
            return services.GetRequiredService<THandler>().HandleAsync(typed, ct);
        });
        if (!_byName.TryAdd(name, new Subscription(typeof(TEvent), typeof(THandler),
                (services, e, ct) => services.GetRequiredService<THandler>().HandleAsync([(TEvent)e], ct), batch)))
        {
            throw new InvalidOperationException($"'{name}' already has a handler ({_byName[name].HandlerType.Name}); a service handles each event with one handler.");
        }
    }

    internal sealed record Subscription(Type EventType, Type HandlerType, Func<IServiceProvider, IntegrationEvent, CancellationToken, Task> Invoke,
        BatchSettings? Batch = null);

    internal sealed record BatchSettings(int MaxBatch, TimeSpan MaxWait, Func<IServiceProvider, IReadOnlyList<IntegrationEvent>, CancellationToken, Task> Invoke);
}
