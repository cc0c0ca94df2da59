using System.Text.Json;

namespace HomeIQ.EventBus;

/// <summary>How events are written as JSON, on the broker and in the outbox alike.</summary>
internal static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
