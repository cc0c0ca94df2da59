using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace HomeIQ.Tests.Devices;

/// <summary>Bad input on every devices route: always a 4xx, never a 5xx. {home}, {room} and {device} are a real home's ids.</summary>
public sealed partial class DevicesTests
{
    private static readonly string Long = new('x', 101);
    private static readonly string VeryLong = new('x', 256);

    public static TheoryData<string, string, string?> BadInput => new()
    {
        { "POST", "/api/v1/homes/{home}/devices", "{not json" },
        { "POST", "/api/v1/homes/{home}/devices", "" },
        { "POST", "/api/v1/homes/{home}/devices", "[]" },
        { "POST", "/api/v1/homes/{home}/devices", "\"a string\"" },
        { "POST", "/api/v1/homes/{home}/devices", "null" },
        { "POST", "/api/v1/homes/{home}/devices", "{}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":42,\"kind\":\"sensor\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"\",\"kind\":\"sensor\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"   \",\"kind\":\"sensor\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"" + Long + "\",\"kind\":\"sensor\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"toaster\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"SENSOR\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":[\"sensor\"]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"roomId\":\"not-a-guid\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"roomId\":12}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"roomId\":\"" + Guid.Empty + "\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"roomId\":\"{otherroom}\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"externalId\":\"" + VeryLong + "\"}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"externalId\":{}}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":{}}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[null]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\",\"min\":10,\"max\":1}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"unit\":\"W\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"" + Long + "\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\",\"min\":\"low\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\",\"max\":1e400}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\",\"writable\":\"yes\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\"},{\"metric\":\"t\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"capabilities\":[{\"metric\":\"t\",\"unit\":\"" + Long + "\"}]}" },
        { "POST", "/api/v1/homes/{home}/devices", "{\"name\":\"ok\",\"kind\":\"sensor\",\"externalId\":\"sensor.taken\"}" },
        { "POST", "/api/v1/homes/not-a-guid/devices", "{\"name\":\"ok\",\"kind\":\"sensor\"}" },
        { "GET", "/api/v1/homes/{home}/devices?limit=0", null },
        { "GET", "/api/v1/homes/{home}/devices?limit=201", null },
        { "GET", "/api/v1/homes/{home}/devices?limit=abc", null },
        { "GET", "/api/v1/homes/{home}/devices?offset=-1", null },
        { "GET", "/api/v1/homes/{home}/devices?kind=toaster", null },
        { "GET", "/api/v1/homes/{home}/devices?roomId=kitchen", null },
        { "GET", "/api/v1/homes/{home}/devices?limit=99999999999999", null },
        { "GET", "/api/v1/homes/{home}/devices/not-a-guid", null },
        { "GET", "/api/v1/homes/{home}/devices/" + "00000000-0000-0000-0000-000000000000", null },
        { "GET", "/api/v1/homes/00000000-0000-0000-0000-000000000000/devices", null },
        { "PUT", "/api/v1/homes/{home}/devices/{device}", "{\"name\":\"ok\"}" },
        { "PUT", "/api/v1/homes/{home}/devices/{device}", "{\"name\":\"ok\",\"kind\":\"meter\",\"roomId\":\"{otherroom}\"}" },
        { "PUT", "/api/v1/homes/{home}/devices/{device}", "{broken" },
        { "PUT", "/api/v1/homes/{home}/devices/" + "11111111-1111-1111-1111-111111111111", "{\"name\":\"ok\",\"kind\":\"meter\"}" },
        { "PUT", "/api/v1/homes/{home}/devices/123", "{\"name\":\"ok\",\"kind\":\"meter\"}" },
        { "DELETE", "/api/v1/homes/{home}/devices/" + "11111111-1111-1111-1111-111111111111", null },
        { "DELETE", "/api/v1/homes/{home}/devices/xyz", null },
        { "POST", "/api/v1/homes/{home}/rooms", "{\"name\":\"\"}" },
        { "POST", "/api/v1/homes/{home}/rooms", "{\"name\":\"" + Long + "\"}" },
        { "POST", "/api/v1/homes/{home}/rooms", "{\"name\":true}" },
        { "POST", "/api/v1/homes/{home}/rooms", "{{{{" },
        { "PUT", "/api/v1/homes/{home}/rooms/{room}", "{\"name\":null}" },
        { "PATCH", "/api/v1/homes/{home}/rooms/{room}", "{\"name\":\"" + Long + "\"}" },
        { "PATCH", "/api/v1/homes/{home}/rooms/{otherroom}", "{\"name\":\"ok\"}" },
        { "GET", "/api/v1/homes/{home}/rooms/not-a-guid", null },
        { "GET", "/api/v1/homes/{home}/rooms/" + "22222222-2222-2222-2222-222222222222", null },
        { "DELETE", "/api/v1/homes/{home}/rooms/" + "22222222-2222-2222-2222-222222222222", null },
        { "GET", "/api/v1/internal/devices/{device}", null },
        { "GET", "/api/v1/internal/devices/not-a-guid", null },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task BadInputGetsA4xxProblemNeverA5xx(string method, string path, string? body)
    {
        var shared = await fixture.SharedHomeAsync();
        string Fill(string s) => s.Replace("{home}", shared.HomeId.ToString(), StringComparison.Ordinal)
            .Replace("{device}", shared.DeviceId.ToString(), StringComparison.Ordinal)
            .Replace("{room}", shared.RoomId.ToString(), StringComparison.Ordinal)
            .Replace("{otherroom}", shared.OtherRoomId.ToString(), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method), Fill(path));
        if (body is not null)
        {
            request.Content = new StringContent(Fill(body), Encoding.UTF8, "application/json");
        }
        request.Headers.Authorization = new("Bearer", shared.Token);

        using var response = await fixture.Devices().Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    public static TheoryData<string, string, string, string> UnstorableText => new()
    {
        { "POST", "/api/v1/homes/{home}/rooms", """{"name":"Kitchen\u0000"}""", "name" },
        { "PUT", "/api/v1/homes/{home}/rooms/{room}", """{"name":"\u0000"}""", "name" },
        { "PATCH", "/api/v1/homes/{home}/rooms/{room}", """{"name":"Hall\nway"}""", "name" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Lamp\u0000","kind":"dimmer"}""", "name" },
        { "PUT", "/api/v1/homes/{home}/devices/{device}", """{"name":"Plug\u0000","kind":"meter"}""", "name" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Lamp","kind":"dimmer","externalId":"light.\u0000lamp"}""", "externalId" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Lamp","kind":"dimmer","externalId":"   "}""", "externalId" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Lamp","kind":"dimmer","externalId":""}""", "externalId" },
        { "PUT", "/api/v1/homes/{home}/devices/{device}", """{"name":"Plug","kind":"meter","externalId":" \t "}""", "externalId" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Meter","kind":"meter","capabilities":[{"metric":"power\u0000","unit":"W"}]}""", "capabilities[0]" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Meter","kind":"meter","capabilities":[{"metric":"power","unit":"W\u0000"}]}""", "capabilities[0]" },
        { "POST", "/api/v1/homes/{home}/devices", """{"name":"Meter","kind":"meter","capabilities":[{"metric":"power","unit":"W"},{"metric":"energy","unit":"   "}]}""", "capabilities[1]" },
    };

    [Theory]
    [MemberData(nameof(UnstorableText))]
    public async Task UnstorableOrBlankTextGetsA400ProblemNamingOnlyThatField(string method, string path, string body, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        var shared = await fixture.SharedHomeAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{home}", shared.HomeId.ToString(), StringComparison.Ordinal)
            .Replace("{room}", shared.RoomId.ToString(), StringComparison.Ordinal).Replace("{device}", shared.DeviceId.ToString(), StringComparison.Ordinal))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", shared.Token);

        using var response = await fixture.Devices().Http.SendAsync(request, ct);

        await AssertProblemNamesOnlyAsync(response, field);
    }

    [Theory]
    [InlineData("sensor.\\u0000garage")]
    [InlineData("  ")]
    public async Task TheBridgesRegistrationGetsA400NamingTheExternalIdPostgresCannotStoreOrThatIsBlank(string externalId)
    {
        var ct = TestContext.Current.CancellationToken;
        var shared = await fixture.SharedHomeAsync();
        using var issued = await fixture.Identity().SendAsync(HttpMethod.Post, "/api/v1/auth/token", null, new { clientId = "ingestion", clientSecret = fixture.IngestionSecret });
        var service = (await issued.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("accessToken").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/internal/homes/{shared.HomeId}/devices/external")
        {
            Content = new StringContent($$"""{"externalId":"{{externalId}}","name":"Garage","kind":"sensor"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", service);

        using var response = await fixture.Devices().Http.SendAsync(request, ct);

        await AssertProblemNamesOnlyAsync(response, "externalId");
    }

    private static async Task AssertProblemNamesOnlyAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([field], JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }
}
