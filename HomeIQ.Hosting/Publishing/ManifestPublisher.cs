using System.Text.Json;
using System.Text.Json.Nodes;
using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Hosting.Publishing;

/// <summary>
/// Writes the Aspire deployment manifest (aspire-8.0 schema) that azd reads:
/// <c>dotnet run --project HomeIQ.AppHost -- --publisher manifest --output-path aspire-manifest.json</c>.
/// Backing servers become containers; projects keep their csproj path, environment and bindings.
/// </summary>
internal static class ManifestPublisher
{
    public static async Task PublishAsync(IReadOnlyList<IResource> resources, string[] args, CancellationToken cancellationToken)
    {
        var publisher = ArgValue(args, "--publisher");
        if (publisher != "manifest")
        {
            throw new DistributedApplicationException($"Unknown publisher '{publisher}'. The supported publisher is 'manifest'.");
        }
        var output = Path.GetFullPath(ArgValue(args, "--output-path") ?? "aspire-manifest.json");
        var manifest = await WriteAsync(resources, Path.GetDirectoryName(output)!, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"Published manifest to: {output}");
    }

    public static async Task<JsonObject> WriteAsync(IReadOnlyList<IResource> resources, string manifestDirectory, CancellationToken cancellationToken)
    {
        var context = new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish);
        var entries = new JsonObject();
        foreach (var resource in resources)
        {
            JsonObject entry = resource switch
            {
                ParameterResource p => Parameter(p),
                ConnectionStringResource or PostgresDatabaseResource => new JsonObject
                {
                    ["type"] = "value.v0",
                    ["connectionString"] = ((IResourceWithConnectionString)resource).ConnectionStringExpression.ValueExpression,
                },
                ServerResource s => Container(s),
                ProjectResource p => new JsonObject
                {
                    ["type"] = "project.v0",
                    ["path"] = Path.GetRelativePath(manifestDirectory, p.Metadata.ProjectPath).Replace('\\', '/'),
                },
                ExecutableResource e => new JsonObject
                {
                    ["type"] = "executable.v0",
                    ["workingDirectory"] = Path.GetRelativePath(manifestDirectory, e.WorkingDirectory).Replace('\\', '/'),
                    ["command"] = e.Command,
                },
                _ => throw new DistributedApplicationException($"Resource '{resource.Name}' ({resource.GetType().Name}) cannot be written to a manifest."),
            };
            if (resource is ProjectResource or ExecutableResource)
            {
                var env = await Environment(resource, context, cancellationToken).ConfigureAwait(false);
                if (resource is ProjectResource)
                {
                    env.Insert(0, "OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true");
                    env.Insert(1, "OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true");
                    env.Insert(2, "ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
                    env.Insert(3, "HTTP_PORTS", $"{{{resource.Name}.bindings.http.targetPort}}");
                }
                entry["env"] = env;
                entry["bindings"] = Bindings(resource);
                if (resource.Annotations.Last<ReplicaAnnotation>() is { Replicas: > 1 } replicas)
                {
                    entry["deployment"] = new JsonObject { ["replicas"] = replicas.Replicas };
                }
            }
            entries[resource.Name] = entry;
        }
        return new JsonObject { ["$schema"] = "https://json.schemastore.org/aspire-8.0.json", ["resources"] = entries };
    }

    private static JsonObject Parameter(ParameterResource p)
    {
        var input = new JsonObject { ["type"] = "string", ["secret"] = p.Secret };
        if (p.Default is { } d)
        {
            input["default"] = new JsonObject { ["generate"] = new JsonObject { ["minLength"] = d.MinLength } };
        }
        return new JsonObject
        {
            ["type"] = "parameter.v0",
            ["value"] = $"{{{p.Name}.inputs.value}}",
            ["inputs"] = new JsonObject { ["value"] = input },
        };
    }

    private static JsonObject Container(ServerResource s)
    {
        var password = s.PasswordParameter.ValueExpression;
        var (env, args, dataPath) = s switch
        {
            PostgresServerResource => (new JsonObject
            {
                ["POSTGRES_HOST_AUTH_METHOD"] = "scram-sha-256",
                ["POSTGRES_INITDB_ARGS"] = "--auth-host=scram-sha-256 --auth-local=scram-sha-256",
                ["POSTGRES_USER"] = "postgres",
                ["POSTGRES_PASSWORD"] = password,
            }, (JsonArray?)null, "/var/lib/postgresql/data"),
            RedisResource => (new JsonObject { ["REDIS_PASSWORD"] = password },
                new JsonArray("/bin/sh", "-c", "redis-server --requirepass $REDIS_PASSWORD"), "/data"),
            RabbitMQServerResource r => (new JsonObject { ["RABBITMQ_DEFAULT_USER"] = r.UserName, ["RABBITMQ_DEFAULT_PASS"] = password },
                null, "/var/lib/rabbitmq"),
            _ => (new JsonObject(), null, "/data"),
        };
        var container = new JsonObject
        {
            ["type"] = "container.v0",
            ["connectionString"] = s.ConnectionStringExpression.ValueExpression,
            ["image"] = s.Image,
        };
        if (args is not null)
        {
            container["entrypoint"] = args[0]!.GetValue<string>();
            args.RemoveAt(0);
            container["args"] = args;
        }
        if (s.Annotations.Last<DataVolumeAnnotation>() is { } volume)
        {
            container["volumes"] = new JsonArray(new JsonObject { ["name"] = volume.Name ?? $"homeiq-{s.Name}-data", ["target"] = dataPath, ["readOnly"] = false });
        }
        container["env"] = env;
        container["bindings"] = new JsonObject
        {
            ["tcp"] = new JsonObject { ["scheme"] = "tcp", ["protocol"] = "tcp", ["transport"] = "tcp", ["targetPort"] = s.TargetPort },
        };
        return container;
    }

    private static async Task<JsonObject> Environment(IResource resource, DistributedApplicationExecutionContext context, CancellationToken cancellationToken)
    {
        var callbackContext = new EnvironmentCallbackContext(context, cancellationToken);
        foreach (var callback in resource.Annotations.All<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(callbackContext).ConfigureAwait(false);
        }
        var env = new JsonObject();
        foreach (var (name, value) in callbackContext.EnvironmentVariables)
        {
            env[name] = value switch
            {
                IManifestExpressionProvider expression => expression.ValueExpression,
                _ => await ResourceEnvironment.ResolveAsync(value, cancellationToken).ConfigureAwait(false),
            };
        }
        return env;
    }

    private static JsonObject Bindings(IResource resource)
    {
        var bindings = new JsonObject();
        foreach (var e in resource.Annotations.All<EndpointAnnotation>())
        {
            var binding = new JsonObject { ["scheme"] = e.UriScheme, ["protocol"] = "tcp", ["transport"] = e.Transport };
            if (e.TargetPort is { } target)
            {
                binding["targetPort"] = target;
            }
            if (e.IsExternal)
            {
                binding["external"] = true;
            }
            bindings[e.Name] = binding;
        }
        return bindings;
    }

    private static string? ArgValue(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
            {
                return args[i + 1];
            }
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }
        return null;
    }
}
