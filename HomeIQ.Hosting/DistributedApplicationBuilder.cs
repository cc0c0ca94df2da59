using System.Reflection;
using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Dashboard;
using HomeIQ.Hosting.Dashboard.Telemetry;
using HomeIQ.Hosting.Orchestration;
using HomeIQ.Hosting.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting;

/// <summary>The default <see cref="IDistributedApplicationBuilder"/>, on a .NET generic host.</summary>
public sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    private readonly HostApplicationBuilder _host;
    private readonly ResourceCollection _resources = [];

    /// <summary>Creates a builder; use <see cref="DistributedApplication.CreateBuilder(string[])"/>.</summary>
    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TestingHook.Current?.OnCreating(options);
        Options = options;
        var assembly = options.AssemblyName is { } name ? Assembly.Load(name) : Assembly.GetEntryAssembly();
        AppHostDirectory = options.ProjectDirectory
            ?? assembly?.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "AppHostProjectPath")?.Value
            ?? System.Environment.CurrentDirectory;
        _host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = options.Args,
            ApplicationName = assembly?.GetName().Name ?? "apphost",
            ContentRootPath = AppHostDirectory,
            EnvironmentName = Environments.Development,
        });
        _host.Configuration.AddJsonFile(Path.Combine(AppHostDirectory, "appsettings.json"), optional: true);
        _host.Configuration.AddJsonFile(Path.Combine(AppHostDirectory, "appsettings.Development.json"), optional: true);
        _host.Configuration.AddEnvironmentVariables();
        _host.Configuration.AddCommandLine(options.Args);
        _host.Logging.AddConfiguration(_host.Configuration.GetSection("Logging"));
        _host.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        _host.Logging.SetMinimumLevel(LogLevel.Information);

        var publisher = _host.Configuration["publisher"];
        ExecutionContext = new DistributedApplicationExecutionContext(
            string.IsNullOrEmpty(publisher) ? DistributedApplicationOperation.Run : DistributedApplicationOperation.Publish);
    }

    internal DistributedApplicationOptions Options { get; }

    /// <inheritdoc />
    public ConfigurationManager Configuration => _host.Configuration;

    /// <inheritdoc />
    public IServiceCollection Services => _host.Services;

    /// <inheritdoc />
    public IHostEnvironment Environment => _host.Environment;

    /// <inheritdoc />
    public string AppHostDirectory { get; }

    /// <inheritdoc />
    public DistributedApplicationExecutionContext ExecutionContext { get; }

    /// <inheritdoc />
    public IResourceCollection Resources => _resources;

    /// <inheritdoc />
    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (_resources.Find(resource.Name) is { } existing)
        {
            throw new DistributedApplicationException(
                $"Cannot add resource '{resource.Name}' ({ResourceTypes.Of(resource)}): a resource named '{existing.Name}' ({ResourceTypes.Of(existing)}) already exists. Resource names are case-insensitive and must be unique.");
        }
        _resources.Add(resource);
        return CreateResourceBuilder(resource);
    }

    /// <inheritdoc />
    public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => new ResourceBuilder<T>(this, resource);

    /// <inheritdoc />
    public DistributedApplication Build()
    {
        if (TestingHook.Current?.OnBuilding(this) == true)
        {
            // The testing builder takes over from here; the AppHost's Program stops at this call.
            throw new TestingHook.EntryPointStoppedException();
        }
        return BuildCore();
    }

    internal DistributedApplication BuildCore()
    {
        ModelValidator.Validate(_resources);
        var configuredRoot = Options.DataDirectory ?? Configuration["AppHost:DataDirectory"];
        var paths = new AppHostPaths(
            configuredRoot ?? (Options.IsTesting ? AppHostPaths.TestingRoot() : AppHostPaths.DefaultRoot()),
            _host.Environment.ApplicationName, AppHostDirectory, isolated: Options.IsTesting && configuredRoot is null);
        // An isolated test run throws its data away, so its generated passwords need not outlive it.
        var secrets = new SecretStore(paths.IsIsolated ? null : paths.SecretsFile);
        var loggers = new ResourceLoggerService();
        loggers.LineWritten += Options.ResourceOutput ?? new ConsoleResourceWriter().Write;
        Services.AddSingleton(loggers);
        Services.AddSingleton(ExecutionContext);
        Services.AddSingleton<IResourceCollection>(_resources);
        Services.AddSingleton(sp => new ResourceNotificationService(_resources, sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping));
        var dashboard = AddDashboard();
        Services.AddSingleton(sp => new ApplicationOrchestrator(
            [.. _resources], Options, Configuration, paths, secrets,
            sp.GetRequiredService<ResourceNotificationService>(), loggers, ExecutionContext,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("HomeIQ.Hosting"), dashboard));
        Services.AddHostedService(sp => sp.GetRequiredService<ApplicationOrchestrator>());
        Services.AddSingleton(sp => new ResourceCommandService(sp.GetRequiredService<ApplicationOrchestrator>()));
        Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        if (Options.IsTesting)
        {
            Services.AddSingleton<IHostLifetime, NoConsoleLifetime>();
        }
        return new DistributedApplication(_host.Build(), ExecutionContext, [.. _resources], Options.Args);
    }

    /// <summary>The dashboard starts before the orchestrator (hosted services start in order) so projects get its OTLP endpoint.</summary>
    private DashboardInfo? AddDashboard()
    {
        if (Options.DisableDashboard || ExecutionContext.IsPublishMode)
        {
            return null;
        }
        var options = Configuration.GetSection("Dashboard").Get<DashboardOptions>() ?? new DashboardOptions();
        var limits = Configuration.GetSection("Dashboard:Telemetry").Get<TelemetryLimits>() ?? new TelemetryLimits();
        var info = new DashboardInfo();
        Services.AddSingleton(info);
        Services.AddSingleton(new TelemetryStore(limits));
        Services.AddHostedService(sp => new DashboardServer(options, info, sp.GetRequiredService<TelemetryStore>(), sp, randomPorts: Options.IsTesting,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("HomeIQ.Dashboard")));
        return info;
    }

    private sealed class NoConsoleLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
