using Aspire.Hosting.ApplicationModel;
using HomeIQ.Hosting.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>A Mosquitto MQTT broker as an Aspire resource.</summary>
public static class MqttBrokerExtensions
{
    internal const string Image = "eclipse-mosquitto";
    internal const string Tag = "2.0";
    internal const int MqttPort = 1883;

    // The container writes its configuration and password file at start, so the password never sits in an image or a mount.
    private const string ContainerScript =
        "printf 'listener 1883\\nallow_anonymous false\\npassword_file /mosquitto/config/passwd\\npersistence true\\npersistence_location /mosquitto/data/\\nlog_dest stdout\\n' > /mosquitto/config/homeiq.conf" +
        " && printf '%s:%s\\n' homeiq \"$MQTT_PASSWORD\" > /mosquitto/config/passwd && chmod 600 /mosquitto/config/passwd && mosquitto_passwd -U /mosquitto/config/passwd" +
        " && chown mosquitto:mosquitto /mosquitto/config/passwd && exec mosquitto -c /mosquitto/config/homeiq.conf";

    /// <summary>
    /// Adds a Mosquitto broker: user <c>homeiq</c> with a generated password (<c>{name}-password</c>), anonymous access refused,
    /// and an MQTT-connect health check. With <see cref="LocalServerExtensions.AddLocalServers"/> it runs as Debian's
    /// <c>mosquitto</c> on loopback when no container runtime answers.
    /// </summary>
    public static IResourceBuilder<MqttBrokerResource> AddMqttBroker(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var broker = new MqttBrokerResource(name, password);
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(broker, async (_, ct) =>
            connectionString = await broker.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheck, _ => new MqttConnectHealthCheck(() => connectionString), failureStatus: null, tags: null));
        return builder.AddResource(broker)
            .WithEndpoint(port: port, targetPort: MqttPort, name: MqttBrokerResource.PrimaryEndpointName)
            .WithImage(Image, Tag)
            .WithImageRegistry("docker.io")
            .WithEnvironment("MQTT_PASSWORD", password)
            .WithEntrypoint("sh")
            .WithArgs("-c", ContainerScript)
            .WithHealthCheck(healthCheck);
    }

    /// <summary>Keeps the broker's persistent sessions and queued messages across runs (<c>/mosquitto/data</c>, or a stable local directory).</summary>
    public static IResourceBuilder<MqttBrokerResource> WithDataVolume(this IResourceBuilder<MqttBrokerResource> builder, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), "/mosquitto/data");
    }
}
