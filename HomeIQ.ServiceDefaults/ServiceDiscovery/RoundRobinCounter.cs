using System.Collections.Concurrent;

namespace HomeIQ.ServiceDefaults.ServiceDiscovery;

/// <summary>Thread-safe round-robin positions, one per service query.</summary>
internal sealed class RoundRobinCounter
{
    private readonly ConcurrentDictionary<string, Position> _positions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The next index in <c>[0, count)</c> for the given key.</summary>
    public int Next(string key, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var position = _positions.GetOrAdd(key, static _ => new Position());
        var ticket = (uint)(Interlocked.Increment(ref position.Value) - 1);
        return (int)(ticket % (uint)count);
    }

    private sealed class Position
    {
        public int Value;
    }
}
