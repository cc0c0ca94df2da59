using System.Collections.Concurrent;

namespace HomeIQ.Contracts;

/// <summary>
/// A fact one service publishes for others. <see cref="Id"/> makes redelivery detectable (inbox);
/// the versioned name in <see cref="EventNameAttribute"/> is the routing key.
/// </summary>
public abstract record IntegrationEvent
{
    /// <summary>Unique per event; consumers use it to handle each event once.</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>When the fact happened.</summary>
    public DateTimeOffset OccurredAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>The routing key of an event type, with its version: <c>device.registered.v1</c>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventNameAttribute(string name) : Attribute
{
    /// <summary>The name.</summary>
    public string Name { get; } = name;
}

/// <summary>Looks up event names (read from the attribute once per type: a publish on the hot path must not reflect).</summary>
public static class EventNames
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    /// <summary>The name of <typeparamref name="T"/>.</summary>
    public static string Of<T>() where T : IntegrationEvent => Of(typeof(T));

    /// <summary>The name of an event type; throws when the type has no <see cref="EventNameAttribute"/>.</summary>
    public static string Of(Type eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        return Names.GetOrAdd(eventType, Read);
    }

    private static string Read(Type eventType) =>
        eventType.GetCustomAttributes(typeof(EventNameAttribute), inherit: false) is [EventNameAttribute attribute, ..]
            ? attribute.Name
            : throw new InvalidOperationException($"{eventType.Name} has no [EventName(\"…\")]; every integration event needs a versioned name.");
}
