using System.Collections.Concurrent;
using HomeIQ.ServiceDefaults.ServiceDiscovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>Configuration-based service discovery, rule by rule, against the Service discovery section of ASPIRE-CONTRACT.md.</summary>
public sealed class ServiceDiscoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ServiceEndpointResolver Resolver(params (string Key, string Value)[] settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    private static async Task<string[]> Endpoints(ServiceEndpointResolver resolver, string query) =>
        [.. (await resolver.GetEndpointsAsync(query, Ct)).Select(u => u.ToString())];

    [Fact]
    public async Task ASingleValueIsTheOnlyEndpoint()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001"));

        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "http://devices"));
        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "devices"));
    }

    [Fact]
    public async Task NumericChildrenAreTakenInTurn()
    {
        var resolver = Resolver(("Services:devices:http:0", "http://localhost:5001"), ("Services:devices:http:1", "http://localhost:5002"));

        Assert.Equal(["http://localhost:5001/", "http://localhost:5002/"], await Endpoints(resolver, "http://devices"));
        var picked = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            picked.Add((await resolver.ResolveAsync(new Uri("http://devices/ping"), Ct)).ToString());
        }

        Assert.Equal(["http://localhost:5001/ping", "http://localhost:5002/ping", "http://localhost:5001/ping"], picked);
    }

    [Fact]
    public async Task RoundRobinIsFairUnderConcurrentCalls()
    {
        var resolver = Resolver(("Services:devices:http:0", "http://localhost:5001"), ("Services:devices:http:1", "http://localhost:5002"));
        var counts = new ConcurrentDictionary<int, int>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), Ct, async (_, ct) =>
        {
            var uri = await resolver.ResolveAsync(new Uri("http://devices"), ct);
            counts.AddOrUpdate(uri.Port, 1, (_, n) => n + 1);
        });

        Assert.Equal(500, counts[5001]);
        Assert.Equal(500, counts[5002]);
    }

    [Fact]
    public async Task TheDefaultSectionWinsOverSchemeSections()
    {
        var resolver = Resolver(("Services:devices:default", "http://localhost:5000"), ("Services:devices:http", "http://localhost:5001"));

        Assert.Equal(["http://localhost:5000/"], await Endpoints(resolver, "http://devices"));
    }

    [Fact]
    public async Task HttpsPlusHttpPrefersTheHttpsSection()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001"), ("Services:devices:https", "https://localhost:5443"));

        Assert.Equal(["https://localhost:5443/"], await Endpoints(resolver, "https+http://devices"));
        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "http+https://devices"));
    }

    [Fact]
    public async Task HttpsPlusHttpFallsBackToTheHttpSection()
    {
        var resolver = Resolver(("Services:devices:http:0", "http://localhost:5001"));

        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "https+http://devices"));
    }

    [Fact]
    public async Task HttpEndpointsAreDroppedWhenHttpsEndpointsExist()
    {
        var resolver = Resolver(
            ("Services:devices:default:0", "http://localhost:5001"),
            ("Services:devices:default:1", "https://localhost:5443"),
            ("Services:devices:default:2", "https://localhost:5444"));

        Assert.Equal(["https://localhost:5443/", "https://localhost:5444/"], await Endpoints(resolver, "https+http://devices"));
    }

    [Fact]
    public async Task ASingleSchemeQueryKeepsOnlyEndpointsOfThatScheme()
    {
        var resolver = Resolver(("Services:devices:default:0", "https://localhost:5443"), ("Services:devices:default:1", "http://localhost:5001"));

        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "http://devices"));
    }

    [Fact]
    public async Task AnEndpointWithoutASchemeTakesTheQueryScheme()
    {
        var resolver = Resolver(("Services:devices:http", "localhost:5000"));

        Assert.Equal(["http://localhost:5000/"], await Endpoints(resolver, "http://devices"));
    }

    [Fact]
    public async Task AnUnderscoreEndpointNamePicksThatSection()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001"), ("Services:devices:admin", "http://localhost:5099"));

        Assert.Equal(["http://localhost:5099/"], await Endpoints(resolver, "http://_admin.devices"));
        Assert.Equal(new Uri("http://localhost:5099/users?all=1"), await resolver.ResolveAsync(new Uri("http://_admin.devices/users?all=1"), Ct));
    }

    [Fact]
    public async Task KeysAreCaseInsensitive()
    {
        var resolver = Resolver(("SERVICES:Devices:HTTP:0", "http://localhost:5001"));

        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "http://devices"));
        Assert.Equal(["http://localhost:5001/"], await Endpoints(resolver, "HTTP://DEVICES"));
    }

    [Fact]
    public async Task TheAppHostsEnvironmentVariablesAreUnderstood()
    {
        const string Prefix = "HOMEIQ_SDTEST_";
        Environment.SetEnvironmentVariable(Prefix + "services__devices__http__0", "http://localhost:51234");
        try
        {
            var resolver = new ServiceEndpointResolver(new ConfigurationBuilder().AddEnvironmentVariables(Prefix).Build());

            Assert.Equal(["http://localhost:51234/"], await Endpoints(resolver, "https+http://devices"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Prefix + "services__devices__http__0", null);
        }
    }

    [Fact]
    public async Task AConfigurationChangeTakesEffectOnTheNextResolution()
    {
        var config = new ConfigurationManager();
        config["Services:devices:http:0"] = "http://localhost:5001";
        var resolver = new ServiceEndpointResolver(config);
        Assert.Equal(5001, (await resolver.ResolveAsync(new Uri("http://devices"), Ct)).Port);

        config["Services:devices:http:0"] = "http://localhost:6001";

        Assert.Equal(6001, (await resolver.ResolveAsync(new Uri("http://devices"), Ct)).Port);
    }

    [Fact]
    public async Task AnUnknownServiceThrowsNamingTheServiceAndTheKeysLookedAt()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await resolver.ResolveAsync(new Uri("https+http://inventory/x"), Ct));

        Assert.Contains("'inventory'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Services:inventory:default, Services:inventory:https, Services:inventory:http", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASectionWithNoEndpointOfAnAllowedSchemeThrowsNamingTheService()
    {
        var resolver = Resolver(("Services:devices:default", "https://localhost:5443"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await resolver.GetEndpointsAsync("http://devices", Ct));

        Assert.Contains("'devices'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEndpointPathBaseComesBeforeTheRequestPath()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001/base/"));

        Assert.Equal(new Uri("http://localhost:5001/base/api/x?y=1#top"), await resolver.ResolveAsync(new Uri("http://devices/api/x?y=1#top"), Ct));
    }

    [Fact]
    public async Task WebSocketUrisResolveThroughTheHttpSectionsAndKeepTheirScheme()
    {
        var resolver = Resolver(("Services:devices:http", "http://localhost:5001"), ("Services:devices:https", "https://localhost:5443"));

        Assert.Equal(new Uri("ws://localhost:5001/stream"), await resolver.ResolveAsync(new Uri("ws://devices/stream"), Ct));
        Assert.Equal(new Uri("wss://localhost:5443/stream"), await resolver.ResolveAsync(new Uri("wss+ws://devices/stream"), Ct));
    }

    [Theory]
    [InlineData("http://localhost:5001/api?x=1")]
    [InlineData("http://example.com/api?x=1")]
    [InlineData("http://127.0.0.1:8080/api")]
    [InlineData("http://[::1]:8080/api")]
    [InlineData("http://_admin.devices.example.com/api")]
    public async Task MachineHostsPassThroughUnchanged(string url)
    {
        var resolver = Resolver();
        var recorder = new RecordingHandler();
        using var client = new HttpClient(new ServiceDiscoveryHttpMessageHandler(resolver) { InnerHandler = recorder });

        using var response = await client.GetAsync(url, Ct);

        Assert.Equal(new Uri(url), Assert.Single(recorder.Requests));
        Assert.Equal(new Uri(url), await resolver.ResolveAsync(new Uri(url), Ct));
    }

    [Fact]
    public async Task HttpClientRequestsGoToTheResolvedAddressKeepingPathAndQuery()
    {
        var resolver = Resolver(("Services:devices:https:0", "https://localhost:5443"), ("Services:devices:https:1", "https://localhost:5444"));
        var recorder = new RecordingHandler();
        using var client = new HttpClient(new ServiceDiscoveryHttpMessageHandler(resolver) { InnerHandler = recorder })
        {
            BaseAddress = new Uri("https+http://devices"),
        };

        using var first = await client.GetAsync("/api/devices?room=kitchen", Ct);
        using var second = await client.GetAsync("/api/devices/7", Ct);

        Assert.Equal(
            [new Uri("https://localhost:5443/api/devices?room=kitchen"), new Uri("https://localhost:5444/api/devices/7")],
            recorder.Requests);
    }

    [Fact]
    public async Task ARetriedRequestIsResolvedAgainAndKeepsItsServiceUri()
    {
        var resolver = Resolver(("Services:devices:http:0", "http://localhost:5001"), ("Services:devices:http:1", "http://localhost:5002"));
        var recorder = new RecordingHandler();
        using var invoker = new HttpMessageInvoker(new ServiceDiscoveryHttpMessageHandler(resolver) { InnerHandler = recorder });
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://devices/api");

        using var first = await invoker.SendAsync(request, Ct);
        using var second = invoker.Send(request, Ct);

        Assert.Equal([new Uri("http://localhost:5001/api"), new Uri("http://localhost:5002/api")], recorder.Requests);
        Assert.Equal(new Uri("http://devices/api"), request.RequestUri);
    }

    [Fact]
    public async Task AddServiceDiscoveryWiresANamedClientAndRegistersOnce()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create("Services:devices:http:0", (string?)"http://localhost:5001")]).Build());
        var recorder = new RecordingHandler();
        services.AddServiceDiscovery();
        services.AddHttpClient("devices").ConfigurePrimaryHttpMessageHandler(() => recorder).AddServiceDiscovery();
        await using var provider = services.BuildServiceProvider();

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("devices");
        using var response = await client.GetAsync("http://devices/health", Ct);

        Assert.Equal(new Uri("http://localhost:5001/health"), Assert.Single(recorder.Requests));
        Assert.Single(services, d => d.ServiceType == typeof(ServiceEndpointResolver));
        Assert.Single(services, d => d.ServiceType == typeof(ServiceDiscoveryHttpMessageHandler));
        Assert.Same(provider.GetRequiredService<ServiceEndpointResolver>(), provider.GetRequiredService<ServiceEndpointResolver>());
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public ConcurrentQueue<Uri> Requests { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { RequestMessage = request });
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            SendAsync(request, cancellationToken).GetAwaiter().GetResult();
    }
}
