using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Lifecycle;
using HomeIQ.Hosting.Mqtt;
using HomeIQ.Hosting.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeIQ.Hosting;

/// <summary>
/// Turns Aspire's Postgres, Redis and RabbitMQ container resources (and HomeIQ's Mosquitto broker) into local processes when no container runtime answers:
/// the resource keeps its type, parameters, connection string and health checks; DCP runs a child executable for the server,
/// and this class mirrors that child's state onto the resource and its databases and raises the connection-string event,
/// so Aspire's own health checks, database creation and <c>WaitFor</c> work as with containers.
/// </summary>
internal sealed class LocalServerSubscriber(
    DistributedApplicationModel model,
    IConfiguration configuration,
    ResourceNotificationService notifications,
    ResourceLoggerService loggers,
    IServiceProvider services,
    ILogger<LocalServerSubscriber> logger) : IDistributedApplicationEventingSubscriber, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<IResource, IResource> _serverOfProcess = new();
    private readonly ConcurrentDictionary<IResource, bool> _running = new();
    private DataDirectories? _directories;
    private Task _mirror = Task.CompletedTask;
    private readonly List<Task> _forwarders = [];
    private readonly HashSet<string> _forwarded = [];

    public async Task SubscribeAsync(IDistributedApplicationEventing eventing, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        if (!executionContext.IsRunMode)
        {
            return;
        }
        var servers = model.Resources.Where(r => ServerFor(r) is not null && r.HasAnnotationOfType<ContainerImageAnnotation>()).ToList();
        if (servers.Count == 0 || !await ContainerRuntime.UseLocalServersAsync(configuration["HomeIQ:LocalServers"], cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        _directories = new DataDirectories(configuration["HomeIQ:DataDirectory"]);
        _directories.SweepStaleSessions();
        logger.LogInformation("No container runtime answers: {Servers} run as local processes (data in {Root}).",
            string.Join(", ", servers.Select(s => s.Name)), _directories.Root);
        foreach (var server in servers)
        {
            RunLocally(server, ServerFor(server)!, eventing);
        }
        _mirror = Task.Run(() => MirrorAsync(eventing, _stopping.Token), CancellationToken.None);
    }

    private static LocalServer? ServerFor(IResource resource) => resource switch
    {
        PostgresServerResource => new PostgresLocalServer(),
        RedisResource => new RedisLocalServer(),
        RabbitMQServerResource => new RabbitMQLocalServer(),
        MqttBrokerResource => new MosquittoLocalServer(),
        _ => null,
    };

    private void RunLocally(IResource server, LocalServer local, IDistributedApplicationEventing eventing)
    {
        foreach (var image in server.Annotations.OfType<ContainerImageAnnotation>().ToList())
        {
            server.Annotations.Remove(image);
        }
        if (server.TryGetLastAnnotation<ContainerLifetimeAnnotation>(out var lifetime) && lifetime.Lifetime == ContainerLifetime.Persistent)
        {
            logger.LogInformation("'{Server}' asks for a persistent lifetime: a local server stops with the AppHost; its data volume keeps the data.", server.Name);
        }

        var context = CreateContext(server, local);
        try
        {
            local.LocateBinaries(server.Name, configuration["HomeIQ:BinaryRoot"] is { Length: > 0 } root ? root : "/");
        }
        catch (MissingServerBinaryException ex)
        {
            eventing.Subscribe<InitializeResourceEvent>(server, async (_, _) =>
            {
                loggers.GetLogger(server).LogError("{Message}", ex.Message);
                logger.LogError("{Message}", ex.Message);
                await PublishToHierarchyAsync(server, s => s with { State = new(KnownResourceStates.FailedToStart, KnownResourceStateStyles.Error) }).ConfigureAwait(false);
            });
            return;
        }

        local.AllocatePorts(context);
        ExecutableResource? process = null;
        foreach (var spec in local.Processes(context))
        {
            process = new ExecutableResource(spec.Name == server.Name ? $"{server.Name}-server" : spec.Name, spec.Command, spec.WorkingDirectory);
            process.Annotations.Add(new CommandLineArgsCallbackAnnotation(args =>
            {
                foreach (var arg in spec.Args)
                {
                    args.Add(arg);
                }
            }));
            if (local.TakesContainerArgs && spec.Name == server.Name)
            {
                // The AppHost's WithArgs on the server (postgres -c options) apply to the local server as to the container.
                foreach (var containerArgs in server.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
                {
                    process.Annotations.Add(containerArgs);
                }
            }
            process.Annotations.Add(new EnvironmentCallbackAnnotation(env =>
            {
                foreach (var (name, value) in spec.Environment)
                {
                    env[name] = value;
                }
            }));
            process.Annotations.Add(new ResourceRelationshipAnnotation(server, "Parent"));
            model.Resources.Add(process);
        }
        var serverProcess = process!;
        _serverOfProcess[serverProcess] = server;

        eventing.Subscribe<BeforeResourceStartedEvent>(serverProcess, async (_, ct) =>
        {
            KeepPlainEndpoint(server);
            _directories!.Ensure(context.ConfigDirectory);
            _directories.Ensure(Path.GetDirectoryName(context.DataDirectory)!);
            var password = PasswordOf(server) is { } parameter ? await parameter.GetValueAsync(ct).ConfigureAwait(false) ?? "" : "";
            var serverLogger = loggers.GetLogger(server);
            await local.PrepareAsync(context, password, line => serverLogger.LogInformation("{Line}", line), ct).ConfigureAwait(false);
        });
        AddCommands(server, serverProcess);
    }

    /// <summary>
    /// A local server speaks plain TCP on loopback. Aspire may have given the container a TLS port in the meantime (Redis does when
    /// a development certificate is trusted): undo that, so the connection string matches the server.
    /// </summary>
    private static void KeepPlainEndpoint(IResource server)
    {
        foreach (var endpoint in server.Annotations.OfType<EndpointAnnotation>().ToList())
        {
            if (endpoint.Name != "tcp")
            {
                server.Annotations.Remove(endpoint);
            }
            else if (endpoint.TlsEnabled)
            {
                endpoint.TlsEnabled = false;
                endpoint.UriScheme = server is RedisResource ? "redis" : endpoint.UriScheme;
            }
        }
    }

    private ServerContext CreateContext(IResource server, LocalServer local)
    {
        var endpoint = server.Annotations.OfType<EndpointAnnotation>().First(e => e.Name == "tcp");
        // Other endpoints (a management UI, a TLS port) belong to the container image.
        foreach (var other in server.Annotations.OfType<EndpointAnnotation>().Where(e => e != endpoint).ToList())
        {
            server.Annotations.Remove(other);
        }
        var port = endpoint.Port ?? LoopbackPorts.Allocate();
        endpoint.IsProxied = false;
        endpoint.Port = port;
        endpoint.TargetPort = port;
        endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "127.0.0.1", port);

        var mount = server.Annotations.OfType<ContainerMountAnnotation>().FirstOrDefault(m => m.Type is ContainerMountType.Volume or ContainerMountType.BindMount);
        var sessionDirectory = Path.Combine(_directories!.Session, server.Name);
        var data = mount switch
        {
            null => Path.Combine(sessionDirectory, "data"),
            { Type: ContainerMountType.BindMount, Source: { } source } => Path.GetFullPath(source),
            _ => _directories.Volume(mount.Source ?? $"{server.Name}-data"),
        };
        return new ServerContext
        {
            Resource = server,
            DataDirectory = data,
            ConfigDirectory = Path.Combine(sessionDirectory, "config"),
            Port = port,
            Durable = mount is not null,
            RunAsUser = Environment.UserName == "root" ? local.RootRunAsUser : null,
        };
    }

    private static ParameterResource? PasswordOf(IResource server) => server switch
    {
        PostgresServerResource p => p.PasswordParameter,
        RedisResource r => r.PasswordParameter,
        RabbitMQServerResource q => q.PasswordParameter,
        MqttBrokerResource m => m.PasswordParameter,
        _ => null,
    };

    /// <summary>Start, stop and restart on the server resource act on its process, as they act on a container.</summary>
    private static void AddCommands(IResource server, IResource process)
    {
        static bool Stopped(string? state) => state is null || state == KnownResourceStates.Exited || state == KnownResourceStates.Finished || state == KnownResourceStates.FailedToStart;
        void Add(string name, string displayName, string icon, Func<string?, bool> enabled) =>
            server.Annotations.Add(new ResourceCommandAnnotation(name, displayName,
                context => enabled(context.ResourceSnapshot.State?.Text) ? ResourceCommandState.Enabled : ResourceCommandState.Hidden,
                context => context.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(process, name, context.CancellationToken),
                displayDescription: null, parameter: null, confirmationMessage: null, iconName: icon, iconVariant: IconVariant.Filled, isHighlighted: name != KnownResourceCommands.RestartCommand));
        Add(KnownResourceCommands.StartCommand, "Start", "Play", Stopped);
        Add(KnownResourceCommands.StopCommand, "Stop", "Stop", state => state == KnownResourceStates.Running);
        Add(KnownResourceCommands.RestartCommand, "Restart", "ArrowCounterclockwise", state => state == KnownResourceStates.Running);
    }

    /// <summary>The server's own output is the server resource's console log too, as a container's would be.</summary>
    private async Task ForwardConsoleAsync(string processId, IResource server, CancellationToken cancellationToken)
    {
        var console = loggers.GetLogger(server);
        try
        {
            await foreach (var batch in loggers.WatchAsync(processId).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                foreach (var line in batch)
                {
                    console.Log(line.IsErrorMessage ? LogLevel.Error : LogLevel.Information, "{Line}", line.Content);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Mirrors each server process's state onto its server resource and databases; announces the connection string once it runs.</summary>
    private async Task MirrorAsync(IDistributedApplicationEventing eventing, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!_serverOfProcess.TryGetValue(e.Resource, out var server))
                {
                    continue;
                }
                if (_forwarded.Add(e.ResourceId))
                {
                    // DCP keeps an executable's output under its instance id.
                    _forwarders.Add(Task.Run(() => ForwardConsoleAsync(e.ResourceId, server, cancellationToken), CancellationToken.None));
                }
                var snapshot = e.Snapshot;
                var running = snapshot.State?.Text == KnownResourceStates.Running;
                await PublishToHierarchyAsync(server, s => s with
                {
                    State = snapshot.State,
                    StartTimeStamp = snapshot.StartTimeStamp,
                    StopTimeStamp = snapshot.StopTimeStamp,
                    ExitCode = snapshot.ExitCode,
                }).ConfigureAwait(false);
                if (running && !_running.GetValueOrDefault(server))
                {
                    foreach (var resource in Hierarchy(server).OfType<IResourceWithConnectionString>())
                    {
                        await eventing.PublishAsync(new ConnectionStringAvailableEvent(resource, services), cancellationToken).ConfigureAwait(false);
                    }
                }
                _running[server] = running;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Mirroring the local servers' state stopped.");
        }
    }

    private async Task PublishToHierarchyAsync(IResource server, Func<CustomResourceSnapshot, CustomResourceSnapshot> update)
    {
        foreach (var resource in Hierarchy(server))
        {
            await notifications.PublishUpdateAsync(resource, update).ConfigureAwait(false);
        }
    }

    /// <summary>The server and the resources that live inside it (its databases).</summary>
    private IEnumerable<IResource> Hierarchy(IResource server) =>
        [server, .. model.Resources.OfType<IResourceWithParent>().Where(r => r.Parent == server && r is not ExecutableResource)];

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _mirror.ConfigureAwait(false);
        await Task.WhenAll(_forwarders).ConfigureAwait(false);
        _stopping.Dispose();
        _directories?.RemoveSession();
    }
}
