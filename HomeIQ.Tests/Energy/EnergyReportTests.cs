using HomeIQ.Energy.Domain;
using HomeIQ.ServiceDefaults.Time;

namespace HomeIQ.Tests.Energy;

/// <summary>Producers, net and self-consumption, and tariffs (versions, time of use, DST, standing charge) against hand-computed values.</summary>
public sealed class EnergyReportTests
{
    private static readonly Guid Fridge = Guid.NewGuid();
    private static readonly Guid Solar = Guid.NewGuid();
    private static readonly TimeZoneInfo Paris = TimeZones.Find("Europe/Paris")!;

    private static readonly Dictionary<Guid, DeviceInfo> Devices = new()
    {
        [Fridge] = new(Fridge, "Fridge", Guid.NewGuid(), Producer: false),
        [Solar] = new(Solar, "Roof", null, Producer: true),
    };

    private static DateTime Utc(int month, int day, int hour) => new(2026, month, day, hour, 0, 0, DateTimeKind.Utc);

    private static TariffVersion Flat(double price, DateTime from, double standing = 0) => new(from, TimeZoneInfo.Utc, "EUR", price, standing, []);

    [Fact]
    public void ProductionIsSubtractedForNetAndSelfConsumptionIsTheSmallerOfTheTwoEachHour()
    {
        HourRow[] rows = [new(Fridge, Utc(3, 10, 10), 2), new(Solar, Utc(3, 10, 10), 1.5), new(Fridge, Utc(3, 10, 11), 1), new(Solar, Utc(3, 10, 11), 3)];
        var tariffs = new TariffHistory([Flat(0.2, Utc(1, 1, 0))]);

        var home = EnergyReport.Total(rows, Devices, tariffs, Utc(3, 10, 0), Utc(3, 11, 0));
        var byDevice = EnergyReport.Summarize(rows, Devices, tariffs, Utc(3, 10, 0), Utc(3, 11, 0), Bucket.All, GroupBy.Device);

        Assert.Equal(3, home.ConsumedKWh, 9);
        Assert.Equal(4.5, home.ProducedKWh, 9);
        Assert.Equal(-1.5, home.NetKWh, 9);
        Assert.Equal(2.5, home.SelfConsumedKWh!.Value, 9); // min(2, 1.5) + min(1, 3)
        Assert.Equal(0.1, home.Cost!.Value, 9); // the grid supplied 0.5 kWh at 0.2
        Assert.Equal(0.6, byDevice.Single(r => r.GroupId == Fridge.ToString()).Cost!.Value, 9);
        Assert.Equal(0, byDevice.Single(r => r.GroupId == Solar.ToString()).Cost!.Value, 9);
        Assert.Null(byDevice[0].SelfConsumedKWh);
    }

    [Fact]
    public void ANewTariffVersionDoesNotChangeTheCostOfEarlierHours()
    {
        HourRow[] rows = [new(Fridge, Utc(1, 15, 10), 1), new(Fridge, Utc(2, 15, 10), 1)];
        var tariffs = new TariffHistory([Flat(0.4, Utc(2, 1, 0)), Flat(0.2, Utc(1, 1, 0))]);

        var total = EnergyReport.Total(rows, Devices, tariffs, Utc(1, 10, 0), Utc(2, 20, 0));

        Assert.Equal(0.6, total.Cost!.Value, 9);
    }

    [Fact]
    public void WithoutATariffThereIsNoCost() =>
        Assert.Null(EnergyReport.Total([new(Fridge, Utc(3, 10, 10), 1)], Devices, TariffHistory.None, Utc(3, 10, 0), Utc(3, 11, 0)).Cost);

    [Fact]
    public void ATimeOfUsePeriodFollowsTheLocalClockAcrossTheChangeToSummerTime()
    {
        var tariff = new TariffVersion(Utc(1, 1, 0), Paris, "EUR", 0.1, 0, [new TouPeriod("peak", 7, 23, [], 0.3)]);

        Assert.Equal(0.1, tariff.PriceAt(Utc(3, 28, 5))); // 06:00 CET
        Assert.Equal(0.3, tariff.PriceAt(Utc(3, 28, 6))); // 07:00 CET
        Assert.Equal(0.3, tariff.PriceAt(Utc(3, 29, 5))); // 07:00 CEST: the same UTC hour is peak after the change
        Assert.Equal(0.3, tariff.PriceAt(Utc(3, 29, 20))); // 22:00 CEST
        Assert.Equal(0.1, tariff.PriceAt(Utc(3, 29, 21))); // 23:00 CEST
    }

    [Fact]
    public void PeriodsCanWrapPastMidnightAndBeLimitedToWeekdays()
    {
        var tariff = new TariffVersion(Utc(1, 1, 0), TimeZoneInfo.Utc, "EUR", 0.25, 0,
            [new TouPeriod("weekend", 0, 24 % 24, [DayOfWeek.Saturday, DayOfWeek.Sunday], 0.05), new TouPeriod("night", 22, 6, [], 0.1)]);

        Assert.Equal(0.05, tariff.PriceAt(Utc(3, 28, 12))); // Saturday
        Assert.Equal(0.1, tariff.PriceAt(Utc(3, 30, 23))); // Monday 23:00
        Assert.Equal(0.1, tariff.PriceAt(Utc(3, 31, 5))); // Tuesday 05:00
        Assert.Equal(0.25, tariff.PriceAt(Utc(3, 31, 6)));
    }

    [Theory]
    [InlineData(3, 29, 23)] // spring forward
    [InlineData(10, 25, 25)] // fall back
    [InlineData(6, 10, 24)]
    public void TheStandingChargeOfALocalDayIsChargedOnceHoweverManyHoursItHas(int month, int day, int hours)
    {
        var tariffs = new TariffHistory([new TariffVersion(Utc(1, 1, 0), Paris, "EUR", 0.2, 0.5, [])]);
        var start = LocalTime.StartOf(new DateTime(2026, month, day), Paris);
        var end = LocalTime.NextDayStart(start, Paris);

        var rows = EnergyReport.Summarize([], Devices, tariffs, start, end, Bucket.Day, GroupBy.Home);

        Assert.Equal(hours, (end - start).TotalHours);
        var row = Assert.Single(rows);
        Assert.Equal(start, row.Start);
        Assert.Equal(0.5, row.Cost!.Value, 9);
    }

    [Fact]
    public void WhereTheLocalDayStartsMidHourEachHourCountsWithTheDayItStartsIn()
    {
        var kolkata = TimeZones.Find("Asia/Kolkata")!;
        var tariffs = new TariffHistory([new TariffVersion(Utc(1, 1, 0), kolkata, "INR", 8, 24, [])]);
        var start = LocalTime.StartOf(new DateTime(2026, 3, 10), kolkata); // 18:30 UTC the day before
        var end = LocalTime.NextDayStart(start, kolkata);
        HourRow[] rows = [new(Fridge, Utc(3, 9, 18), 5), new(Fridge, Utc(3, 9, 19), 1), new(Fridge, Utc(3, 10, 18), 2)];

        var day = EnergyReport.Total(rows, Devices, tariffs, start, end);

        Assert.Equal(new DateTime(2026, 3, 9, 18, 30, 0, DateTimeKind.Utc), start);
        Assert.Equal(3, day.ConsumedKWh, 9); // 19:00 and 18:00 UTC start on the 10th in Kolkata; 18:00 UTC on the 9th does not
        Assert.Equal((3 * 8) + 24, day.Cost!.Value, 9); // and the standing charge is charged for exactly 24 hours
    }

    [Fact]
    public void DayBucketsStartAtLocalMidnight()
    {
        var tariffs = new TariffHistory([new TariffVersion(Utc(1, 1, 0), Paris, "EUR", 0.2, 0, [])]);
        HourRow[] rows = [new(Fridge, Utc(6, 10, 21), 1), new(Fridge, Utc(6, 10, 22), 2)]; // 23:00 and 00:00 in Paris

        var days = EnergyReport.Summarize(rows, Devices, tariffs, Utc(6, 10, 0), Utc(6, 12, 0), Bucket.Day, GroupBy.Home);

        Assert.Equal(1, days.Single(d => d.Start == Utc(6, 9, 22)).ConsumedKWh);
        Assert.Equal(2, days.Single(d => d.Start == Utc(6, 10, 22)).ConsumedKWh);
    }

    [Fact]
    public void TheBaselineIsALowPercentileOfHourlyAveragePower()
    {
        var rows = Enumerable.Range(0, 10).Select(h => new HourRow(Fridge, Utc(3, 10, h), (h + 1) * 0.1)).Append(new HourRow(Solar, Utc(3, 10, 0), 5)).ToList();

        var baseline = EnergyReport.Baseline(rows, Devices, 10);

        Assert.Equal(100, baseline!.Value.Watts, 9); // the lowest of ten hours: 0.1 kWh in an hour is 100 W on average
        Assert.Equal(10, baseline.Value.Hours);
    }

    [Theory]
    [InlineData("Europe/Paris", true)]
    [InlineData("America/New_York", true)]
    [InlineData("Mars/Olympus_Mons", false)]
    [InlineData("../../etc/passwd", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void OnlyKnownTimeZonesAreFound(string? id, bool found) => Assert.Equal(found, TimeZones.Find(id) is not null);
}
