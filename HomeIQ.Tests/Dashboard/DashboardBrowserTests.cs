using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Integration;
using Microsoft.Playwright;

namespace HomeIQ.Tests.Dashboard;

/// <summary>The dashboard in a real browser (headless Chromium), against a real running application.</summary>
public sealed class DashboardBrowserTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static readonly LocatorAssertionsToHaveTextOptions Patient = new() { Timeout = 30_000 };

    [Fact]
    public async Task AVisitorWithoutTheTokenIsRefusedAndTheLoginLinkLetsThemIn()
    {
        var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var refused = await page.GotoAsync(fixture.Dashboard.Url!.ToString());
        var refusedText = await page.TextContentAsync("body");
        var wrongToken = await page.GotoAsync(new Uri(fixture.Dashboard.Url, "/login?t=not-the-token").ToString());
        await page.GotoAsync(fixture.Dashboard.LoginUrl!.ToString());
        await Assertions.Expect(page.Locator("main h2").First).ToHaveTextAsync("Resources", Patient);
        using var anonymous = new HttpClient();
        using var api = await anonymous.GetAsync(new Uri(fixture.Dashboard.Url, "/api/v1/resources"), TestContext.Current.CancellationToken);

        Assert.Equal(401, refused!.Status);
        Assert.Contains("Log in", refusedText, StringComparison.Ordinal);
        Assert.Equal(401, wrongToken!.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Contains(await context.CookiesAsync(), c => c.Name == "homeiq-dashboard" && c.HttpOnly);
        await context.DisposeAsync();
    }

    [Fact]
    public async Task ResourcesAreListedAsRunningAndHealthy()
    {
        var page = await fixture.LoggedInPageAsync();

        foreach (var name in new[] { "echo", "trace-sample", "messaging" })
        {
            var row = page.Locator($"tr[data-resource='{name}']");
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", Patient);
            await Assertions.Expect(row.Locator(".health")).ToHaveTextAsync("Healthy", Patient);
        }
        await DashboardFixture.ScreenshotAsync(page, "resources");
        await page.Context.DisposeAsync();
    }

    [Fact]
    public async Task AStopCommandPutsTheResourceInExitedAndStartBringsItBack()
    {
        var page = await fixture.LoggedInPageAsync();
        var row = page.Locator("tr[data-resource='echo-stoppable']");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", Patient);
        var pid = Assert.Single(TestApps.Pids(fixture.App, "echo-stoppable"));

        await row.Locator("button[data-command='resource-stop']").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Exited", Patient);
        var stoppedPids = TestApps.Pids(fixture.App, "echo-stoppable");
        await row.Locator("button[data-command='resource-start']").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", Patient);
        await Assertions.Expect(row.Locator(".health")).ToHaveTextAsync("Healthy", Patient);

        Assert.Empty(stoppedPids);
        Assert.False(TestApps.IsAlive(pid), "the stopped process is gone");
        Assert.NotEqual(pid, Assert.Single(TestApps.Pids(fixture.App, "echo-stoppable")));
        await page.Context.DisposeAsync();
    }

    [Fact]
    public async Task TheConsoleOfAResourceShowsNewOutputLive()
    {
        var page = await fixture.LoggedInPageAsync();
        await page.GotoAsync(new Uri(fixture.Dashboard.Url!, "/#/console/echo").ToString());
        await Assertions.Expect(page.Locator("#console")).ToContainTextAsync("Now listening on", new() { Timeout = 30_000 });
        using var echo = fixture.App.CreateHttpClient("echo");

        var pid = await echo.GetFromJsonAsync<int>("/pid", TestContext.Current.CancellationToken);

        await Assertions.Expect(page.Locator("#console")).ToContainTextAsync($"Echo answered its process id {pid}", new() { Timeout = 30_000 });
        await DashboardFixture.ScreenshotAsync(page, "console");
        await page.Context.DisposeAsync();
    }

    [Fact]
    public async Task ARequestShowsUpAsOneTraceAcrossBothServicesAndTheBroker()
    {
        var ct = TestApps.Timeout();
        using var sample = fixture.App.CreateHttpClient("trace-sample");
        using var api = new HttpClient { BaseAddress = fixture.Dashboard.Url };
        api.DefaultRequestHeaders.Authorization = new("Bearer", fixture.Dashboard.Token);

        (await sample.PostAsync("/work", null, ct)).EnsureSuccessStatusCode();
        JsonElement trace;
        while (true)
        {
            var traces = await api.GetFromJsonAsync<JsonElement>("/api/v1/traces?limit=50", ct);
            var candidate = traces.EnumerateArray().FirstOrDefault(t => t.GetProperty("name").GetString()!.Contains("/work", StringComparison.Ordinal));
            if (candidate.ValueKind != JsonValueKind.Undefined)
            {
                trace = await api.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{candidate.GetProperty("traceId").GetString()}", ct);
                var spans = trace.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
                if (spans.Any(s => s.StartsWith("process ", StringComparison.Ordinal)) && spans.Any(s => s.Contains("/pid", StringComparison.Ordinal)))
                {
                    break;
                }
            }
            await Task.Delay(250, ct);
        }
        var page = await fixture.LoggedInPageAsync();
        await page.GotoAsync(new Uri(fixture.Dashboard.Url!, "/#/traces").ToString());
        await Assertions.Expect(page.Locator("tr.trace").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await DashboardFixture.ScreenshotAsync(page, "traces");
        await page.GotoAsync(new Uri(fixture.Dashboard.Url!, $"/#/traces/{trace.GetProperty("traceId").GetString()}").ToString());
        await Assertions.Expect(page.Locator(".waterfall .row").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await DashboardFixture.ScreenshotAsync(page, "trace-waterfall");

        var all = trace.GetProperty("spans").EnumerateArray().ToList();
        var resources = all.Select(s => s.GetProperty("resource").GetString()).Distinct().ToList();
        Assert.Contains("trace-sample", resources);
        Assert.Contains("echo", resources);
        Assert.Contains(all, s => s.GetProperty("name").GetString()!.StartsWith("publish sample.work-done.v1", StringComparison.Ordinal));
        Assert.Contains(all, s => s.GetProperty("name").GetString()!.StartsWith("process sample.work-done.v1", StringComparison.Ordinal));
        var waterfall = await page.Locator(".waterfall").TextContentAsync();
        Assert.Contains("process sample.work-done.v1", waterfall, StringComparison.Ordinal);
        Assert.Contains("GET /pid", waterfall, StringComparison.Ordinal);
        await page.Context.DisposeAsync();
    }

    [Fact]
    public async Task StructuredLogsAndMetricsPagesShowTheServicesTelemetry()
    {
        var ct = TestApps.Timeout();
        using var echo = fixture.App.CreateHttpClient("echo");
        var pid = await echo.GetFromJsonAsync<int>("/pid", ct);
        var page = await fixture.LoggedInPageAsync();

        await page.GotoAsync(new Uri(fixture.Dashboard.Url!, "/#/logs").ToString());
        await page.FillAsync("#f-text", $"process id {pid}");
        await Assertions.Expect(page.Locator("tr.log").First).ToContainTextAsync($"Echo answered its process id {pid}", new() { Timeout = 30_000 });
        await DashboardFixture.ScreenshotAsync(page, "structured-logs");
        await page.GotoAsync(new Uri(fixture.Dashboard.Url!, "/#/metrics/echo/http.server.request.duration").ToString());
        await Assertions.Expect(page.Locator(".chart svg polyline").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await DashboardFixture.ScreenshotAsync(page, "metrics");

        Assert.True(await page.Locator(".list a").CountAsync() > 0);
        await page.Context.DisposeAsync();
    }

    [Fact]
    public async Task ProjectsAreGivenTheDashboardsOtlpEndpointAndKey()
    {
        using var echo = fixture.App.CreateHttpClient("echo");

        var env = await echo.GetFromJsonAsync<Dictionary<string, string>>("/env", TestContext.Current.CancellationToken);

        Assert.Equal(fixture.Dashboard.OtlpEndpoint!.ToString().TrimEnd('/'), env!["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal($"x-otlp-api-key={fixture.Dashboard.OtlpApiKey}", env["OTEL_EXPORTER_OTLP_HEADERS"]);
    }

    [Fact]
    public async Task ACommandPostedFromAnotherLocalhostOriginIsRefusedEvenWithTheCookie()
    {
        var ct = TestContext.Current.CancellationToken;
        using var handler = new HttpClientHandler { UseCookies = false };
        using var http = new HttpClient(handler) { BaseAddress = fixture.Dashboard.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/resources/echo-stoppable/commands/resource-stop");
        request.Headers.Add("Cookie", $"homeiq-dashboard={fixture.Dashboard.Token}");
        request.Headers.Add("Origin", "http://localhost:5999");

        using var response = await http.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("echo-stoppable", out var e));
        Assert.NotEqual(KnownResourceStates.Exited, e!.Snapshot.State);
    }
}
