using System.Text.Json;
using HomeIQ.Contracts;

namespace HomeIQ.EventBus;

/// <summary>
/// The body of an event on the broker: <see cref="SensorReadingsReceived"/>, by far the most frequent, in its compact binary form
/// (<see cref="SensorReadingsBinary"/>), every other event as JSON. A consumer reads a body by its content type, so both forms of
/// an event are understood.
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
    /// Reads a body as <paramref name="eventType"/>. Throws <see cref="JsonException"/> or <see cref="InvalidDataException"/> for a
    /// malformed body, and <see cref="InvalidDataException"/> for a content type this service does not read.
    /// </summary>
    public static IntegrationEvent Read(ReadOnlySpan<byte> body, string? contentType, Type eventType)
    {
        if (string.Equals(contentType, SensorReadingsBinary.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return eventType == typeof(SensorReadingsReceived)
                ? SensorReadingsBinary.Read(body)
                : throw new InvalidDataException($"A {SensorReadingsBinary.ContentType} body cannot be a {eventType.Name}.");
        }
        if (!string.IsNullOrEmpty(contentType) && !contentType.StartsWith(Json, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The content type '{contentType}' is not one this service reads ({Json} or {SensorReadingsBinary.ContentType}).");
        }
        var @event = ContractsJsonContext.Default.GetTypeInfo(eventType) is { } generated
            ? JsonSerializer.Deserialize(body, generated)
            : JsonSerializer.Deserialize(body, eventType, EventJson.Options);
        return (IntegrationEvent?)@event ?? throw new JsonException("the body is JSON null");
    }
}
