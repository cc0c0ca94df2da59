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
        var page = await LoggedInPageAsync(ct);
        string[] resources = ["postgres", "cache", "messaging", "identitydb", "devicesdb", "readingsdb", "identity", "devices", "ingestion", "readings", "gateway"];

        await Expect(page.GetByText("gateway").First);
        await page.WaitForTimeoutAsync(1000); // let the grid fill in
        await ScreenshotAsync(page, "resources");
        var table = await page.Locator("body").InnerTextAsync();

        Assert.All(resources, name => Assert.Contains(name, table, StringComparison.Ordinal));
        Assert.Contains("Running", table, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhealthy", table, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed", table, StringComparison.Ordinal);
        foreach (var name in resources)
        {
            var e = await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
            Assert.Equal(KnownResourceStates.Running, e.Snapshot.State?.Text);
        }
    }

    [Theory]
    [InlineData("postgres", "database system is ready to accept connections")]
    [InlineData("cache", "Ready to accept connections")]
    [InlineData("messaging", "Server startup complete")]
    public async Task ALocalServerShowsItsOwnConsoleLogInTheDashboard(string resource, string line)
    {
        var ct = TestApps.Timeout();
        var page = await LoggedInPageAsync(ct);

        await page.GotoAsync(new Uri(await fixture.App.GetDashboardUrlAsync(ct), $"/consolelogs/resource/{resource}").ToString());
        var text = "";
        for (var attempt = 0; attempt < 20 && !text.Contains(line, StringComparison.Ordinal); attempt++)
        {
            await page.WaitForTimeoutAsync(500);
            text = await page.Locator("body").InnerTextAsync();
        }
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
        using var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
        {
            Content = JsonContent.Create(new { readings = new[] { IngestClient.Reading(deviceId, "temperature", 21.5, "°C") } }),
        };
        ingest.Headers.Add("X-Hub-Key", hubKey);
        ingest.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var ingested = await gateway.Http.SendAsync(ingest, ct);
        Assert.Equal(HttpStatusCode.Accepted, ingested.StatusCode);

        var page = await LoggedInPageAsync(ct);
        var detail = new Uri(await fixture.App.GetDashboardUrlAsync(ct), $"/traces/detail/{traceId}").ToString();
        string text = "";
        for (var attempt = 0; attempt < 30 && !(text.Contains("readings", StringComparison.Ordinal) && text.Contains("ingestion", StringComparison.Ordinal)); attempt++)
        {
            // Services export telemetry in batches: reload until every hop has arrived.
            await page.GotoAsync(detail);
            await page.WaitForTimeoutAsync(1000);
            text = await page.Locator("body").InnerTextAsync();
        }
        await ScreenshotAsync(page, "trace");

        Assert.Contains("gateway", text, StringComparison.Ordinal);
        Assert.Contains("ingestion", text, StringComparison.Ordinal);
        Assert.Contains("readings", text, StringComparison.Ordinal);
        Assert.Contains("rabbitmq", text, StringComparison.Ordinal); // the broker hop: publish and consume spans
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
