using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>AddServiceDefaults puts discovery and resilience on every HttpClient, resilience outside discovery.</summary>
public sealed class ServiceDefaultsWiringTests
{
    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        private int _calls;
        public List<Uri> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Seen)
            {
                Seen.Add(request.RequestUri!);
            }
            var status = statuses[Math.Min(Interlocked.Increment(ref _calls) - 1, statuses.Length - 1)];
            return Task.FromResult(new HttpResponseMessage(status));
        }
    }

    private static (IHost Host, ScriptedHandler Handler) Build(params HttpStatusCode[] statuses)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["Services:devices:http:0"] = "http://localhost:7001";
        builder.Configuration["Services:devices:http:1"] = "http://localhost:7002";
        builder.AddServiceDefaults();
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(o =>
        {
            o.Retry.Delay = TimeSpan.FromMilliseconds(1);
            o.Retry.UseJitter = false;
        });
        var handler = new ScriptedHandler(statuses);
        builder.Services.AddHttpClient("devices").ConfigurePrimaryHttpMessageHandler(() => handler);
        return (builder.Build(), handler);
    }

    [Fact]
    public async Task AServiceNameIsResolvedAndARetryGoesToTheNextReplica()
    {
        var (host, handler) = Build(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var _ = host;
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("devices");

        using var response = await client.GetAsync(new Uri("http://devices/api/v1/devices?room=kitchen"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, handler.Seen.Count);
        Assert.Equal(["localhost:7001", "localhost:7002"], handler.Seen.Select(u => u.Authority).Order());
        Assert.All(handler.Seen, u => Assert.Equal("/api/v1/devices?room=kitchen", u.PathAndQuery));
        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
    }
}
