using System.Threading.Channels;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>
/// The bounded buffer between the Home Assistant socket and the broker. The socket side waits while it is full (so the
/// socket is not read and memory stays bounded); this side sends readings in batches of up to
/// <see cref="HomeAssistantOptions.MaxBatchSize"/> (or what arrived within <see cref="HomeAssistantOptions.BatchLinger"/>)
/// and retries a batch the broker did not confirm until it is confirmed: nothing taken from the socket is dropped.
/// </summary>
internal sealed class ReadingForwarder
{
    private readonly Channel<object> _buffer;
    private readonly IReadingPipeline _pipeline;
    private readonly HomeAssistantOptions _options;
    private readonly HomeAssistantMetrics _metrics;
    private readonly ILogger<ReadingForwarder> _logger;
    private readonly TimeProvider _time;

    public const string Source = "homeassistant";

    public ReadingForwarder(IReadingPipeline pipeline, IOptions<HomeAssistantOptions> options, HomeAssistantMetrics metrics, ILogger<ReadingForwarder> logger, TimeProvider time)
    {
        _pipeline = pipeline;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _buffer = Channel.CreateBounded<object>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
        });
        metrics.BufferedItems = () => _buffer.Reader.Count;
    }

    public int Buffered => _buffer.Reader.Count;

    /// <summary>Waits for room in the buffer, then queues a reading.</summary>
    public ValueTask WriteAsync(SensorReading reading, CancellationToken cancellationToken) => _buffer.Writer.WriteAsync(reading, cancellationToken);

    /// <summary>Waits for room in the buffer, then queues a state change.</summary>
    public ValueTask WriteAsync(DeviceStateChanged state, CancellationToken cancellationToken) => _buffer.Writer.WriteAsync(state, cancellationToken);

    /// <summary>No more items: <see cref="RunAsync"/> ends once the buffer is sent.</summary>
    public void Complete() => _buffer.Writer.TryComplete();

    /// <summary>Sends the buffer until it is completed and empty, or <paramref name="cancellationToken"/> gives up on what is left.</summary>
    public async Task RunAsync(Guid homeId, CancellationToken cancellationToken)
    {
        var reader = _buffer.Reader;
        var readings = new List<SensorReading>(_options.MaxBatchSize);
        var states = new List<DeviceStateChanged>();
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            var lingerUntil = _time.GetTimestamp() + (long)(_options.BatchLinger.TotalSeconds * _time.TimestampFrequency);
            while (readings.Count < _options.MaxBatchSize)
            {
                if (reader.TryRead(out var item))
                {
                    if (item is SensorReading reading)
                    {
                        readings.Add(reading);
                    }
                    else
                    {
                        states.Add((DeviceStateChanged)item);
                    }
                    continue;
                }
                var left = _time.GetElapsedTime(_time.GetTimestamp(), lingerUntil);
                if (left <= TimeSpan.Zero || !await WaitAsync(reader, left, cancellationToken))
                {
                    break;
                }
            }
            await SendAsync(homeId, readings, states, cancellationToken);
            readings.Clear();
            states.Clear();
        }
    }

    /// <summary>Whether an item arrived within <paramref name="wait"/> (false also when the buffer completed).</summary>
    private static async Task<bool> WaitAsync(ChannelReader<object> reader, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task SendAsync(Guid homeId, List<SensorReading> readings, List<DeviceStateChanged> states, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var accepted = 0;
        var rejected = 0;
        var readingsDone = readings.Count == 0;
        var statesDone = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!readingsDone)
                {
                    var outcome = await _pipeline.AcceptAsync(homeId, Source, readings.ToArray(), cancellationToken);
                    accepted = outcome.Accepted;
                    rejected = outcome.Rejected.Count;
                    readingsDone = true;
                    if (rejected > 0)
                    {
                        _logger.LogDebug("The pipeline rejected {Rejected} of {Count} Home Assistant readings, e.g. {Code}: {Message}",
                            rejected, readings.Count, outcome.Rejected[0].Code, outcome.Rejected[0].Message);
                    }
                }
                // In order, one at a time, so that a device's states arrive as Home Assistant reported them.
                for (; statesDone < states.Count; statesDone++)
                {
                    await _pipeline.PublishStateAsync(states[statesDone], cancellationToken);
                }
                _metrics.Published(accepted, states.Count, rejected);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var wait = ex is IngestUnavailableException unavailable && unavailable.RetryAfter > delay ? unavailable.RetryAfter : delay;
                wait = wait > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : wait;
                _metrics.PublishRetry();
                _logger.Log(attempt % 10 == 1 ? LogLevel.Warning : LogLevel.Debug, ex,
                    "The broker did not confirm {Readings} Home Assistant readings and {States} states (attempt {Attempt}); retrying in {Delay} while the socket waits",
                    readingsDone ? 0 : readings.Count, states.Count - statesDone, attempt, wait);
                await Task.Delay(wait, _time, cancellationToken);
                delay = delay * 2 > _options.ReconnectMaxDelay ? _options.ReconnectMaxDelay : delay * 2;
            }
        }
    }
}
