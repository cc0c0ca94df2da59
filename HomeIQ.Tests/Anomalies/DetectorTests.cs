using HomeIQ.Anomalies.Detection;
using HomeIQ.Contracts;

namespace HomeIQ.Tests.Anomalies;

/// <summary>The streaming detector with explicit timestamps: one reading a minute of a noisy temperature around 21 °C.</summary>
public sealed class DetectorTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
    private static readonly long Minute = TimeSpan.TicksPerMinute;

    private readonly AnomalyDetector _detector = new(new DetectorOptions());
    private readonly SeriesState _state = new();
    private readonly Random _random = new(7);
    private int _i;

    private double Normal() => Math.Round(21 + (0.1 * (_random.NextDouble() - 0.5)), 2);

    /// <summary>Feeds readings one minute apart (values from <paramref name="value"/> or normal noise); returns what was raised or resolved.</summary>
    private List<Finding> Feed(int count, Func<double>? value = null, string metric = "temperature", string unit = "°C")
    {
        var findings = new List<Finding>();
        for (var n = 0; n < count; n++)
        {
            _detector.Observe(_state, metric, unit, (value ?? Normal)(), T0 + (_i++ * Minute), findings);
        }
        return findings;
    }

    [Fact]
    public void ASpikeAfterWarmUpIsRaisedOnceAsAnOutlierAndResolvesWhenReadingsAreNormalAgain()
    {
        Assert.Empty(Feed(200));
        var findings = Feed(1, () => 25);
        findings.AddRange(Feed(30));
        Assert.Equal([(AnomalyKind.Outlier, false), (AnomalyKind.Outlier, true)], findings.Select(f => (f.Kind, f.Resolved)));
        Assert.Equal(25, findings[0].Value);
        Assert.True(findings[0].ExpectedHigh < 25);
    }

    [Fact]
    public void NothingIsJudgedDuringWarmUp()
    {
        Assert.Empty(Feed(5));
        Assert.Empty(Feed(1, () => 23.5));
        Assert.Empty(Feed(10));
    }

    [Fact]
    public void ALevelShiftIsRaisedOnceAndTheNewLevelThenCountsAsNormal()
    {
        Feed(200);
        var findings = Feed(200, () => Normal() + 3);
        Assert.Equal([(AnomalyKind.LevelShift, false), (AnomalyKind.LevelShift, true)], findings.Select(f => (f.Kind, f.Resolved)));
        Assert.Equal(T0 + (203 * Minute), findings[0].Ticks);
    }

    [Fact]
    public void AValueThatStaysStillLongerThanTheSeriesEverDidIsStuckUntilItChanges()
    {
        Feed(300);
        var stuck = Feed(600, () => 21.02);
        Assert.Equal([AnomalyKind.Stuck], stuck.Select(f => f.Kind));
        var raisedAfter = TimeSpan.FromTicks(stuck[0].Ticks - (T0 + (300 * Minute)));
        Assert.InRange(raisedAfter, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(60));
        var after = Feed(20);
        Assert.Equal([(AnomalyKind.Stuck, true)], after.Select(f => (f.Kind, f.Resolved)));
    }

    [Fact]
    public void OfflineIsDueAfterAMultipleOfTheIntervalTheSeriesLearned()
    {
        Assert.Null(_detector.OfflineDueTicks(_state));
        Feed(50);
        var last = T0 + (49 * Minute);
        Assert.Equal(last + (long)(2.5 * Minute), _detector.OfflineDueTicks(_state));

        var fast = new SeriesState();
        for (var n = 0; n < 50; n++)
        {
            _detector.Observe(fast, "power", "W", 100 + n, T0 + (n * 10 * TimeSpan.TicksPerSecond), []);
        }
        Assert.Equal(T0 + (49 * 10 * TimeSpan.TicksPerSecond) + (25 * TimeSpan.TicksPerSecond), _detector.OfflineDueTicks(fast));
    }

    [Fact]
    public void ReadingsAfterASilenceRestartTheLevelInsteadOfBeingJudgedAgainstIt()
    {
        Feed(200);
        _i += 600;
        Assert.Empty(Feed(50, () => Normal() + 5));
    }

    [Fact]
    public void ReadingsNotNewerThanTheLastAreNeitherLearnedNorRaised()
    {
        Feed(200);
        var spikeAt = T0 + (_i * Minute);
        var findings = Feed(1, () => 25);
        findings.AddRange(Feed(1));
        var snapshot = _state.ToBytes();
        Assert.False(_detector.Observe(_state, "temperature", "°C", 25, spikeAt, findings));
        Assert.False(_detector.Observe(_state, "temperature", "°C", 40, spikeAt - Minute, findings));
        Assert.Equal(snapshot, _state.ToBytes());
        Assert.Single(findings, f => f.Kind == AnomalyKind.Outlier);
    }

    [Fact]
    public void ABurstOfReadingsMillisecondsApartIsNotMistakenForASteepSlope()
    {
        Feed(200);
        var findings = new List<Finding>();
        for (var n = 0; n < 100; n++)
        {
            var at = T0 + (_i++ * Minute);
            _detector.Observe(_state, "temperature", "°C", Normal(), at, findings);
            _detector.Observe(_state, "temperature", "°C", Normal(), at + (5 * TimeSpan.TicksPerMillisecond), findings);
        }
        Assert.Empty(findings);
    }

    [Fact]
    public void AFlappingSensorIsRaisedOncePerCooldown()
    {
        Feed(200);
        var findings = new List<Finding>();
        for (var n = 0; n < 3; n++) // a spike every 13 minutes, within the 30-minute cooldown
        {
            findings.AddRange(Feed(1, () => 25));
            findings.AddRange(Feed(12));
        }
        Assert.Single(findings, f => f is { Kind: AnomalyKind.Outlier, Resolved: false });
        Feed(30);
        Assert.Single(Feed(1, () => 25).Concat(Feed(1)), f => f is { Kind: AnomalyKind.Outlier, Resolved: false });
    }

    [Fact]
    public void AnImpossibleHumidityIsImplausibleAndNotLearned()
    {
        var findings = Feed(50, () => 40 + (_random.NextDouble() * 2), "humidity", "%");
        findings.AddRange(Feed(1, () => 140, "humidity", "%"));
        Assert.Equal([AnomalyKind.Implausible], findings.Select(f => f.Kind));
        Assert.InRange(_state.Level, 38, 44);
    }

    [Fact]
    public void TheLearnedStateSurvivesARoundTripThroughItsBytes()
    {
        Feed(200);
        var copy = SeriesState.FromBytes(_state.ToBytes());
        Assert.Equal(_state.ToBytes(), copy.ToBytes());
        var original = Feed(1, () => 25);
        var restored = new List<Finding>();
        _detector.Observe(copy, "temperature", "°C", 25, T0 + ((_i - 1) * Minute), restored);
        Assert.Equal(_state.ToBytes(), copy.ToBytes());
        Assert.Equal(original, restored);
    }
}
