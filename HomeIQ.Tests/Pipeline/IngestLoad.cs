using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Unicode;

namespace HomeIQ.Tests.Pipeline;

/// <summary>
/// A hub's side of sustained ingest, as a well-behaved client does it: HTTP workers post batches and resend a batch until it is
/// answered 202 (after a 503, a 429, a timeout or a broken connection, waiting Retry-After); stream workers send readings on the
/// WebSocket and, after a disconnect, resend everything above the last sequence the server confirmed. Every reading has its own
/// (device, metric, timestamp), so the store can tell a resend from a new reading. Used by the kill tests and by bench/PipelineBench.
/// </summary>
public sealed class IngestLoad(Uri gateway, string hubKey, IReadOnlyList<Guid> devices, IngestLoadOptions options)
{
    /// <summary>Per device, the first timestamp no load has used yet: a later load on the same device never repeats a reading.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTimeOffset> Clocks = new();
    private long _acknowledged;
    private long _sent;
    private long _unavailable;
    private long _unavailableWithoutRetryAfter;
    private long _throttled;
    private long _failures;
    private long _reconnects;
    private readonly List<string> _unexpected = [];

    /// <summary>Readings answered 202 (HTTP) or confirmed by an ack (stream).</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Requests or frames sent, resends included.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>503 answers (or "unavailable" frames on the stream).</summary>
    public long Unavailable => Interlocked.Read(ref _unavailable);

    /// <summary>503 answers without a Retry-After header.</summary>
    public long UnavailableWithoutRetryAfter => Interlocked.Read(ref _unavailableWithoutRetryAfter);

    /// <summary>429 answers.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    /// <summary>Timeouts and broken connections (the outcome unknown to the client, so it resends).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Stream reconnects.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Answers a correct client should never get (a 4xx for a valid batch, a rejected item, a 5xx other than 503…).</summary>
    public IReadOnlyList<string> Unexpected { get { lock (_unexpected) { return [.. _unexpected]; } } }

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled, then finishes: every reading generated so far is resent until acknowledged,
    /// so when this returns every generated reading was acknowledged exactly once (or <paramref name="giveUp"/> fired first).
    /// </summary>
    public async Task RunAsync(CancellationToken stop, CancellationToken giveUp)
    {
        if (devices.Count < options.HttpWorkers + options.StreamWorkers)
        {
            throw new ArgumentException("Each worker needs a device of its own: a device's readings are keyed by their timestamps.", nameof(devices));
        }
        var workers = new List<Task>();
        var deviceIndex = 0;
        for (var i = 0; i < options.HttpWorkers; i++)
        {
            var device = devices[deviceIndex++ % devices.Count];
            workers.Add(Task.Run(() => HttpWorkerAsync(device, stop, giveUp), CancellationToken.None));
        }
        for (var i = 0; i < options.StreamWorkers; i++)
        {
            var device = devices[deviceIndex++ % devices.Count];
            workers.Add(Task.Run(() => StreamWorkerAsync(device, stop, giveUp), CancellationToken.None));
        }
        await Task.WhenAll(workers);
    }

    /// <summary>
    /// Writes readings <paramref name="from"/> … <paramref name="to"/> of <paramref name="device"/> as one batch's JSON, straight into
    /// <paramref name="body"/> as UTF-8: the load generator shares the machine with the services it measures, so it builds no strings.
    /// Each device has its own clock of microseconds from <paramref name="start"/>, so no two readings share a key.
    /// </summary>
    private void WriteBatch(ArrayBufferWriter<byte> body, Guid device, DateTimeOffset start, long from, long to, bool withSequence)
    {
        body.ResetWrittenCount();
        body.Write("{\"readings\":["u8);
        for (var n = from; n <= to; n++)
        {
            var span = body.GetSpan(512);
            long? sequence = withSequence ? n : null;
            var written = Utf8.TryWrite(span, CultureInfo.InvariantCulture,
                $"{(n == from ? "" : ",")}{{\"deviceId\":\"{device}\",\"metric\":\"{options.Metric}\",\"value\":{20 + n % 100 / 10.0},\"unit\":\"{options.Unit}\",\"timestamp\":\"{start.AddTicks(n * 10):O}\"{(withSequence ? ",\"sequence\":" : "")}{sequence}}}",
                out var length)
                ? length
                : throw new InvalidOperationException("A reading did not fit in 512 bytes.");
            body.Advance(written);
        }
        body.Write("]}"u8);
    }

    /// <summary>Where this load's readings of <paramref name="device"/> start: two minutes ago, or after the last load's.</summary>
    private static DateTimeOffset ClockStart(Guid device)
    {
        var recent = DateTimeOffset.UtcNow.AddMinutes(-2);
        return Clocks.TryGetValue(device, out var next) && next > recent ? next : recent;
    }

    /// <summary>Records that readings 0 … <paramref name="count"/> − 1 from <paramref name="start"/> are used.</summary>
    private static void ClockUsed(Guid device, DateTimeOffset start, long count) => Clocks[device] = start.AddTicks((count + 1) * 10);

    private async Task HttpWorkerAsync(Guid device, CancellationToken stop, CancellationToken giveUp)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Hub-Key", hubKey);
        long next = 0;
        var clock = ClockStart(device);
        var body = new ArrayBufferWriter<byte>(options.BatchSize * 160);
        var paced = Stopwatch.StartNew();
        long batches = 0;
        while (!stop.IsCancellationRequested)
        {
            if (options.TargetRate is { } rate)
            {
                // Each worker sends its share of the target rate, in whole batches, on a fixed schedule.
                var due = TimeSpan.FromSeconds(batches++ * options.BatchSize / (rate / (double)options.HttpWorkers));
                if (due > paced.Elapsed)
                {
                    await Task.Delay(due - paced.Elapsed, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                    if (stop.IsCancellationRequested)
                    {
                        break;
                    }
                }
            }
            WriteBatch(body, device, clock, next, next + options.BatchSize - 1, withSequence: false);
            next += options.BatchSize;
            // The same batch until it is accepted: resending is safe because the store keeps one row per reading.
            while (true)
            {
                giveUp.ThrowIfCancellationRequested();
                Interlocked.Increment(ref _sent);
                try
                {
                    using var content = new ReadOnlyMemoryContent(body.WrittenMemory) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } };
                    using var response = await http.PostAsync("/api/v1/ingest/readings", content, giveUp);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(giveUp));
                        var accepted = answer.RootElement.GetProperty("accepted").GetInt32();
                        if (accepted != options.BatchSize)
                        {
                            Note($"202 accepted {accepted} of {options.BatchSize}: {answer.RootElement}");
                        }
                        Interlocked.Add(ref _acknowledged, accepted);
                        break;
                    }
                    await BackOffAsync(response, giveUp);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !giveUp.IsCancellationRequested))
                {
                    Interlocked.Increment(ref _failures);
                    await Task.Delay(200, giveUp);
                }
            }
        }
        ClockUsed(device, clock, next);
    }

    private async Task BackOffAsync(HttpResponseMessage response, CancellationToken giveUp)
    {
        var wait = response.Headers.RetryAfter?.Delta;
        switch (response.StatusCode)
        {
            case HttpStatusCode.ServiceUnavailable:
                Interlocked.Increment(ref _unavailable);
                if (wait is null)
                {
                    Interlocked.Increment(ref _unavailableWithoutRetryAfter);
                }
                break;
            case HttpStatusCode.TooManyRequests:
                Interlocked.Increment(ref _throttled);
                break;
            case HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout:
                Interlocked.Increment(ref _failures);
                break;
            default:
                Note($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(giveUp)}");
                break;
        }
        // Retry-After in whole seconds is the contract; a test does not need to wait all of it, but never less than a little.
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp((wait ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds, 100, options.MaxBackOff.TotalMilliseconds)), giveUp);
    }

    private async Task StreamWorkerAsync(Guid device, CancellationToken stop, CancellationToken giveUp)
    {
        long generated = 0; // sequences 1..generated exist; all above `confirmed` must be (re)sent
        long confirmed = 0;
        var clock = ClockStart(device);
        var frame = new ArrayBufferWriter<byte>(options.StreamFrameSize * 180);
        var endpoint = new UriBuilder(gateway) { Scheme = gateway.Scheme == "https" ? "wss" : "ws", Path = "/api/v1/ingest/stream" }.Uri;
        while (!(stop.IsCancellationRequested && confirmed == generated))
        {
            giveUp.ThrowIfCancellationRequested();
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("X-Hub-Key", hubKey);
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(endpoint, giveUp);
            }
            catch (WebSocketException)
            {
                if (socket.HttpStatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref _unavailable);
                }
                else
                {
                    Interlocked.Increment(ref _failures);
                }
                await Task.Delay(300, giveUp);
                continue;
            }
            var resendFrom = confirmed + 1;
            try
            {
                var receiver = ReceiveAcksAsync(socket, giveUp, sequence => confirmed = Math.Max(confirmed, sequence));
                // Resend what is unconfirmed, then new readings while running; at most a window of unconfirmed readings in flight.
                var sentUpTo = resendFrom - 1;
                while (!receiver.IsCompleted)
                {
                    if (sentUpTo < generated)
                    {
                        var upTo = Math.Min(generated, sentUpTo + options.StreamFrameSize);
                        await SendFrameAsync(socket, frame, device, clock, sentUpTo + 1, upTo, giveUp);
                        sentUpTo = upTo;
                    }
                    else if (!stop.IsCancellationRequested && generated - Interlocked.Read(ref confirmed) < options.StreamWindow)
                    {
                        generated += options.StreamFrameSize;
                    }
                    else if (stop.IsCancellationRequested && Interlocked.Read(ref confirmed) == generated)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", giveUp);
                        break;
                    }
                    else
                    {
                        await Task.WhenAny(receiver, Task.Delay(5, giveUp));
                    }
                }
                await receiver;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException || (ex is OperationCanceledException && !giveUp.IsCancellationRequested))
            {
                Interlocked.Increment(ref _failures);
            }
            if (!(stop.IsCancellationRequested && confirmed == generated))
            {
                Interlocked.Increment(ref _reconnects);
                await Task.Delay(200, giveUp);
            }
        }
        Interlocked.Add(ref _acknowledged, confirmed);
        ClockUsed(device, clock, generated);
    }

    private async Task SendFrameAsync(ClientWebSocket socket, ArrayBufferWriter<byte> frame, Guid device, DateTimeOffset clock, long from, long to, CancellationToken ct)
    {
        WriteBatch(frame, device, clock, from, to, withSequence: true);
        Interlocked.Increment(ref _sent);
        await socket.SendAsync(frame.WrittenMemory, WebSocketMessageType.Text, true, ct);
    }

    private async Task ReceiveAcksAsync(ClientWebSocket socket, CancellationToken ct, Action<long> onConfirmed)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(buffer, ct);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
            {
                continue;
            }
            using var frame = JsonDocument.Parse(message.ToArray());
            message.SetLength(0);
            var type = frame.RootElement.GetProperty("type").GetString();
            if (frame.RootElement.TryGetProperty("sequence", out var sequence) && sequence.ValueKind == JsonValueKind.Number)
            {
                onConfirmed(sequence.GetInt64());
            }
            switch (type)
            {
                case "ack" when frame.RootElement.TryGetProperty("rejected", out var rejected) && rejected.GetArrayLength() > 0:
                    Note($"stream rejected readings: {rejected}");
                    break;
                case "unavailable":
                    Interlocked.Increment(ref _unavailable);
                    break;
                case "ack" or "slow-down" or "unavailable":
                    break;
                default:
                    Note($"stream frame: {frame.RootElement}");
                    break;
            }
        }
    }

    private void Note(string what)
    {
        lock (_unexpected)
        {
            if (_unexpected.Count < 20)
            {
                _unexpected.Add(what);
            }
        }
    }

    /// <summary>A one-line summary for logs.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"acknowledged {Acknowledged}, sent {Sent}, 503 {Unavailable} ({UnavailableWithoutRetryAfter} without Retry-After), 429 {Throttled}, failures {Failures}, reconnects {Reconnects}, unexpected {Unexpected.Count}");
}

/// <summary>How hard <see cref="IngestLoad"/> pushes.</summary>
public sealed record IngestLoadOptions
{
    public int HttpWorkers { get; init; } = 2;
    public int StreamWorkers { get; init; } = 1;
    public int BatchSize { get; init; } = 500;
    public int StreamFrameSize { get; init; } = 100;
    /// <summary>Readings a stream worker lets be unconfirmed at once.</summary>
    public int StreamWindow { get; init; } = 2_000;
    public TimeSpan MaxBackOff { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Readings per second over all HTTP workers; unset means as fast as they are answered.</summary>
    public double? TargetRate { get; init; }
    public string Metric { get; init; } = "temperature";
    public string Unit { get; init; } = "°C";
}
