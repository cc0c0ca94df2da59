using System.Text.Json;
using HomeIQ.Devices.Infrastructure;
using Npgsql;
using HomeIQ.Postgres;

namespace HomeIQ.Devices.Apis;

public sealed record Capability(string? Metric, string? Unit, double? Min, double? Max, bool Writable);
public sealed record DeviceRequest(string? Name, string? Kind, Guid? RoomId, string? ExternalId, IReadOnlyList<Capability?>? Capabilities);
public sealed record DeviceDto(
    Guid Id, Guid HomeId, Guid? RoomId, string Name, string Kind, string? ExternalId, IReadOnlyList<Capability> Capabilities,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyDictionary<string, StateValue>? State = null);
public sealed record DevicePage(IReadOnlyList<DeviceDto> Items, long Total);
public sealed record DeviceLookup(Guid DeviceId, Guid HomeId, string Kind, IReadOnlyList<Capability> Capabilities);
public sealed record RebuildResult(Guid HomeId, int Devices);

/// <summary>A device request, checked and normalised.</summary>
internal sealed record ValidDevice(string Name, string Kind, Guid? RoomId, string? ExternalId, Capability[] Capabilities);

/// <summary>Validation and row mapping shared by the device endpoints.</summary>
internal static class DeviceRows
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static readonly string[] Kinds = ["sensor", "switch", "dimmer", "thermostat", "meter"];

    public const int MaxCapabilities = 64;

    public const string Columns = "id, home_id, room_id, name, kind, external_id, capabilities::text, created_at, updated_at";

    public static DeviceDto Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetString(5), JsonSerializer.Deserialize<Capability[]>(reader.GetString(6), Json) ?? [],
        reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8));

    /// <summary>The trimmed name of a room or device, or null after adding the problem with it to <paramref name="errors"/>.</summary>
    public static string? ValidName(string? name, Dictionary<string, string[]> errors)
    {
        var trimmed = name?.Trim() ?? "";
        var problem = trimmed.Length is 0 or > 100 ? "A name of 1 to 100 characters is required."
            : StoredText.HasControlCharacters(trimmed) ? StoredText.NoControlCharacters("name")
            : null;
        return Valid("name", trimmed, problem, errors);
    }

    /// <summary>The trimmed external id (null when the request has none), or null after adding the problem with it to <paramref name="errors"/>.</summary>
    public static string? ValidExternalId(string? externalId, Dictionary<string, string[]> errors)
    {
        if (externalId is null)
        {
            return null;
        }
        var trimmed = externalId.Trim();
        var problem = trimmed.Length == 0 ? "The external id (a Home Assistant entity_id) is not blank; leave it out for a device without one."
            : trimmed.Length > 255 ? "The external id (a Home Assistant entity_id) is at most 255 characters."
            : StoredText.HasControlCharacters(trimmed) ? StoredText.NoControlCharacters("external id")
            : null;
        return Valid("externalId", trimmed, problem, errors);
    }

    private static string? Valid(string field, string value, string? problem, Dictionary<string, string[]> errors)
    {
        if (problem is null)
        {
            return value;
        }
        errors[field] = [problem];
        return null;
    }

    public static (ValidDevice? Device, Dictionary<string, string[]> Errors) Validate(DeviceRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var name = ValidName(request.Name, errors);
        if (request.Kind is null || !Kinds.Contains(request.Kind, StringComparer.Ordinal))
        {
            errors["kind"] = [$"The kind is one of {string.Join(", ", Kinds)}."];
        }
        var externalId = ValidExternalId(request.ExternalId, errors);
        var capabilities = request.Capabilities ?? [];
        if (capabilities.Count > MaxCapabilities)
        {
            errors["capabilities"] = [$"At most {MaxCapabilities} capabilities."];
        }
        var metrics = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < capabilities.Count && i < MaxCapabilities; i++)
        {
            var problem = capabilities[i] switch
            {
                null => "A capability is an object.",
                { Metric: var m } when string.IsNullOrWhiteSpace(m) || m.Trim().Length > 100 => "A capability's metric is 1 to 100 characters.",
                { Metric: { } m } when StoredText.HasControlCharacters(m) => StoredText.NoControlCharacters("metric"),
                { Unit.Length: > 32 } => "A capability's unit is at most 32 characters.",
                { Unit: { Length: > 0 } u } when string.IsNullOrWhiteSpace(u) => "A capability's unit is a symbol such as °C, or empty for none; not only spaces.",
                { Unit: { } u } when StoredText.HasControlCharacters(u) => StoredText.NoControlCharacters("unit"),
                { Min: { } low } when !double.IsFinite(low) => "A capability's min is a finite number.",
                { Max: { } high } when !double.IsFinite(high) => "A capability's max is a finite number.",
                { Min: { } min, Max: { } max } when min > max => "A capability's min is at most its max.",
                { Metric: var metric } when !metrics.Add(metric!.Trim()) => "Each metric appears once.",
                _ => null,
            };
            if (problem is not null)
            {
                errors[$"capabilities[{i}]"] = [problem];
            }
        }
        return errors.Count > 0
            ? (null, errors)
            : (new ValidDevice(name!, request.Kind!, request.RoomId, externalId, [.. capabilities.Select(c => c! with { Metric = c.Metric!.Trim() })]), errors);
    }

    /// <summary>Whether the room exists in the home (locked against a concurrent delete until the transaction ends).</summary>
    public static async Task<bool> RoomInHomeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid homeId, Guid roomId, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT 1 FROM rooms WHERE id = $1 AND home_id = $2 FOR SHARE", connection, transaction)
        {
            Parameters = { new() { Value = roomId }, new() { Value = homeId } },
        };
        return await select.ExecuteScalarAsync(ct) is not null;
    }

    public static Dictionary<string, string[]> UnknownRoom() => new() { ["roomId"] = ["There is no such room in this home."] };
}
