using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>The claim one replica holds on the bridge, so that only one of them follows Home Assistant at a time.</summary>
public interface IBridgeLease
{
    /// <summary>This replica's name, as the lease records it.</summary>
    string Replica { get; }

    /// <summary>Takes the lease if nobody holds it.</summary>
    Task<bool> TryAcquireAsync(CancellationToken cancellationToken);

    /// <summary>Extends the lease; false when this replica no longer holds it.</summary>
    Task<bool> RenewAsync(CancellationToken cancellationToken);

    /// <summary>Gives the lease up (only if this replica still holds it).</summary>
    Task ReleaseAsync(CancellationToken cancellationToken);

    /// <summary>The replica that holds the lease now, if any.</summary>
    Task<string?> HolderAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A Redis lease: <c>SET key token NX PX ttl</c> takes it; renewal and release compare the token first, so a replica
/// whose lease expired can never extend or delete its successor's.
/// </summary>
internal sealed class RedisBridgeLease(IConnectionMultiplexer redis, IOptions<HomeAssistantOptions> options, string replica) : IBridgeLease
{
    private const string RenewScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private readonly string _token = $"{replica}/{Guid.NewGuid():N}";

    private RedisKey Key => $"homeiq:ingestion:homeassistant:lease:{options.Value.HomeId}";

    public string Replica => replica;

    public Task<bool> TryAcquireAsync(CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(Key, _token, options.Value.LeaseTtl, When.NotExists);

    public async Task<bool> RenewAsync(CancellationToken cancellationToken) =>
        (long)await redis.GetDatabase().ScriptEvaluateAsync(RenewScript, [Key], [_token, (long)options.Value.LeaseTtl.TotalMilliseconds]) == 1;

    public Task ReleaseAsync(CancellationToken cancellationToken) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [Key], [_token]);

    public async Task<string?> HolderAsync(CancellationToken cancellationToken)
    {
        var value = (string?)await redis.GetDatabase().StringGetAsync(Key);
        return value?.Split('/')[0];
    }
}
