using System.Net;
using System.Net.Sockets;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Gateway;

/// <summary>The gateway's edge against callers that misbehave: key-spraying hubs and oversize uploads.</summary>
public sealed class GatewayEdgeTests(AppHostFixture fixture)
{
    /// <summary>A client whose connections come from <paramref name="source"/> (any 127.x address is loopback), so its rate-limit bucket is its own.</summary>
    private HttpClient ClientFrom(IPAddress source) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    }) { BaseAddress = fixture.App.GetEndpoint("gateway") };

    [Fact]
    public async Task AHubThatSendsANewKeyWithEveryRequestMeetsThePerAddressLimit()
    {
        var ct = TestApps.Timeout();
        using var client = ClientFrom(IPAddress.Parse("127.0.0.2"));

        var statuses = new List<HttpStatusCode>();
        TimeSpan? retryAfter = null;
        for (var i = 0; i < 60; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings") { Content = new StringContent("{\"readings\":[]}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Hub-Key", Guid.NewGuid().ToString("N"));
            using var response = await client.SendAsync(request, ct);
            statuses.Add(response.StatusCode);
            retryAfter ??= response.Headers.RetryAfter?.Delta;
        }

        Assert.Contains(HttpStatusCode.Unauthorized, statuses); // made-up keys are refused by ingestion while the bucket lasts …
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses); // … then the address's bucket is empty, whatever the key
        Assert.NotNull(retryAfter);
    }

    [Fact]
    public async Task AnUploadOverTheSizeLimitIsAnswered413AndTheClientReadsIt()
    {
        var ct = TestApps.Timeout();
        using var client = fixture.App.CreateHttpClient("gateway");
        var body = new byte[4 * 1024 * 1024];

        for (var i = 0; i < 10; i++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            using var response = await client.PostAsync("/api/v1/auth/register", content, ct);
            var problem = await response.Content.ReadAsStringAsync(ct);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("limited to", problem, StringComparison.Ordinal);
        }
    }
}
