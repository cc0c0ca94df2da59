using System.Net;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Gateway;

/// <summary>The gateway's edge against callers that misbehave: key-spraying hubs and oversize uploads.</summary>
public sealed class GatewayEdgeTests(AppHostFixture fixture)
{
    /// <summary>
    /// A client with its own address as the gateway sees it: deployed (and in these tests) the gateway takes the client address
    /// from X-Forwarded-For, as set by Azure Container Apps' ingress; its rate-limit buckets are its own.
    /// </summary>
    private HttpClient ClientFrom(string address)
    {
        var client = fixture.App.CreateHttpClient("gateway");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }

    [Fact]
    public async Task AHubThatSendsANewKeyWithEveryRequestMeetsThePerAddressLimit()
    {
        var ct = TestApps.Timeout();
        using var client = ClientFrom("192.0.2.10");

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // no length: the gateway only learns the body is too large while forwarding it
    public async Task AnUploadOverTheSizeLimitIsAnswered413AndTheClientReadsIt(bool chunked)
    {
        var ct = TestApps.Timeout();
        using var client = fixture.App.CreateHttpClient("gateway");
        var body = new byte[4 * 1024 * 1024];

        for (var i = 0; i < 10; i++)
        {
            using HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/register") { Content = content };
            request.Headers.TransferEncodingChunked = chunked;
            using var response = await client.SendAsync(request, ct);
            var problem = await response.Content.ReadAsStringAsync(ct);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("limited to", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ANonAsciiHubKeyIsRefusedAs401NotBlamedOnIngestion()
    {
        var ct = TestApps.Timeout();
        await fixture.App.WaitForEveryReplicaHealthyAsync("ingestion", ct);
        using var client = ClientFrom("192.0.2.11");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
        {
            Content = new StringContent("{\"readings\":[]}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-Hub-Key", "hiq_clé");
        request.Headers.Add("X-Forwarded-For", "192.0.2.11");
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { BaseAddress = client.BaseAddress };
        using var response = await utf8.SendAsync(request, ct);

        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("application/json; charset=bogus", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=\"utf-8\"", HttpStatusCode.BadRequest)]
    public async Task ABodyInACharsetTheServiceCannotReadIsTheClientsError(string contentType, HttpStatusCode expected)
    {
        var ct = TestApps.Timeout();
        using var client = fixture.App.CreateHttpClient("gateway");
        using var content = new ByteArrayContent("{\"email\":\"x\"}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await client.PostAsync("/api/v1/auth/register", content, ct);

        Assert.Equal(expected, response.StatusCode); // the quoted charset is read as UTF-8: the body is then merely invalid (no password)
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
