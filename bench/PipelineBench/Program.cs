using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Pipeline;
using Npgsql;
using NpgsqlTypes;

// End to end: hub → gateway → ingestion (2 replicas) → RabbitMQ → readings → committed in Postgres, the real AppHost composition.
//  1. sustained throughput: HTTP hubs post batches as fast as they are answered for --seconds; the rate is rows committed per second;
//  2. latency at half that rate: probe readings sent one at a time, timed until a query sees them;
//  3. the raw binary-COPY rate of the same rows (those the pipeline stored, in its order) into the same table, in the same run; the ratio.
// CPU seconds per process tree show where the time goes. Loopback only; bounded in time; stops by itself.
// Usage: dotnet run -c Release --project bench/PipelineBench -- [--seconds 60] [--workers 8] [--batch 1000] [--latency-seconds 30] [--rate 100000]
//        [--warmup-seconds 20]
var seconds = Arg("--seconds", 60);
var workers = Arg("--workers", 8);
var batch = Arg("--batch", 1000);
var latencySeconds = Arg("--latency-seconds", 30);
var rate = Arg("--rate", 0); // readings/s offered in the sustained phase; 0 = as fast as ingestion answers (the broker's backlog then grows)
// Freshly started services spend their first 15–20 s under load compiling their hot paths again (tiered JIT): the window should not.
var warmupSeconds = Arg("--warmup-seconds", 20);

Console.WriteLine("Starting the AppHost composition (Aspire, servers as local processes, Release builds)…");
// The services log warnings and errors only; they go to a file, for when a run goes wrong.
var serviceLogPath = Path.Combine(Path.GetTempPath(), "homeiq-pipelinebench.log");
await using var serviceLog = new StreamWriter(serviceLogPath) { AutoFlush = true };
Console.WriteLine($"Service output: {serviceLogPath}");
var builder = await BenchApps.CreateAppHostAsync<Projects.HomeIQ_AppHost>(serviceLog);
builder.CreateResourceBuilder<ProjectResource>("gateway")
    .WithEnvironment("Gateway__RateLimits__PerHubPerSecond", "10000000").WithEnvironment("Gateway__RateLimits__PerHubBurst", "10000000")
    .WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesPerSecond", "10000000").WithEnvironment("Gateway__RateLimits__PerAddressOnHubRoutesBurst", "10000000");
var analytics = new[] { "energy", "anomalies" };
foreach (var service in (string[])["identity", "devices", "ingestion", "readings", "gateway", .. analytics])
{
    builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment("Logging__LogLevel__Default", "Warning");
}
await using var app = await builder.BuildAsync();
// A server or service that never comes up (see the service log) ends the run instead of holding it forever.
using (var startTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(7)))
{
    await app.StartAsync(startTimeout.Token);
    foreach (var service in (string[])["ingestion", "readings", "gateway", .. analytics])
    {
        await app.ResourceNotifications.WaitForResourceHealthyAsync(service, startTimeout.Token);
    }
}

var gateway = app.GetEndpoint("gateway", "http");
var (homeId, _, hubKey, devices) = await BenchHome.CreateAsync(app.CreateHttpClient("gateway", "http"), workers + 1);
await using var db = NpgsqlDataSource.Create(await app.GetConnectionStringAsync("readingsdb") ?? throw new InvalidOperationException("no readingsdb"));
var probeDevice = devices[^1];
var loadDevices = devices.Take(workers).ToArray();

Console.WriteLine($"Warm-up: {workers} HTTP hubs, batches of {batch}, {warmupSeconds} s, so that the services' hot paths are compiled (tiered JIT)…");
var warmUp = await RunLoadAsync(new IngestLoadOptions { HttpWorkers = workers, StreamWorkers = 0, BatchSize = batch }, TimeSpan.FromSeconds(warmupSeconds));
// Every warm-up reading must be committed before the window opens, or its late commits would count as the window's.
await WaitForStoredAsync(warmUp.Acknowledged);
await DrainAsync();

Console.WriteLine(rate > 0 ? $"Sustained: {rate:N0} readings/s offered for {seconds} s…" : $"Sustained: as fast as accepted, {seconds} s…");
var cpuBefore = await CpuByResourceAsync();
var storedBefore = await CountedAsync();
var window = Stopwatch.StartNew();
var load = await RunLoadAsync(new IngestLoadOptions { HttpWorkers = workers, StreamWorkers = 0, BatchSize = batch, TargetRate = rate > 0 ? rate : null },
    TimeSpan.FromSeconds(seconds));
var storedAtEnd = await StoredAsync();
var elapsed = window.Elapsed.TotalSeconds;
var cpuAfter = await CpuByResourceAsync();
var committedRate = (storedAtEnd - storedBefore) / elapsed;
var acceptedRate = load.Acknowledged / elapsed;
Console.WriteLine(FormattableString.Invariant($"  accepted (202) {acceptedRate:N0}/s, committed {committedRate:N0}/s; {load}"));
// What was accepted faster than it was committed waits in the broker: the whole run, until the last accepted reading is
// committed, is the rate the pipeline sustains from end to end.
var storedAfterDrain = await WaitForStoredAsync(storedBefore + load.Acknowledged);
var drained = window.Elapsed.TotalSeconds;
var sustainedRate = (storedAfterDrain - storedBefore) / drained;
await DrainAsync(); // a duplicate would arrive after the target was reached: count again once nothing more comes
// The verdict counts the rows themselves; the rollup's count only tracked progress (and must agree).
var counted = await CountedAsync();
var difference = counted - storedBefore - load.Acknowledged;
if (await StoredAsync() is var rolledUp && rolledUp != counted)
{
    Console.WriteLine(FormattableString.Invariant($"  WARNING: readings_1h counts {rolledUp:N0} readings, the table holds {counted:N0}"));
}
Console.WriteLine(FormattableString.Invariant($"  all {storedAfterDrain - storedBefore:N0} committed after {drained:F1} s: {sustainedRate:N0}/s; lost: {Math.Max(0, -difference)}, duplicated: {Math.Max(0, difference)}"));
var analyticsCaughtUp = await WaitForEmptyQueuesAsync(analytics);
Console.WriteLine(FormattableString.Invariant($"  energy and anomalies had consumed every reading {analyticsCaughtUp:F1} s after the window opened"));

var halfRate = sustainedRate / 2;
Console.WriteLine(FormattableString.Invariant($"Latency at half that rate ({halfRate:N0}/s), {latencySeconds} s of probes…"));
var probes = await ProbeLatencyAsync(halfRate, TimeSpan.FromSeconds(latencySeconds));
var latencies = probes.Select(p => p.TotalMs).Order().ToArray();
var answers = probes.Select(p => p.AnsweredMs).Order().ToArray();
// Where the tail comes from: the slowest probes, with the wall clock to hold against the service log (checkpoints, warnings).
Console.WriteLine(FormattableString.Invariant($"  answered (202) p50 / p99 {Percentile(answers, 0.50):F0} / {Percentile(answers, 0.99):F0} ms; the slowest to be queryable:"));
foreach (var probe in probes.OrderByDescending(p => p.TotalMs).Take(5))
{
    Console.WriteLine(FormattableString.Invariant($"    {probe.SentAt:HH:mm:ss.fff}  answered {probe.AnsweredMs:F0} ms, queryable {probe.TotalMs:F0} ms"));
}
await DrainAsync();

var copyRows = (int)Math.Clamp(storedAtEnd - storedBefore, 100_000, 3_000_000);
// The yardstick is the rows the pipeline stored, as it stored them: its series interleaved in runs of a batch. The earlier yardstick
// (one series) is still measured, for comparison with earlier results; what runs before a COPY changes its rate, so they alternate.
Console.WriteLine($"Raw binary COPY of {copyRows:N0} rows into the same table: the pipeline's own rows three times, one series twice, alternating…");
var storedRows = await StoredRowsAsync(copyRows);
var sameRowsRates = new List<double>();
var oneSeriesRates = new List<double>();
for (var round = 0; round < 3; round++)
{
    sameRowsRates.Add(await RawCopyRateAsync(storedRows));
    if (round < 2)
    {
        oneSeriesRates.Add(await RawCopyRateAsync(OneSeries(copyRows)));
    }
}
Console.WriteLine(FormattableString.Invariant($"  the pipeline's rows: {string.Join(" · ", sameRowsRates.Select(r => r.ToString("N0")))} rows/s; one series: {string.Join(" · ", oneSeriesRates.Select(r => r.ToString("N0")))} rows/s"));
var copyRate = sameRowsRates.Order().ElementAt(1);
var oneSeriesRate = oneSeriesRates.Average();

Console.WriteLine();
Console.WriteLine("| measure | value |");
Console.WriteLine("|---|---|");
Console.WriteLine(FormattableString.Invariant($"| end-to-end: accepted in {seconds} s, all committed after {drained:F0} s | {sustainedRate:N0} readings/s |"));
Console.WriteLine(FormattableString.Invariant($"| committed during the {seconds} s window | {committedRate:N0} readings/s |"));
Console.WriteLine(FormattableString.Invariant($"| accepted (202) in the same window | {acceptedRate:N0} readings/s |"));
Console.WriteLine(FormattableString.Invariant($"| raw binary COPY of the pipeline's rows into the same table, median of 3 | {copyRate:N0} rows/s |"));
Console.WriteLine(FormattableString.Invariant($"| **end-to-end / raw COPY** | **{sustainedRate / copyRate:P0}** |"));
Console.WriteLine(FormattableString.Invariant($"| raw binary COPY of one series (the yardstick before 2026-11-27), mean of 2 | {oneSeriesRate:N0} rows/s |"));
Console.WriteLine(FormattableString.Invariant($"| end-to-end / raw COPY of one series | {sustainedRate / oneSeriesRate:P0} |"));
Console.WriteLine(FormattableString.Invariant($"| energy and anomalies consumed everything after | {analyticsCaughtUp:F0} s |"));
Console.WriteLine(FormattableString.Invariant($"| ingest → queryable at {halfRate:N0}/s: p50 / p99 ({latencies.Length} probes) | {Percentile(latencies, 0.50):F0} ms / {Percentile(latencies, 0.99):F0} ms |"));
Console.WriteLine();
Console.WriteLine("CPU during the sustained window (process trees; 2 cores = 200 %):");
foreach (var (resource, after) in cpuAfter.OrderByDescending(c => c.Value - cpuBefore.GetValueOrDefault(c.Key)))
{
    var used = after - cpuBefore.GetValueOrDefault(resource);
    if (used > 0.05)
    {
        Console.WriteLine(FormattableString.Invariant($"  {resource,-12} {used,7:F1} s  {used / elapsed,6:P0}"));
    }
}
return 0;

async Task<IngestLoad> RunLoadAsync(IngestLoadOptions options, TimeSpan duration)
{
    var run = new IngestLoad(gateway, hubKey, loadDevices, options);
    using var stop = new CancellationTokenSource(duration);
    using var giveUp = new CancellationTokenSource(duration + TimeSpan.FromMinutes(2));
    await run.RunAsync(stop.Token, giveUp.Token);
    if (run.Unexpected.Count > 0)
    {
        Console.WriteLine("  unexpected answers: " + string.Join(" | ", run.Unexpected.Take(3)));
    }
    return run;
}

// The home's committed readings as the exact hourly rollup counts them: written in the same transaction as the rows, and a few hundred
// rows to sum where count(*) scans millions (each scan took a core for a second or more while the bench waited for the drain).
async Task<long> StoredAsync()
{
    await using var count = db.CreateCommand("SELECT coalesce(sum(count), 0)::bigint FROM readings_1h WHERE home_id = $1");
    count.Parameters.Add(new() { Value = homeId });
    return (long)(await count.ExecuteScalarAsync())!;
}

// The home's rows, counted: for the verdict, before and after the window.
async Task<long> CountedAsync()
{
    await using var count = db.CreateCommand("SELECT count(*) FROM readings WHERE home_id = $1");
    count.Parameters.Add(new() { Value = homeId });
    return (long)(await count.ExecuteScalarAsync())!;
}

// Waits until the store stops growing (the broker's backlog is consumed).
async Task DrainAsync()
{
    var last = -1L;
    var deadline = Stopwatch.StartNew();
    while (deadline.Elapsed < TimeSpan.FromMinutes(3))
    {
        var now = await StoredAsync();
        if (now == last)
        {
            return;
        }
        last = now;
        await Task.Delay(1000);
    }
}

// Waits (at most 10 minutes) until the store holds `target` readings of the home; returns the count then.
async Task<long> WaitForStoredAsync(long target)
{
    var deadline = Stopwatch.StartNew();
    long now;
    while ((now = await StoredAsync()) < target && deadline.Elapsed < TimeSpan.FromMinutes(10))
    {
        if (deadline.Elapsed.TotalSeconds % 10 < 0.1)
        {
            Console.WriteLine(FormattableString.Invariant($"  waiting for the store: {now:N0} of {target:N0}"));
        }
        await Task.Delay(100);
    }
    return now;
}

// Waits (at most 10 minutes) until the queues hold no message twice in a row; returns the seconds since the window opened.
async Task<double> WaitForEmptyQueuesAsync(string[] queues)
{
    var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(await app.GetConnectionStringAsync("messaging") ?? throw new InvalidOperationException("no messaging")) };
    await using var connection = await factory.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync();
    var deadline = Stopwatch.StartNew();
    var emptyInARow = 0;
    while (emptyInARow < 2 && deadline.Elapsed < TimeSpan.FromMinutes(10))
    {
        var waiting = 0L;
        foreach (var queue in queues)
        {
            waiting += await channel.MessageCountAsync(queue);
        }
        emptyInARow = waiting == 0 ? emptyInARow + 1 : 0;
        await Task.Delay(250);
    }
    return window.Elapsed.TotalSeconds;
}

async Task<Probe[]> ProbeLatencyAsync(double backgroundRate, TimeSpan duration)
{
    using var stop = new CancellationTokenSource(duration);
    var background = RunLoadAsync(new IngestLoadOptions { HttpWorkers = workers, StreamWorkers = 0, BatchSize = batch, TargetRate = backgroundRate }, duration);
    using var http = new HttpClient { BaseAddress = gateway };
    http.DefaultRequestHeaders.Add("X-Hub-Key", hubKey);
    var samples = new List<Probe>();
    var at = DateTimeOffset.UtcNow.AddMinutes(-1);
    while (!stop.IsCancellationRequested)
    {
        at = at.AddMilliseconds(1);
        var sentAt = DateTime.Now;
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsJsonAsync("/api/v1/ingest/readings", new
        {
            readings = new[] { new { deviceId = probeDevice, metric = "temperature", value = 21.0, unit = "°C", timestamp = at } },
        });
        if ((int)response.StatusCode != 202)
        {
            continue;
        }
        var answered = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await using var seen = db.CreateCommand("SELECT 1 FROM readings WHERE device_id = $1 AND metric = 'temperature' AND ts = $2");
        seen.Parameters.Add(new() { Value = probeDevice });
        seen.Parameters.Add(new() { Value = at });
        while (await seen.ExecuteScalarAsync() is null)
        {
            await Task.Delay(2);
        }
        samples.Add(new Probe(sentAt, answered, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        await Task.Delay(50);
    }
    await background;
    return [.. samples];
}

// The first rows the pipeline stored for the load devices, in the order it stored them (heap order; a day partition holds them).
async Task<CopyRow[]> StoredRowsAsync(int rows)
{
    await using var select = db.CreateCommand("""
        SELECT device_id, metric, ts, value, unit, seq FROM readings
        WHERE home_id = $1 AND device_id = ANY($2) ORDER BY tableoid, ctid LIMIT $3
        """);
    select.Parameters.Add(new() { Value = homeId });
    select.Parameters.Add(new() { Value = loadDevices });
    select.Parameters.Add(new() { Value = rows });
    var stored = new List<CopyRow>(rows);
    await using var reader = await select.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        stored.Add(new CopyRow(reader.GetGuid(0), string.Intern(reader.GetString(1)), reader.GetFieldValue<DateTime>(2), reader.GetDouble(3),
            string.Intern(reader.GetString(4)), reader.IsDBNull(5) ? null : reader.GetInt64(5)));
    }
    return [.. stored];
}

// The yardstick before 2026-11-27: one device's series, timestamps rising, as IngestLoad makes them.
static CopyRow[] OneSeries(int rows)
{
    var device = Guid.NewGuid();
    var start = DateTime.UtcNow.AddHours(-1);
    return [.. Enumerable.Range(0, rows).Select(i => new CopyRow(device, "temperature", start.AddTicks(i * 10L), 20 + i % 100 / 10.0, "°C", null))];
}

// Raw binary COPY of the rows by one connection, under a home and device ids of its own (the key is device, metric and time);
// deleted afterwards.
async Task<double> RawCopyRateAsync(CopyRow[] rows)
{
    var copyHome = Guid.NewGuid();
    var devicesFor = new Dictionary<Guid, Guid>();
    var renamed = rows.Select(r => devicesFor.TryGetValue(r.Device, out var d) ? d : devicesFor[r.Device] = Guid.NewGuid()).ToArray();
    await using var connection = await db.OpenConnectionAsync();
    var timer = Stopwatch.StartNew();
    await using (var importer = await connection.BeginBinaryImportAsync("COPY readings (home_id, device_id, metric, ts, value, unit, seq) FROM STDIN (FORMAT BINARY)"))
    {
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            await importer.StartRowAsync();
            await importer.WriteAsync(copyHome, NpgsqlDbType.Uuid);
            await importer.WriteAsync(renamed[i], NpgsqlDbType.Uuid);
            await importer.WriteAsync(row.Metric, NpgsqlDbType.Text);
            await importer.WriteAsync(row.Timestamp, NpgsqlDbType.TimestampTz);
            await importer.WriteAsync(row.Value, NpgsqlDbType.Double);
            await importer.WriteAsync(row.Unit, NpgsqlDbType.Text);
            if (row.Sequence is { } sequence)
            {
                await importer.WriteAsync(sequence, NpgsqlDbType.Bigint);
            }
            else
            {
                await importer.WriteNullAsync();
            }
        }
        await importer.CompleteAsync();
    }
    var rate = rows.Length / timer.Elapsed.TotalSeconds;
    await using var cleanup = connection.CreateCommand();
    cleanup.CommandText = "DELETE FROM readings WHERE home_id = $1";
    cleanup.Parameters.Add(new() { Value = copyHome });
    await cleanup.ExecuteNonQueryAsync();
    return rate;
}

// CPU seconds (user + system) of each resource's whole process trees (all its replicas), from /proc.
async Task<Dictionary<string, double>> CpuByResourceAsync() => ProcessCpu.ByResource(await ProcessCpu.ProcessesByResourceAsync(app));

/// <summary>One latency probe: sent at (local clock, as the service log), answered 202 after, queryable after.</summary>
internal sealed record Probe(DateTime SentAt, double AnsweredMs, double TotalMs);

internal sealed record CopyRow(Guid Device, string Metric, DateTime Timestamp, double Value, string Unit, long? Sequence);
