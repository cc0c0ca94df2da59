using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Apis;
using HomeIQ.Ingestion.Infrastructure;

namespace HomeIQ.Tests.Ingestion;

/// <summary>
/// The hand-written batch reader against the serializer settings it replaced: the same readings from every valid body, an error
/// for every body the serializer refused, and errors that name the reading and member.
/// </summary>
public sealed class IngestBatchReaderTests
{
    private static readonly string Now = DateTimeOffset.UtcNow.ToString("O");
    private static readonly string Device = Guid.NewGuid().ToString();

    private static string Fill(string body) => body.Replace("{{device}}", Device, StringComparison.Ordinal).Replace("{{now}}", Now, StringComparison.Ordinal);

    private static List<SensorReading?>? Serializer(string json) => JsonSerializer.Deserialize(json, IngestJsonContext.Default.IngestBatch)?.Readings!;

    public static TheoryData<string> ValidBodies() =>
    [
        $$"""{"readings":[{"deviceId":"{{Device}}","metric":"temperature","value":20.5,"unit":"°C","timestamp":"{{Now}}"}]}""",
        $$"""{"READINGS":[{"DeviceID":"{{Device}}","Metric":"power","VALUE":-1e3,"unit":"W","Timestamp":"2026-11-26T10:00:00+05:30","sequence":7}]}""",
        $$"""{"readings":[{"deviceId":"{{Device}}","metric":"t\u00e9mp\"x\"","value":0,"unit":"\u00b0C","timestamp":"2026-11-26T10:00:00Z","sequence":null}]}""",
        $$"""{"\u0072eadings":[{"deviceId":"{{Device}}","metric":"a","metric":"b","value":1,"value":2,"unit":"","timestamp":"2026-11-26T10:00:00.1234567Z"}]}""",
        """ { "readings" : [ ] } """,
        $$"""{"readings":[{"sequence":9223372036854775807,"timestamp":"{{Now}}","unit":"%","value":1e400,"metric":"humidity","deviceId":"{{Device}}"}]}""",
        "{\"readings\":[" + string.Join(",", Enumerable.Range(0, 300).Select(i =>
            $$"""{"deviceId":"{{Guid.NewGuid()}}","metric":"{{(i % 3 == 0 ? "energy" : "temperature")}}","value":{{i * 0.5}},"unit":"{{(i % 3 == 0 ? "kWh" : "°C")}}","timestamp":"{{Now}}","sequence":{{i}}}""")) + "]}",
    ];

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void AValidBodyGivesTheSameReadingsAsTheSerializer(string json)
    {
        var expected = Serializer(json)!;

        var readings = IngestBatchReader.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(expected.Cast<SensorReading>(), readings);
        Assert.Equal(expected.Select(r => r!.Timestamp.Offset), readings.Select(r => r.Timestamp.Offset));
    }

    public static TheoryData<string, string> BadBodies()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in IngestionBadInputTests.Cases())
        {
            var (name, body, contentType) = row.Data;
            if (contentType == "application/json")
            {
                data.Add(name, Fill(body));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void ABodyTheSerializerRefusedIsRefusedAndOneItReadItReadsAlike(string name, string json)
    {
        List<SensorReading?>? expected;
        try
        {
            expected = Serializer(json);
        }
        catch (JsonException)
        {
            Assert.ThrowsAny<JsonException>(() => IngestBatchReader.Parse(Encoding.UTF8.GetBytes(json)));
            return;
        }
        if (expected is null || expected.Contains(null))
        {
            // "null", {"readings":[null]}: the serializer read them and the endpoint answered 400; the reader refuses them itself.
            Assert.ThrowsAny<JsonException>(() => IngestBatchReader.Parse(Encoding.UTF8.GetBytes(json)));
            return;
        }
        Assert.True(expected.Count <= 1, name);
        Assert.Equal(expected.Cast<SensorReading>(), IngestBatchReader.Parse(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"readings":[{"deviceId":"x","metric":"t","value":1,"unit":"","timestamp":"2026-11-26T10:00:00Z"}]}""", "readings[0].deviceId")]
    [InlineData("""{"readings":[{"deviceId":"00000000-0000-0000-0000-000000000001","metric":"t","value":"1","unit":"","timestamp":"2026-11-26T10:00:00Z"}]}""", "readings[0].value")]
    [InlineData("""{"readings":[{"deviceId":"00000000-0000-0000-0000-000000000001","metric":"t","value":1,"timestamp":"2026-11-26T10:00:00Z"}]}""", "has no unit")]
    [InlineData("""{"readings":[{"deviceId":"00000000-0000-0000-0000-000000000001","metric":"t","value":1,"unit":"","timestamp":"2026-11-26T10:00:00Z","colour":"red"}]}""", "unknown member 'colour'")]
    [InlineData("""{"readings":[],"extra":1}""", "unknown member 'extra'")]
    public void AnErrorNamesTheReadingAndMember(string json, string expected)
    {
        var error = Assert.ThrowsAny<JsonException>(() => IngestBatchReader.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUtf8ByteOrderMarkIsSkippedAsTheSerializerSkipsItOnABody()
    {
        var json = $$"""{"readings":[{"deviceId":"{{Device}}","metric":"t","value":1,"unit":"","timestamp":"{{Now}}"}]}""";
        var withMark = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(json)).ToArray();

        var expected = await JsonSerializer.DeserializeAsync(new MemoryStream(withMark), IngestJsonContext.Default.IngestBatch, TestContext.Current.CancellationToken);

        Assert.Equal(expected!.Readings, await IngestBatchReader.ReadAsync(new MemoryStream(withMark), declaredLength: null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void InvalidUtf8InAStringIsAJsonErrorNotACrash()
    {
        var json = Encoding.UTF8.GetBytes("""{"readings":[{"deviceId":"00000000-0000-0000-0000-000000000001","metric":"tXX","value":1,"unit":"","timestamp":"2026-11-26T10:00:00Z"}]}""");
        var at = Encoding.UTF8.GetString(json).IndexOf("XX", StringComparison.Ordinal);
        json[at] = 0xC3;
        json[at + 1] = 0x28;

        Assert.ThrowsAny<JsonException>(() => IngestBatchReader.Parse(json));
    }

    [Fact]
    public async Task TheStreamReaderReadsBodiesLargerThanItsFirstBuffer()
    {
        var json = Encoding.UTF8.GetBytes("{\"readings\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(i =>
            $$"""{"deviceId":"{{Device}}","metric":"temperature","value":{{i}},"unit":"°C","timestamp":"{{Now}}","sequence":{{i}}}""")) + "]}");
        Assert.True(json.Length > 128 * 1024);

        var readings = await IngestBatchReader.ReadAsync(new MemoryStream(json), declaredLength: null, TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long?)i), readings.Select(r => r.Sequence));
    }

    [Theory]
    [InlineData("exact")]
    [InlineData("one more")]
    [InlineData("one less")]
    [InlineData("far too small")]
    [InlineData("absurdly large")]
    public async Task ADeclaredLengthIsOnlyAHintTheWholeBodyIsReadWhateverItSays(string declaredAs)
    {
        var json = Encoding.UTF8.GetBytes("{\"readings\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(i =>
            $$"""{"deviceId":"{{Device}}","metric":"temperature","value":{{i}},"unit":"°C","timestamp":"{{Now}}","sequence":{{i}}}""")) + "]}");
        long declared = declaredAs switch
        {
            "exact" => json.Length,
            "one more" => json.Length + 1,
            "one less" => json.Length - 1,
            "far too small" => 1000,
            _ => long.MaxValue,
        };

        var readings = await IngestBatchReader.ReadAsync(new MemoryStream(json), declared, TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long?)i), readings.Select(r => r.Sequence));
        Assert.Equal(IngestBatchReader.Parse(json), readings);
    }
}
