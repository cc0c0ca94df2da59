using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HomeIQ.Tests.Identity;

namespace HomeIQ.Tests.Ingestion;

/// <summary>Malformed batches: always a 4xx ProblemDetails, never a 5xx.</summary>
[Collection(IngestionCollection.Name)]
public sealed class IngestionBadInputTests(IngestionFixture fixture)
{
    private const string Device = "{{device}}";
    private const string Ok = $$"""{"deviceId":"{{Device}}","metric":"temperature","value":20.5,"unit":"°C","timestamp":"{{"{{now}}"}}"}""";

    private static string Batch(string reading) => $$"""{"readings":[{{reading}}]}""";

    /// <summary>The valid reading with one member's JSON replaced (or removed, when <paramref name="value"/> is null).</summary>
    private static string Replace(string member, string? value = null)
    {
        var members = new List<(string Name, string Json)>
        {
            ("deviceId", $"\"{Device}\""), ("metric", "\"temperature\""), ("value", "20.5"), ("unit", "\"°C\""), ("timestamp", "\"{{now}}\""),
        };
        var index = members.FindIndex(m => m.Name == member);
        if (index >= 0)
        {
            if (value is null)
            {
                members.RemoveAt(index);
            }
            else
            {
                members[index] = (member, value);
            }
        }
        else if (value is not null)
        {
            members.Add((member, value));
        }
        return "{" + string.Join(",", members.Select(m => $"\"{m.Name}\":{m.Json}")) + "}";
    }

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        void Add(string name, string body, string contentType = "application/json") => data.Add(name, body, contentType);

        // Not JSON, or not the right shape.
        Add("empty body", "");
        Add("whitespace", "   ");
        Add("not json", "hello");
        Add("truncated", "{\"readings\":[");
        Add("trailing garbage", Batch(Ok) + "x");
        Add("json null", "null");
        Add("json array", "[]");
        Add("json string", "\"readings\"");
        Add("json number", "42");
        Add("empty object", "{}");
        Add("readings null", "{\"readings\":null}");
        Add("readings empty", "{\"readings\":[]}");
        Add("readings object", "{\"readings\":{}}");
        Add("readings string", "{\"readings\":\"x\"}");
        Add("readings number", "{\"readings\":1}");
        Add("reading null", "{\"readings\":[null]}");
        Add("reading number", "{\"readings\":[1]}");
        Add("reading string", "{\"readings\":[\"x\"]}");
        Add("reading array", "{\"readings\":[[]]}");
        Add("reading empty object", "{\"readings\":[{}]}");
        Add("unknown top-level field", "{\"readings\":[" + Ok + "],\"extra\":1}");
        Add("unknown reading field", Batch(Replace("colour", "\"red\"")));
        Add("duplicate-ish casing field", Batch(Replace("DEVICEID", "\"x\"")));
        Add("comment", "{/*c*/\"readings\":[" + Ok + "]}");
        Add("trailing comma", "{\"readings\":[" + Ok + ",]}");
        Add("single quotes", "{'readings':[]}");
        Add("unquoted name", "{readings:[]}");
        Add("deep nesting", new string('[', 5000) + new string(']', 5000));
        // Missing or null required members.
        foreach (var member in new[] { "deviceId", "metric", "value", "unit", "timestamp" })
        {
            Add($"missing {member}", Batch(Replace(member)));
            Add($"null {member}", Batch(Replace(member, "null")));
        }
        // Wrong types.
        Add("deviceId number", Batch(Replace("deviceId", "42")));
        Add("deviceId not a guid", Batch(Replace("deviceId", "\"not-a-guid\"")));
        Add("deviceId empty", Batch(Replace("deviceId", "\"\"")));
        Add("deviceId object", Batch(Replace("deviceId", "{}")));
        Add("deviceId too long", Batch(Replace("deviceId", "\"" + new string('a', 10000) + "\"")));
        Add("metric number", Batch(Replace("metric", "5")));
        Add("metric array", Batch(Replace("metric", "[\"t\"]")));
        Add("unit bool", Batch(Replace("unit", "true")));
        Add("value string", Batch(Replace("value", "\"20.5\"")));
        Add("value NaN string", Batch(Replace("value", "\"NaN\"")));
        Add("value Infinity string", Batch(Replace("value", "\"Infinity\"")));
        Add("value NaN literal", Batch(Replace("value", "NaN")));
        Add("value bool", Batch(Replace("value", "false")));
        Add("value object", Batch(Replace("value", "{\"v\":1}")));
        Add("value huge", Batch(Replace("value", "1e400")));
        Add("value hex", Batch(Replace("value", "0x10")));
        Add("value leading zero", Batch(Replace("value", "012")));
        Add("timestamp number", Batch(Replace("timestamp", "1700000000")));
        Add("timestamp not a date", Batch(Replace("timestamp", "\"yesterday\"")));
        Add("timestamp empty", Batch(Replace("timestamp", "\"\"")));
        Add("timestamp bad month", Batch(Replace("timestamp", "\"2026-13-01T00:00:00Z\"")));
        Add("sequence string", Batch(Replace("sequence", "\"1\"")));
        Add("sequence fraction", Batch(Replace("sequence", "1.5")));
        Add("sequence overflow", Batch(Replace("sequence", "99999999999999999999999")));
        // Valid JSON, nothing valid inside: 422.
        Add("unknown device", Batch(Replace("deviceId", $"\"{Guid.NewGuid()}\"")));
        Add("empty guid device", Batch(Replace("deviceId", $"\"{Guid.Empty}\"")));
        Add("empty metric", Batch(Replace("metric", "\"\"")));
        Add("overlong metric", Batch(Replace("metric", "\"" + new string('m', 500) + "\"")));
        Add("overlong unit", Batch(Replace("unit", "\"" + new string('u', 500) + "\"")));
        Add("far future", Batch(Replace("timestamp", "\"9999-12-31T23:59:59Z\"")));
        Add("ancient", Batch(Replace("timestamp", "\"0001-01-01T00:00:00Z\"")));
        Add("value max double", Batch(Replace("value", "1.7976931348623157E+308")));
        // The wrong content type.
        Add("text/plain", Batch(Ok), "text/plain");
        Add("form", "readings=1", "application/x-www-form-urlencoded");
        Add("xml", "<readings/>", "application/xml");
        Add("octet-stream", Batch(Ok), "application/octet-stream");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadInputIsA4xxProblemNeverA5xx(string name, string body, string contentType)
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await SharedHomeAsync();
        var json = body.Replace(Device, home.DeviceId.ToString(), StringComparison.Ordinal)
            .Replace("{{now}}", DateTimeOffset.UtcNow.ToString("O"), StringComparison.Ordinal);

        using var response = await IngestClient.PostRawAsync(fixture.Ingestion(), home.HubKey, json, contentType);

        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{name}: {status} {await response.Content.ReadAsStringAsync(ct)}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task TheCorpusHasAtLeastSixtyCasesAndTheValidReadingItIsBuiltOnIsAccepted()
    {
        var home = await SharedHomeAsync();
        var json = Batch(Ok).Replace(Device, home.DeviceId.ToString(), StringComparison.Ordinal)
            .Replace("{{now}}", DateTimeOffset.UtcNow.ToString("O"), StringComparison.Ordinal);

        using var response = await IngestClient.PostRawAsync(fixture.Ingestion(), home.HubKey, json);

        Assert.True(Cases().Count >= 60);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData("count\\u0000", "", "metric")]
    [InlineData("count", "\\u0000", "unit")]
    [InlineData("count", "pcs\\u001b", "unit")]
    [InlineData("count", "   ", "unit")]
    [InlineData("count", "\\t", "unit")]
    public async Task AReadingWhoseTextReadingsCouldNotStoreOrWhoseUnitIsBlankIsRejectedNamingTheField(string metric, string unit, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        var (home, counter) = await UnitlessDeviceAsync();
        var json = Batch($$"""{"deviceId":"{{counter}}","metric":"{{metric}}","value":3,"unit":"{{unit}}","timestamp":"{{DateTimeOffset.UtcNow:O}}"}""");

        using var response = await IngestClient.PostRawAsync(fixture.Ingestion(), home.HubKey, json);

        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var rejected = Assert.Single(JsonDocument.Parse(body).RootElement.GetProperty("rejected").EnumerateArray());
        Assert.Equal("invalid", rejected.GetProperty("code").GetString());
        Assert.StartsWith($"The {field} ", rejected.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUnitlessMetricTakesAnEmptyUnit()
    {
        var (home, counter) = await UnitlessDeviceAsync();

        using var response = await IngestClient.PostAsync(fixture.Ingestion(), home.HubKey, new { readings = new[] { IngestClient.Reading(counter, "count", 3, "") } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>The body encoded in <paramref name="encoding"/> and labelled with <paramref name="charset"/>: ingestion and devices answer alike.</summary>
    [Theory]
    [InlineData("utf-16", "utf-16", HttpStatusCode.Accepted, HttpStatusCode.Created)]
    [InlineData("utf-8", "utf-16", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest)]
    [InlineData("utf-16", "utf-8", HttpStatusCode.BadRequest, HttpStatusCode.BadRequest)]
    [InlineData("iso-8859-1", "iso-8859-1", HttpStatusCode.Accepted, HttpStatusCode.Created)]
    public async Task ABodyIsReadInTheCharsetItsContentTypeNamesAsTheOtherServicesReadIt(string encoding, string charset, HttpStatusCode ingestion, HttpStatusCode devices)
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await SharedHomeAsync();
        var bytes = Encoding.GetEncoding(encoding);
        var batch = Batch(Ok).Replace(Device, home.DeviceId.ToString(), StringComparison.Ordinal)
            .Replace("{{now}}", DateTimeOffset.UtcNow.ToString("O"), StringComparison.Ordinal);
        using var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings") { Content = Labelled(bytes.GetBytes(batch), charset) };
        ingest.Headers.Add("X-Hub-Key", home.HubKey);
        using var register = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/devices")
        {
            Content = Labelled(bytes.GetBytes("""{"name":"Café plug","kind":"switch"}"""), charset),
        };
        register.Headers.Authorization = new("Bearer", home.OwnerToken);

        using var ingested = await fixture.Ingestion().SendAsync(ingest, ct);
        using var registered = await fixture.App.CreateHttpClient("devices").SendAsync(register, ct);

        Assert.Equal((ingestion, devices), (ingested.StatusCode, registered.StatusCode));
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("latin-99")]
    public async Task ABodyInACharsetNoEncodingHasGetsA415ProblemNamingTheCharset(string charset)
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await SharedHomeAsync();
        var batch = Batch(Ok).Replace(Device, home.DeviceId.ToString(), StringComparison.Ordinal)
            .Replace("{{now}}", DateTimeOffset.UtcNow.ToString("O"), StringComparison.Ordinal);

        using var response = await IngestClient.PostRawAsync(fixture.Ingestion(), home.HubKey, batch, $"application/json; charset={charset}");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"'{charset}'", (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("iso-8859-1", "hiq_clé")]
    [InlineData("utf-8", "hiq_clé")]
    [InlineData("utf-8", "ключ")]
    public async Task ANonAsciiHubKeyGetsA401ProblemNamingTheHubKey(string encoding, string key)
    {
        var ct = TestContext.Current.CancellationToken;
        var home = await SharedHomeAsync();
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.GetEncoding(encoding) };
        using var http = new HttpClient(handler) { BaseAddress = fixture.Ingestion().BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/readings")
        {
            Content = new StringContent(Batch(Ok).Replace(Device, home.DeviceId.ToString(), StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        Assert.True(request.Headers.TryAddWithoutValidation("X-Hub-Key", key));

        using var response = await http.SendAsync(request, ct);

        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("hub key", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static ByteArrayContent Labelled(byte[] body, string charset)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"application/json; charset={charset}");
        return content;
    }

    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static HubHome? _shared;
    private static Guid? _counter;

    /// <summary>The shared home's counter: a device whose one capability, "count", has no unit.</summary>
    private async Task<(HubHome Home, Guid Counter)> UnitlessDeviceAsync()
    {
        var home = await SharedHomeAsync();
        await SharedLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_counter is null)
            {
                var devices = new IdentityClient(fixture.App.CreateHttpClient("devices"));
                using var created = await devices.SendAsync(HttpMethod.Post, $"/api/v1/homes/{home.HomeId}/devices", home.OwnerToken,
                    new { name = "Counter", kind = "sensor", capabilities = new[] { new { metric = "count" } } });
                created.EnsureSuccessStatusCode();
                _counter = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetGuid();
            }
            return (home, _counter.Value);
        }
        finally
        {
            SharedLock.Release();
        }
    }

    private async Task<HubHome> SharedHomeAsync()
    {
        await SharedLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return _shared ??= await fixture.NewHubHomeAsync();
        }
        finally
        {
            SharedLock.Release();
        }
    }
}
