using System.Net;
using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>
/// AddServiceToken in a real web app on loopback that also plays Identity's token endpoint (found as http://identity through
/// discovery) and a service whose internal route checks the token.
/// </summary>
public sealed class ServiceTokenTests : IAsyncLifetime
{
    private const string Secret = "s3cret-for-tests";
    private WebApplication? _app;
    private int _issued;
    private int _expiresIn = 300;
    private readonly HashSet<string> _revoked = [];

    private WebApplication App => _app ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["OTEL_SERVICE_NAME"] = "ingestion";
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient("internal", c => c.BaseAddress = new Uri("http://identity")).AddServiceToken();
        _app = builder.Build();
        _app.MapPost("/api/v1/auth/token", (TokenRequest request) =>
        {
            if (request.ClientId != "ingestion" || request.ClientSecret != Secret)
            {
                return Results.Problem(statusCode: 401, title: "Invalid client");
            }
            var token = $"token-{Interlocked.Increment(ref _issued)}";
            return Results.Ok(new { accessToken = token, tokenType = "Bearer", expiresIn = _expiresIn });
        });
        _app.MapGet("/internal/whoami", (HttpRequest request) =>
        {
            var token = request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
            lock (_revoked)
            {
                return _revoked.Contains(token) || token.Length == 0 ? Results.Problem(statusCode: 401) : Results.Ok(token);
            }
        });
        await _app.StartAsync(TestContext.Current.CancellationToken);
        builder.Configuration["Services:identity:http:0"] = _app.Urls.First();
        builder.Configuration["Authentication:Client:Secret"] = Secret;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private HttpClient Client() => App.Services.GetRequiredService<IHttpClientFactory>().CreateClient("internal");

    private async Task<string> WhoAmIAsync()
    {
        using var response = await Client().GetAsync("/internal/whoami", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ManyConcurrentCallsShareOneToken()
    {
        var seen = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => WhoAmIAsync()));

        Assert.Single(seen.Distinct());
        Assert.Equal(1, _issued);
    }

    [Fact]
    public async Task ATokenCloseToItsExpiryIsReplacedBeforeUse()
    {
        _expiresIn = 61; // renewed 60 s before expiry: after a second it counts as due
        var first = await WhoAmIAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.2), TestContext.Current.CancellationToken);
        var second = await WhoAmIAsync();

        Assert.NotEqual(first, second);
        Assert.Equal(2, _issued);
    }

    [Fact]
    public async Task ACallAnswered401IsRetriedOnceWithAFreshToken()
    {
        var first = await WhoAmIAsync();
        lock (_revoked)
        {
            _revoked.Add(first.Trim('"'));
        }

        var second = await WhoAmIAsync();

        Assert.NotEqual(first, second);
        Assert.Equal(2, _issued);
    }

    [Fact]
    public async Task AWrongSecretIsAClearError()
    {
        App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServiceClientOptions>>().Value.Secret = "wrong";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Client().GetAsync("/internal/whoami", TestContext.Current.CancellationToken));

        Assert.Contains("refused the client credentials of 'ingestion'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingSecretIsAClearError()
    {
        App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServiceClientOptions>>().Value.Secret = "";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Client().GetAsync("/internal/whoami", TestContext.Current.CancellationToken));

        Assert.Contains("Authentication__Client__Secret", error.Message, StringComparison.Ordinal);
    }

    private sealed record TokenRequest(string? ClientId, string? ClientSecret);
}
