namespace HomeIQ.Hosting.Testing;

/// <summary>
/// Lets the testing builder run an AppHost's Program up to its <c>Build()</c> call and take over the builder there,
/// as Aspire.Hosting.Testing does. It flows with the execution context of the thread that runs the entry point.
/// </summary>
internal sealed class TestingHook(
    string[] args, string? assemblyName, Action<DistributedApplicationOptions>? configureOptions, TaskCompletionSource<DistributedApplicationBuilder> captured)
{
    private static readonly AsyncLocal<TestingHook?> CurrentHook = new();

    public static TestingHook? Current
    {
        get => CurrentHook.Value;
        set => CurrentHook.Value = value;
    }

    public void OnCreating(DistributedApplicationOptions options)
    {
        options.IsTesting = true;
        options.DisableDashboard = true;
        options.Args = [.. options.Args, .. args];
        options.AssemblyName ??= assemblyName;
        configureOptions?.Invoke(options);
    }

    /// <summary>Hands the builder to the test; true means the entry point must stop.</summary>
    public bool OnBuilding(DistributedApplicationBuilder builder) => captured.TrySetResult(builder);

    /// <summary>Thrown out of the AppHost's <c>Build()</c> to end its Program once the test has the builder.</summary>
    internal sealed class EntryPointStoppedException() : Exception("The testing builder took over the application builder.");
}
