using HomeIQ.Notifications.Domain;
using HomeIQ.ServiceDefaults.Time;

namespace HomeIQ.Tests.Notifications;

/// <summary>Quiet hours are local wall-clock times in the user's zone, across midnight and through daylight-saving changes.</summary>
public sealed class QuietHoursTests
{
    private static readonly TimeZoneInfo Paris = TimeZones.Find("Europe/Paris")!;
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York")!;
    private static readonly DailyWindow Night = new(new TimeOnly(22, 0), new TimeOnly(7, 0));

    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-01-15T21:00:00Z", true)]  // 22:00 in Paris (CET): the first minute of the window
    [InlineData("2026-01-15T20:59:00Z", false)] // 21:59
    [InlineData("2026-01-15T23:30:00Z", true)]  // 00:30, past midnight
    [InlineData("2026-01-16T05:59:00Z", true)]  // 06:59
    [InlineData("2026-01-16T06:00:00Z", false)] // 07:00: the end is outside
    [InlineData("2026-01-16T12:00:00Z", false)] // noon
    public void AWindowAcrossMidnightHoldsTheLateEveningAndTheEarlyMorning(string instant, bool quiet) =>
        Assert.Equal(quiet, Night.Contains(Utc(instant), Paris));

    [Theory]
    // Paris moves to CEST on 2026-03-29 at 01:00 UTC: 05:30 UTC is 06:30 the day before and 07:30 that morning.
    [InlineData("2026-03-28T05:30:00Z", true)]
    [InlineData("2026-03-29T05:30:00Z", false)]
    // …and back to CET on 2026-10-25 at 01:00 UTC: 20:30 UTC is 22:30 the evening before and 21:30 that evening.
    [InlineData("2026-10-24T20:30:00Z", true)]
    [InlineData("2026-10-25T20:30:00Z", false)]
    // The night of the change itself: 01:30 UTC on 2026-03-29 is 03:30 CEST, still quiet.
    [InlineData("2026-03-29T01:30:00Z", true)]
    public void TheWindowFollowsTheWallClockThroughDaylightSavingChanges(string instant, bool quiet) =>
        Assert.Equal(quiet, Night.Contains(Utc(instant), Paris));

    [Fact]
    public void TheSameInstantIsQuietInOneZoneAndNotInAnother()
    {
        var instant = Utc("2026-07-01T03:00:00Z"); // 05:00 in Paris, 23:00 the evening before in New York
        var morning = new DailyWindow(new TimeOnly(6, 0), new TimeOnly(9, 0));

        Assert.True(Night.Contains(instant, Paris));
        Assert.True(Night.Contains(instant, NewYork));
        Assert.False(morning.Contains(instant, Paris));
        Assert.True(morning.Contains(Utc("2026-07-01T11:00:00Z"), NewYork)); // 07:00 EDT
    }

    [Fact]
    public void AWindowWithinOneDayHoldsOnlyItsOwnHours()
    {
        var lunch = new DailyWindow(new TimeOnly(12, 0), new TimeOnly(13, 30));
        Assert.True(lunch.Contains(Utc("2026-01-15T11:15:00Z"), Paris));
        Assert.False(lunch.Contains(Utc("2026-01-15T12:30:00Z"), Paris));
        Assert.False(lunch.Contains(Utc("2026-01-15T10:59:00Z"), Paris));
    }

    [Theory]
    [InlineData("Europe/Paris", true)]
    [InlineData("America/New_York", true)]
    [InlineData("UTC", true)]
    [InlineData("Mars/Olympus", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void OnlyKnownZonesAreFound(string? id, bool found) => Assert.Equal(found, TimeZones.Find(id) is not null);
}
