using System.Globalization;
using HomeIQ.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>Computes the environment and arguments a process receives, following Aspire's conventions.</summary>
internal static class ResourceEnvironment
{
    /// <summary>Names whose values are masked on the dashboard.</summary>
    public static bool IsSecret(string name) =>
        name.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
        || name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase)
        || name.Contains("SECRET", StringComparison.OrdinalIgnoreCase)
        || name.Contains("TOKEN", StringComparison.OrdinalIgnoreCase)
        || name.Equals("OTEL_EXPORTER_OTLP_HEADERS", StringComparison.OrdinalIgnoreCase);

    /// <summary>The environment of replica <paramref name="replica"/> of a project or executable.</summary>
    public static async Task<Dictionary<string, string>> BuildAsync(
        IResource resource, int replica, string instanceId, OrchestratorContext context, CancellationToken cancellationToken)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var endpoints = resource.Annotations.All<EndpointAnnotation>().ToList();
        if (resource is ProjectResource)
        {
            var urls = endpoints.Where(e => e.Transport == "http").Select(e => $"{e.UriScheme}://localhost:{e.AllocatedEndpoints[replica].Port}");
            env["ASPNETCORE_URLS"] = string.Join(';', urls);
            env["ASPNETCORE_ENVIRONMENT"] = "Development";
            env["DOTNET_ENVIRONMENT"] = "Development";
            env["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true";
            env["LOGGING__CONSOLE__FORMATTERNAME"] = "simple";
            env["OTEL_SERVICE_NAME"] = resource.Name;
            env["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId}";
            env["OTEL_TRACES_SAMPLER"] = "always_on";
            env["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            env["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            env["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            if (context.OtlpEndpoint is not null)
            {
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = context.OtlpEndpoint;
                env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                env["OTEL_EXPORTER_OTLP_HEADERS"] = $"x-otlp-api-key={context.OtlpApiKey}";
            }
        }
        foreach (var endpoint in endpoints.Where(e => e.TargetPortEnvironmentVariable is not null))
        {
            env[endpoint.TargetPortEnvironmentVariable!] = endpoint.AllocatedEndpoints[replica].Port.ToString(CultureInfo.InvariantCulture);
        }
        var callbackContext = new EnvironmentCallbackContext(context.ExecutionContext, cancellationToken);
        foreach (var callback in resource.Annotations.All<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(callbackContext).ConfigureAwait(false);
        }
        foreach (var (name, value) in callbackContext.EnvironmentVariables)
        {
            env[name] = await ResolveAsync(value, cancellationToken).ConfigureAwait(false);
        }
        return env;
    }

    /// <summary>The command-line arguments, with run-time values resolved.</summary>
    public static async Task<List<string>> ArgsAsync(IResource resource, CancellationToken cancellationToken)
    {
        var args = new List<string>();
        foreach (var annotation in resource.Annotations.All<CommandLineArgsAnnotation>())
        {
            foreach (var arg in annotation.Args)
            {
                args.Add(await ResolveAsync(arg, cancellationToken).ConfigureAwait(false));
            }
        }
        return args;
    }

    /// <summary>The <c>services__{name}__{endpoint}__{i}</c> variables for a referenced resource: one per endpoint and replica.</summary>
    /// <remarks>In publish mode there is one entry per endpoint, a manifest expression the deployment resolves.</remarks>
    public static IEnumerable<KeyValuePair<string, object>> ServiceDiscoveryVariables(IResourceWithEndpoints resource, DistributedApplicationExecutionContext executionContext) =>
        resource.Annotations.All<EndpointAnnotation>().SelectMany(e => executionContext.IsPublishMode
            ? [new KeyValuePair<string, object>($"services__{resource.Name}__{e.Name}__0", new EndpointReference(resource, e.Name))]
            : e.AllocatedEndpoints.Select((allocated, i) => new KeyValuePair<string, object>($"services__{resource.Name}__{e.Name}__{i}", allocated.Url)));

    public static async Task<string> ResolveAsync(object value, CancellationToken cancellationToken) => value switch
    {
        string s => s,
        IValueProvider provider => await provider.GetValueAsync(cancellationToken).ConfigureAwait(false) ?? "",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
