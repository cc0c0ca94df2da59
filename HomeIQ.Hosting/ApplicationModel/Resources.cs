namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>A .NET project started from its build output.</summary>
public class ProjectResource(string name, IProjectMetadata metadata)
    : Resource(name), IResourceWithEnvironment, IResourceWithArgs, IResourceWithServiceDiscovery, IResourceWithWaitSupport
{
    /// <summary>Where the project file is, and its build output when known.</summary>
    public IProjectMetadata Metadata { get; } = metadata;
}

/// <summary>Any program started with arguments in a working directory.</summary>
public class ExecutableResource(string name, string command, string workingDirectory)
    : Resource(name), IResourceWithEnvironment, IResourceWithArgs, IResourceWithEndpoints, IResourceWithWaitSupport
{
    /// <summary>The program to run: a path or a name on PATH.</summary>
    public string Command { get; } = command;

    /// <summary>The working directory.</summary>
    public string WorkingDirectory { get; } = workingDirectory;
}

/// <summary>A value from configuration (<c>Parameters:{name}</c>) or generated, optionally secret.</summary>
public sealed class ParameterResource(string name, bool secret) : Resource(name), IValueProvider, IManifestExpressionProvider
{
    private string? _value;

    /// <summary>Whether the value is a secret (masked on the dashboard, a secret input in the manifest).</summary>
    public bool Secret { get; } = secret;

    /// <summary>When set, a missing value is generated with these rules instead of being an error.</summary>
    public GenerateParameterDefault? Default { get; init; }

    /// <summary>The configuration key read for the value.</summary>
    public string ConfigurationKey { get; init; } = $"Parameters:{name}";

    /// <summary>The resolved value; throws a clear error before the application has started.</summary>
    public string Value
    {
        get => _value ?? throw new InvalidOperationException($"The value of parameter '{Name}' is not resolved yet; the application has not started.");
        internal set => _value = value;
    }

    internal bool HasValue => _value is not null;

    /// <inheritdoc />
    public string ValueExpression => $"{{{Name}.value}}";

    /// <inheritdoc />
    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Value);
}

/// <summary>How a generated parameter value looks.</summary>
public sealed record GenerateParameterDefault(int MinLength = 22, bool Lower = true, bool Upper = true, bool Numeric = true);

/// <summary>A connection string read from configuration (<c>ConnectionStrings:{name}</c>), for a server HomeIQ does not run.</summary>
public sealed class ConnectionStringResource(string name, ParameterResource value) : Resource(name), IResourceWithConnectionString, IResourceWithWaitSupport
{
    /// <summary>The parameter holding the value.</summary>
    public ParameterResource Value { get; } = value;

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Value}");
}

/// <summary>Whether the application runs locally or writes a deployment manifest.</summary>
public enum DistributedApplicationOperation
{
    /// <summary>Start every resource locally.</summary>
    Run,
    /// <summary>Write a manifest and exit.</summary>
    Publish,
}

/// <summary>The operation under way, for code that behaves differently when running or publishing.</summary>
public sealed class DistributedApplicationExecutionContext(DistributedApplicationOperation operation)
{
    /// <summary>Run or publish.</summary>
    public DistributedApplicationOperation Operation { get; } = operation;

    /// <summary>True when running locally.</summary>
    public bool IsRunMode => Operation == DistributedApplicationOperation.Run;

    /// <summary>True when writing a manifest.</summary>
    public bool IsPublishMode => Operation == DistributedApplicationOperation.Publish;
}
