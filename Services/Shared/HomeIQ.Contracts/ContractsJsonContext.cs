using System.Text.Json;
using System.Text.Json.Serialization;

namespace HomeIQ.Contracts;

/// <summary>
/// Source-generated serialisation of the high-volume events, with the web defaults every HomeIQ service reads them with
/// (camelCase), so publishers skip reflection on the hot path; the JSON is the same as the reflection-based serializer writes.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SensorReadingsReceived))]
[JsonSerializable(typeof(ReadingsStored))]
[JsonSerializable(typeof(DeviceStateChanged))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
