using HomeIQ.Contracts;
using HomeIQ.Energy.Domain;

namespace HomeIQ.Tests.Energy;

public sealed class EnergyReadingsTests
{
    private static readonly DateTime Now = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void OnlyEnergyAndPowerReadingsArePickedInKilowattHoursAndWattsTheFirstOfEachKeyWinning()
    {
        var home = Guid.NewGuid();
        var device = Guid.NewGuid();
        var at = new DateTimeOffset(Now.AddMinutes(-5));
        SensorReadingsReceived[] events =
        [
            new(home, "hub", [new(device, "temperature", 21, "°C", at), new(device, "energy", 1500, "Wh", at), new(device, "power", 1.2, "kW", at)]),
            new(home, "hub", [new(device, "energy", 9, "kWh", at), new(device, "humidity", 40, "%", at), new(device, "power", 5, "W", at.AddYears(1))]),
        ];

        var picked = EnergyReadings.Pick(events, Now);

        Assert.Equal([new EnergyReading(home, device, SeriesKind.Counter, at.UtcDateTime, 1.5), new EnergyReading(home, device, SeriesKind.Power, at.UtcDateTime, 1200)],
            picked);
    }

    [Fact]
    public void ABatchOfTemperaturesPicksNothing()
    {
        var readings = Enumerable.Range(0, 1000).Select(i => new SensorReading(Guid.NewGuid(), "temperature", i, "°C", new DateTimeOffset(Now))).ToList();

        Assert.Empty(EnergyReadings.Pick([new SensorReadingsReceived(Guid.NewGuid(), "hub", readings)], Now));
    }
}
