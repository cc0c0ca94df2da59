using HomeIQ.Hosting;
using Aspire.Hosting.Lifecycle;

namespace Aspire.Hosting;

/// <summary>Runs Aspire's Postgres, Redis and RabbitMQ resources as local processes on machines without a container engine.</summary>
public static class LocalServerExtensions
{
    /// <summary>
    /// In run mode, when no container runtime answers (or <c>HomeIQ:LocalServers</c> is <c>always</c>), every Postgres, Redis,
    /// RabbitMQ and MQTT broker resource of the model runs as a local process from the machine's Debian packages, with the same connection strings,
    /// passwords, health checks and data volumes. With Docker or Podman they stay Aspire's containers; publish mode is untouched.
    /// It also restarts a project that crashed (with backoff), stops projects gracefully, and logs one line when every resource is
    /// running and healthy.
    /// </summary>
    public static IDistributedApplicationBuilder AddLocalServers(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEventingSubscriber<LocalServerSubscriber>();
        builder.Services.TryAddEventingSubscriber<ProjectSupervisor>();
        builder.Services.TryAddEventingSubscriber<ReadyReporter>();
        return builder;
    }
}
