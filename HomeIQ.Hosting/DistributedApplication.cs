using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HomeIQ.Hosting;

/// <summary>A built distributed application: start it, watch its resources, stop it.</summary>
public sealed class DistributedApplication : IHost, IAsyncDisposable
{
    private readonly IHost _host;
    private readonly IReadOnlyList<IResource> _resources;
    private readonly string[] _args;
    private bool _disposed;

    internal DistributedApplication(IHost host, DistributedApplicationExecutionContext executionContext, IReadOnlyList<IResource> resources, string[] args)
    {
        _host = host;
        ExecutionContext = executionContext;
        _resources = resources;
        _args = args;
    }

    /// <summary>Creates a builder from command-line arguments.</summary>
    public static IDistributedApplicationBuilder CreateBuilder(string[] args) => new DistributedApplicationBuilder(new DistributedApplicationOptions { Args = args });

    /// <summary>Creates a builder with options.</summary>
    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options) => new DistributedApplicationBuilder(options);

    /// <summary>The AppHost services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Run or publish.</summary>
    public DistributedApplicationExecutionContext ExecutionContext { get; }

    /// <summary>Resource states, and waiting for them.</summary>
    public ResourceNotificationService ResourceNotifications => Services.GetRequiredService<ResourceNotificationService>();

    /// <summary>Console output of every resource.</summary>
    public ResourceLoggerService ResourceLogs => Services.GetRequiredService<ResourceLoggerService>();

    /// <summary>The resources of the application.</summary>
    public IReadOnlyList<IResource> Resources => _resources;

    /// <summary>Starts every resource; returns once they are launched (use <see cref="ResourceNotifications"/> to wait for health).</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _host.StartAsync(cancellationToken);

    /// <summary>Stops every session resource and removes its data.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _host.StopAsync(cancellationToken);

    /// <summary>Runs until Ctrl+C or SIGTERM; in publish mode, writes the manifest and returns.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (ExecutionContext.IsPublishMode)
        {
            await ManifestPublisher.PublishAsync(_resources, _args, cancellationToken).ConfigureAwait(false);
            return;
        }
        await _host.RunAsync(cancellationToken).ConfigureAwait(false);
        _disposed = true;
    }

    /// <summary>Runs until Ctrl+C or SIGTERM.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            await _host.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                _host.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
