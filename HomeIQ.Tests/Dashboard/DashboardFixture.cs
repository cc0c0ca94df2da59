using HomeIQ.Hosting.Dashboard;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace HomeIQ.Tests.Dashboard;

/// <summary>
/// An application with the dashboard turned on (random ports) and headless Chromium from the Debian package:
/// "echo", "echo-stoppable", "trace-sample" (HTTP call to echo, then a publish it consumes itself) and RabbitMQ.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public DistributedApplication App { get; private set; } = null!;
    public DashboardInfo Dashboard => App.Services.GetRequiredService<DashboardInfo>();
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: artifacts/screenshots at the repository root (CI keeps that folder).</summary>
    public static string ScreenshotDirectory { get; } = Directory.CreateDirectory(Path.Combine(RepositoryRoot(), "artifacts", "screenshots")).FullName;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"The browser tests need Chromium at {ChromiumPath}: apt-get install chromium (./homeiq test installs it).");
        }
        var ct = TestApps.Timeout();
        var builder = DistributedApplicationTestingBuilder.Create(o =>
        {
            o.DisableDashboard = false;
            o.ResourceOutput = TestApps.ToTestOutput;
        });
        var messaging = builder.AddRabbitMQ("messaging");
        var echo = builder.AddProject<Projects.EchoService>("echo").WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EchoService>("echo-stoppable").WithHttpHealthCheck("/health");
        builder.AddProject<Projects.TraceSample>("trace-sample")
            .WithReference(echo).WaitFor(echo)
            .WithReference(messaging).WaitFor(messaging)
            .WithHttpHealthCheck("/health");
        App = await builder.BuildAsync(ct);
        await App.StartAsync(ct);
        foreach (var name in new[] { "messaging", "echo", "echo-stoppable", "trace-sample" })
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A logged-in page.</summary>
    public async Task<IPage> LoggedInPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(Dashboard.LoginUrl!.ToString());
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomeIQ.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}
