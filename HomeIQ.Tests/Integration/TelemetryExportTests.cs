using System.Text;

namespace HomeIQ.Tests.Integration;

/// <summary>ServiceDefaults exports traces, metrics and logs over OTLP/HTTP when the AppHost gives an endpoint.</summary>
public sealed class TelemetryExportTests(AppHostFixture fixture)
{
    [Fact]
    public async Task AServiceExportsTracesMetricsAndLogsAsProtobufWithTheApiKey()
    {
        var ct = TestApps.Timeout();
        using var http = fixture.App.CreateHttpClient("echo-otlp");
        for (var i = 0; i < 3; i++)
        {
            (await http.GetAsync("/pid", ct)).EnsureSuccessStatusCode();
            (await http.GetAsync("/health", ct)).EnsureSuccessStatusCode();
            (await http.GetAsync("/alive", ct)).EnsureSuccessStatusCode();
        }

        foreach (var path in new[] { "/v1/traces", "/v1/metrics", "/v1/logs" })
        {
            while (!fixture.Otlp.Requests.Any(r => r.Path == path))
            {
                await Task.Delay(100, ct);
            }
        }
        await Task.Delay(1500, ct); // one more export interval, so probe spans would have been sent by now

        Assert.All(fixture.Otlp.Requests, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.All(fixture.Otlp.Requests, r => Assert.Equal("test-key", r.ApiKey));
        var logs = fixture.Otlp.Requests.Where(r => r.Path == "/v1/logs").Select(r => Encoding.UTF8.GetString(r.Body));
        Assert.Contains(logs, body => body.Contains("Echo answered its process id", StringComparison.Ordinal));
        var everything = string.Concat(fixture.Otlp.Requests.Select(r => Encoding.UTF8.GetString(r.Body)));
        Assert.Contains("echo-otlp", everything, StringComparison.Ordinal); // service.name from OTEL_SERVICE_NAME
        var traces = string.Concat(fixture.Otlp.Requests.Where(r => r.Path == "/v1/traces").Select(r => Encoding.UTF8.GetString(r.Body)));
        Assert.Contains("GET /pid", traces, StringComparison.Ordinal);
        Assert.Contains("http.route", traces, StringComparison.Ordinal);
        Assert.DoesNotContain("/health", traces, StringComparison.Ordinal);
        Assert.DoesNotContain("/alive", traces, StringComparison.Ordinal);
    }
}
