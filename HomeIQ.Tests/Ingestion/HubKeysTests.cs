using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using HomeIQ.Ingestion;
using HomeIQ.Ingestion.Infrastructure;
using Microsoft.Extensions.Options;

namespace HomeIQ.Tests.Ingestion;

/// <summary>
/// Which hub keys ingestion asks Identity about. Identity here is down (503 to everything): a key Identity could have issued is then
/// "cannot tell" (a 503 to the hub), a key it could not have issued is unknown (a 401) without asking.
/// </summary>
public sealed class HubKeysTests
{
    public static TheoryData<string> Malformed() =>
    [
        "hiq_clé",
        "hiq_clÃ©", // the same key's UTF-8 bytes, as ingestion reads the header (Latin-1)
        "hiq_ключ",
        "hiq_a b",
        "hiq_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('A', '+').Replace('B', '/'), // base64, not base64url
        "hiq_" + new string('k', 43) + "=",
        "hiq_" + new string('k', 43) + "\0",
        "hiq_",
        "HIQ_" + new string('k', 43),
        "hiq_" + new string('k', HubKeys.MaxKeyLength),
    ];

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task AKeyIdentityCouldNotHaveIssuedIsUnknownWithoutAskingIt(string key)
    {
        var identity = new DownIdentity();

        var owner = await Keys(identity).ValidateAsync(key);

        Assert.Null(owner);
        Assert.Equal(0, identity.Asked);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("k-_9")]
    public async Task AKeyIdentityCouldHaveIssuedIsAskedAbout(string? rest)
    {
        var identity = new DownIdentity();
        var key = "hiq_" + (rest ?? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)));

        await Assert.ThrowsAsync<IdentityUnavailableException>(async () => await Keys(identity).ValidateAsync(key));

        Assert.Equal(1, identity.Asked);
    }

    private static HubKeys Keys(DownIdentity identity) =>
        new(new Factory(identity), Options.Create(new IngestionOptions()), TimeProvider.System);

    private sealed class DownIdentity : HttpMessageHandler
    {
        private int _asked;

        public int Asked => Volatile.Read(ref _asked);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        }
    }

    private sealed class Factory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { BaseAddress = new("http://identity") };
    }
}
