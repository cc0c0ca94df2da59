using System.Net;

namespace HomeIQ.Tests.Integration;

/// <summary>The health endpoints of ServiceDefaults, on real service processes.</summary>
public sealed class ServiceDefaultsHealthTests(AppHostFixture fixture)
{
    [Fact]
    public async Task AServiceWhoseDatabaseIsDownIsUnhealthyOnHealthButAliveOnAlive()
    {
        var ct = TestApps.Timeout();
        using var http = fixture.App.CreateHttpClient("echo-nodb");

        using var health = await http.GetAsync("/health", ct);
        using var ready = await http.GetAsync("/health/ready", ct);
        using var alive = await http.GetAsync("/alive", ct);
        using var live = await http.GetAsync("/health/live", ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("PostgreSql", await health.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task AServiceWithItsDatabaseUpIsHealthy()
    {
        // Identity checks identitydb on /health (Aspire.Npgsql's "PostgreSql" check); no test kills it (outbox-sample is killed by the outbox crash test).
        using var http = fixture.App.CreateHttpClient("identity");

        using var health = await http.GetAsync("/health", TestApps.Timeout());

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("PostgreSql", await health.Content.ReadAsStringAsync(TestApps.Timeout()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownRouteIsAProblemDetailsResponse()
    {
        using var http = fixture.App.CreateHttpClient("echo");

        using var response = await http.GetAsync("/no-such-route", TestApps.Timeout());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("traceId", await response.Content.ReadAsStringAsync(TestApps.Timeout()), StringComparison.Ordinal);
    }
}
