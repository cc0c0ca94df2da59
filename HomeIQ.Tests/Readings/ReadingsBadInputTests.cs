using System.Text;
using System.Text.Json;

namespace HomeIQ.Tests.Readings;

/// <summary>Bad query input on every readings route: a 400 ProblemDetails naming the parameter, never a 5xx.</summary>
public sealed partial class ReadingsTests
{
    private static readonly string LongMetric = new('m', 201);
    private static readonly string BadCursor = Convert.ToBase64String(Encoding.UTF8.GetBytes("12|not-a-guid|power"));

    public static TheoryData<string, string> BadQueries => new()
    {
        { "raw?deviceId=not-a-guid", "deviceId" },
        { "raw?deviceId=00000000-0000-0000-0000-000000000000", "deviceId" },
        { "raw?deviceId=", "deviceId" },
        { "raw?deviceId=12345", "deviceId" },
        { "raw?metric=", "metric" },
        { "raw?metric=" + LongMetric, "metric" },
        { "raw?metric=a%00b", "metric" },
        { "raw?from=yesterday", "from" },
        { "raw?from=", "from" },
        { "raw?to=2026-13-01T00:00:00Z", "to" },
        { "raw?to=1969-12-31T00:00:00Z", "to" },
        { "raw?from=9999-01-01T00:00:00Z", "from" },
        { "raw?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from" },
        { "raw?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to" },
        { "raw?limit=0", "limit" },
        { "raw?limit=10001", "limit" },
        { "raw?limit=-5", "limit" },
        { "raw?limit=abc", "limit" },
        { "raw?limit=1.5", "limit" },
        { "raw?limit=99999999999999999999", "limit" },
        { "raw?limit=", "limit" },
        { "raw?after=garbage!", "after" },
        { "raw?after=", "after" },
        { "raw?after=" + BadCursor, "after" },
        { "latest?deviceId=nope", "deviceId" },
        { "latest?deviceId=", "deviceId" },
        { "latest?deviceId=00000000-0000-0000-0000-000000000000", "deviceId" },
        { "aggregate?deviceId={device}&metric=power&bucket=2m", "bucket" },
        { "aggregate?deviceId={device}&metric=power&bucket=1H", "bucket" },
        { "aggregate?deviceId={device}&metric=power&bucket=", "bucket" },
        { "aggregate?deviceId={device}&metric=power", "bucket" },
        { "aggregate?deviceId={device}&metric=power&bucket=1w", "bucket" },
        { "aggregate?metric=power&bucket=1h", "deviceId" },
        { "aggregate?deviceId=xyz&metric=power&bucket=1h", "deviceId" },
        { "aggregate?deviceId={device}&bucket=1h", "metric" },
        { "aggregate?deviceId={device}&metric=&bucket=1h", "metric" },
        { "aggregate?deviceId={device}&metric=" + LongMetric + "&bucket=1h", "metric" },
        { "aggregate?deviceId={device}&metric=power&bucket=1m&from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z", "to" },
        { "aggregate?deviceId={device}&metric=power&bucket=5m&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", "to" },
        { "aggregate?deviceId={device}&metric=power&bucket=1h&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to" },
        { "aggregate?deviceId={device}&metric=power&bucket=1d&from=1990-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to" },
        { "aggregate?deviceId={device}&metric=power&bucket=1h&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from" },
        { "aggregate?deviceId={device}&metric=power&bucket=1h&from=soon", "from" },
        { "aggregate?deviceId={device}&metric=power&bucket=1h&to=later", "to" },
        { "aggregate?deviceId={device}&metric=power&bucket=1h&from=0001-01-01T00:00:00Z", "from" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task BadInputGetsA400ProblemNamingTheParameter(string query, string parameter)
    {
        var (homeId, token) = await SharedHomeAsync();
        var path = $"/api/v1/homes/{homeId}/readings/" + query.Replace("{device}", Guid.NewGuid().ToString(), StringComparison.Ordinal);

        using var response = await fixture.Readings().SendAsync(HttpMethod.Get, path, token);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)response.StatusCode == 400, $"{path} answered {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonSerializer.Deserialize<JsonElement>(body).GetProperty("errors").TryGetProperty(parameter, out _), body);
    }

    [Theory]
    [InlineData("/api/v1/homes/not-a-guid/readings/latest")]
    [InlineData("/api/v1/homes/{home}/readings/unknown")]
    [InlineData("/api/v1/homes/{home}/readings")]
    public async Task UnknownRoutesGet404NotA5xx(string path)
    {
        var (homeId, token) = await SharedHomeAsync();

        using var response = await fixture.Readings().SendAsync(HttpMethod.Get, path.Replace("{home}", homeId.ToString(), StringComparison.Ordinal), token);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static (Guid HomeId, string Token)? _shared;

    private async Task<(Guid HomeId, string Token)> SharedHomeAsync()
    {
        await SharedLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return _shared ??= await fixture.NewHomeAsync();
        }
        finally
        {
            SharedLock.Release();
        }
    }
}
