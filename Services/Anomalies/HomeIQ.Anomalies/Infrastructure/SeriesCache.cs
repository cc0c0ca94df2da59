using System.Collections.Concurrent;
using HomeIQ.Anomalies.Detection;

namespace HomeIQ.Anomalies.Infrastructure;

/// <summary>
/// The learned states of the series this replica handled, so a batch reads the database only for series it has not seen.
/// The database stays the truth: a failed batch forgets its series (they reload), and a save that finds another version
/// (another replica took the series over) fails the batch the same way.
/// </summary>
internal sealed class SeriesCache
{
    /// <summary>Beyond this many series the cache starts over rather than growing without bound.</summary>
    private const int MaxSeries = 500_000;

    private readonly ConcurrentDictionary<(Guid DeviceId, string Metric), SeriesState> _states = new();

    public bool TryGet((Guid, string) key, out SeriesState state) => _states.TryGetValue(key, out state!);

    public void Set((Guid, string) key, SeriesState state)
    {
        if (_states.Count >= MaxSeries)
        {
            _states.Clear();
        }
        _states[key] = state;
    }

    public void Forget(IEnumerable<(Guid, string)> keys)
    {
        foreach (var key in keys)
        {
            _states.TryRemove(key, out _);
        }
    }
}
