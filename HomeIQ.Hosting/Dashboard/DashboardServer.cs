using System.Security.Cryptography;
using HomeIQ.Hosting.Dashboard.Otlp;
using HomeIQ.Hosting.Dashboard.Telemetry;
using HomeIQ.Hosting.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting.Dashboard;

/// <summary>
/// The AppHost's dashboard: pages and JSON API on one loopback port, the OTLP/HTTP receiver on another.
/// It starts before the resources, so every project is given the receiver's endpoint and key.
/// </summary>
internal sealed class DashboardServer(
    DashboardOptions options, DashboardInfo info, TelemetryStore telemetry, IServiceProvider appHostServices, bool randomPorts, ILogger logger) : IHostedService
{
    private WebApplication? _ui;
    private WebApplication? _otlp;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        info.Token = string.IsNullOrEmpty(options.Token) ? RandomNumberGenerator.GetHexString(32, lowercase: true) : options.Token;
        info.OtlpApiKey = string.IsNullOrEmpty(options.OtlpApiKey) ? RandomNumberGenerator.GetHexString(32, lowercase: true) : options.OtlpApiKey;

        _otlp = CreateApp(options.OtlpHttpUrl, app => app.MapOtlpReceiver(telemetry, info.OtlpApiKey));
        info.OtlpEndpoint = await StartAsync(_otlp, options.OtlpHttpUrl, cancellationToken).ConfigureAwait(false);

        _ui = CreateApp(options.Url, app =>
        {
            app.UseTokenAuth(info.Token);
            app.MapStaticAssets();
            var api = app.MapGroup("/api/v1");
            api.MapResourceApi();
            api.MapTelemetryApi(telemetry);
            api.MapGet("/events", (HttpContext context) => EventStream.StreamAsync(context,
                appHostServices.GetRequiredService<ResourceNotificationService>(), appHostServices.GetRequiredService<ResourceLoggerService>(), telemetry));
        });
        info.Url = await StartAsync(_ui, options.Url, cancellationToken).ConfigureAwait(false);
        info.LoginUrl = new Uri(info.Url, $"/login?t={info.Token}");
        logger.LogInformation("Login to the dashboard at {LoginUrl}", info.LoginUrl);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var app in new[] { _ui, _otlp })
        {
            if (app is not null)
            {
                await app.StopAsync(cancellationToken).ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private WebApplication CreateApp(string url, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(appHostServices.GetRequiredService<ResourceNotificationService>());
        builder.Services.AddSingleton(appHostServices.GetRequiredService<ResourceLoggerService>());
        builder.Services.AddSingleton(appHostServices.GetRequiredService<ResourceCommandService>());
        builder.WebHost.UseUrls(randomPorts ? WithPort(url, 0) : url);
        var app = builder.Build();
        app.UseExceptionHandler();
        map(app);
        return app;
    }

    /// <summary>Starts on the configured address, or on a free loopback port (with a warning) when another AppHost holds it.</summary>
    private async Task<Uri> StartAsync(WebApplication app, string url, CancellationToken cancellationToken)
    {
        if (randomPorts)
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return BoundAddress(app);
        }
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new Uri(url);
        }
        catch (IOException ex)
        {
            logger.LogWarning("{Url} is in use ({Message}); the dashboard takes a free port instead", url, ex.Message);
            app.Urls.Clear();
            app.Urls.Add(WithPort(url, 0));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return BoundAddress(app);
        }
    }

    private static Uri BoundAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    private static string WithPort(string url, int port) => new UriBuilder(url) { Port = port, Host = "127.0.0.1" }.Uri.ToString().TrimEnd('/');
}
