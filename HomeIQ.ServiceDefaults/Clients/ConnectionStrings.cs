using Microsoft.Extensions.Configuration;

namespace HomeIQ.ServiceDefaults.Clients;

internal static class ConnectionStrings
{
    /// <summary>The connection string the AppHost injected, or a start-up error that says where it should have been.</summary>
    public static string Require(IConfiguration configuration, string connectionName, string what) =>
        configuration.GetConnectionString(connectionName) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"The {what} connection string '{connectionName}' is missing. It should be provided in 'ConnectionStrings:{connectionName}' " +
                $"(environment variable ConnectionStrings__{connectionName}); the AppHost sets it for a resource referenced with WithReference(...).");
}
