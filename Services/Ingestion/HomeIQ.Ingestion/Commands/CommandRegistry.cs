using System.Collections.Concurrent;
using HomeIQ.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Ingestion.Commands;

/// <summary>
/// What the replicas tell each other through Redis so that a command reaches the replica holding the connection, and is delivered once:
/// <list type="bullet">
/// <item><c>…:hubs:{home}</c>, a sorted set of the replicas with a hub of the home connected, scored by when the entry expires
/// (refreshed every third of <see cref="IngestionOptions.CommandRegistryTtl"/> while connected, so a crashed replica drops out);</item>
/// <item><c>…:devices:{home}</c>, a hash of device → the replica whose hub last sent readings for it;</item>
/// <item><c>…:claim:{command}</c>, set once (NX) by the replica that answers the command, then holding its reply until the reply
/// is confirmed, so a redelivered command is never sent to the device again.</item>
/// </list>
/// </summary>
internal sealed class CommandRegistry(
    IConnectionMultiplexer redis, IOptions<IngestionOptions> options, TimeProvider time, ILogger<CommandRegistry> logger, string replica) : BackgroundService
{
    private const string Prefix = "homeiq:ingestion:commands:";
    private const string Pending = "pending";
    private const string Replied = "replied";
    private readonly ConcurrentDictionary<Guid, byte> _homes = new();
    private readonly TimeSpan _ttl = options.Value.CommandRegistryTtl;

    /// <summary>This replica's name, as the registry records it.</summary>
    public string Replica => replica;

    private static RedisKey HubsKey(Guid homeId) => $"{Prefix}hubs:{homeId}";

    private static RedisKey DevicesKey(Guid homeId) => $"{Prefix}devices:{homeId}";

    private static RedisKey ClaimKey(Guid commandId) => $"{Prefix}claim:{commandId}";

    /// <summary>Records that a hub of the home is connected here (and keeps it recorded while it is).</summary>
    public async Task AnnounceHubAsync(Guid homeId)
    {
        _homes[homeId] = 0;
        try
        {
            await RefreshAsync(homeId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            logger.LogWarning(ex, "Could not announce the hub of home {HomeId} in Redis; commands reach it once Redis answers", homeId);
        }
    }

    public void WithdrawHub(Guid homeId)
    {
        _homes.TryRemove(homeId, out _);
        FireAndForget(db => db.SortedSetRemove(HubsKey(homeId), replica, CommandFlags.FireAndForget));
    }

    /// <summary>Records that this replica's hub is the way to the device (on the stream's path: never waits, never throws).</summary>
    public void AnnounceDevice(Guid homeId, Guid deviceId) =>
        FireAndForget(db => db.HashSet(DevicesKey(homeId), deviceId.ToString(), replica, flags: CommandFlags.FireAndForget));

    private void FireAndForget(Action<IDatabase> write)
    {
        try
        {
            write(redis.GetDatabase());
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            // A missing or stale entry only makes a command prefer another connected hub of the home.
            logger.LogDebug(ex, "Could not update the command registry in Redis");
        }
    }

    /// <summary>The replicas with a hub of the home connected now.</summary>
    public async Task<IReadOnlyList<string>> HubReplicasAsync(Guid homeId)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var members = await redis.GetDatabase().SortedSetRangeByScoreAsync(HubsKey(homeId), now, double.PositiveInfinity).ConfigureAwait(false);
        return [.. members.Select(m => m.ToString())];
    }

    /// <summary>The replica whose hub last sent readings for the device, if recorded.</summary>
    public async Task<string?> DeviceReplicaAsync(Guid homeId, Guid deviceId) =>
        await redis.GetDatabase().HashGetAsync(DevicesKey(homeId), deviceId.ToString()).ConfigureAwait(false);

    /// <summary>Claims the command for delivery; when it was claimed before, says whether a reply is stored that was never confirmed.</summary>
    public async Task<CommandClaim> ClaimAsync(DeviceCommandRequested command)
    {
        var db = redis.GetDatabase();
        if (await db.StringSetAsync(ClaimKey(command.CommandId), Pending, ClaimTtl(command), When.NotExists).ConfigureAwait(false))
        {
            return new(true, null);
        }
        var value = (string?)await db.StringGetAsync(ClaimKey(command.CommandId)).ConfigureAwait(false);
        return new(false, value is null or Pending or Replied ? null : value);
    }

    /// <summary>Keeps the reply until it is confirmed, so a redelivery can send it instead of running the command again.</summary>
    public Task StoreReplyAsync(DeviceCommandRequested command, string reply) =>
        redis.GetDatabase().StringSetAsync(ClaimKey(command.CommandId), reply, ClaimTtl(command));

    /// <summary>
    /// Waits up to <paramref name="patience"/> for another delivery of the command, which stored its reply and may still be sending it,
    /// to mark it replied; false when it did not (that delivery died before its reply was confirmed).
    /// </summary>
    public async Task<bool> WaitRepliedAsync(DeviceCommandRequested command, TimeSpan patience, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var until = time.GetUtcNow() + patience;
        do
        {
            if ((string?)await db.StringGetAsync(ClaimKey(command.CommandId)).ConfigureAwait(false) == Replied)
            {
                return true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }
        while (time.GetUtcNow() < until);
        return false;
    }

    public Task MarkRepliedAsync(DeviceCommandRequested command) =>
        redis.GetDatabase().StringSetAsync(ClaimKey(command.CommandId), Replied, ClaimTtl(command));

    // Past the deadline by a margin: a redelivery after the deadline must still find the claim.
    private TimeSpan ClaimTtl(DeviceCommandRequested command)
    {
        var left = command.Deadline - time.GetUtcNow();
        return (left > TimeSpan.Zero ? left : TimeSpan.Zero) + TimeSpan.FromMinutes(10);
    }

    private async Task RefreshAsync(Guid homeId)
    {
        var db = redis.GetDatabase();
        var expires = (time.GetUtcNow() + _ttl).ToUnixTimeMilliseconds();
        await db.SortedSetAddAsync(HubsKey(homeId), replica, expires).ConfigureAwait(false);
        // Entries of replicas that stopped refreshing, and the keys of homes nobody connects any more, go away by themselves.
        await db.SortedSetRemoveRangeByScoreAsync(HubsKey(homeId), double.NegativeInfinity, time.GetUtcNow().ToUnixTimeMilliseconds()).ConfigureAwait(false);
        await db.KeyExpireAsync(HubsKey(homeId), _ttl * 4).ConfigureAwait(false);
        await db.KeyExpireAsync(DevicesKey(homeId), TimeSpan.FromDays(1)).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(_ttl / 3, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var home in _homes.Keys)
            {
                try
                {
                    await RefreshAsync(home).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
                {
                    logger.LogWarning(ex, "Could not refresh the hub of home {HomeId} in Redis", home);
                    break;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var home in _homes.Keys)
        {
            WithdrawHub(home);
        }
    }
}

/// <summary>Whether this replica claimed the command; if not, the reply stored by the first delivery that was never confirmed.</summary>
internal readonly record struct CommandClaim(bool Claimed, string? UnconfirmedReply);
