using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HomeIQ.Tests.Gateway;

/// <summary>A home of the corpus run with what a well-formed request names: its owner's token, a hub key, a device and a room.</summary>
internal sealed record CorpusHome(Guid HomeId, string Token, string HubKey, Guid DeviceId, Guid RoomId);

/// <summary>Who a corpus request claims to be.</summary>
internal enum Caller { Anonymous, GarbageToken, Member, OtherHomeMember, HubKey }

/// <summary>One bad request: its path and content are built per home and afresh for every send, so a 429 can be resent.</summary>
internal sealed record CorpusCase(string Method, string Template, string Kind, Caller Caller, Func<CorpusHome, string> Url, Func<CorpusHome, HttpContent?> Content)
{
    public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];
    public bool Latin1Headers { get; init; }
    public bool ExpectContinue { get; init; }

    public override string ToString() => $"{Method} {Template} [{Kind}] as {Caller}";
}

/// <summary>
/// Bad input for every operation of an OpenAPI document: callers, route and query values, bodies that are not JSON or not the
/// schema (each field in turn), content types and charsets, header values and methods the route does not have.
/// </summary>
internal static class BadInputCorpus
{
    private sealed record Operation(string Method, string Template, List<string> PathParameters, List<string> Query, JsonElement? Body)
    {
        public Caller Natural => Template.StartsWith("/api/v1/ingest/", StringComparison.Ordinal) ? Caller.HubKey
            : Template.StartsWith("/api/v1/homes", StringComparison.Ordinal) ? Caller.Member : Caller.Anonymous;
    }

    /// <summary>A body field, as the segments to it ("[0]" for an array's first item), and what the schema says it is.</summary>
    private sealed record Field(string[] Path, string Type, string? Format);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    private const string Marker = "__corpus_value__";
    private static readonly string Huge = new('x', 100_000);
    private static readonly string OverLimit = new(' ', 1_500_000);

    private static readonly (string Kind, string Json)[] TextValues =
    [
        ("NUL", "\"\\u0000\""), ("NUL inside", "\"a\\u0000b\""), ("U+0001", "\"\\u0001\""), ("U+001F inside", "\"x\\u001Fy\""), ("DEL", "\"\\u007F\""),
        ("C1 U+0085", "\"\\u0085\""), ("unescaped control byte", "\"a\u0001b\""), ("empty", "\"\""), ("spaces only", "\"   \""),
        ("tabs and newlines only", "\"\\t\\r\\n\""), ("Unicode spaces only", "\"\\u00A0\\u2003\""), ("100k characters", $"\"{Huge}\""),
        ("non-ASCII", "\"é😀中\""), ("lone surrogate", "\"\\uD800\""), ("number", "123"), ("true", "true"), ("object", "{}"), ("array", "[\"a\"]"), ("null", "null"),
    ];

    private static readonly (string Kind, string Json)[] NumberValues =
    [
        ("numeric string", "\"12\""), ("NaN string", "\"NaN\""), ("Infinity string", "\"Infinity\""), ("NaN literal", "NaN"), ("1e309", "1e309"),
        ("-1e309", "-1e309"), ("30 digits", "123456789012345678901234567890"), ("fraction", "1.5"), ("-0", "-0"), ("1e-400", "1e-400"),
        ("2^31", "2147483648"), ("max double", "1.7976931348623157e308"), ("true", "true"), ("object", "{}"), ("array", "[1]"), ("empty string", "\"\""), ("null", "null"),
    ];

    private static readonly (string Kind, string Json)[] GuidValues =
    [
        ("not a GUID", "\"not-a-guid\""), ("empty GUID", "\"00000000-0000-0000-0000-000000000000\""), ("braced GUID", $"\"{{{Guid.NewGuid()}}}\""),
        ("GUID and a letter", $"\"{Guid.NewGuid()}x\""), ("empty", "\"\""), ("NUL", "\"\\u0000\""), ("number", "123"), ("array", "[]"), ("null", "null"),
    ];

    private static readonly (string Kind, string Json)[] DateValues =
    [
        ("not a date", "\"not-a-date\""), ("month 13", "\"2024-13-45T99:99:99Z\""), ("year 1", "\"0001-01-01T00:00:00Z\""),
        ("year 9999", "\"9999-12-31T23:59:59.9999999+00:00\""), ("offset +25h", "\"2024-01-01T00:00:00+25:00\""), ("Unix seconds", "1700000000"),
        ("date only", "\"2024-01-01\""), ("empty", "\"\""), ("NUL", "\"\\u0000\""), ("null", "null"),
    ];

    private static readonly (string Kind, string Json)[] BooleanValues = [("string", "\"true\""), ("number", "1"), ("object", "{}"), ("null", "null")];

    private static readonly (string Kind, string Json)[] ObjectValues = [("string", "\"x\""), ("array", "[]"), ("empty object", "{}"), ("null", "null")];

    private static readonly (string Kind, string Value)[] RouteValues =
    [
        ("not a GUID", "not-a-guid"), ("empty GUID", "00000000-0000-0000-0000-000000000000"), ("%00", "%00"), ("%FF", "%FF"),
        ("300 nines", new string('9', 300)), ("é", "%C3%A9"), ("encoded dot segment", "%2E%2E"), ("braced GUID", $"%7B{Guid.NewGuid()}%7D"), ("encoded slash", "a%2Fb"),
    ];

    private static readonly (string Kind, string Value)[] QueryValues =
    [
        ("empty", ""), ("spaces", "%20%20"), ("%00", "%00"), ("word", "not-a-date-or-guid"), ("NaN", "NaN"), ("20 digits", "99999999999999999999"),
        ("-1", "-1"), ("1e309", "1e309"), ("é", "%C3%A9"), ("month 13", "2024-13-45T99:99:99Z"), ("5000 characters", new string('x', 5000)), ("invalid UTF-8", "%FF%FE"),
    ];

    private static readonly (string Kind, string Query)[] UnknownQueries =
    [
        ("unknown parameter %00", "zzz=%00"), ("unknown parameter invalid UTF-8", "zzz=%FF%FE"), ("unknown parameter of 5000 characters", "zzz=" + new string('x', 5000)),
        ("parameter named %00", "%00=1"), ("array syntax and a lone %", "a[]=1&a[]=2&b=%"),
    ];

    private static readonly (string Kind, string Name, string Value, bool Latin1)[] HeaderValues =
    [
        ("X-Hub-Key é (UTF-8)", "X-Hub-Key", "hiq_é", false), ("X-Hub-Key é (Latin-1)", "X-Hub-Key", "hiq_é", true), ("X-Hub-Key of 10k characters", "X-Hub-Key", new string('k', 10_000), false),
        ("X-Hub-Key unknown", "X-Hub-Key", "hiq_" + new string('k', 43), false), ("X-Hub-Key empty", "X-Hub-Key", "", false),
        ("X-Correlation-Id é", "X-Correlation-Id", "corr-é", false), ("X-Correlation-Id of 500 characters", "X-Correlation-Id", new string('c', 500), false),
        ("Accept application/xml", "Accept", "application/xml", false), ("Accept garbage", "Accept", "garbage/;;q=x", false),
    ];

    private static readonly (string Kind, string Value)[] AuthorizationValues =
    [
        ("Authorization Bearer é", "Bearer é"), ("Authorization Bearer three dots", "Bearer a.b.c"), ("Authorization Basic", "Basic dXNlcjpwYXNz"),
        ("Authorization of 40k characters", "Bearer " + new string('x', 40_000)), ("Authorization scheme only", "Bearer"),
    ];

    private const string Json = "application/json";
    private static readonly string DeepArrays = new string('[', 10_000) + new string(']', 10_000);
    private static readonly string DeepObjects = string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000);

    /// <summary>Bodies made from the well-formed one (JSON text): malformed or truncated, too deep, too large, chunked, or in another content type.</summary>
    private static readonly (string Kind, string? ContentType, Func<string, byte[]> Bytes, bool ExpectContinue, bool Chunked)[] Bodies =
    [
        ("body: empty", Json, _ => [], false, false), ("body: truncated at half", Json, b => Utf8(b[..(b.Length / 2)]), false, false),
        ("body: truncated by one", Json, b => Utf8(b[..^1]), false, false), ("body: lone brace", Json, _ => Utf8("{"), false, false),
        ("body: unquoted keys", Json, _ => Utf8("{name:1}"), false, false), ("body: single quotes", Json, _ => Utf8("{'name':'x'}"), false, false),
        ("body: trailing comma", Json, b => Utf8(b[..^1] + ",}"), false, false), ("body: comment", Json, b => Utf8("/* c */" + b), false, false),
        ("body: trailing garbage", Json, b => Utf8(b + "xyz"), false, false), ("body: two documents", Json, b => Utf8(b + b), false, false),
        ("body: JSON null", Json, _ => Utf8("null"), false, false), ("body: JSON array", Json, _ => Utf8("[1,2]"), false, false),
        ("body: JSON string", Json, _ => Utf8("\"x\""), false, false), ("body: JSON number", Json, _ => Utf8("1"), false, false),
        ("body: NaN value", Json, _ => Utf8("{\"a\":NaN}"), false, false), ("body: 10000-deep arrays", Json, _ => Utf8(DeepArrays), false, false),
        ("body: 1000-deep objects", Json, _ => Utf8(DeepObjects), false, false),
        ("body: 5000-deep arrays in the first field", Json, b => Utf8($"{{\"{FirstProperty(b)}\":{new string('[', 5000)}{new string(']', 5000)}}}"), false, false),
        ("body: NUL byte outside strings", Json, _ => Utf8("{\0}"), false, false),
        ("body: invalid UTF-8", Json, b => [.. Utf8(b[..^1] + ",\"x\":\""), 0xFF, 0xFE, 0xC3, (byte)'"', (byte)'}'], false, false),
        ("body: UTF-8 BOM", Json, b => [0xEF, 0xBB, 0xBF, .. Utf8(b)], false, false), ("body: UTF-16 without charset", Json, Encoding.Unicode.GetBytes, false, false),
        ("body: over 1 MB with Expect: 100-continue", Json, b => Utf8(OverLimit + b), true, false), ("body: over 1 MB without Expect", Json, b => Utf8(OverLimit + b), false, false),
        ("body: just under 1 MB, mostly whitespace", Json, b => Utf8(new string(' ', 1_000_000) + b), false, false),
        ("body: chunked", Json, Utf8, false, true), ("body: chunked and truncated", Json, b => Utf8(b[..(b.Length / 2)]), false, true),
        ("body: chunked over 1 MB", Json, b => Utf8(OverLimit + b), false, true),
        ("content type: none", null, Utf8, false, false), ("content type: text/plain", "text/plain", Utf8, false, false),
        ("content type: application/xml", "application/xml", Utf8, false, false),
        ("content type: form-urlencoded", "application/x-www-form-urlencoded", _ => Utf8("name=x&email=a%40b.c"), false, false),
        ("content type: multipart without boundary", "multipart/form-data", Utf8, false, false),
        ("content type: charset=bogus", "application/json; charset=bogus", Utf8, false, false),
        ("content type: quoted charset", "application/json; charset=\"utf-8\"", Utf8, false, false),
        ("content type: quoted bogus charset", "application/json; charset=\"bogus\"", Utf8, false, false),
        ("content type: empty charset", "application/json; charset=", Utf8, false, false),
        ("content type: charset=utf-16 on UTF-8 bytes", "application/json; charset=utf-16", Utf8, false, false),
        ("content type: charset=utf-16", "application/json; charset=utf-16", Encoding.Unicode.GetBytes, false, false),
        ("content type: charset=utf-32", "application/json; charset=utf-32", Encoding.UTF32.GetBytes, false, false),
        ("content type: charset=iso-8859-1", "application/json; charset=iso-8859-1", Encoding.Latin1.GetBytes, false, false),
        ("content type: not a media type", "json", Utf8, false, false), ("content type: unterminated parameter", "application/json; x=\"unterminated", Utf8, false, false),
        ("content type: upper case", "APPLICATION/JSON", Utf8, false, false), ("content type: problem+json", "application/problem+json", Utf8, false, false),
        ("content type: non-ASCII parameter", "application/json; x=é", Utf8, false, false),
    ];

    /// <summary>The corpus of every operation in <paramref name="document"/> plus <paramref name="extra"/> (routes served by the gateway itself).</summary>
    public static List<CorpusCase> From(JsonElement document, params (string Method, string Template)[] extra)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = document.GetProperty("paths").EnumerateObject()
            .Where(path => !path.Name.StartsWith("/api/v1/echo/", StringComparison.Ordinal)) // the test fixture's echo service, not a HomeIQ route
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(m => Methods.Contains(m.Name.ToUpperInvariant()))
                .Select(m => Parse(path.Name, m.Name.ToUpperInvariant(), m.Value, schemas)))
            .Concat(extra.Select(e => new Operation(e.Method, e.Template, [.. ParametersIn(e.Template)], [], null)))
            .ToList();
        var cases = operations.SelectMany(op => ForOperation(op, schemas)).ToList();
        foreach (var path in operations.GroupBy(op => op.Template))
        {
            var sample = path.First();
            foreach (var method in Methods.Append("FOO").Except(path.Select(op => op.Method)))
            {
                cases.Add(Case(sample with { Method = method }, "method not allowed", sample.Natural, home => Url(sample, home, method: method),
                    _ => method is "POST" or "PUT" or "PATCH" or "FOO" ? JsonContent("{}") : null));
            }
        }
        return cases;
    }

    private static Operation Parse(string template, string method, JsonElement operation, JsonElement schemas)
    {
        var parameters = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
        var query = parameters.Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToList();
        JsonElement? body = operation.TryGetProperty("requestBody", out var requestBody)
            && requestBody.GetProperty("content").EnumerateObject().FirstOrDefault().Value is { ValueKind: JsonValueKind.Object } content
            && content.TryGetProperty("schema", out var schema) ? Resolve(schema, schemas) : null;
        return new Operation(method, template, [.. ParametersIn(template)], query, body);
    }

    private static IEnumerable<string> ParametersIn(string template) =>
        System.Text.RegularExpressions.Regex.Matches(template, "{([^}]+)}").Select(m => m.Groups[1].Value);

    private static IEnumerable<CorpusCase> ForOperation(Operation op, JsonElement schemas)
    {
        Func<CorpusHome, HttpContent?> baseContent = op.Body is { } body ? home => JsonContent(Sample("", body, schemas, home, 0)!.ToJsonString(Relaxed)) : _ => null;
        Func<CorpusHome, string> url = home => Url(op, home);
        foreach (var caller in Enum.GetValues<Caller>())
        {
            yield return Case(op, "well-formed", caller, url, baseContent);
        }
        foreach (var parameter in op.PathParameters)
        {
            foreach (var (kind, value) in RouteValues)
            {
                yield return Case(op, $"route {parameter}: {kind}", op.Natural, home => Url(op, home, (parameter, value)), baseContent);
            }
        }
        foreach (var parameter in op.Query)
        {
            foreach (var (kind, value) in QueryValues)
            {
                yield return Case(op, $"query {parameter}: {kind}", op.Natural, home => Url(op, home, (parameter, value)), baseContent);
            }
        }
        foreach (var (kind, query) in UnknownQueries)
        {
            yield return Case(op, kind, op.Natural, home => Url(op, home, extraQuery: query), baseContent);
        }
        foreach (var (kind, name, value, latin1) in HeaderValues)
        {
            var caller = name == "X-Hub-Key" && op.Natural == Caller.HubKey ? Caller.Anonymous : op.Natural;
            yield return Case(op, kind, caller, url, baseContent) with { Headers = [(name, value)], Latin1Headers = latin1 };
        }
        foreach (var (kind, value) in AuthorizationValues)
        {
            yield return Case(op, kind, Caller.Anonymous, url, baseContent) with { Headers = [("Authorization", value)] };
        }
        if (op.Body is not { } schema)
        {
            yield return Case(op, "unexpected JSON body", op.Natural, url, _ => JsonContent("{\"a\":1}"));
            yield break;
        }
        foreach (var (kind, contentType, bytes, expectContinue, chunked) in Bodies)
        {
            yield return Case(op, kind, op.Natural, url, home => Raw(bytes(Sample("", schema, schemas, home, 0)!.ToJsonString(Relaxed)), contentType, chunked))
                with { ExpectContinue = expectContinue };
        }
        foreach (var field in Fields(schema, schemas, [], 0))
        {
            var name = string.Join('.', field.Path).Replace(".[", "[", StringComparison.Ordinal);
            foreach (var (kind, json) in ValuesFor(field))
            {
                yield return Case(op, $"field {name}: {kind}", op.Natural, url, home =>
                {
                    var root = Sample("", schema, schemas, home, 0)!;
                    return JsonContent(WithValue(root, field.Path, json(root)));
                });
            }
        }
    }

    private static CorpusCase Case(Operation op, string kind, Caller caller, Func<CorpusHome, string> url, Func<CorpusHome, HttpContent?> content) =>
        new(op.Method, op.Template, kind, caller, url, content);

    /// <summary>
    /// The operation's path and query for <paramref name="home"/>, with one parameter <paramref name="bad"/>, the others valid.
    /// Ids a DELETE would remove are random, so the run never deletes what it needs.
    /// </summary>
    private static string Url(Operation op, CorpusHome home, (string Name, string Value)? bad = null, string? extraQuery = null, string? method = null)
    {
        var path = op.Template;
        foreach (var parameter in op.PathParameters)
        {
            var value = parameter == bad?.Name ? bad.Value.Value : parameter switch
            {
                "homeId" => home.HomeId.ToString(),
                "deviceId" when (method ?? op.Method) != "DELETE" => home.DeviceId.ToString(),
                "roomId" when (method ?? op.Method) != "DELETE" => home.RoomId.ToString(),
                _ => Guid.NewGuid().ToString(),
            };
            path = path.Replace("{" + parameter + "}", value, StringComparison.Ordinal);
        }
        var query = op.Query
            .Select(name => name == bad?.Name ? $"{name}={bad.Value.Value}" : QuerySample(name, home) is { } value ? $"{name}={Uri.EscapeDataString(value)}" : null)
            .Append(extraQuery)
            .OfType<string>()
            .ToList();
        return query.Count == 0 ? path : $"{path}?{string.Join('&', query)}";
    }

    private static string? QuerySample(string name, CorpusHome home) => name switch
    {
        "deviceId" => home.DeviceId.ToString(),
        "roomId" => home.RoomId.ToString(),
        "metric" => "temperature",
        "kind" => "sensor",
        "bucket" => "1h",
        "from" => DateTimeOffset.UtcNow.AddDays(-1).ToString("O"),
        "to" => DateTimeOffset.UtcNow.ToString("O"),
        "limit" => "10",
        "offset" => "0",
        _ => null,
    };

    private static IEnumerable<(string Kind, Func<JsonNode, string> Json)> ValuesFor(Field field)
    {
        var values = (field.Type, field.Format) switch
        {
            ("string", "uuid") => GuidValues,
            ("string", "date-time") => DateValues,
            ("string", _) => TextValues,
            ("integer" or "number", _) => NumberValues,
            ("boolean", _) => BooleanValues,
            ("object", _) => ObjectValues,
            _ => [],
        };
        foreach (var (kind, json) in values)
        {
            yield return (kind, _ => json);
        }
        if (field.Type == "array")
        {
            foreach (var (kind, json) in new[] { ("object", "{}"), ("string", "\"x\""), ("[null]", "[null]"), ("nested empty array", "[[]]"), ("[1]", "[1]"), ("empty", "[]"), ("null", "null") })
            {
                yield return (kind, _ => json);
            }
            yield return ("2000 items", root => "[" + string.Join(',', Enumerable.Repeat(At(root, field.Path)![0]!.ToJsonString(Relaxed), 2000)) + "]");
        }
    }

    /// <summary>Each field of the schema (objects and arrays too), two levels into arrays of objects.</summary>
    private static IEnumerable<Field> Fields(JsonElement schema, JsonElement schemas, string[] path, int depth)
    {
        if (depth > 3 || !schema.TryGetProperty("properties", out var properties))
        {
            yield break;
        }
        foreach (var property in properties.EnumerateObject())
        {
            var field = Resolve(property.Value, schemas);
            var fieldPath = (string[])[.. path, property.Name];
            yield return new Field(fieldPath, TypeOf(field), field.TryGetProperty("format", out var format) ? format.GetString() : null);
            var items = field.TryGetProperty("items", out var i) ? Resolve(i, schemas) : default;
            foreach (var inner in TypeOf(field) == "array" && items.ValueKind == JsonValueKind.Object ? Fields(items, schemas, [.. fieldPath, "[0]"], depth + 1) : Fields(field, schemas, fieldPath, depth + 1))
            {
                yield return inner;
            }
        }
    }

    /// <summary>A valid value for the schema, named after what the services expect in a field of that name.</summary>
    private static JsonNode? Sample(string name, JsonElement schema, JsonElement schemas, CorpusHome home, int depth)
    {
        schema = Resolve(schema, schemas);
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        return TypeOf(schema) switch
        {
            "object" when depth < 4 => new JsonObject(schema.TryGetProperty("properties", out var properties)
                ? properties.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, Sample(p.Name, p.Value, schemas, home, depth + 1)))
                : []),
            "array" when depth < 4 && schema.TryGetProperty("items", out var items) => new JsonArray(Sample(name, items, schemas, home, depth + 1)),
            "integer" => 1,
            "number" => name switch { "min" => -40.0, "max" => 85.0, _ => 21.5 },
            "boolean" => false,
            "string" => name.ToLowerInvariant() switch
            {
                "email" => $"corpus-{Guid.NewGuid():N}@example.test",
                "password" => "correct horse battery",
                "role" => "member",
                "kind" => "sensor",
                "metric" => "temperature",
                "unit" => "°C",
                "deviceid" => home.DeviceId.ToString(),
                "roomid" => home.RoomId.ToString(),
                "externalid" => $"sensor.corpus_{Guid.NewGuid():N}",
                _ when format == "uuid" => Guid.NewGuid().ToString(),
                _ when format == "date-time" => DateTimeOffset.UtcNow.ToString("O"),
                _ => "Corpus",
            },
            _ => null,
        };
    }

    private static JsonElement Resolve(JsonElement schema, JsonElement schemas)
    {
        for (var i = 0; i < 10; i++)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
            }
            else if ((schema.TryGetProperty("anyOf", out var any) || schema.TryGetProperty("oneOf", out any) || schema.TryGetProperty("allOf", out any))
                     && any.EnumerateArray().FirstOrDefault(s => TypeOf(s) != "null") is { ValueKind: JsonValueKind.Object } inner)
            {
                schema = inner;
            }
            else
            {
                break;
            }
        }
        return schema;
    }

    /// <summary>The schema's type; numbers the services also read from strings are listed as both, and are numbers.</summary>
    private static string TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("$ref", out _) ? "ref" : "any";
        }
        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
        return new[] { "object", "array", "integer", "number", "boolean", "string" }.FirstOrDefault(types.Contains) ?? "null";
    }

    private static JsonNode? At(JsonNode root, string[] path) =>
        path.Aggregate((JsonNode?)root, (node, segment) => segment == "[0]" ? node?[0] : node?[segment]);

    private static string WithValue(JsonNode root, string[] path, string json)
    {
        var parent = At(root, path[..^1])!;
        if (path[^1] == "[0]")
        {
            parent[0] = Marker;
        }
        else
        {
            parent[path[^1]] = Marker;
        }
        return root.ToJsonString(Relaxed).Replace($"\"{Marker}\"", json, StringComparison.Ordinal);
    }

    private static string FirstProperty(string json) => JsonNode.Parse(json) is JsonObject o && o.FirstOrDefault().Key is { } key ? key : "a";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static HttpContent JsonContent(string json) => Raw(Utf8(json), Json, chunked: false);

    private static HttpContent Raw(byte[] bytes, string? contentType, bool chunked)
    {
        HttpContent content = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        return content;
    }

    /// <summary>A body of unknown length, so it goes out with Transfer-Encoding: chunked, in pieces.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < bytes.Length; offset += 16 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(16 * 1024, bytes.Length - offset)), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
