using HomeIQ.Energy.Domain;

namespace HomeIQ.Tests.Energy;

/// <summary>The arithmetic of Energy against values worked out by hand.</summary>
public sealed class EnergyCalculatorTests
{
    private static readonly TimeSpan Gap = TimeSpan.FromMinutes(15);

    internal static DateTime At(int hour, int minute = 0, int day = 10) => new(2026, 3, day, hour, minute, 0, DateTimeKind.Utc);

    private static double Hour(Dictionary<DateTime, double> hours, int hour) => hours.GetValueOrDefault(At(hour));

    [Fact]
    public void ACounterIsSplitAcrossHoursInProportionToTimeAndAResetCountsTheNewValue()
    {
        var hours = EnergyCalculator.Hourly(SeriesKind.Counter,
            [new(At(10), 100), new(At(10, 30), 101), new(At(11, 30), 103), new(At(12), 0.5), new(At(12, 30), 1.5)], Gap);

        Assert.Equal(2, Hour(hours, 10), 9); // 1 in 10:00–10:30, half of the 2 of 10:30–11:30
        Assert.Equal(1.5, Hour(hours, 11), 9); // the other half, and 0.5 since the reset at 11:30–12:00
        Assert.Equal(1, Hour(hours, 12), 9);
        Assert.Equal(3, hours.Count);
    }

    [Fact]
    public void ACounterCountsALongGapBecauseTheMeterMeasuredIt()
    {
        var hours = EnergyCalculator.Hourly(SeriesKind.Counter, [new(At(10), 5), new(At(14), 9)], Gap);

        Assert.All(Enumerable.Range(10, 4), h => Assert.Equal(1, Hour(hours, h), 9));
    }

    [Fact]
    public void PowerIsIntegratedByTrapezoidsWithTheInterpolatedPowerAtTheHourBoundary()
    {
        var hours = EnergyCalculator.Hourly(SeriesKind.Power, [new(At(10, 50), 1000), new(At(11, 5), 4000)], Gap);

        // 3000 W at 11:00 (10 of 15 minutes from 1000 to 4000 W): (1000 + 3000) / 2 W for 10 min, (3000 + 4000) / 2 W for 5 min.
        Assert.Equal(2000.0 / 6 / 1000, Hour(hours, 10), 9);
        Assert.Equal(3500.0 / 12 / 1000, Hour(hours, 11), 9);
    }

    [Fact]
    public void PowerAssumesNothingAcrossAGapLongerThanTheMaximum()
    {
        var hours = EnergyCalculator.Hourly(SeriesKind.Power,
            [new(At(10), 1000), new(At(10, 10), 1000), new(At(10, 40), 1000), new(At(10, 50), 2000), new(At(11, 5), 2000)], Gap);

        // 10:00–10:10 at 1 kW, nothing for the 30-minute gap, 10:40–10:50 at 1.5 kW on average, 10:50–11:05 (exactly the maximum) at 2 kW.
        Assert.Equal((1000.0 / 6 + 1500.0 / 6 + 2000.0 / 6) / 1000, Hour(hours, 10), 9);
        Assert.Equal(2000.0 / 12 / 1000, Hour(hours, 11), 9);
    }

    [Fact]
    public void AWindowKeepsOnlyItsHoursWithTheSameValuesAsTheWholeSeries()
    {
        EnergyPoint[] points = [new(At(9, 55), 500), new(At(10, 5), 700), new(At(10, 20), 900), new(At(11, 2), 100)];
        var all = EnergyCalculator.Hourly(SeriesKind.Power, points, TimeSpan.FromHours(1));

        var window = EnergyCalculator.Hourly(SeriesKind.Power, points, TimeSpan.FromHours(1), new RecomputeWindow(At(10), At(11)));

        Assert.Equal(all[At(10)], Assert.Single(window).Value, 12);
    }

    [Fact]
    public void TheWindowOfNewPointsRunsFromTheHourOfThePreviousPointToTheHourOfTheNext()
    {
        Assert.Equal(new RecomputeWindow(At(8), At(13)), EnergyCalculator.Window(At(10, 5), At(11), At(8, 59), At(12, 1)));
        Assert.Equal(new RecomputeWindow(At(10), At(11)), EnergyCalculator.Window(At(10, 5), At(10, 7), null, null));
    }

    [Theory]
    [InlineData("energy", "kWh", 2.5, SeriesKind.Counter, 2.5)]
    [InlineData("energy", "Wh", 2500, SeriesKind.Counter, 2.5)]
    [InlineData("power", "W", 1500, SeriesKind.Power, 1500)]
    [InlineData("power", "kW", 1.5, SeriesKind.Power, 1500)]
    public void EnergyIsInKilowattHoursAndPowerInWatts(string metric, string unit, double value, SeriesKind kind, double normalized)
    {
        var result = EnergyCalculator.Normalize(metric, unit, value);

        Assert.Equal(kind, result?.Kind);
        Assert.Equal(normalized, result!.Value.Value, 12);
    }

    [Theory]
    [InlineData("temperature", "°C", 21)]
    [InlineData("energy", "J", 10)]
    [InlineData("power", "W", -5)]
    [InlineData("power", "W", double.NaN)]
    [InlineData("energy", "kWh", double.PositiveInfinity)]
    public void OtherMetricsUnitsAndImpossibleValuesAreNotCounted(string metric, string unit, double value) =>
        Assert.Null(EnergyCalculator.Normalize(metric, unit, value));
}
