using Aspire.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Mqtt;

/// <summary>
/// A Mosquitto MQTT broker: the <c>eclipse-mosquitto</c> container, or Debian's <c>mosquitto</c> as a local process. One user,
/// <see cref="UserName"/>, with a generated password; anonymous clients are refused. Its connection string is
/// <c>mqtt://homeiq:{password}@{host}:{port}</c>.
/// </summary>
public sealed class MqttBrokerResource(string name, ParameterResource password) : ContainerResource(name), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    /// <summary>The broker's one user.</summary>
    public const string UserName = "homeiq";

    private EndpointReference? _primaryEndpoint;

    /// <summary>The password of <see cref="UserName"/>: a generated parameter, kept in user secrets.</summary>
    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The MQTT listener (plain TCP).</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    /// <inheritdoc />
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"mqtt://{UserName}:{PasswordParameter}@{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}
