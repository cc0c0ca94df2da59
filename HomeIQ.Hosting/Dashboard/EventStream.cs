using System.Text.Json;
using System.Threading.Channels;
using HomeIQ.Hosting.Dashboard.Telemetry;
using Microsoft.AspNetCore.Http;

namespace HomeIQ.Hosting.Dashboard;

/// <summary>
/// Server-Sent Events for live pages: <c>resource</c> (every snapshot change), <c>console</c> (lines of the resource named
/// in <c>?console=</c>, backlog first) and <c>telemetry</c> (new logs, traces or metrics, at most every half second per kind).
/// </summary>
internal static class EventStream
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task StreamAsync(HttpContext context, ResourceNotificationService notifications, ResourceLoggerService logs, TelemetryStore telemetry)
    {
        var ct = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var outbox = Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

        var pending = new HashSet<TelemetryKind>();
        void OnTelemetry(TelemetryKind kind)
        {
            lock (pending)
            {
                if (!pending.Add(kind))
                {
                    return;
                }
            }
            _ = Task.Delay(500, CancellationToken.None).ContinueWith(_ =>
            {
                lock (pending)
                {
                    pending.Remove(kind);
                }
                outbox.Writer.TryWrite(Event("telemetry", new { kind = kind.ToString() }));
            }, TaskScheduler.Default);
        }

        telemetry.Changed += OnTelemetry;
        try
        {
            var producers = new List<Task>
            {
                Task.Run(async () =>
                {
                    await foreach (var e in notifications.WatchAsync(ct).ConfigureAwait(false))
                    {
                        outbox.Writer.TryWrite(Event("resource", ResourceApi.ToDto(e)));
                    }
                }, ct),
            };
            if (context.Request.Query["console"].ToString() is { Length: > 0 } resource)
            {
                producers.Add(Task.Run(async () =>
                {
                    await foreach (var line in logs.WatchAsync(resource, ct).ConfigureAwait(false))
                    {
                        outbox.Writer.TryWrite(Event("console", new ResourceApi.ConsoleLineDto(line.Resource, line.Timestamp, line.Text, line.IsError)));
                    }
                }, ct));
            }
            await context.Response.WriteAsync("retry: 2000\n\n", ct).ConfigureAwait(false);
            await foreach (var message in outbox.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await context.Response.WriteAsync(message, ct).ConfigureAwait(false);
                if (outbox.Reader.Count == 0)
                {
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            telemetry.Changed -= OnTelemetry;
        }
    }

    private static string Event(string name, object data) => $"event: {name}\ndata: {JsonSerializer.Serialize(data, Json)}\n\n";
}
