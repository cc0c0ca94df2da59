using HomeIQ.Hosting.Orchestration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeIQ.Tests.Hosting;

/// <summary>The environment a project receives, checked variable by variable against ASPIRE-CONTRACT.md.</summary>
public sealed class EnvironmentTests
{
    private static OrchestratorContext Context(string? otlp = null) => new()
    {
        Options = new DistributedApplicationOptions(),
        Configuration = new ConfigurationBuilder().Build(),
        Paths = new AppHostPaths(Path.GetTempPath(), "test", "/nowhere", isolated: true),
        Ports = new PortAllocator(),
        Notifications = new ResourceNotificationService([], CancellationToken.None),
        Logs = new ResourceLoggerService(),
        ExecutionContext = new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run),
        Logger = NullLogger.Instance,
        Session = new SessionRecord(Path.GetTempPath()),
        Stopping = CancellationToken.None,
        OtlpEndpoint = otlp,
        OtlpApiKey = otlp is null ? null : "key123",
    };

    private static void Allocate(IResource resource, params int[] ports)
    {
        var endpoint = resource.Annotations.OfType<EndpointAnnotation>().First();
        endpoint.AllocatedEndpoints.AddRange(ports.Select(p => new AllocatedEndpoint(endpoint.UriScheme, resource is ServerResource ? "127.0.0.1" : "localhost", p)));
    }

    private static (IDistributedApplicationTestingBuilder Builder, IResourceBuilder<ProjectResource> Api, IResourceBuilder<ProjectResource> Devices) Model()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var postgres = builder.AddPostgres("postgres");
        var db = postgres.AddDatabase("devicesdb");
        var devices = builder.AddProject("devices", "/src/Devices/Devices.csproj").WithReplicas(2);
        var api = builder.AddProject("api", "/src/Api/Api.csproj").WithReference(db).WithReference(devices).WithEnvironment("FEATURE", "on");
        Allocate(postgres.Resource, 5432);
        Allocate(devices.Resource, 7001, 7002);
        Allocate(api.Resource, 7100);
        postgres.Resource.PasswordParameter.Value = "pw";
        return (builder, api, devices);
    }

    [Fact]
    public async Task AProjectGetsItsUrlsEnvironmentAndTelemetrySettings()
    {
        var (_, api, _) = Model();

        var env = await ResourceEnvironment.BuildAsync(api.Resource, 0, "api-abc", Context(), CancellationToken.None);

        Assert.Equal("http://localhost:7100", env["ASPNETCORE_URLS"]);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("Development", env["DOTNET_ENVIRONMENT"]);
        Assert.Equal("api", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=api-abc", env["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("always_on", env["OTEL_TRACES_SAMPLER"]);
        Assert.Equal("1000", env["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_BLRP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal("simple", env["LOGGING__CONSOLE__FORMATTERNAME"]);
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"), "no OTLP endpoint without a dashboard");
        Assert.Equal("on", env["FEATURE"]);
    }

    [Fact]
    public async Task OtlpExportSettingsAreGivenWhenADashboardReceivesTelemetry()
    {
        var (_, api, _) = Model();

        var env = await ResourceEnvironment.BuildAsync(api.Resource, 0, "api", Context("http://localhost:18889"), CancellationToken.None);

        Assert.Equal("http://localhost:18889", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("x-otlp-api-key=key123", env["OTEL_EXPORTER_OTLP_HEADERS"]);
    }

    [Fact]
    public async Task AReferenceGivesAConnectionStringNamedAfterTheResource()
    {
        var (_, api, _) = Model();

        var env = await ResourceEnvironment.BuildAsync(api.Resource, 0, "api", Context(), CancellationToken.None);

        Assert.Equal("Host=127.0.0.1;Port=5432;Username=postgres;Password=pw;Database=devicesdb", env["ConnectionStrings__devicesdb"]);
        Assert.DoesNotContain(env.Keys, k => k == "ConnectionStrings__postgres");
    }

    [Fact]
    public async Task AProjectReferenceGivesOneServiceVariablePerReplica()
    {
        var (_, api, _) = Model();

        var env = await ResourceEnvironment.BuildAsync(api.Resource, 0, "api", Context(), CancellationToken.None);

        Assert.Equal("http://localhost:7001", env["services__devices__http__0"]);
        Assert.Equal("http://localhost:7002", env["services__devices__http__1"]);
        Assert.Equal(2, env.Keys.Count(k => k.StartsWith("services__", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task EachReplicaListensOnItsOwnPort()
    {
        var (_, _, devices) = Model();

        var first = await ResourceEnvironment.BuildAsync(devices.Resource, 0, "devices-0", Context(), CancellationToken.None);
        var second = await ResourceEnvironment.BuildAsync(devices.Resource, 1, "devices-1", Context(), CancellationToken.None);

        Assert.Equal("http://localhost:7001", first["ASPNETCORE_URLS"]);
        Assert.Equal("http://localhost:7002", second["ASPNETCORE_URLS"]);
        Assert.NotEqual(first["OTEL_RESOURCE_ATTRIBUTES"], second["OTEL_RESOURCE_ATTRIBUTES"]);
    }

    [Theory]
    [InlineData("ConnectionStrings__devicesdb", true)]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", true)]
    [InlineData("Identity__ClientSecret", true)]
    [InlineData("ASPNETCORE_URLS", false)]
    [InlineData("services__devices__http__0", false)]
    public void SecretsAreMaskedOnTheDashboard(string name, bool secret) => Assert.Equal(secret, ResourceEnvironment.IsSecret(name));
}
