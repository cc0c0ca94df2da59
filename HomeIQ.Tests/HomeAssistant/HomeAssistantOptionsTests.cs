using HomeIQ.Ingestion;
using HomeIQ.Ingestion.HomeAssistant;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HomeIQ.Tests.HomeAssistant;

/// <summary>How the bridge is switched on and how its options are checked.</summary>
public sealed class HomeAssistantOptionsTests
{
    [Fact]
    public async Task BadOptionsFailTheStartWithAMessageNamingEachKey()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HomeAssistant:Url"] = "ftp://ha.local", ["HomeAssistant:HomeId"] = "kitchen", ["HomeAssistant:MaxBatchSize"] = "0",
        });
        builder.Services.AddSingleton<IBridgeLease, HeldLease>();
        builder.Services.AddSingleton<IExternalDeviceDirectory, FakeDeviceDirectory>();
        builder.Services.AddSingleton<HomeIQ.Ingestion.Pipeline.IReadingPipeline, RecordingPipeline>();
        builder.Services.AddHomeAssistantBridgeCore(builder.Configuration.GetSection("HomeAssistant"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(error.Failures, f => f.Contains("HomeAssistant:Url") && f.Contains("ftp://ha.local"));
        Assert.Contains(error.Failures, f => f.Contains("HomeAssistant:AccessToken"));
        Assert.Contains(error.Failures, f => f.Contains("HomeAssistant:HomeId") && f.Contains("kitchen"));
        Assert.Contains(error.Failures, f => f.Contains("HomeAssistant:MaxBatchSize"));
    }

    [Fact]
    public void WithoutAUrlIngestionRunsNoBridgeAndNeedsNoRedis()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HomeAssistant:AccessToken"] = "set but unused" });

        builder.AddHomeAssistantBridge();

        Assert.DoesNotContain(builder.Services, d => d.ImplementationType == typeof(HomeAssistantBridge));
        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(IConnectionMultiplexer));
    }

    [Fact]
    public void WithAUrlIngestionRunsTheBridgeWithARedisLeaseAndTheDevicesClient()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HomeAssistant:Url"] = "http://ha.local:8123", ["ConnectionStrings:cache"] = "127.0.0.1:1,password=unused",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.name=ingestion,service.instance.id=ingestion-1",
        });

        builder.AddHomeAssistantBridge();
        using var services = builder.Services.BuildServiceProvider();

        Assert.Single(builder.Services, d => d.ImplementationType == typeof(HomeAssistantBridge));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IConnectionMultiplexer));
        Assert.Equal("ingestion-1", services.GetRequiredService<IBridgeLease>().Replica);
        Assert.IsType<DevicesExternalDirectory>(services.GetRequiredService<IExternalDeviceDirectory>());
    }

    [Theory]
    [InlineData("http://ha.local:8123", "ws://ha.local:8123/api/websocket")]
    [InlineData("https://ha.example.org/", "wss://ha.example.org/api/websocket")]
    [InlineData("ws://10.0.0.2:8123/api/websocket", "ws://10.0.0.2:8123/api/websocket")]
    public void TheUrlBecomesTheWebSocketApiAddress(string url, string expected) =>
        Assert.Equal(new Uri(expected), new HomeAssistantOptions { Url = url }.WebSocketUri);
}
