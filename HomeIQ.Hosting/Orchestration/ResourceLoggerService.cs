using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace HomeIQ.Hosting;

/// <summary>One line of a resource's console output.</summary>
public sealed record LogLine(string Resource, DateTimeOffset Timestamp, string Text, bool IsError);

/// <summary>Keeps the console output of every resource in bounded buffers and streams it to watchers.</summary>
public sealed class ResourceLoggerService(int capacityPerResource = 10_000)
{
    private readonly ConcurrentDictionary<string, Buffer> _buffers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly List<Channel<LogLine>> _watchers = [];

    /// <summary>Called for every line, as it arrives (the AppHost console, test output).</summary>
    public event Action<LogLine>? LineWritten;

    /// <summary>Records one line of output of a resource.</summary>
    public void Write(string resource, string text, bool isError = false)
    {
        var line = new LogLine(resource, DateTimeOffset.UtcNow, text, isError);
        _buffers.GetOrAdd(resource, _ => new Buffer(capacityPerResource)).Add(line);
        Channel<LogLine>[] watchers;
        lock (_gate)
        {
            watchers = [.. _watchers];
        }
        foreach (var w in watchers)
        {
            w.Writer.TryWrite(line);
        }
        if (LineWritten is { } sinks)
        {
            foreach (var sink in sinks.GetInvocationList().Cast<Action<LogLine>>())
            {
                try
                {
                    sink(line);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
                {
                    // A sink that can no longer write (a closed console or test output) must not break the process it listens to.
                }
            }
        }
    }

    /// <summary>The lines kept for a resource, oldest first.</summary>
    public IReadOnlyList<LogLine> GetLines(string resource) =>
        _buffers.TryGetValue(resource, out var b) ? b.Snapshot() : [];

    /// <summary>The lines kept for a resource, then every new line, until cancelled.</summary>
    public async IAsyncEnumerable<LogLine> WatchAsync(string resource, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(capacityPerResource) { FullMode = BoundedChannelFullMode.DropOldest });
        IReadOnlyList<LogLine> backlog;
        lock (_gate)
        {
            backlog = GetLines(resource);
            _watchers.Add(channel);
        }
        try
        {
            foreach (var line in backlog)
            {
                yield return line;
            }
            await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (string.Equals(line.Resource, resource, StringComparison.OrdinalIgnoreCase))
                {
                    yield return line;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    private sealed class Buffer(int capacity)
    {
        private readonly Queue<LogLine> _lines = new();

        public void Add(LogLine line)
        {
            lock (_lines)
            {
                if (_lines.Count == capacity)
                {
                    _lines.Dequeue();
                }
                _lines.Enqueue(line);
            }
        }

        public IReadOnlyList<LogLine> Snapshot()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }
}
