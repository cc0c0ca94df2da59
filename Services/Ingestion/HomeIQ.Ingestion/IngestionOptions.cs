using System.ComponentModel.DataAnnotations;

namespace HomeIQ.Ingestion;

/// <summary>Limits of what ingestion takes in (section <c>Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    /// <summary>The most readings one HTTP batch (or one stream frame) may carry; more is 413.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 5000;

    /// <summary>How far in the future a timestamp may lie (sender clocks drift).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How old a reading may be.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Frames a stream connection may have queued (read but not yet published) before the client is told to slow down.</summary>
    [Range(1, 4096)]
    public int StreamQueueFrames { get; set; } = 32;

    /// <summary>Publishes one stream connection may have waiting for broker confirms at once.</summary>
    [Range(1, 64)]
    public int StreamPublishesInFlight { get; set; } = 4;

    /// <summary>How long a stream connection's queue may stay full before the connection is closed (1008).</summary>
    public TimeSpan SlowClientTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest stream frame; a larger one closes the connection (1009).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The broker queues whose backlog bounds what ingestion accepts: the store's (<c>readings</c>) by default. Energy and Anomalies
    /// are not listed, so that one analytics service being down or slow never stops readings from being stored.
    /// </summary>
    public string[] BacklogQueues { get; set; } = ["readings"];

    /// <summary>
    /// The most messages that may wait in a backlog queue before new readings get 503 with Retry-After. A message holds one accepted
    /// batch, or several small ones that came together (<see cref="SmallBatch"/>): at the default 1,000-reading batches, 2,000 are about
    /// 20 s of the store's work on a 2-core machine.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedMessages { get; set; } = 2000;

    /// <summary>
    /// Batches of fewer readings than this share broker messages when they come together (see <see cref="PublishesInFlight"/>); larger
    /// ones are published alone and at once. A message costs the broker about 480 µs of CPU and a reading in it about 0.25 µs, so a
    /// small batch alone costs it many times what its readings do. 0 publishes every batch alone, as consumers older than the readings set
    /// (<c>readings-set+binary</c>) need during an upgrade.
    /// </summary>
    [Range(0, 100_000)]
    public int SmallBatch { get; set; } = 500;

    /// <summary>
    /// How many messages of small batches (<see cref="SmallBatch"/>) may wait for the broker's confirm at once, per replica; the small
    /// batches accepted meanwhile gather and leave together, up to 8,000 readings a message.
    /// </summary>
    [Range(1, 64)]
    public int PublishesInFlight { get; set; } = 2;

    /// <summary>How often the backlog queues' lengths are read.</summary>
    public TimeSpan BacklogPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>What <c>Retry-After</c> says when the broker, Devices or Identity is unavailable.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a device lookup is trusted.</summary>
    public TimeSpan DeviceCacheLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long "no such device" is trusted (short: a device registered a moment later becomes usable soon).</summary>
    public TimeSpan UnknownDeviceCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a valid hub key is trusted without asking Identity again. A revoked key keeps working on a replica
    /// that validated it for at most this long.
    /// </summary>
    public TimeSpan HubKeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an unknown hub key is remembered as unknown.</summary>
    public TimeSpan UnknownHubKeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a replica's "a hub of this home is connected here" stays in Redis without being refreshed (every third of it): a replica that
    /// crashed stops receiving commands after at most this long.
    /// </summary>
    public TimeSpan CommandRegistryTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The most entries each lookup cache holds.</summary>
    [Range(16, 10_000_000)]
    public int CacheSize { get; set; } = 100_000;
}
