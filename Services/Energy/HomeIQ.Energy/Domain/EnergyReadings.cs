using HomeIQ.Contracts;

namespace HomeIQ.Energy.Domain;

/// <summary>One energy or power reading of a home's device, in kWh or W.</summary>
public readonly record struct EnergyReading(Guid HomeId, Guid DeviceId, SeriesKind Kind, DateTime Ts, double Value);

/// <summary>Picks the readings Energy counts out of the pipeline's batches, which are almost all something else.</summary>
public static class EnergyReadings
{
    private static readonly DateTime Earliest = new(1970, 1, 2, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan LatestAhead = TimeSpan.FromDays(7);

    /// <summary>The energy and power points of a batch, normalised to kWh and W; the first of several with the same key wins, as in the table.</summary>
    public static List<EnergyReading> Pick(IReadOnlyList<SensorReadingsReceived> events, DateTime now)
    {
        List<EnergyReading>? points = null;
        foreach (var @event in events)
        {
            foreach (var reading in @event?.Readings ?? [])
            {
                // The cheap test first: the metric's length rules out nearly every reading before any string comparison.
                if (reading?.Metric is not { Length: 5 or 6 } || reading.DeviceId == Guid.Empty
                    || EnergyCalculator.Normalize(reading.Metric, reading.Unit, reading.Value) is not { } normalized)
                {
                    continue;
                }
                var ts = reading.Timestamp.UtcDateTime;
                if (ts < Earliest || ts > now + LatestAhead)
                {
                    continue;
                }
                (points ??= []).Add(new EnergyReading(@event!.HomeId, reading.DeviceId, normalized.Kind, ts, normalized.Value));
            }
        }
        if (points is null)
        {
            return [];
        }
        var seen = new HashSet<(Guid, SeriesKind, DateTime)>();
        return [.. points.Where(p => seen.Add((p.DeviceId, p.Kind, p.Ts)))];
    }
}
