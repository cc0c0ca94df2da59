using System.Text.Json;
using System.Text.Json.Serialization;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Apis;
using HomeIQ.Ingestion.Pipeline;
using HomeIQ.Ingestion.Streaming;

namespace HomeIQ.Ingestion.Infrastructure;

/// <summary>
/// Source-generated JSON for what ingestion reads and writes (a batch of readings itself is read by <see cref="Apis.IngestBatchReader"/>, to the same rules). Strict on input: unknown members,
/// missing or null required members and numbers written as strings are errors, so a malformed batch is a 400, not a guess.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(IngestBatch))]
[JsonSerializable(typeof(IngestAccepted))]
[JsonSerializable(typeof(SensorReading))]
[JsonSerializable(typeof(DeviceLookup))]
[JsonSerializable(typeof(HubKeyValidation))]
[JsonSerializable(typeof(HubKeyOwner))]
[JsonSerializable(typeof(StreamAck))]
[JsonSerializable(typeof(StreamError))]
[JsonSerializable(typeof(StreamUnavailable))]
[JsonSerializable(typeof(StreamNotice))]
[JsonSerializable(typeof(StreamCommand))]
[JsonSerializable(typeof(StreamCommandResult))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
