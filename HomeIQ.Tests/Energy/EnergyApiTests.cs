using System.Net;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Energy;

/// <summary>Energy through the gateway, fed by real hubs' readings through ingestion and the broker.</summary>
public sealed class EnergyApiTests(AppHostFixture fixture)
{
    private static DateTimeOffset FloorHour(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);

    private async Task<EnergyHome> NewHomeAsync()
    {
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("energy", TestApps.Timeout());
        return await EnergyHome.CreateAsync(fixture.App.CreateHttpClient("gateway"));
    }

    private static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    [Fact]
    public async Task PowerAndCounterReadingsResentAndOutOfOrderGiveTheHandComputedKilowattHoursAndCost()
    {
        var home = await NewHomeAsync();
        var tariff = await home.SendAsync(HttpMethod.Put, $"/api/v1/homes/{home.HomeId}/energy/tariff",
            new { timeZone = "Europe/Paris", currency = "EUR", pricePerKWh = 0.25, effectiveFrom = DateTimeOffset.UtcNow.AddDays(-1) });
        Assert.Equal(HttpStatusCode.OK, tariff.Status);
        var t = FloorHour(DateTimeOffset.UtcNow.AddHours(-3));
        object Power(int minutes, double w) => EnergyHome.Reading(home.Heater, "power", w, "W", t.AddMinutes(minutes));
        object Counter(int minutes, double kWh) => EnergyHome.Reading(home.Meter, "energy", kWh, "kWh", t.AddMinutes(minutes));

        // The later half first, then the earlier half with resends of the later; the meter is reset between 90 and 120 minutes.
        await home.IngestAsync(Power(65, 4000), Counter(90, 103), Counter(120, 0.5));
        await home.IngestAsync(Power(50, 1000), Power(65, 4000), Counter(0, 100), Counter(30, 101), Counter(120, 0.5));

        // Heater: 2000 W for 10 min + 3500 W for 5 min = 0.625 kWh. Meter: 1 + 2 + 0.5 (since the reset) = 3.5 kWh.
        var range = $"from={EnergyHome.Q(t)}&to={EnergyHome.Q(t.AddHours(3))}";
        var summary = await home.PollAsync($"summary?{range}&bucket=hour&groupBy=device",
            s => Math.Abs(Number(s.GetProperty("total"), "consumedKWh") - 4.125) < 1e-6);
        Assert.Equal(4.125, Number(summary.GetProperty("total"), "consumedKWh"), 6);
        Assert.Equal(4.125 * 0.25, Number(summary.GetProperty("total"), "cost"), 6);
        Assert.Equal("EUR", summary.GetProperty("currency").GetString());
        var heaterRows = summary.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("groupId").GetString() == home.Heater.ToString()).ToList();
        Assert.Equal([2000.0 / 6 / 1000, 3500.0 / 12 / 1000], heaterRows.Select(r => Math.Round(Number(r, "consumedKWh"), 6)), (a, b) => Math.Abs(a - b) < 1e-6);

        var (_, top) = await home.GetAsync($"top?{range}&limit=1");
        Assert.Equal(home.Meter, Assert.Single(top.GetProperty("devices").EnumerateArray()).GetProperty("deviceId").GetGuid());

        // The heater becomes a producer (as a solar inverter would be): hour 0 has 2 kWh consumed, 1/3 produced; hour 1 has 1.5 and 0.29.
        var role = await home.SendAsync(HttpMethod.Put, $"/api/v1/homes/{home.HomeId}/energy/devices/{home.Heater}", new { role = "producer" });
        Assert.Equal(HttpStatusCode.OK, role.Status);
        var (_, solar) = await home.GetAsync($"summary?{range}&bucket=day");
        var total = solar.GetProperty("total");
        Assert.Equal(3.5, Number(total, "consumedKWh"), 6);
        Assert.Equal(0.625, Number(total, "producedKWh"), 6);
        Assert.Equal(2.875, Number(total, "netKWh"), 6);
        Assert.Equal(0.625, Number(total, "selfConsumedKWh"), 6);

        var (_, compare) = await home.GetAsync($"compare?{range}");
        Assert.Equal(3.5, Number(compare.GetProperty("current"), "consumedKWh"), 6);
        Assert.Equal(0, Number(compare.GetProperty("previous"), "consumedKWh"));
        Assert.Equal(JsonValueKind.Null, compare.GetProperty("consumedChangePercent").ValueKind);
        var (_, baseline) = await home.GetAsync($"baseline?{range}");
        Assert.Equal(2, baseline.GetProperty("hoursMeasured").GetInt32());
        Assert.Equal(1500, Number(baseline, "baselineW"), 6); // the lower of the meter's two hours: 1.5 kWh in an hour

        var (todayStatus, today) = await home.GetAsync("today");
        Assert.Equal(HttpStatusCode.OK, todayStatus);
        Assert.Equal("EUR", today.GetProperty("currency").GetString());
        Assert.True(today.GetProperty("from").GetDateTimeOffset() < today.GetProperty("to").GetDateTimeOffset());
        Assert.True(today.TryGetProperty("kWh", out _) && today.TryGetProperty("cost", out _));
    }

    [Fact]
    public async Task OutsidersGetNotFoundGuestsReadButCannotChangeTheTariffAndBadInputNamesTheField()
    {
        var home = await NewHomeAsync();
        var outsider = new IdentityClient(home.Client.Http);
        var outsiderToken = (await outsider.RegisterAndLoginAsync(IdentityClient.NewEmail())).GetProperty("accessToken").GetString()!;
        var guestEmail = IdentityClient.NewEmail();
        await home.Client.RegisterAndLoginAsync(guestEmail);
        var added = await home.SendAsync(HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/members", new { email = guestEmail, role = "guest" });
        var guest = (await home.Client.LoginAsync(guestEmail, "correct horse battery")).GetProperty("accessToken").GetString()!;
        var flat = new { timeZone = "Europe/Paris", currency = "EUR", pricePerKWh = 0.2 };

        var (emptyStatus, empty) = await home.GetAsync("today");
        var (outsiderStatus, _) = await home.GetAsync("today", outsiderToken);
        var (guestRead, _) = await home.GetAsync("tariff", guest);
        var (guestWrite, _) = await home.SendAsync(HttpMethod.Put, $"/api/v1/homes/{home.HomeId}/energy/tariff", flat, guest);
        var (badZone, zoneProblem) = await home.SendAsync(HttpMethod.Put, $"/api/v1/homes/{home.HomeId}/energy/tariff", flat with { timeZone = "Mars/Olympus_Mons" });
        var (badBucket, bucketProblem) = await home.GetAsync("summary?bucket=week");
        var (badRange, rangeProblem) = await home.GetAsync("summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z");

        Assert.Equal(HttpStatusCode.Created, added.Status);
        Assert.Equal(HttpStatusCode.OK, emptyStatus);
        Assert.Equal(0, Number(empty, "kWh"));
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("cost").ValueKind);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("currency").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, outsiderStatus);
        Assert.Equal(HttpStatusCode.OK, guestRead);
        Assert.Equal(HttpStatusCode.Forbidden, guestWrite);
        Assert.Equal(HttpStatusCode.BadRequest, badZone);
        Assert.True(zoneProblem.GetProperty("errors").TryGetProperty("timeZone", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badBucket);
        Assert.True(bucketProblem.GetProperty("errors").TryGetProperty("bucket", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badRange);
        Assert.True(rangeProblem.GetProperty("errors").TryGetProperty("from", out _));
    }
}
