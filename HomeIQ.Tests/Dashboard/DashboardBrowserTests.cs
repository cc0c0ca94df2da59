using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Ingestion;
using HomeIQ.Tests.Integration;
using Microsoft.Playwright;

namespace HomeIQ.Tests.Dashboard;

/// <summary>The Aspire dashboard of the AppHost composition, driven in headless Chromium from the Debian package; screenshots go to artifacts/.</summary>
public sealed class DashboardBrowserTests(AppHostFixture fixture) : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private static string ScreenshotDirectory { get; } = Directory.CreateDirectory(Path.Combine(RepositoryRoot(), "artifacts", "screenshots")).FullName;

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"The browser tests need Chromium at {ChromiumPath}: apt-get install chromium (./homeiq test installs it).");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    [Fact]
    public async Task ThePrintedLoginLinkOpensTheDashboardAndEveryResourceIsRunningAndHealthy()
    {
        var ct = TestApps.Timeout();
        string[] resources = ["postgres", "cache", "messaging", "mqtt", "identitydb", "devicesdb", "readingsdb", "energydb", "anomaliesdb", "automationsdb", "notificationsdb", "identity", "devices", "ingestion", "readings", "energy", "anomalies", "automations", "notifications", "gateway"];
        foreach (var name in resources)
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
        }
        var page = await LoggedInPageAsync(ct);

        // Other tests stop and start services of this shared AppHost: look until the page shows everything healthy at once.
        var table = await TextOfAsync(page, (await fixture.App.GetDashboardUrlAsync(ct)).ToString(),
            text => resources.All(r => text.Contains(r, StringComparison.Ordinal)) && !text.Contains("Unhealthy", StringComparison.Ordinal), ct);
        await ScreenshotAsync(page, "resources");

        Assert.All(resources, name => Assert.Contains(name, table, StringComparison.Ordinal));
        Assert.Contains("Running", table, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhealthy", table, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed", table, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres", "database system is ready to accept connections")]
    [InlineData("cache", "Ready to accept connections")]
    [InlineData("messaging", "Server startup complete")]
    public async Task ALocalServerShowsItsOwnConsoleLogInTheDashboard(string resource, string line)
    {
        var ct = TestApps.Timeout();
        var page = await LoggedInPageAsync(ct);

        var text = await TextOfAsync(page, new Uri(await fixture.App.GetDashboardUrlAsync(ct), $"/consolelogs/resource/{resource}").ToString(), line, ct);
        await ScreenshotAsync(page, $"console-{resource}");

        Assert.Contains(line, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReadingIngestedThroughTheGatewayIsOneTraceAcrossGatewayIngestionTheBrokerAndReadings()
    {
        var ct = TestApps.Timeout();
        var gateway = new IdentityClient(fixture.App.CreateHttpClient("gateway"));
        var (_, _, hubKey, deviceId) = await gateway.CreateHubHomeAsync();
        // The test starts the trace itself, so it knows the id to open.
        var traceId = ActivityTraceId.CreateRandom();
        async Task<HttpResponseMessage> IngestAsync()
        {
            using var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
            {
                Content = JsonContent.Create(new { readings = new[] { IngestClient.Reading(deviceId, "temperature", 21.5, "°C") } }),
            };
            ingest.Headers.Add("X-Hub-Key", hubKey);
            ingest.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            return await gateway.Http.SendAsync(ingest, ct);
        }
        var ingested = await IngestAsync();
        // Other tests of this shared AppHost stop and restart devices; ingestion then answers 503 with Retry-After, as a hub would retry.
        for (var attempt = 0; attempt < 30 && ingested.StatusCode == HttpStatusCode.ServiceUnavailable; attempt++)
        {
            ingested.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            ingested = await IngestAsync();
        }
        using var _ = ingested;
        Assert.Equal(HttpStatusCode.Accepted, ingested.StatusCode);

        var page = await LoggedInPageAsync(ct);
        // Services export telemetry in batches: the readings service's consume span is the last to arrive.
        var text = await TextOfAsync(page, new Uri(await fixture.App.GetDashboardUrlAsync(ct), $"/traces/detail/{traceId}").ToString(), "rabbitmq readings", ct);
        await ScreenshotAsync(page, "trace");

        Assert.Contains("gateway", text, StringComparison.Ordinal);
        Assert.Contains("ingestion", text, StringComparison.Ordinal);
        Assert.Contains("readings", text, StringComparison.Ordinal);
        Assert.Contains("rabbitmq homeiq.events", text, StringComparison.Ordinal); // the broker hop: the publish …
        Assert.Contains("rabbitmq readings", text, StringComparison.Ordinal); // … and the consume by readings
    }

    [Fact]
    public async Task TheServicesStructuredLogsAndMetricsReachTheDashboard()
    {
        var ct = TestApps.Timeout();
        using var gateway = fixture.App.CreateHttpClient("gateway");
        (await gateway.GetAsync("/openapi/merged.json", ct)).EnsureSuccessStatusCode(); // some traffic for the gateway's metrics
        var page = await LoggedInPageAsync(ct);
        var dashboard = await fixture.App.GetDashboardUrlAsync(ct);

        var logs = await TextOfAsync(page, new Uri(dashboard, "/structuredlogs").ToString(), "HomeIQ.", ct);
        await ScreenshotAsync(page, "structured-logs");
        var metrics = await TextOfAsync(page, new Uri(dashboard, "/metrics/resource/gateway").ToString(), "http.server.request.duration", ct);
        await ScreenshotAsync(page, "metrics");

        Assert.Contains("HomeIQ.", logs, StringComparison.Ordinal); // a HomeIQ logger's category
        Assert.Contains("http.server.request.duration", metrics, StringComparison.Ordinal);
    }

    /// <summary>
    /// The page's text once it shows <paramref name="expected"/>, reloading while telemetry arrives (or after 75 s: services export in
    /// batches, and on a loaded machine, with other tests restarting services, the last span has taken more than 30 s to arrive).
    /// </summary>
    private static Task<string> TextOfAsync(IPage page, string url, string expected, CancellationToken ct) =>
        TextOfAsync(page, url, text => text.Contains(expected, StringComparison.Ordinal), ct);

    private static async Task<string> TextOfAsync(IPage page, string url, Func<string, bool> done, CancellationToken ct)
    {
        var text = "";
        var waited = Stopwatch.StartNew();
        while (!done(text) && waited.Elapsed < TimeSpan.FromSeconds(75))
        {
            ct.ThrowIfCancellationRequested();
            await page.GotoAsync(url);
            await page.WaitForTimeoutAsync(1000);
            text = await page.Locator("body").InnerTextAsync();
        }
        return text;
    }

    private async Task<IPage> LoggedInPageAsync(CancellationToken ct)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync((await fixture.App.GetDashboardUrlAsync(ct)).ToString());
        return page;
    }

    private static Task Expect(ILocator locator) => locator.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

    private static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"dashboard-{name}.png"), FullPage = true });

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomeIQ.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? AppContext.BaseDirectory;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}
