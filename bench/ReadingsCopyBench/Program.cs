using System.Diagnostics;
using System.Globalization;
using HomeIQ.Contracts;
using HomeIQ.EventBus.Postgres;
using HomeIQ.Readings.Infrastructure;
using HomeIQ.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

// The same readings, batched the same way (messages of --per-message readings, --batch messages per transaction), written
// (a) by a plain binary COPY straight into the partitioned readings table and (b) by the service's ReadingsWriter
// (new readings: COPY straight into the table, exact 1h rollup and latest values merged from in-memory sums, ReadingsStored
// into the outbox).
// Interleaved rounds on empty tables, median of the rounds.
// --explain 1 then prints EXPLAIN ANALYZE of the exact path's merge (staging + ON CONFLICT, used for batches holding an
// already-stored reading) for one batch, to show where its time goes.
// Usage: dotnet run -c Release --project bench/ReadingsCopyBench -- [--readings 1000000] [--per-message 500] [--batch 128] [--rounds 4] [--explain 1]
var total = Arg("--readings", 1_000_000);
var perMessage = Arg("--per-message", 500);
var batchMessages = Arg("--batch", 128);
var rounds = Arg("--rounds", 4);
var explain = Arg("--explain", 0) == 1;

Console.WriteLine("Starting Postgres (Aspire, as a local server)…");
var appBuilder = BenchApps.CreateBuilder();
appBuilder.AddPostgres("postgres").AddDatabase("readingsdb");
await using var app = await appBuilder.BuildAsync();
await app.StartAsync();
await app.ResourceNotifications.WaitForResourceHealthyAsync("readingsdb");
await using var db = NpgsqlDataSource.Create((await app.GetConnectionStringAsync("readingsdb"))!);
await PostgresSchema.EnsureAsync(db, ReadingsSchema.Name, ReadingsSchema.Ddl, CancellationToken.None);
await PostgresSchema.EnsureAsync(db, EventBusSchema.Name, EventBusSchema.Ddl, CancellationToken.None);
var partitions = new ReadingPartitions(db, NullLogger<ReadingPartitions>.Instance);
var writer = new ReadingsWriter(db, partitions, new Outbox(), NullLogger<ReadingsWriter>.Instance);

// 50 homes × 20 devices × 2 metrics, one reading per device metric every 10 s going back from now; every key distinct.
const int DevicesPerHome = 20;
var homes = Enumerable.Range(0, 50).Select(_ => (Home: Guid.NewGuid(), Devices: Enumerable.Range(0, DevicesPerHome).Select(_ => Guid.NewGuid()).ToArray())).ToArray();
var now = DateTimeOffset.UtcNow;
var slotsPerMessage = (perMessage + 2 * DevicesPerHome - 1) / (2 * DevicesPerHome);
var messages = new List<SensorReadingsReceived>();
var random = new Random(42);
for (var made = 0; made < total;)
{
    var (home, ofHome) = homes[messages.Count % homes.Length];
    var firstSlot = messages.Count / homes.Length * slotsPerMessage;
    var readings = new List<SensorReading>(perMessage);
    for (var i = 0; i < perMessage && made < total; i++, made++)
    {
        readings.Add(new SensorReading(ofHome[i % DevicesPerHome], i / DevicesPerHome % 2 == 0 ? "power" : "energy", Math.Round(random.NextDouble() * 1000, 2), "W",
            now.AddSeconds(-10 * (firstSlot + i / (2 * DevicesPerHome))), made));
    }
    messages.Add(new SensorReadingsReceived(home, "bench", readings));
}
var batches = messages.Chunk(batchMessages).ToList();
await partitions.EnsureAsync(messages.SelectMany(m => m.Readings).Select(r => DateOnly.FromDateTime(r.Timestamp.UtcDateTime)).Distinct(), CancellationToken.None);
Console.WriteLine($"{total:N0} readings in {messages.Count} messages of {perMessage}, {batches.Count} transactions of {batchMessages} messages, {rounds} rounds");

var results = new Dictionary<string, List<double>> { ["raw COPY"] = [], ["service path"] = [] };
for (var round = 1; round <= rounds; round++)
{
    foreach (var name in round % 2 == 1 ? new[] { "raw COPY", "service path" } : ["service path", "raw COPY"])
    {
        await ExecuteAsync(db, "TRUNCATE readings, readings_1h, readings_latest, eventbus_outbox");
        await ExecuteAsync(db, "VACUUM ANALYZE readings");
        var started = Stopwatch.GetTimestamp();
        foreach (var batch in batches)
        {
            if (name == "raw COPY")
            {
                await RawCopyAsync(db, batch);
            }
            else
            {
                await writer.HandleAsync(batch, CancellationToken.None);
            }
        }
        var rate = total / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var stored = await ScalarAsync(db, "SELECT count(*) FROM readings");
        if (stored != total)
        {
            throw new InvalidOperationException($"{name} stored {stored} rows, expected {total}");
        }
        results[name].Add(rate);
    }
    Console.WriteLine($"round {round}: " + string.Join(", ", results.Select(r => $"{r.Key} {r.Value[^1]:N0}/s")));
}

Console.WriteLine();
Console.WriteLine("| path | median readings/s | rounds |");
Console.WriteLine("|---|---|---|");
foreach (var (name, values) in results)
{
    Console.WriteLine($"| {name} | {Median(values):N0} | {string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
}
Console.WriteLine($"service path / raw COPY: {Median(results["service path"]) / Median(results["raw COPY"]):P0}");
if (explain)
{
    await ExecuteAsync(db, "TRUNCATE readings, readings_1h, readings_latest, eventbus_outbox");
    await using var connection = await db.OpenConnectionAsync();
    await using var transaction = await connection.BeginTransactionAsync();
    await using (var create = new NpgsqlCommand(ReadingsWriter.CreateStaging + ";\n" + ReadingsWriter.SortMemory, connection, transaction))
    {
        await create.ExecuteNonQueryAsync();
    }
    var copyStarted = Stopwatch.GetTimestamp();
    await ReadingsWriter.CopyAsync(connection, "readings_staging", batches[0], DateTimeOffset.UtcNow, summary: null, CancellationToken.None);
    Console.WriteLine($"\nCOPY of {batches[0].Sum(m => m.Readings.Count):N0} rows into staging: {Stopwatch.GetElapsedTime(copyStarted).TotalMilliseconds:N0} ms; the merge:");
    await using var plan = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + ReadingsWriter.Merge, connection, transaction);
    await using var reader = await plan.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        Console.WriteLine(reader.GetString(0));
    }
}
return 0;

static async Task RawCopyAsync(NpgsqlDataSource db, SensorReadingsReceived[] batch)
{
    await using var connection = await db.OpenConnectionAsync();
    await using var transaction = await connection.BeginTransactionAsync();
    await using (var importer = await connection.BeginBinaryImportAsync(
                     "COPY readings (home_id, device_id, metric, ts, value, unit, seq) FROM STDIN (FORMAT BINARY)"))
    {
        foreach (var message in batch)
        {
            foreach (var r in message.Readings)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(message.HomeId, NpgsqlDbType.Uuid);
                await importer.WriteAsync(r.DeviceId, NpgsqlDbType.Uuid);
                await importer.WriteAsync(r.Metric, NpgsqlDbType.Text);
                await importer.WriteAsync(r.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(r.Value, NpgsqlDbType.Double);
                await importer.WriteAsync(r.Unit, NpgsqlDbType.Text);
                await importer.WriteAsync(r.Sequence!.Value, NpgsqlDbType.Bigint);
            }
        }
        await importer.CompleteAsync();
    }
    await transaction.CommitAsync();
}

static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
{
    await using var command = db.CreateCommand(sql);
    await command.ExecuteNonQueryAsync();
}

static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql)
{
    await using var command = db.CreateCommand(sql);
    return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
}


