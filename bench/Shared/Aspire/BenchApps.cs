using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace HomeIQ.Bench;

/// <summary>
/// Aspire's testing builder for the benchmarks that start servers or services (linked into those that set HomeIQBenchUsesAspire):
/// every run keeps its servers' data in a directory of its own, removed when the benchmark exits, and the resources' output stays
/// out of the results (or goes to a file).
/// </summary>
internal static class BenchApps
{
    private const string ResourcesCategory = ".Resources.";
    private static readonly string DataRoot = Path.Combine(Path.GetTempPath(), "homeiq-bench");
    private static readonly string DataDirectory = CreateDataDirectory();

    /// <summary>Builder arguments: this run's own data directory, so a benchmark never shares a data volume with another run or a developer's AppHost.</summary>
    public static string[] Args() => [$"HomeIQ:DataDirectory={DataDirectory}"];

    /// <summary>A builder for a benchmark's own composition, its Postgres, Redis and RabbitMQ as local processes.</summary>
    public static IDistributedApplicationTestingBuilder CreateBuilder(TextWriter? resourceOutput = null)
    {
        var builder = DistributedApplicationTestingBuilder.Create(Args());
        builder.AddLocalServers();
        AddLogging(builder.Services, resourceOutput);
        return builder;
    }

    /// <summary>Aspire's RabbitMQ resource "messaging" alone, run as a local server, started and healthy.</summary>
    public static async Task<DistributedApplication> StartRabbitMQAsync()
    {
        Console.WriteLine("Starting RabbitMQ (Aspire, as a local server)…");
        var builder = CreateBuilder();
        builder.AddRabbitMQ("messaging");
        var app = await builder.BuildAsync();
        await app.StartAsync();
        await app.ResourceNotifications.WaitForResourceHealthyAsync("messaging");
        return app;
    }

    /// <summary>The real AppHost composition; <typeparamref name="TAppHost"/> is <c>Projects.HomeIQ_AppHost</c>.</summary>
    public static async Task<IDistributedApplicationTestingBuilder> CreateAppHostAsync<TAppHost>(TextWriter? resourceOutput = null)
        where TAppHost : class
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<TAppHost>(Args());
        AddLogging(builder.Services, resourceOutput);
        return builder;
    }

    /// <summary>Warnings and errors of the orchestration on the console; the resources' output only to <paramref name="resourceOutput"/>.</summary>
    private static void AddLogging(IServiceCollection services, TextWriter? resourceOutput) =>
        services.AddLogging(logging =>
        {
            logging.ClearProviders();
            logging.AddSimpleConsole(o => o.SingleLine = true);
            // Resources' health checks fail, with a stack trace each, until their servers are up: expected while starting, not news.
            logging.AddFilter<ConsoleLoggerProvider>((category, level) =>
                level >= LogLevel.Warning && ResourceOf(category) is null && category != HealthCheckCategory);
            if (resourceOutput is not null)
            {
                logging.AddProvider(new ResourceOutputProvider(resourceOutput));
                logging.AddFilter<ResourceOutputProvider>((category, _) => ResourceOf(category) is not null);
            }
        });

    private const string HealthCheckCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>The testing builder forwards each resource's output to the logger category <c>{application}.Resources.{resource}</c>.</summary>
    private static string? ResourceOf(string? category) =>
        category?.LastIndexOf(ResourcesCategory, StringComparison.Ordinal) is int i and >= 0 ? category[(i + ResourcesCategory.Length)..] : null;

    private static string CreateDataDirectory()
    {
        // Directories of earlier runs that were killed before they could remove theirs.
        if (Directory.Exists(DataRoot))
        {
            foreach (var dir in Directory.GetDirectories(DataRoot))
            {
                if (int.TryParse(Path.GetFileName(dir).Split('-')[0], CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
                {
                    TryDelete(dir);
                }
            }
        }
        // HomeIQ.Hosting creates it, traversable by the postgres user.
        var directory = Path.Combine(DataRoot, $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(directory);
        return directory;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Writes resource output lines as <c>time resource | line</c>.</summary>
    private sealed class ResourceOutputProvider(TextWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ResourceOutputLogger(writer, ResourceOf(categoryName) ?? categoryName);

        public void Dispose()
        {
        }

        private sealed class ResourceOutputLogger(TextWriter writer, string resource) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The forwarder logs "{LineNumber}: {LineContent}"; the line itself is enough.
                var text = state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "LineContent").Value is { } line
                    ? line.ToString()
                    : formatter(state, exception);
                lock (writer)
                {
                    writer.WriteLine(FormattableString.Invariant($"{DateTime.Now:HH:mm:ss.fff} {resource} | {text}"));
                }
            }
        }
    }
}
