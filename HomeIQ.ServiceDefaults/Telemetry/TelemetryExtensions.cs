using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace HomeIQ.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry traces, metrics and logs for a service, built with <see cref="OpenTelemetrySdk.Create"/> because
/// OpenTelemetry.Extensions.Hosting and the instrumentation packages are not available: the framework's own
/// ActivitySources and Meters cover ASP.NET Core, HttpClient and the runtime; Npgsql has its own.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>The ActivitySources traced: ASP.NET Core, HttpClient, Npgsql and every <c>HomeIQ.*</c> source.</summary>
    public static readonly IReadOnlyList<string> TraceSources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "HomeIQ.*"];

    /// <summary>The Meters collected.</summary>
    public static readonly IReadOnlyList<string> Meters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime", "Npgsql", "HomeIQ.*"];

    /// <summary>
    /// Adds telemetry. Export is OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (honouring
    /// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> and <c>OTEL_EXPORTER_OTLP_HEADERS</c>); the SDK is flushed and shut down with the host.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var exportOtlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var sdk = OpenTelemetrySdk.Create(otel =>
        {
            otel.WithTracing(tracing => tracing.AddSource([.. TraceSources]));
            otel.WithMetrics(metrics => metrics.AddMeter([.. Meters]));
            otel.WithLogging(configureBuilder: null, configureOptions: options =>
            {
                options.IncludeFormattedMessage = true;
                options.IncludeScopes = true;
            });
            if (exportOtlp)
            {
                otel.UseOtlpExporter();
            }
        });
        // Registered through a factory so the container disposes it (which shuts the SDK down) when the host is disposed.
        builder.Services.AddSingleton(_ => sdk);
        builder.Services.AddSingleton<IHostedService>(new TelemetryShutdown(sdk));
        builder.Logging.AddProvider(new ForwardingLoggerProvider(sdk.GetLoggerFactory()));
        return builder;
    }

    /// <summary>Flushes pending telemetry when the host stops (the SDK singleton is disposed after that).</summary>
    private sealed class TelemetryShutdown(OpenTelemetrySdk sdk) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            // Last words matter most (the error behind a crash): flush logs too, not only traces and metrics.
            sdk.TracerProvider.ForceFlush(2000);
            sdk.MeterProvider.ForceFlush(2000);
            sdk.LoggerProvider.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }

    /// <summary>Sends the application's ILogger output into the SDK's logger provider.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory sdkLoggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => sdkLoggers.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
