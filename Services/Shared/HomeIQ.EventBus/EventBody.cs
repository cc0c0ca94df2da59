using System.Text.Json;
using HomeIQ.Contracts;

namespace HomeIQ.EventBus;

/// <summary>
/// The body of an event on the broker: <see cref="SensorReadingsReceived"/>, by far the most frequent, in its compact binary form
/// (<see cref="SensorReadingsBinary"/>, alone or several to a message), every other event as JSON. A consumer reads a body by its
/// content type, so every form of an event is understood.
/// </summary>
internal static class EventBody
{
    public const string Json = "application/json";

    public static (byte[] Body, string ContentType) Write(IntegrationEvent @event)
    {
        if (@event is SensorReadingsReceived readings)
        {
            return (SensorReadingsBinary.Write(readings), SensorReadingsBinary.ContentType);
        }
        // The high-volume contracts have generated serializers (same JSON); anything else goes through reflection.
        var type = @event.GetType();
        var json = ContractsJsonContext.Default.GetTypeInfo(type) is { } generated
            ? JsonSerializer.SerializeToUtf8Bytes(@event, generated)
            : JsonSerializer.SerializeToUtf8Bytes(@event, type, EventJson.Options);
        return (json, Json);
    }

    /// <summary>
    /// Several events in one body, when their kind allows it (reading batches, as a <see cref="SensorReadingsBinary.SetContentType"/>
    /// set); a single event is written as <see cref="Write"/> writes it. Throws <see cref="NotSupportedException"/> for other events.
    /// </summary>
    public static (byte[] Body, string ContentType) WriteMany<TEvent>(IReadOnlyList<TEvent> events) where TEvent : IntegrationEvent
    {
        if (events.Count == 1)
        {
            return Write(events[0]);
        }
        return events is IReadOnlyList<SensorReadingsReceived> readings
            ? (SensorReadingsBinary.WriteSet(readings), SensorReadingsBinary.SetContentType)
            : throw new NotSupportedException($"Only reading batches travel several to a message, not {typeof(TEvent).Name}.");
    }

    /// <summary>
    /// Reads a body as one or more events of <paramref name="eventType"/> (more only for a set). Throws <see cref="JsonException"/> or
    /// <see cref="InvalidDataException"/> for a malformed body, and <see cref="InvalidDataException"/> for a content type this service does not read.
    /// </summary>
    public static IReadOnlyList<IntegrationEvent> Read(ReadOnlySpan<byte> body, string? contentType, Type eventType)
    {
        var binary = string.Equals(contentType, SensorReadingsBinary.ContentType, StringComparison.OrdinalIgnoreCase);
        if (binary || string.Equals(contentType, SensorReadingsBinary.SetContentType, StringComparison.OrdinalIgnoreCase))
        {
            if (eventType != typeof(SensorReadingsReceived))
            {
                throw new InvalidDataException($"A {contentType} body cannot be a {eventType.Name}.");
            }
            return binary ? [SensorReadingsBinary.Read(body)] : SensorReadingsBinary.ReadSet(body);
        }
        if (!string.IsNullOrEmpty(contentType) && !contentType.StartsWith(Json, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"The content type '{contentType}' is not one this service reads ({Json}, {SensorReadingsBinary.ContentType} or {SensorReadingsBinary.SetContentType}).");
        }
        var @event = ContractsJsonContext.Default.GetTypeInfo(eventType) is { } generated
            ? JsonSerializer.Deserialize(body, generated)
            : JsonSerializer.Deserialize(body, eventType, EventJson.Options);
        return [(IntegrationEvent?)@event ?? throw new JsonException("the body is JSON null")];
    }
}
