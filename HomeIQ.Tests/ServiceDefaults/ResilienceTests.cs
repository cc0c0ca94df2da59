using System.Net;
using System.Text;
using HomeIQ.Ingestion;
using HomeIQ.Ingestion.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>HomeIQ's choices on top of the standard resilience handler: one circuit per service, and fail-fast lookups in Ingestion.</summary>
public sealed class ResilienceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AFailingServiceOpensItsOwnCircuitAndNotTheCircuitOfTheOthers()
    {
        var server = new ScriptedServer(request => request.RequestUri!.Port == 7001 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        var builder = Builder(new()
        {
            ["Services:devices:http:0"] = "http://localhost:7001",
            ["Services:readings:http:0"] = "http://localhost:7002",
        });
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(o =>
        {
            o.Retry.Delay = TimeSpan.FromMilliseconds(1);
            o.Retry.UseJitter = false;
            o.CircuitBreaker.MinimumThroughput = 5;
            o.CircuitBreaker.FailureRatio = 0.5;
        });
        builder.Services.AddHttpClient("overview").ConfigurePrimaryHttpMessageHandler(() => server);
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("overview");

        await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                using var failed = await client.GetAsync(new Uri("http://devices/api/v1/devices"), Token);
            }
        });
        using var response = await client.GetAsync(new Uri("http://readings/api/v1/readings"), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task IngestionLookupsRetryOnceOnTheNextReplicaThenGiveUp()
    {
        var identity = new ScriptedServer(_ => HttpStatusCode.ServiceUnavailable);
        var builder = Builder(new()
        {
            ["Services:identity:http:0"] = "http://localhost:7101",
            ["Services:identity:http:1"] = "http://localhost:7102",
            ["Authentication:Client:Id"] = "ingestion",
            ["Authentication:Client:Secret"] = "s3cret-for-tests",
            ["Authentication:Client:TokenEndpoint"] = "http://localhost:7199/api/v1/auth/token",
        });
        builder.AddHubKeyAuthentication();
        builder.Services.AddHttpClient(HubKeys.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => identity);
        builder.Services.AddHttpClient(ServiceTokenProvider.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new TokenServer());
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(HubKeys.HttpClientName);

        using var response = await client.GetAsync(new Uri("/api/v1/internal/hub-keys/validate", UriKind.Relative), Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(["localhost:7101", "localhost:7102"], identity.Seen.Select(u => u.Authority).Order());
    }

    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder;
    }

    /// <summary>Answers every request with the status the script picks for it, and notes the URI each one was sent to.</summary>
    private sealed class ScriptedServer(Func<HttpRequestMessage, HttpStatusCode> status) : HttpMessageHandler
    {
        private readonly List<Uri> _seen = [];

        public List<Uri> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add(request.RequestUri!);
            }
            return Task.FromResult(new HttpResponseMessage(status(request)));
        }
    }

    /// <summary>Identity's token endpoint, issuing the same token to anyone.</summary>
    private sealed class TokenServer : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"accessToken":"token","tokenType":"Bearer","expiresIn":300}""", Encoding.UTF8, "application/json"),
            });
    }
}
