using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Apis;
using HomeIQ.Ingestion.Commands;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.Ingestion.Pipeline;

namespace HomeIQ.Ingestion.Streaming;

/// <summary>
/// One hub's WebSocket stream. Three loops:
/// <list type="bullet">
/// <item>the reader takes a frame only when the connection has a free queue slot (<see cref="IngestionOptions.StreamQueueFrames"/>);
/// when there is none it tells the client to slow down, stops reading, and closes with 1008 if no slot frees up within
/// <see cref="IngestionOptions.SlowClientTimeout"/>;</item>
/// <item>the processor hands frames to the pipeline, up to <see cref="IngestionOptions.StreamPublishesInFlight"/> at once;</item>
/// <item>the writer awaits them in arrival order and acks the highest confirmed sequence; a frame's slot frees only once its ack
/// is written, so a client that does not read its acks fills its queue and is disconnected. Memory per connection is bounded by
/// the slots and <see cref="IngestionOptions.MaxFrameBytes"/>.</item>
/// </list>
/// Malformed frames (bad JSON, a missing or non-increasing sequence…) get an error frame and are dropped whole; a frame larger than
/// the limit closes with 1009; the broker or Devices being unavailable sends <c>unavailable</c> and closes with 1013.
/// The connection also carries device commands to the hub (<see cref="StreamCommands"/>): while it is open it is registered in
/// <see cref="HubConnections"/>, and the hub's <c>command-result</c> frames are taken by the reader without holding a queue slot.
/// </summary>
internal sealed class StreamConnection(WebSocket socket, Guid homeId, IReadingPipeline pipeline, HubConnections hubs, IngestionOptions options, ILogger logger)
{
    public const string Source = "stream";
    private const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;
    private const int InitialBufferBytes = 16 * 1024;

    private readonly SemaphoreSlim _slots = new(options.StreamQueueFrames, options.StreamQueueFrames);
    private readonly SemaphoreSlim _inFlight = new(options.StreamPublishesInFlight, options.StreamPublishesInFlight);
    private readonly Channel<Frame> _received = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<Frame> _ordered = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly StreamSender _sender = new(socket);
    private StreamCommands? _commands;
    private long? _lastRead;
    private long? _confirmed;
    private bool _closedByServer;

    public async Task RunAsync()
    {
        _commands = new StreamCommands(_sender, homeId, logger);
        await hubs.AddAsync(_commands).ConfigureAwait(false);
        try
        {
            await RunStreamAsync().ConfigureAwait(false);
        }
        finally
        {
            hubs.Remove(_commands);
            _commands.Close();
        }
    }

    private async Task RunStreamAsync()
    {
        var processor = ProcessAsync();
        var writer = WriteAsync();
        CloseRequest? close = null;
        try
        {
            close = await ReadAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Stopped by the writer (unavailable, client gone) or the client vanished.
        }
        _received.Writer.TryComplete();
        if (close is { Drain: false })
        {
            logger.LogWarning("Closing a stream of home {HomeId}: {Reason}", homeId, close.Reason);
            await _stop.CancelAsync().ConfigureAwait(false);
            await _sender.CloseAsync(close.Status, close.Reason).ConfigureAwait(false);
        }
        else if (await Task.WhenAny(writer, Task.Delay(options.SlowClientTimeout)).ConfigureAwait(false) != writer)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        else if (!_closedByServer)
        {
            await _sender.CloseAsync(close?.Status ?? WebSocketCloseStatus.NormalClosure, close?.Reason ?? "done").ConfigureAwait(false);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(processor, writer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task<CloseRequest?> ReadAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        try
        {
            while (true)
            {
                if (!_slots.Wait(0))
                {
                    _sender.RequestSlowDown(_stop.Token);
                    if (!await _slots.WaitAsync(options.SlowClientTimeout, _stop.Token).ConfigureAwait(false))
                    {
                        return new CloseRequest(WebSocketCloseStatus.PolicyViolation,
                            $"Too slow: the queue of {options.StreamQueueFrames} frames stayed full for {options.SlowClientTimeout.TotalSeconds:0.#} s.", Drain: false);
                    }
                }
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (length >= options.MaxFrameBytes)
                        {
                            _slots.Release();
                            return new CloseRequest(WebSocketCloseStatus.MessageTooBig, $"A frame is at most {options.MaxFrameBytes} bytes.", Drain: true);
                        }
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, options.MaxFrameBytes));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var room = Math.Min(buffer.Length, options.MaxFrameBytes) - length;
                    result = await socket.ReceiveAsync(buffer.AsMemory(length, room), _stop.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _slots.Release();
                        return null;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                var frame = result.MessageType == WebSocketMessageType.Text
                    ? ParseText(buffer.AsSpan(0, length))
                    : Frame.Malformed("Frames are JSON text; binary frames are not accepted.");
                if (buffer.Length > InitialBufferBytes * 4)
                {
                    // Do not keep a frame-sized buffer for an idle connection.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
                }
                if (frame is null)
                {
                    // A command result: answered already, nothing to ack.
                    _slots.Release();
                    continue;
                }
                await _received.Writer.WriteAsync(frame, _stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A batch; or, for a frame with a <c>type</c> (which no batch has, so only a frame that is not a batch is looked at again), null when it
    /// was a command result, handed to its command; or the error of either.
    /// </summary>
    private Frame? ParseText(ReadOnlySpan<byte> json)
    {
        var frame = Parse(json);
        if (frame.Error is null || StreamCommands.TypeOf(json) is not { } type)
        {
            return frame;
        }
        return _commands!.Answer(json, type) is { } error ? Frame.Malformed(error) : null;
    }

    private Frame Parse(ReadOnlySpan<byte> json)
    {
        List<SensorReading> readings;
        try
        {
            readings = IngestBatchReader.Parse(json);
        }
        catch (JsonException ex)
        {
            return Frame.Malformed($"The frame is not a valid batch: {ex.Message}");
        }
        if (readings.Count == 0)
        {
            return Frame.Malformed("A frame carries at least one reading: {\"readings\":[…]}.");
        }
        if (readings.Count > options.MaxBatchSize)
        {
            return Frame.Malformed($"A frame carries at most {options.MaxBatchSize} readings.");
        }
        var previous = _lastRead;
        for (var i = 0; i < readings.Count; i++)
        {
            if (readings[i] is not { Sequence: { } sequence })
            {
                return Frame.Malformed($"readings[{i}] has no sequence; on the stream every reading has one, increasing.");
            }
            if (sequence <= previous)
            {
                return Frame.Malformed($"readings[{i}] has sequence {sequence}, not greater than {previous}; sequences increase.");
            }
            previous = sequence;
        }
        _lastRead = previous;
        return new Frame(readings, previous, null);
    }

    private async Task ProcessAsync()
    {
        try
        {
            await foreach (var frame in _received.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                if (frame.Readings is not null)
                {
                    await _inFlight.WaitAsync(_stop.Token).ConfigureAwait(false);
                    frame.Work = AcceptAsync(frame.Readings);
                }
                _ordered.Writer.TryWrite(frame);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _ordered.Writer.TryComplete();
        }
    }

    private async Task<IngestOutcome> AcceptAsync(List<SensorReading> readings)
    {
        try
        {
            // Not cancelled with the connection: a publish the broker may confirm anyway is seen through.
            var outcome = await pipeline.AcceptAsync(homeId, Source, readings, CancellationToken.None).ConfigureAwait(false);
            hubs.Saw(_commands!, readings);
            return outcome;
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task WriteAsync()
    {
        var reader = _ordered.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    if (frame.Error is not null)
                    {
                        await _sender.SendAsync(new StreamError("error", _confirmed, frame.Error), IngestJsonContext.Default.StreamError, _stop.Token).ConfigureAwait(false);
                        _slots.Release();
                        continue;
                    }
                    var accepted = 0;
                    List<StreamRejection>? rejected = null;
                    var frames = 0;
                    while (true)
                    {
                        IngestOutcome outcome;
                        try
                        {
                            outcome = await frame.Work!.ConfigureAwait(false);
                        }
                        catch (Exception ex)
                        {
                            await UnavailableAsync(frames, accepted, rejected, ex).ConfigureAwait(false);
                            return;
                        }
                        frames++;
                        accepted += outcome.Accepted;
                        foreach (var rejection in outcome.Rejected)
                        {
                            (rejected ??= []).Add(new StreamRejection(frame.Readings![rejection.Index].Sequence!.Value, rejection.Code, rejection.Message));
                        }
                        _confirmed = frame.LastSequence;
                        // Frames already done are acked together: one ack frame for a burst.
                        if (!reader.TryPeek(out var next) || next.Work is not { IsCompletedSuccessfully: true })
                        {
                            break;
                        }
                        reader.TryRead(out frame!);
                    }
                    await _sender.SendAsync(new StreamAck("ack", _confirmed, accepted, (IReadOnlyList<StreamRejection>?)rejected ?? []), IngestJsonContext.Default.StreamAck, _stop.Token)
                        .ConfigureAwait(false);
                    _slots.Release(frames);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The connection is going away; frames not acked are resent by the client.
        }
        finally
        {
            // Nothing is written any more: let the reader stop instead of waiting for slots.
            _stop.CancelAfter(options.SlowClientTimeout);
        }
    }

    private async Task UnavailableAsync(int frames, int accepted, List<StreamRejection>? rejected, Exception ex)
    {
        var retryAfter = ex is IngestUnavailableException unavailable ? unavailable.RetryAfter : options.RetryAfter;
        if (ex is not IngestUnavailableException)
        {
            logger.LogError(ex, "A stream frame of home {HomeId} failed unexpectedly; asking the client to resend", homeId);
        }
        if (frames > 0)
        {
            await _sender.SendAsync(new StreamAck("ack", _confirmed, accepted, (IReadOnlyList<StreamRejection>?)rejected ?? []), IngestJsonContext.Default.StreamAck, _stop.Token)
                .ConfigureAwait(false);
        }
        await _sender.SendAsync(new StreamUnavailable("unavailable", IngestProblems.RetryAfterSeconds(retryAfter), _confirmed), IngestJsonContext.Default.StreamUnavailable, _stop.Token)
            .ConfigureAwait(false);
        _closedByServer = true;
        await _sender.CloseAsync(TryAgainLater, "unavailable, try again later").ConfigureAwait(false);
    }

    private sealed class Frame(List<SensorReading>? readings, long? lastSequence, string? error)
    {
        public List<SensorReading>? Readings { get; } = readings;
        public long? LastSequence { get; } = lastSequence;
        public string? Error { get; } = error;
        public Task<IngestOutcome>? Work { get; set; }

        public static Frame Malformed(string error) => new(null, null, error);
    }

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason, bool Drain);
}
