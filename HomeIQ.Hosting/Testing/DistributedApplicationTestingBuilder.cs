using System.Reflection;
using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HomeIQ.Hosting.Testing;

/// <summary>A builder for an application under test; <see cref="BuildAsync"/> gives the app to start.</summary>
public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder
{
    /// <summary>Builds the application.</summary>
    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Creates an AppHost for integration tests, as Aspire.Hosting.Testing does: random ports, no dashboard, a private
/// data directory, resource output sent to the test output, everything removed on disposal.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    /// <summary>Runs the AppHost <typeparamref name="TEntryPoint"/> (a <c>Projects.*</c> type) up to its Build call.</summary>
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default)
        where TEntryPoint : IProjectMetadata, new() =>
        CreateAsync<TEntryPoint>([], null, cancellationToken);

    /// <summary>Runs the AppHost <typeparamref name="TEntryPoint"/> with extra arguments up to its Build call.</summary>
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default)
        where TEntryPoint : IProjectMetadata, new() =>
        CreateAsync<TEntryPoint>(args, null, cancellationToken);

    /// <summary>Runs the AppHost with extra arguments, letting the test adjust the options (output sink, data directory) first.</summary>
    public static async Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args,
        Action<DistributedApplicationOptions>? configureOptions, CancellationToken cancellationToken = default)
        where TEntryPoint : IProjectMetadata, new()
    {
        var assemblyName = Path.GetFileNameWithoutExtension(new TEntryPoint().ProjectPath);
        var assembly = Assembly.Load(assemblyName);
        var entryPoint = assembly.EntryPoint
            ?? throw new InvalidOperationException($"'{assemblyName}' has no entry point; is it an AppHost project (OutputType Exe)?");
        var captured = new TaskCompletionSource<DistributedApplicationBuilder>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            TestingHook.Current = new TestingHook(args, assemblyName, configureOptions, captured);
            try
            {
                var result = entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [args]);
                if (result is Task task)
                {
                    task.GetAwaiter().GetResult();
                }
                captured.TrySetException(new InvalidOperationException($"The AppHost '{assemblyName}' returned without calling Build()."));
            }
            catch (Exception ex)
            {
                var inner = ex is TargetInvocationException { InnerException: { } i } ? i : ex;
                if (inner is not TestingHook.EntryPointStoppedException)
                {
                    captured.TrySetException(inner);
                }
            }
        }) { IsBackground = true, Name = $"{assemblyName} entry point" };
        thread.Start();
        var builder = await captured.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new TestingBuilder(builder);
    }

    /// <summary>An empty builder for a composition written in the test itself.</summary>
    public static IDistributedApplicationTestingBuilder Create(params string[] args)
    {
        var options = new DistributedApplicationOptions { Args = args, IsTesting = true, DisableDashboard = true, ProjectDirectory = AppContext.BaseDirectory };
        return new TestingBuilder(new DistributedApplicationBuilder(options));
    }

    /// <summary>An empty builder whose testing defaults (no dashboard, isolated data) the test may change, e.g. <c>o.DisableDashboard = false</c>.</summary>
    public static IDistributedApplicationTestingBuilder Create(Action<DistributedApplicationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new DistributedApplicationOptions { IsTesting = true, DisableDashboard = true, ProjectDirectory = AppContext.BaseDirectory };
        configure(options);
        return new TestingBuilder(new DistributedApplicationBuilder(options));
    }

    /// <summary>An empty builder with options (a fixed data directory, an output sink).</summary>
    public static IDistributedApplicationTestingBuilder Create(DistributedApplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.IsTesting = true;
        options.DisableDashboard = true;
        options.ProjectDirectory ??= AppContext.BaseDirectory;
        return new TestingBuilder(new DistributedApplicationBuilder(options));
    }

    private sealed class TestingBuilder(DistributedApplicationBuilder inner) : IDistributedApplicationTestingBuilder
    {
        public ConfigurationManager Configuration => inner.Configuration;
        public IServiceCollection Services => inner.Services;
        public IHostEnvironment Environment => inner.Environment;
        public string AppHostDirectory => inner.AppHostDirectory;
        public DistributedApplicationExecutionContext ExecutionContext => inner.ExecutionContext;
        public IResourceCollection Resources => inner.Resources;

        public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource => inner.AddResource(resource);

        public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => inner.CreateResourceBuilder(resource);

        public DistributedApplication Build() => inner.BuildCore();

        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(inner.BuildCore());
    }
}
