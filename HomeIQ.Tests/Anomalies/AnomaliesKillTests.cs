using System.Diagnostics;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;
using HomeIQ.Tests.Pipeline;
using static HomeIQ.Tests.Anomalies.AnomaliesClient;

namespace HomeIQ.Tests.Anomalies;

/// <summary>
/// Anomalies under kill -9: while readings with injected spikes flow through the gateway, the anomalies process is killed with
/// SIGKILL and restarted by the orchestrator. Its learned states, anomalies, outbox rows and inbox rows commit together, so after
/// it comes back every spike is raised exactly once: nothing is lost with the killed batch and nothing is raised again on redelivery.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class AnomaliesKillTests(PipelineFixture fixture)
{
    private const int Readings = 240;
    private static readonly Dictionary<int, double> Spikes = new() { [60] = 25, [110] = 25.5, [160] = 26, [210] = 24.5 };

    [Fact]
    public async Task EverySpikeIsRaisedExactlyOnceWhenTheAnomaliesProcessIsKilledMidStream()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(5));
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("anomalies", ct);
        var home = await fixture.NewHomeAsync(4);
        var gateway = fixture.App.CreateHttpClient("gateway");
        var client = new IdentityClient(gateway);
        // One reading a minute per device over the last four hours, with a spike every fifty minutes (longer than the cooldown).
        var series = home.Devices.Select((_, d) =>
        {
            var values = Temperatures(Readings, seed: 100 + d);
            foreach (var (at, value) in Spikes)
            {
                values[at] = value;
            }
            return values;
        }).ToArray();
        var last = DateTimeOffset.UtcNow.AddMinutes(-1);

        async Task SendAsync(int from, int to)
        {
            for (var chunk = from; chunk < to; chunk += 10)
            {
                for (var d = 0; d < home.Devices.Count; d++)
                {
                    var end = Math.Min(chunk + 10, Readings);
                    await IngestAsync(gateway, home.HubKey, home.Devices[d], series[d][chunk..end], last - ((Readings - end) * TimeSpan.FromMinutes(1)), TimeSpan.FromMinutes(1));
                }
            }
        }

        await SendAsync(0, 80);
        await using (var killed = await fixture.App.KillOneAsync("anomalies"))
        {
            await SendAsync(80, Readings); // queued by the broker while the service is down
            await killed.BackAsync(ct);
        }

        var expected = home.Devices.Count * Spikes.Count;
        var outliers = await PollAsync(() => ListAsync(client, home.HomeId, home.Token, "kind=outlier&limit=500"), a => a.Length >= expected, TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(3), ct); // anything raised twice would show up by now
        outliers = await ListAsync(client, home.HomeId, home.Token, "kind=outlier&limit=500");
        var all = await ListAsync(client, home.HomeId, home.Token, "limit=500");

        foreach (var device in home.Devices)
        {
            var values = outliers.Where(a => a.GetProperty("deviceId").GetGuid() == device).Select(a => a.GetProperty("value").GetDouble()).Order();
            Assert.Equal(Spikes.Values.Order(), values);
        }
        var unresolved = all.Where(a => a.GetProperty("status").GetString() != "resolved")
            .GroupBy(a => (a.GetProperty("deviceId").GetGuid(), a.GetProperty("metric").GetString(), a.GetProperty("kind").GetString()));
        Assert.All(unresolved, g => Assert.Single(g));
    }
}
