using System.Buffers;
using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;

namespace HomeIQ.Ingestion.Apis;

/// <summary>
/// Reads an <see cref="IngestBatch"/> (<c>{"readings":[…]}</c>) with one <see cref="Utf8JsonReader"/> pass: the hot path of every HTTP
/// batch and stream frame. It is as strict as the serializer settings it replaces (<see cref="Infrastructure.IngestJsonContext"/>):
/// member names in any case, unknown members, missing or null required members and numbers written as strings are errors, and a
/// repeated member keeps its last value. Errors are <see cref="JsonException"/>s that name the reading and member. A batch's repeated
/// metric and unit strings are allocated once per thread rather than once per reading.
/// </summary>
internal static class IngestBatchReader
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>The largest first buffer a declared length rents; a larger body grows it as it arrives.</summary>
    private const int MaxFirstBuffer = 1024 * 1024;

    /// <summary>
    /// Reads the whole body (at most Kestrel's body size limit), then parses it. <paramref name="declaredLength"/> (the request's
    /// Content-Length) sizes the first buffer, so a body is read without growing and copying the buffer on the way; it is only a hint.
    /// </summary>
    public static async Task<List<SensorReading>> ReadAsync(Stream body, long? declaredLength, CancellationToken cancellationToken)
    {
        // One byte more than declared, so that the read which finds the end does not grow the buffer first.
        var firstSize = declaredLength is > 0 and var declared ? (int)Math.Min(declared, MaxFirstBuffer - 1) + 1 : 64 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(firstSize);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The readings of a batch; throws <see cref="JsonException"/> when the JSON is not a valid batch.</summary>
    public static List<SensorReading> Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return ParseBatch(json);
        }
        catch (Exception ex) when (ex is InvalidOperationException or DecoderFallbackException)
        {
            throw new JsonException("The body is not valid UTF-8 JSON text.", ex);
        }
    }

    private static List<SensorReading> ParseBatch(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }
        var reader = new Utf8JsonReader(json, Options);
        if (!reader.Read())
        {
            throw new JsonException("The body is empty; send {\"readings\":[…]}.");
        }
        Expect(ref reader, JsonTokenType.StartObject, "The batch");
        List<SensorReading>? readings = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (!Is(ref reader, "readings"u8))
            {
                throw new JsonException($"The batch has an unknown member '{reader.GetString()}'; it has only readings.");
            }
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.Null)
            {
                throw new JsonException("readings is null; it is an array of readings.");
            }
            Expect(ref reader, JsonTokenType.StartArray, "readings");
            readings = ReadArray(ref reader);
        }
        if (readings is null)
        {
            throw new JsonException("The batch has no readings member: {\"readings\":[…]}.");
        }
        if (reader.Read())
        {
            throw new JsonException("The body goes on after the batch.");
        }
        return readings;
    }

    private static List<SensorReading> ReadArray(ref Utf8JsonReader reader)
    {
        var readings = new List<SensorReading>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            var i = readings.Count;
            if (reader.TokenType == JsonTokenType.Null)
            {
                throw new JsonException($"readings[{i}] is null; each reading is an object.");
            }
            Expect(ref reader, JsonTokenType.StartObject, $"readings[{i}]");
            readings.Add(ReadReading(ref reader, i));
        }
        return readings;
    }

    private static SensorReading ReadReading(ref Utf8JsonReader reader, int i)
    {
        Guid? deviceId = null;
        string? metric = null, unit = null;
        double? value = null;
        DateTimeOffset? timestamp = null;
        long? sequence = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (Is(ref reader, "deviceId"u8))
            {
                Next(ref reader);
                deviceId = reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var id) ? id : throw Invalid(i, "deviceId", "a GUID string");
            }
            else if (Is(ref reader, "metric"u8))
            {
                Next(ref reader);
                metric = Text(ref reader, i, "metric");
            }
            else if (Is(ref reader, "value"u8))
            {
                Next(ref reader);
                value = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var v) ? v : throw Invalid(i, "value", "a number");
            }
            else if (Is(ref reader, "unit"u8))
            {
                Next(ref reader);
                unit = Text(ref reader, i, "unit");
            }
            else if (Is(ref reader, "timestamp"u8))
            {
                Next(ref reader);
                timestamp = reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var t) ? t
                    : throw Invalid(i, "timestamp", "an ISO 8601 date and time string");
            }
            else if (Is(ref reader, "sequence"u8))
            {
                Next(ref reader);
                sequence = reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.Number when reader.TryGetInt64(out var s) => s,
                    _ => throw Invalid(i, "sequence", "a whole number (64-bit) or null"),
                };
            }
            else
            {
                throw new JsonException($"readings[{i}] has an unknown member '{reader.GetString()}'; a reading has deviceId, metric, value, unit, timestamp and sequence.");
            }
        }
        return new SensorReading(
            deviceId ?? throw Missing(i, "deviceId"),
            metric ?? throw Missing(i, "metric"),
            value ?? throw Missing(i, "value"),
            unit ?? throw Missing(i, "unit"),
            timestamp ?? throw Missing(i, "timestamp"),
            sequence);
    }

    private static string Text(ref Utf8JsonReader reader, int i, string member)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Invalid(i, member, "a string");
        }
        return reader.ValueIsEscaped ? reader.GetString()! : RepeatedStrings.Get(reader.ValueSpan);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("The body ends in the middle of the batch.");
        }
        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException($"{what} is {Describe(reader.TokenType)}; it should be {Describe(type)}.");
        }
    }

    /// <summary>Member names match in any case, as the serializer's web defaults do (they are ASCII).</summary>
    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) =>
        reader.ValueIsEscaped
            ? string.Equals(reader.GetString(), Encoding.UTF8.GetString(name), StringComparison.OrdinalIgnoreCase)
            : System.Text.Ascii.EqualsIgnoreCase(reader.ValueSpan, name);

    private static JsonException Invalid(int i, string member, string expected) => new($"readings[{i}].{member} is not {expected}.");

    private static JsonException Missing(int i, string member) => new($"readings[{i}] has no {member}, or it is null; it is required.");

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    /// <summary>
    /// The last few metric and unit strings this thread read, by their UTF-8 bytes: a batch names the same handful a thousand times.
    /// Parsing is synchronous, so a thread's cache is never used by two parses at once.
    /// </summary>
    private static class RepeatedStrings
    {
        private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private const int Size = 16;
        private const int MaxLength = 64;

        [ThreadStatic]
        private static (byte[] Utf8, string Value)[]? _cache;

        [ThreadStatic]
        private static int _next;

        public static string Get(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > MaxLength)
            {
                return Strict.GetString(utf8);
            }
            var cache = _cache ??= new (byte[], string)[Size];
            foreach (var (bytes, value) in cache)
            {
                if (bytes is not null && utf8.SequenceEqual(bytes))
                {
                    return value;
                }
            }
            var text = Strict.GetString(utf8);
            cache[_next] = (utf8.ToArray(), text);
            _next = (_next + 1) % Size;
            return text;
        }
    }
}
