using System.Text.Json.Nodes;
using HomeIQ.Hosting.Publishing;

namespace HomeIQ.Tests.Hosting;

/// <summary>Declaring resources: names, duplicates, and the deployment manifest written from them.</summary>
public sealed class AppModelTests
{
    [Theory]
    [InlineData("1db")]
    [InlineData("dev_ices")]
    [InlineData("devices-")]
    [InlineData("a--b")]
    [InlineData("")]
    public void InvalidResourceNamesAreRejectedWithTheRule(string name)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => DistributedApplicationTestingBuilder.Create().AddRedis(name));

        Assert.True(name.Length == 0 || ex.Message.Contains("letter", StringComparison.Ordinal), ex.Message);
    }

    [Fact]
    public void DuplicateNamesAreRejectedCaseInsensitively()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddRedis("cache");

        var ex = Assert.Throws<DistributedApplicationException>(() => builder.AddRabbitMQ("Cache"));

        Assert.Contains("'cache' (Redis) already exists", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProjectsMetadataIsGeneratedFromProjectReferences()
    {
        var echo = new Projects.EchoService();

        Assert.EndsWith("EchoService.csproj", echo.ProjectPath, StringComparison.Ordinal);
        Assert.True(File.Exists(echo.ProjectPath));
        Assert.True(File.Exists(((IProjectMetadata)echo).TargetPath), "the build output is known without building again");
    }

    [Fact]
    public async Task TheManifestDescribesServersAsContainersAndProjectsWithTheirReferences()
    {
        var builder = DistributedApplicationTestingBuilder.Create("--publisher", "manifest");
        var postgres = builder.AddPostgres("postgres").WithDataVolume();
        var db = postgres.AddDatabase("devicesdb");
        var cache = builder.AddRedis("cache");
        var devices = builder.AddProject<Projects.EchoService>("devices").WithReference(db).WithReference(cache).WithReplicas(2);
        builder.AddProject<Projects.EchoService>("gateway").WithReference(devices).WithExternalHttpEndpoints();

        var manifest = await ManifestPublisher.WriteAsync([.. builder.Resources], AppContext.BaseDirectory, CancellationToken.None);
        var resources = manifest["resources"]!;

        Assert.Equal("https://json.schemastore.org/aspire-8.0.json", (string?)manifest["$schema"]);
        Assert.Equal("container.v0", (string?)resources["postgres"]!["type"]);
        Assert.Equal("docker.io/library/postgres:17.6", (string?)resources["postgres"]!["image"]);
        Assert.Equal("{postgres-password.value}", (string?)resources["postgres"]!["env"]!["POSTGRES_PASSWORD"]);
        Assert.Equal(5432, (int?)resources["postgres"]!["bindings"]!["tcp"]!["targetPort"]);
        Assert.Equal("/var/lib/postgresql/data", (string?)resources["postgres"]!["volumes"]![0]!["target"]);
        Assert.Equal("value.v0", (string?)resources["devicesdb"]!["type"]);
        Assert.Equal("{postgres.connectionString};Database=devicesdb", (string?)resources["devicesdb"]!["connectionString"]);
        Assert.Equal("parameter.v0", (string?)resources["postgres-password"]!["type"]);
        Assert.Equal(22, (int?)resources["postgres-password"]!["inputs"]!["value"]!["default"]!["generate"]!["minLength"]);
        Assert.True((bool?)resources["postgres-password"]!["inputs"]!["value"]!["secret"]);
        Assert.Equal("project.v0", (string?)resources["devices"]!["type"]);
        Assert.EndsWith("EchoService.csproj", (string?)resources["devices"]!["path"], StringComparison.Ordinal);
        Assert.Equal("{devicesdb.connectionString}", (string?)resources["devices"]!["env"]!["ConnectionStrings__devicesdb"]);
        Assert.Equal("{cache.connectionString}", (string?)resources["devices"]!["env"]!["ConnectionStrings__cache"]);
        Assert.Equal(2, (int?)resources["devices"]!["deployment"]!["replicas"]);
        Assert.Equal("{devices.bindings.http.url}", (string?)resources["gateway"]!["env"]!["services__devices__http__0"]);
        Assert.True((bool?)resources["gateway"]!["bindings"]!["http"]!["external"]);
        Assert.Null(resources["devices"]!["bindings"]!["http"]!["external"]);
        Assert.Equal("http", (string?)resources["gateway"]!["bindings"]!["http"]!["transport"]);
        Assert.IsType<JsonObject>(resources["cache"]);
    }
}
