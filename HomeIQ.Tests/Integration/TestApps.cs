using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Tests.Integration;

/// <summary>Helpers shared by the integration tests.</summary>
internal static class TestApps
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// How long a fixture's whole stack may take to start. Several stacks start at once on two cores while other tests run: a late one
    /// (the devices stack 11 minutes into a CI run of 2026-11-26) can need more than four minutes without anything being wrong.
    /// </summary>
    public static readonly TimeSpan FixtureStartTimeout = TimeSpan.FromMinutes(7);

    /// <summary>This test process's data root: every AppHost it starts keeps its servers' data in a directory of its own below it.</summary>
    private static readonly string DataRoot = CreateDataRoot();

    private static string CreateDataRoot()
    {
        var parent = Path.Combine(Path.GetTempPath(), "homeiq-tests");
        if (Directory.Exists(parent))
        {
            // Data left by earlier test processes (killed before they cleaned up).
            foreach (var dir in Directory.GetDirectories(parent))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && !Directory.Exists($"/proc/{pid}"))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }
        var root = Path.Combine(parent, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        };
        return root;
    }

    /// <summary>AppHost arguments for a test run: its own data directory, so runs never share a data volume or a password.</summary>
    public static string[] Args() => [$"HomeIQ:DataDirectory={Path.Combine(DataRoot, Guid.NewGuid().ToString("N")[..8])}"];

    /// <summary>A builder for a small composition of a test's own, with local servers and resource output in the test's output.</summary>
    public static IDistributedApplicationTestingBuilder CreateBuilder()
    {
        var builder = DistributedApplicationTestingBuilder.Create(Args());
        builder.AddLocalServers();
        builder.WithTestOutput();
        builder.WithoutTelemetryExport();
        return builder;
    }

    /// <summary>The real AppHost, with resource output in the test's output, and the Aspire dashboard when asked.</summary>
    public static async Task<IDistributedApplicationTestingBuilder> CreateAppHostAsync(CancellationToken cancellationToken, bool dashboard = false)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.HomeIQ_AppHost>(
            new DistributedApplicationTestingBuilderOptions { EnableDashboard = dashboard }, Args(), cancellationToken);
        // Tests stop and start resources, then wait for them: keep waiting through a stopped state, as without the dashboard.
        builder.Services.Configure<ResourceNotificationServiceOptions>(o => o.DefaultWaitBehavior = WaitBehavior.WaitOnResourceUnavailable);
        builder.WithTestOutput();
        if (!dashboard)
        {
            builder.WithoutTelemetryExport();
        }
        return builder;
    }

    /// <summary>
    /// Without the dashboard Aspire still points projects at an OTLP collector (localhost:4317) that nobody runs; their exporters
    /// then retry on every export and hold up each graceful shutdown by seconds. A test's own endpoint (WithEnvironment) is kept.
    /// </summary>
    private static void WithoutTelemetryExport(this IDistributedApplicationTestingBuilder builder) =>
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            foreach (var project in e.Model.Resources.OfType<ProjectResource>())
            {
                project.Annotations.Add(new EnvironmentCallbackAnnotation(env =>
                {
                    // Tests that capture telemetry point at their own listener on 127.0.0.1.
                    if (!(env.TryGetValue("OTEL_EXPORTER_OTLP_ENDPOINT", out var endpoint) && endpoint is string own && own.StartsWith("http://127.0.0.1", StringComparison.Ordinal)))
                    {
                        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
                    }
                }));
            }
            return Task.CompletedTask;
        });

    private static void WithTestOutput(this IDistributedApplicationTestingBuilder builder) =>
        builder.Services.AddLogging(logging => logging.AddFilter("Microsoft", LogLevel.Warning).AddProvider(new TestOutputLoggerProvider()));

    /// <summary>The built AppHost executable of this configuration (bin/Debug or bin/Release, as the tests were built).</summary>
    public static string AppHostExecutable => Path.Combine(
        Directory.Exists(Projects.HomeIQ_AppHost.ProjectPath) ? Projects.HomeIQ_AppHost.ProjectPath : Path.GetDirectoryName(Projects.HomeIQ_AppHost.ProjectPath)!,
        Path.GetRelativePath(Path.Combine(AppContext.BaseDirectory, "..", "..", ".."), AppContext.BaseDirectory), "HomeIQ.AppHost");

    public static CancellationToken Timeout(TimeSpan? timeout = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? StartTimeout);
        return cts.Token;
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited && !File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z');
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    public static bool IsHealthy(this ResourceEvent e) => e.Snapshot.HealthStatus == HealthStatus.Healthy;

    /// <summary>
    /// Waits until every replica of <paramref name="resource"/> is healthy. Aspire's <c>WaitForResourceHealthyAsync</c> returns as soon
    /// as one replica is: a call through the resource's one endpoint could then still reach a replica that is starting.
    /// </summary>
    public static async Task WaitForEveryReplicaHealthyAsync(this DistributedApplication app, string resource, CancellationToken cancellationToken)
    {
        var replicas = app.Resources().Single(r => r.Name == resource).Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;
        var healthy = new HashSet<string>();
        await foreach (var e in app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (e.Resource.Name != resource)
            {
                continue;
            }
            if (e.IsHealthy())
            {
                healthy.Add(e.ResourceId);
            }
            else
            {
                healthy.Remove(e.ResourceId);
            }
            if (healthy.Count == replicas)
            {
                return;
            }
        }
    }

    /// <summary>The process id DCP reports for one resource instance, or null when it has none.</summary>
    public static int? Pid(this ResourceEvent e) =>
        e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid when pid > 0 => pid,
            long pid when pid > 0 => (int)pid,
            string text when int.TryParse(text, out var pid) && pid > 0 => pid,
            _ => null,
        };

    /// <summary>
    /// The process that runs the service itself: DCP starts a project through <c>dotnet run</c>, whose child is the service.
    /// For any other resource, the process DCP started.
    /// </summary>
    public static int ServiceProcess(int pid) =>
        File.ReadAllText($"/proc/{pid}/comm").Trim() == "dotnet" && HomeIQ.Hosting.ServiceProcesses.ChildrenOf(pid).ToList() is [var child, ..] ? child : pid;

    /// <summary>
    /// Waits until every health check of <paramref name="resource"/> passed in a run that began after <paramref name="since"/>:
    /// just after a restart the snapshot still carries the health reports of the previous run.
    /// </summary>
    public static Task<ResourceEvent> WaitForHealthySinceAsync(this DistributedApplication app, string resource, DateTime since, CancellationToken cancellationToken) =>
        app.ResourceNotifications.WaitForResourceAsync(resource, e => e.IsHealthy() && e.Snapshot.HealthReports.All(r => r.LastRunAt > since), cancellationToken);

    /// <summary>The current state of every instance of <paramref name="resource"/> (one per replica).</summary>
    public static async Task<IReadOnlyList<ResourceEvent>> InstancesAsync(this DistributedApplication app, string resource)
    {
        var found = new Dictionary<string, ResourceEvent>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            await foreach (var e in app.ResourceNotifications.WatchAsync(cts.Token))
            {
                if (e.Resource.Name == resource)
                {
                    found[e.ResourceId] = e;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        return [.. found.Values];
    }

    /// <summary>The resources of the running application's model.</summary>
    public static IResourceCollection Resources(this DistributedApplication app) => app.Services.GetRequiredService<DistributedApplicationModel>().Resources;

    /// <summary>Runs a resource command (start, stop, restart) and asserts that it succeeded.</summary>
    public static async Task CommandAsync(this DistributedApplication app, string resource, string command, CancellationToken cancellationToken)
    {
        // By resource, not instance id: a command on a replicated resource applies to every replica.
        var result = await app.ResourceCommands.ExecuteCommandAsync(app.Resources().Single(r => r.Name == resource), command, cancellationToken);
        Assert.True(result.Success, $"{command} on {resource}: {result.Message}");
    }

    /// <summary>Resource output and AppHost logs go to the output of the test that is running when they arrive.</summary>
    private sealed class TestOutputLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new TestOutputLogger(categoryName[(categoryName.LastIndexOf('.') + 1)..]);

        public void Dispose()
        {
        }

        private sealed class TestOutputLogger(string name) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                try
                {
                    TestContext.Current.TestOutputHelper?.WriteLine($"{name} | {formatter(state, exception)}");
                }
                catch (InvalidOperationException)
                {
                    // The test this output belonged to has finished; its output is closed.
                }
            }
        }
    }
}
