using System.Net;
using System.Text;

namespace HomeIQ.Tests.Integration;

/// <summary>A client's mistake is answered 4xx and is not logged as a server error.</summary>
public sealed class ClientErrorLoggingTests(AppHostFixture fixture)
{
    [Fact]
    public async Task MalformedJsonIsA400ThatLeavesNoErrorInTheServicesLogs()
    {
        var ct = TestApps.Timeout();
        using var echo = fixture.App.CreateHttpClient("echo-otlp");
        var statuses = new List<HttpStatusCode>();
        foreach (var body in new[] { "{not json", "[1,2]", "{\"name\":{},\"count\":\"many\"}" })
        {
            using var response = await echo.PostAsync("/json", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            statuses.Add(response.StatusCode);
        }
        // A log written after the bad requests: once it is exported, anything they logged has been exported before it.
        int Answers() => LogsExported().Sum(body => CountOf(body, "Echo answered its process id"));
        var before = Answers();
        (await echo.GetAsync("/pid", ct)).EnsureSuccessStatusCode();
        while (Answers() == before)
        {
            await Task.Delay(100, ct);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.BadRequest, s));
        Assert.DoesNotContain(LogsExported(), body => body.Contains("BadHttpRequestException", StringComparison.Ordinal));
    }

    private IEnumerable<string> LogsExported() =>
        fixture.Otlp.Requests.Where(r => r.Path == "/v1/logs").Select(r => Encoding.UTF8.GetString(r.Body)).ToList();

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
