using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Readings;

/// <summary>Bad query input on every readings route: a 400 ProblemDetails naming the parameter, never a 5xx.</summary>
public sealed partial class ReadingsTests
{
    private static readonly string LongMetric = new('m', 201);
    private static readonly string BadCursor = Convert.ToBase64String(Encoding.UTF8.GetBytes("12|not-a-guid|power"));
    private static readonly string NulCursor = Cursor($"12|{Guid.NewGuid():N}|pow\0er");
    private static readonly string BlankCursor = Cursor($"12|{Guid.NewGuid():N}|  ");

    private static string Cursor(string raw) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(raw));

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
        { "raw?after=" + NulCursor, "after" },
        { "raw?after=" + BlankCursor, "after" },
        { "raw?metric=%20%20", "metric" },
        { "raw?metric=%09", "metric" },
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
        { "aggregate?deviceId={device}&metric=%20&bucket=1h", "metric" },
        { "aggregate?deviceId={device}&metric=po%00wer&bucket=1h", "metric" },
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

    [Fact]
    public async Task AReadingWithTextPostgresCannotStoreIsSkippedAndTheRestOfItsEventIsStored()
    {
        var ct = TestApps.Timeout();
        var (homeId, token) = await fixture.NewHomeAsync();
        var device = Guid.NewGuid();
        var now = Ms(DateTimeOffset.UtcNow.AddMinutes(-2));

        await fixture.Bus.PublishAsync(new SensorReadingsReceived(homeId, "test",
        [
            new(device, "power", 100, "W", now.AddSeconds(-2)), new(device, "pow\0er", 1, "W", now.AddSeconds(-1)),
            new(device, "power", 2, "W\0", now), new(device, "power", 101, "W", now.AddSeconds(1)),
        ]), ct);

        var stored = await fixture.WaitForAsync($"/api/v1/homes/{homeId}/readings/raw?deviceId={device}&from={Q(now.AddMinutes(-1))}&to={Q(now.AddMinutes(1))}", token,
            b => b.GetProperty("readings").GetArrayLength() >= 2, ct);
        Assert.Equal([100.0, 101.0], stored.GetProperty("readings").EnumerateArray().Select(r => r.GetProperty("value").GetDouble()));
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
