using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>What a service answers when its database fails under a request: 503 + Retry-After for passing failures, 500 for bugs.</summary>
public sealed class DependencyFailureTests : IAsyncLifetime
{
    private WebApplication? _app;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/restarting", () => Throw(new PostgresException("terminating connection due to unexpected postmaster exit", "FATAL", "FATAL", "57P01")));
        _app.MapGet("/wrapped", () => Throw(new InvalidOperationException("while saving", new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03"))));
        _app.MapGet("/bug", () => Throw(new PostgresException("column \"nope\" does not exist", "ERROR", "ERROR", "42703")));
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    private static IResult Throw(Exception exception) => throw exception;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/restarting")]
    [InlineData("/wrapped")]
    public async Task ALostOrRestartingDatabaseIs503WithRetryAfter(string path)
    {
        using var response = await _http.GetAsync(path, TestContext.Current.CancellationToken);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("traceId", out _));
    }

    [Fact]
    public async Task AFaultyQueryIsStillA500()
    {
        using var response = await _http.GetAsync("/bug", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
    }
}
