using System.Diagnostics;
using System.Text.Json;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Hosting;

/// <summary>Aspire's own manifest publisher describes the AppHost for azd: servers as containers, projects, parameters as inputs.</summary>
public sealed class ManifestTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("homeiq-manifest-").FullName;

    [Fact]
    public async Task TheManifestListsEveryResourceWithServersAsContainersAndNoMachinePathOrSecretValue()
    {
        var ct = TestApps.Timeout();
        var dataDirectory = TestApps.Args()[0].Split('=', 2)[1];
        var text = await ManifestAsync(new Dictionary<string, string>(), ct);
        var resources = JsonDocument.Parse(text).RootElement.GetProperty("resources");
        string TypeOf(string name) => resources.GetProperty(name).GetProperty("type").GetString()!;

        Assert.All(new[] { "postgres", "cache", "messaging", "mqtt" }, name => Assert.Equal("container.v0", TypeOf(name)));
        // Postgres options the AppHost gives the server (-c name=value) go to the container too.
        Assert.Contains(resources.GetProperty("postgres").GetProperty("args").EnumerateArray(), a => a.GetString()!.StartsWith("backend_flush_after=", StringComparison.Ordinal));
        Assert.All(new[] { "identitydb", "devicesdb", "readingsdb", "energydb", "anomaliesdb", "automationsdb", "notificationsdb" }, name => Assert.Equal("value.v0", TypeOf(name)));
        Assert.All(new[] { "identity", "devices", "ingestion", "readings", "energy", "anomalies", "automations", "notifications", "gateway" }, name => Assert.Equal("project.v0", TypeOf(name)));
        Assert.All(new[] { "postgres-password", "cache-password", "messaging-password", "mqtt-password", "ingestion-client-secret", "notifications-client-secret" }, name =>
        {
            Assert.Equal("parameter.v0", TypeOf(name));
            Assert.True(resources.GetProperty(name).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
        });
        // Local mode never reaches the manifest: no data directory, session path or server binary of this machine.
        Assert.DoesNotContain(dataDirectory, text, StringComparison.Ordinal);
        Assert.DoesNotContain("/var/lib/homeiq", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/usr/lib/postgresql", text, StringComparison.Ordinal);
        Assert.DoesNotContain("-server\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), text, StringComparison.Ordinal);
        Assert.All(ProjectPaths(resources), p => Assert.False(Path.IsPathRooted(p), $"{p} is an absolute path"));
        // Secrets appear only as references to their parameter ({name.value}), never as values.
        foreach (var secret in await UserSecretValuesAsync(ct))
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
        Assert.Contains("{postgres-password.value}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExistingBrokerReplacesMosquittoAsASecretConnectionStringAndMqttSettingsReachIngestion()
    {
        var ct = TestApps.Timeout();
        const string Secret = "s3cret-broker-password";
        var flat = Guid.NewGuid().ToString();
        var text = await ManifestAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__mqtt"] = $"mqtt://homeiq:{Secret}@broker.example:1883",
            ["Mqtt__Homes__0__HomeId"] = flat,
            ["Mqtt__Homes__0__TopicPrefix"] = "flat/",
        }, ct);

        var resources = JsonDocument.Parse(text).RootElement.GetProperty("resources");
        var mqtt = resources.GetProperty("mqtt");
        Assert.Equal("parameter.v0", mqtt.GetProperty("type").GetString());
        Assert.True(mqtt.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
        Assert.False(resources.TryGetProperty("mqtt-password", out _));
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        var ingestion = resources.GetProperty("ingestion").GetProperty("env");
        Assert.Equal("{mqtt.connectionString}", ingestion.GetProperty("ConnectionStrings__mqtt").GetString());
        Assert.Equal((flat, "flat/"), (ingestion.GetProperty("Mqtt__Homes__0__HomeId").GetString(), ingestion.GetProperty("Mqtt__Homes__0__TopicPrefix").GetString()));
    }

    /// <summary>The AppHost's manifest, written by the AppHost itself with <paramref name="environment"/> added to its own.</summary>
    private async Task<string> ManifestAsync(Dictionary<string, string> environment, CancellationToken ct)
    {
        var path = Path.Combine(_directory, $"aspire-manifest-{Guid.NewGuid():N}.json");
        var psi = new ProcessStartInfo(TestApps.AppHostExecutable, ["--publisher", "manifest", "--output-path", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["HomeIQ__DataDirectory"] = TestApps.Args()[0].Split('=', 2)[1];
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }
        using var appHost = Process.Start(psi)!;
        var output = appHost.StandardOutput.ReadToEndAsync(ct);
        var errors = appHost.StandardError.ReadToEndAsync(ct);
        await appHost.WaitForExitAsync(ct);
        Assert.True(appHost.ExitCode == 0, $"exit code {appHost.ExitCode}: {await output}{await errors}");
        return await File.ReadAllTextAsync(path, ct);
    }

    private static IEnumerable<string> ProjectPaths(JsonElement resources) =>
        resources.EnumerateObject().Where(r => r.Value.TryGetProperty("path", out _)).Select(r => r.Value.GetProperty("path").GetString()!);

    /// <summary>The AppHost's generated parameter values kept in its user secrets, when this machine has run it.</summary>
    private static async Task<IEnumerable<string>> UserSecretValuesAsync(CancellationToken ct)
    {
        var file = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsoft", "usersecrets", "homeiq-apphost", "secrets.json");
        if (!File.Exists(file))
        {
            return [];
        }
        var secrets = JsonDocument.Parse(await File.ReadAllTextAsync(file, ct)).RootElement;
        return secrets.EnumerateObject().Where(p => p.Name.StartsWith("Parameters:", StringComparison.Ordinal) && p.Value.ValueKind == JsonValueKind.String)
            .Select(p => p.Value.GetString()!).Where(v => v.Length >= 8).ToList();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
