using System.Globalization;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion.Infrastructure;
using Microsoft.Extensions.Options;
using HomeIQ.Postgres;

namespace HomeIQ.Ingestion.Pipeline;

/// <summary>
/// Validates readings against the device registry (cached lookups, see <see cref="DeviceDirectory"/>) and publishes the valid ones
/// of a call as one <see cref="SensorReadingsReceived"/> (through <see cref="ReadingsPublisher"/>, which lets batches that come together
/// share a broker message), returning once the broker confirmed it. Registered as a singleton, also as
/// <see cref="IReadingPipeline"/>. On cache hits validation never awaits; a call waits only for the devices it has not seen lately.
/// </summary>
internal sealed class ReadingPipeline(DeviceDirectory devices, IEventBus bus, ReadingsPublisher publisher, BrokerBacklog backlog, IOptions<IngestionOptions> options,
    TimeProvider clock, ILogger<ReadingPipeline> logger)
    : IReadingPipeline
{
    public const int MaxMetricLength = 100;
    public const int MaxUnitLength = 32;
    private static readonly RejectedReading[] NoRejections = [];
    private readonly IngestionOptions _options = options.Value;

    public async Task<IngestOutcome> AcceptAsync(Guid homeId, string source, IReadOnlyList<SensorReading> readings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (readings.Count == 0)
        {
            return new IngestOutcome(0, NoRejections);
        }
        var devicesOfBatch = await ResolveDevicesAsync(readings, cancellationToken).ConfigureAwait(false);

        var now = clock.GetUtcNow();
        var newest = now + _options.MaxClockSkew;
        var oldest = now - _options.MaxAge;
        List<SensorReading>? valid = null;
        List<RejectedReading>? rejected = null;
        var last = new DeviceSlot();
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i];
            var problem = reading is null ? Problem.Of(RejectionCodes.Invalid, "The reading is null.") : Check(homeId, reading, newest, oldest, devicesOfBatch, ref last);
            if (problem.Code is null)
            {
                if (rejected is not null)
                {
                    (valid ??= new List<SensorReading>(readings.Count)).Add(reading!);
                }
                continue;
            }
            if (rejected is null)
            {
                // Everything before this one was valid: copy it now, only batches with a rejection pay for the copy.
                rejected = [];
                valid = new List<SensorReading>(readings.Count);
                for (var j = 0; j < i; j++)
                {
                    valid.Add(readings[j]);
                }
            }
            rejected.Add(new RejectedReading(i, problem.Code, problem.Message!));
        }
        IReadOnlyList<SensorReading> accepted = rejected is null ? readings : valid!;
        if (accepted.Count > 0)
        {
            if (backlog.OverLimit is { } why)
            {
                throw new IngestUnavailableException($"Readings arrive faster than HomeIQ stores them: {why}. Nothing of this request was accepted; try again shortly.",
                    _options.RetryAfter);
            }
            var received = new SensorReadingsReceived(homeId, source, accepted);
            await ConfirmedAsync(received, () => publisher.PublishAsync(received, cancellationToken)).ConfigureAwait(false);
        }
        return new IngestOutcome(accepted.Count, (IReadOnlyList<RejectedReading>?)rejected ?? NoRejections);
    }

    public Task PublishStateAsync(DeviceStateChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return ConfirmedAsync(change, () => bus.PublishAsync(change, cancellationToken));
    }

    private async Task ConfirmedAsync(IntegrationEvent @event, Func<Task> publish)
    {
        try
        {
            await publish().ConfigureAwait(false);
        }
        catch (EventBusPublishException ex)
        {
            logger.LogWarning("The broker did not confirm {Event} {EventId}: {Reason}", EventNames.Of(@event.GetType()), @event.Id, ex.Message);
            throw new IngestUnavailableException("The broker did not take the readings; nothing of this request was accepted. Try again shortly.", _options.RetryAfter, ex);
        }
    }

    /// <summary>
    /// The devices of the batch: the cached ones as they are now, and those not cached looked up all at once (readings whose device is
    /// cached cost no await). The batch is checked against this answer, not against the cache again: an entry that expires or is
    /// evicted in between must not turn a known device into an unknown one.
    /// </summary>
    private async Task<Dictionary<Guid, DeviceLookup?>> ResolveDevicesAsync(IReadOnlyList<SensorReading> readings, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<Guid, DeviceLookup?>();
        List<Guid>? missing = null;
        var last = Guid.Empty;
        for (var i = 0; i < readings.Count; i++)
        {
            if (readings[i] is not { DeviceId: var id } || id == last || id == Guid.Empty)
            {
                continue;
            }
            last = id;
            if (resolved.ContainsKey(id))
            {
                continue;
            }
            if (devices.TryGetCached(id, out var cached))
            {
                resolved[id] = cached;
            }
            else
            {
                resolved[id] = null;
                (missing ??= []).Add(id);
            }
        }
        if (missing is null)
        {
            return resolved;
        }
        var lookups = new Task<DeviceLookup?>[missing.Count];
        for (var i = 0; i < lookups.Length; i++)
        {
            lookups[i] = devices.FindAsync(missing[i]);
        }
        try
        {
            await Task.WhenAll(lookups).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DevicesUnavailableException ex)
        {
            logger.LogWarning("Device lookups failed: {Reason}", ex.Message);
            throw new IngestUnavailableException("Devices could not be asked about the readings' devices; nothing was accepted. Try again shortly.", _options.RetryAfter, ex);
        }
        for (var i = 0; i < lookups.Length; i++)
        {
            resolved[missing[i]] = lookups[i].Result;
        }
        return resolved;
    }

    private static Problem Check(Guid homeId, SensorReading reading, DateTimeOffset newest, DateTimeOffset oldest, Dictionary<Guid, DeviceLookup?> devicesOfBatch,
        ref DeviceSlot last)
    {
        if (reading.Metric is not { Length: > 0 and <= MaxMetricLength } metric || string.IsNullOrWhiteSpace(metric))
        {
            return Problem.Of(RejectionCodes.Invalid, $"The metric is 1 to {MaxMetricLength} characters.");
        }
        if (StoredText.HasControlCharacters(metric))
        {
            return Problem.Of(RejectionCodes.Invalid, "The metric must not contain control characters (such as U+0000).");
        }
        if (reading.Unit is not { Length: <= MaxUnitLength } unit)
        {
            return Problem.Of(RejectionCodes.Invalid, $"The unit is at most {MaxUnitLength} characters.");
        }
        if (unit.Length > 0 && string.IsNullOrWhiteSpace(unit))
        {
            return Problem.Of(RejectionCodes.Invalid, "The unit is a symbol such as °C, or empty for none; not only spaces.");
        }
        if (StoredText.HasControlCharacters(unit))
        {
            return Problem.Of(RejectionCodes.Invalid, "The unit must not contain control characters (such as U+0000).");
        }
        // Readings of one device usually come together: the previous reading's lookup is reused without another dictionary lookup.
        if (reading.DeviceId != last.Id || !last.Found)
        {
            last = new DeviceSlot(reading.DeviceId, devicesOfBatch.TryGetValue(reading.DeviceId, out var found), found);
        }
        var device = last.Device;
        if (reading.DeviceId == Guid.Empty || device is null || device.HomeId != homeId)
        {
            // Another home's device is answered exactly like a missing one: a hub key never learns what other homes have.
            return Problem.Of(RejectionCodes.UnknownDevice, "There is no such device in this home.");
        }
        DeviceCapability? capability = null;
        foreach (var candidate in device.Capabilities)
        {
            if (string.Equals(candidate.Metric, metric, StringComparison.Ordinal))
            {
                capability = candidate;
                break;
            }
        }
        if (capability is null)
        {
            return Problem.Of(RejectionCodes.UnknownMetric, "The device has no such metric.");
        }
        if (capability.Unit is { } expected && !string.Equals(expected, unit, StringComparison.Ordinal))
        {
            return Problem.Of(RejectionCodes.UnitMismatch, $"The device reports {metric} in '{expected}'.");
        }
        var value = reading.Value;
        if (!double.IsFinite(value))
        {
            return Problem.Of(RejectionCodes.NotFinite, "The value is not a finite number.");
        }
        if (value < capability.Min || value > capability.Max)
        {
            return Problem.Of(RejectionCodes.OutOfRange, string.Create(CultureInfo.InvariantCulture, $"The value lies outside [{capability.Min?.ToString(CultureInfo.InvariantCulture) ?? "-∞"}, {capability.Max?.ToString(CultureInfo.InvariantCulture) ?? "∞"}]."));
        }
        if (reading.Timestamp > newest)
        {
            return Problem.Of(RejectionCodes.FutureTimestamp, "The timestamp lies in the future.");
        }
        if (reading.Timestamp < oldest)
        {
            return Problem.Of(RejectionCodes.TooOld, "The timestamp is older than readings are accepted.");
        }
        return default;
    }

    private readonly record struct DeviceSlot(Guid Id, bool Found, DeviceLookup? Device);

    private readonly record struct Problem(string? Code, string? Message)
    {
        public static Problem Of(string code, string message) => new(code, message);
    }
}
