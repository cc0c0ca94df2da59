using System.Collections.Concurrent;

namespace HomeIQ.Ingestion.Infrastructure;

/// <summary>
/// A bounded in-memory cache of lookups against another service: each entry lives for the lifetime its loader chose
/// (long for a hit, short for "not found"), concurrent misses of one key share one load, and a failed load is not cached.
/// </summary>
internal sealed class LookupCache<TKey, TValue>(TimeProvider clock, int capacity) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TValue>>> _loads = new();
    private readonly Lock _trimLock = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The cached value when there is a fresh one: no allocation, no await.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && clock.GetTimestamp() < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>
    /// The cached value, or the result of <paramref name="load"/> (shared with every concurrent caller of the same key), cached for the
    /// lifetime it returns. The load runs without the caller's token so that one caller giving up does not fail the others.
    /// </summary>
    public Task<TValue> GetAsync(TKey key, Func<TKey, Task<(TValue Value, TimeSpan Lifetime)>> load)
    {
        if (TryGet(key, out var cached))
        {
            return Task.FromResult(cached);
        }
        return _loads.GetOrAdd(key, k => new Lazy<Task<TValue>>(() => LoadAsync(k, load))).Value;
    }

    public void Remove(TKey key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private async Task<TValue> LoadAsync(TKey key, Func<TKey, Task<(TValue Value, TimeSpan Lifetime)>> load)
    {
        try
        {
            var (value, lifetime) = await load(key).ConfigureAwait(false);
            Set(key, value, lifetime);
            return value;
        }
        finally
        {
            _loads.TryRemove(key, out _);
        }
    }

    private void Set(TKey key, TValue value, TimeSpan lifetime)
    {
        var entry = new Entry(value, clock.GetTimestamp() + (long)(lifetime.TotalSeconds * clock.TimestampFrequency));
        if (_entries.TryAdd(key, entry))
        {
            if (Interlocked.Increment(ref _count) > capacity)
            {
                Trim();
            }
        }
        else
        {
            _entries[key] = entry;
        }
    }

    /// <summary>Drops expired entries; if that is not enough, drops arbitrary ones down to three quarters of the capacity.</summary>
    private void Trim()
    {
        lock (_trimLock)
        {
            if (Count <= capacity)
            {
                return;
            }
            var now = clock.GetTimestamp();
            foreach (var (key, entry) in _entries)
            {
                if (entry.ExpiresAt <= now)
                {
                    Remove(key);
                }
            }
            foreach (var (key, _) in _entries)
            {
                if (Count <= capacity * 3 / 4)
                {
                    break;
                }
                Remove(key);
            }
        }
    }

    private sealed record Entry(TValue Value, long ExpiresAt);
}
