using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;

// MQTT devices → Mosquitto → ingestion (2 replicas, shared subscription, QoS 1) → RabbitMQ → readings → Postgres, composed as the
// MQTT test fixture composes it (Postgres, Redis, RabbitMQ, mosquitto as local servers; Identity, Devices, Readings, Ingestion).
//  1. a home is created through Identity and ingestion is restarted with Mqtt__HomeId and Mqtt__RegisterUnknownDevices=true;
//  2. warm-up: every device (zigbee2mqtt/bench-<i>) publishes until it is registered from its first message, then twice more, then
//     --warmup-seconds of steady load (the services compile their hot paths), and every warm-up reading must be stored before the
//     window opens;
//  3. the window: --publishers MQTT 3.1.1 connections (WirePublisher: lean, so that the generator takes little of the machine)
//     publish {"temperature":seq,"humidity":seq+0.5} at QoS 1 at --rate messages/s for
//     --seconds (--rate 0: as fast as the broker acknowledges, at most --max-messages), round robin over the devices; every message
//     has its own sequence number, so every one is two distinct readings. Ingestion timestamps a message on arrival (to the ms), so
//     the payload carries no time.
//  4. the store is counted until it holds every published message's two readings, or stops growing: lost = expected − stored,
//     duplicated = stored − distinct (device, metric, value); the end-to-end rate is stored messages over the time to the last stored.
//  5. latency: about 10 messages a second go to a probe device, timed from the publish until a query sees their reading;
//  6. CPU: user + system seconds of each resource's process trees (/proc/<pid>/stat) from the window's start to the last stored
//     reading, per stored message; mosquitto's RSS sampled through the run (and its VmHWM).
// Loopback only; bounded in messages and time; stops by itself.
if (Environment.GetCommandLineArgs().Any(a => a is "--help" or "-h"))
{
    Console.WriteLine("""
        MqttBench: sustained MQTT messages/s into stored readings (issue 15).
        Usage: dotnet run -c Release --project bench/MqttBench -- [options]
          --rate N          messages/s offered, all publishers together (default 2000); 0 = as fast as the broker acknowledges
          --seconds N       how long to publish (default 30)
          --max-messages N  stop publishing after N messages (default rate × seconds; 60000 with --rate 0)
          --devices N       Zigbee2MQTT devices zigbee2mqtt/bench-<i>, registered from their first message (default 200)
          --publishers N    MQTT connections publishing at QoS 1 (default 4)
          --inflight N      unacknowledged publishes per publisher at most (default 100)
          --settle N        seconds without a new stored reading after which the store counts as settled (default 15)
          --warmup-seconds N  steady load before the window, so that it measures compiled services (default 20; 0: none)
          --warmup-rate N   messages/s of that warm-up (default --rate, or 10000 with --rate 0)
        Each message is {"temperature":seq,"humidity":seq+0.5}: two readings. Ingestion stamps a message's readings with its
        arrival (ms), and Readings keeps one row per (device, metric, ts): two messages of one device stamped in the same
        millisecond become one reading, counted as lost (and as a COPY key collision). Keep each device near one message a
        second (--devices ≥ --rate), as real sensors send.
        """);
    return 0;
}
var rate = Arg("--rate", 2000);
var seconds = Arg("--seconds", 30);
var maxMessages = Arg("--max-messages", rate > 0 ? rate * seconds : 60_000);
var deviceCount = Arg("--devices", 200);
var publisherCount = Arg("--publishers", 4);
var inflight = Arg("--inflight", 100);
var settleSeconds = Arg("--settle", 15);
var warmupSeconds = Arg("--warmup-seconds", 20);
var warmupRate = Arg("--warmup-rate", rate > 0 ? rate : 10_000);
const long SeqBase = 10_000_000; // window messages count from here; warm-up messages below

Console.WriteLine("Starting postgres, redis, rabbitmq, mosquitto (local servers), identity, devices, readings and 2 ingestion replicas…");
var serviceLogPath = Path.Combine(Path.GetTempPath(), "homeiq-mqttbench.log");
await using var serviceLog = new StreamWriter(serviceLogPath) { AutoFlush = true };
Console.WriteLine($"Service output: {serviceLogPath}");
var ingestionSecret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
Guid? mqttHome = null;
var builder = BenchApps.CreateBuilder(serviceLog);
var postgres = builder.AddPostgres("postgres");
var cache = builder.AddRedis("cache");
var messaging = builder.AddRabbitMQ("messaging");
var mqtt = builder.AddMqttBroker("mqtt");
var identityDb = postgres.AddDatabase("identitydb");
var devicesDb = postgres.AddDatabase("devicesdb");
var readingsDb = postgres.AddDatabase("readingsdb");
var identity = builder.AddProject<Projects.HomeIQ_Identity>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithEnvironment("Identity__Clients__ingestion", ingestionSecret)
    .WithHttpHealthCheck("/health");
var devices = builder.AddProject<Projects.HomeIQ_Devices>("devices")
    .WithReference(devicesDb).WaitFor(devicesDb).WithReference(cache).WaitFor(cache).WithReference(messaging).WaitFor(messaging)
    .WithReference(identity).WaitFor(identity)
    .WithHttpHealthCheck("/health");
var readings = builder.AddProject<Projects.HomeIQ_Readings>("readings")
    .WithReference(readingsDb).WaitFor(readingsDb).WithReference(messaging).WaitFor(messaging).WithReference(identity).WaitFor(identity)
    .WithHttpHealthCheck("/health");
var ingestion = builder.AddProject<Projects.HomeIQ_Ingestion>("ingestion")
    .WithReplicas(2)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    .WithReference(mqtt).WaitFor(mqtt)
    .WithReference(identity).WaitFor(identity)
    .WithReference(devices).WaitFor(devices)
    .WithEnvironment("Authentication__Client__Secret", ingestionSecret)
    .WithEnvironment("Mqtt__RegisterUnknownDevices", "true")
    .WithEnvironment(context =>
    {
        if (mqttHome is { } home)
        {
            context.EnvironmentVariables["Mqtt__HomeId"] = home.ToString();
        }
    })
    .WithHttpHealthCheck("/health");
foreach (var service in new[] { identity, devices, readings, ingestion })
{
    service.WithEnvironment("Logging__LogLevel__Default", "Warning");
}
await using var app = await builder.BuildAsync();
using (var startTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(7)))
{
    await app.StartAsync(startTimeout.Token);
    await app.ResourceNotifications.WaitForResourceHealthyAsync("readings", startTimeout.Token);
    await app.ResourceNotifications.WaitForResourceHealthyAsync("devices", startTimeout.Token);
    mqttHome = await CreateHomeAsync(app.CreateHttpClient("identity"));
    // By resource, not instance id: the restart applies to both replicas.
    var restarted = await app.ResourceCommands.ExecuteCommandAsync(ingestion.Resource, KnownResourceCommands.RestartCommand, startTimeout.Token);
    if (!restarted.Success)
    {
        throw new InvalidOperationException($"Restarting ingestion failed: {restarted.Message}");
    }
    // Right after the restart a wait can still see the stopped instances ("failed to start"): wait again while they come up.
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), startTimeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("ingestion", startTimeout.Token);
            break;
        }
        catch (DistributedApplicationException) when (attempt < 10)
        {
        }
    }
}
var homeId = mqttHome.Value;
var broker = new Uri(await app.GetConnectionStringAsync("mqtt") ?? throw new InvalidOperationException("no mqtt"));
await using var db = NpgsqlDataSource.Create(await app.GetConnectionStringAsync("readingsdb") ?? throw new InvalidOperationException("no readingsdb"));
var roots = await ProcessCpu.ProcessesByResourceAsync(app);
Console.WriteLine("Processes: " + string.Join(", ", roots.OrderBy(r => r.Key).Select(r => $"{r.Key} {string.Join('/', r.Value)}")));

var publishers = new List<WirePublisher>();
for (var p = 0; p < publisherCount; p++)
{
    publishers.Add(await ConnectAsync($"bench-publisher-{p}-{Guid.NewGuid():N}"));
}
// About ten messages a second go to one more device, the probe device, instead of their own: the latency probe finds them by an
// index range of a few rows, where on a load device it would read every recent row of that device.
const string ProbeTopic = "zigbee2mqtt/bench-probe";
const long ProbeRegistration = 0; // the value of the probe device's registration message (load devices' warm-up values start at --devices)
string Topic(long seq) => $"zigbee2mqtt/bench-{seq % deviceCount}";
byte[] Payload(long seq) => Encoding.UTF8.GetBytes(FormattableString.Invariant($$"""{"temperature":{{seq}},"humidity":{{seq}}.5}"""));
Task PublishMessageAsync(WirePublisher publisher, long seq, bool toProbe = false) => publisher.PublishAsync(toProbe ? ProbeTopic : Topic(seq), Payload(seq));

// Warm-up 1: each device's first message registers it (ingestion asks Devices); unregistered ones publish again.
Console.WriteLine($"Warm-up: registering {deviceCount} devices from their first messages…");
var setupTimer = Stopwatch.StartNew();
var deviceIds = new Guid[deviceCount + 1]; // [deviceCount]: the probe device
long warmSeq = 0;
var warmPublished = 0L;
for (var round = 0; round < 12 && deviceIds.Any(d => d == Guid.Empty); round++)
{
    if (deviceIds[deviceCount] == Guid.Empty)
    {
        await PublishMessageAsync(publishers[0], ProbeRegistration, toProbe: true);
    }
    for (var i = 0; i < deviceCount; i++)
    {
        if (deviceIds[i] == Guid.Empty)
        {
            // A sequence number that is ≡ i (mod devices), so the topic is bench-<i>.
            var seq = (warmSeq * deviceCount) + i + deviceCount;
            await PublishMessageAsync(publishers[i % publisherCount], seq);
            warmPublished++;
        }
    }
    warmSeq++;
    var until = Stopwatch.StartNew();
    while (until.Elapsed < TimeSpan.FromSeconds(20) && deviceIds.Any(d => d == Guid.Empty))
    {
        await Task.Delay(1000);
        await using var seen = db.CreateCommand("SELECT device_id, value FROM readings WHERE home_id = $1 AND metric = 'temperature' AND value < $2");
        seen.Parameters.Add(new() { Value = homeId });
        seen.Parameters.Add(new() { Value = (double)SeqBase });
        await using var reader = await seen.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var value = (long)reader.GetDouble(1);
            deviceIds[value == ProbeRegistration ? deviceCount : value % deviceCount] = reader.GetGuid(0);
        }
    }
    Console.WriteLine($"  round {round + 1}: {deviceIds.Count(d => d != Guid.Empty)} of {deviceCount} registered, and the probe device {(deviceIds[deviceCount] == Guid.Empty ? "not yet" : "too")} ({setupTimer.Elapsed.TotalSeconds:F0} s)");
}
if (deviceIds.Any(d => d == Guid.Empty))
{
    Console.WriteLine("Not every device was registered: giving up.");
    return 1;
}
// Warm-up 2: two more messages per device, so that both replicas know every device (and JIT, pools, caches are warm).
var round2From = (warmSeq * deviceCount) + deviceCount;
for (var k = 0; k < 2; k++, warmSeq++)
{
    await Task.WhenAll(Enumerable.Range(0, publisherCount).Select(async p =>
    {
        for (var i = p; i < deviceCount; i += publisherCount)
        {
            await PublishMessageAsync(publishers[p], (warmSeq * deviceCount) + i + deviceCount);
        }
    }));
}
var round2Timer = Stopwatch.StartNew();
while (await StoredAsync(round2From) < 4L * deviceCount && round2Timer.Elapsed < TimeSpan.FromSeconds(120))
{
    await Task.Delay(250);
}
if (await StoredAsync(round2From) < 4L * deviceCount)
{
    Console.WriteLine($"Only {await StoredAsync(round2From)} of {4 * deviceCount} warm-up readings were stored in 2 minutes: giving up.");
    return 1;
}
var probes = new ConcurrentQueue<(long Seq, long PublishedAt)>();
var nextSeq = -1L;
var acked = 0L;
var failed = 0L;
var lastProbe = 0L;
// Warm-up 3: steady load, so that the window measures the services' steady state. Freshly started, they spend their first 15–20 s
// under load compiling their hot paths again (tiered JIT): up to half of their CPU, and most of Devices'.
if (warmupSeconds > 0)
{
    Console.WriteLine($"  {warmupRate:N0} messages/s for {warmupSeconds} s, so that the services' hot paths are compiled (tiered JIT) before the window…");
    var warmFrom = (warmSeq * deviceCount) + deviceCount;
    await PublishAllAsync(warmFrom, warmupRate, warmupSeconds, Math.Min((long)warmupRate * warmupSeconds, SeqBase - warmFrom), probe: false);
    if (failed > 0)
    {
        Console.WriteLine($"  {failed:N0} warm-up messages were not acknowledged by the broker: giving up.");
        return 1;
    }
    (nextSeq, acked) = (-1, 0);
}
var warmStored = await SettleAsync(0, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(3));
Console.WriteLine($"  warm-up stored {warmStored:N0} readings; set-up took {setupTimer.Elapsed.TotalSeconds:F0} s");

// The window.
Console.WriteLine(rate > 0
    ? $"Publishing {rate:N0} messages/s for {seconds} s (at most {maxMessages:N0}), {publisherCount} publishers, {deviceCount} devices…"
    : $"Publishing as fast as the broker acknowledges for {seconds} s (at most {maxMessages:N0}), {publisherCount} publishers × {inflight} in flight, {deviceCount} devices…");
var rssStart = BrokerRss();
var rssPeak = rssStart;
var cpuStart = ProcessCpu.ByResource(roots);
var latencies = new List<double>();
var window = Stopwatch.StartNew();
var publishing = PublishAllAsync(SeqBase, rate, seconds, maxMessages, probe: true);
using var stopProbing = new CancellationTokenSource();
var probing = ProbeAsync(stopProbing.Token);
var collisionsBefore = CollisionsLogged();
var samples = new List<(double At, long Acked, long Stored)>();
var target = 0L;
var lastStoredAt = 0.0;
var cpuAtLast = cpuStart;
var storedNow = await StoredAsync() - warmStored;
var stalledSince = Stopwatch.StartNew();
while (true)
{
    await Task.Delay(500);
    var now = await StoredAsync() - warmStored;
    var at = window.Elapsed.TotalSeconds;
    rssPeak = Math.Max(rssPeak, BrokerRss());
    samples.Add((at, Interlocked.Read(ref acked), now));
    if (now != storedNow)
    {
        storedNow = now;
        lastStoredAt = at;
        cpuAtLast = ProcessCpu.ByResource(roots);
        stalledSince.Restart();
    }
    if (publishing.IsCompleted)
    {
        target = 2 * Interlocked.Read(ref acked);
        if (storedNow >= target || stalledSince.Elapsed > TimeSpan.FromSeconds(settleSeconds) || window.Elapsed > TimeSpan.FromSeconds(seconds) + TimeSpan.FromMinutes(10))
        {
            break;
        }
    }
    if ((int)at % 10 == 0 && at - (int)at < 0.5)
    {
        Console.WriteLine(FormattableString.Invariant($"  {at,4:F0} s: published {Interlocked.Read(ref acked):N0}, stored {now / 2:N0} messages"));
    }
}
stopProbing.Cancel();
var unseenProbes = await probing;
// A duplicate would come after the count reached its target: count again once nothing more arrives.
await SettleAsync(0, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(3));
var (windowRows, distinctRows) = await DistinctAsync();
var rssHwm = BrokerRss("VmHWM:");
var collisions = CollisionsLogged() - collisionsBefore;
var published = Interlocked.Read(ref acked);
var publishSeconds = await publishing;
var lost = Math.Max(0, (2 * published) - windowRows);
var duplicated = windowRows - distinctRows;
var storedMessages = windowRows / 2.0;
var sustained = storedMessages / lastStoredAt;
var lat = latencies.Order().ToArray();

Console.WriteLine();
Console.WriteLine(FormattableString.Invariant($"commit {Commit()}, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
Console.WriteLine("| measure | value |");
Console.WriteLine("|---|---|");
Console.WriteLine(FormattableString.Invariant($"| offered | {(rate > 0 ? $"{rate:N0} messages/s for {seconds} s" : $"as fast as acknowledged, ≤ {seconds} s, ≤ {maxMessages:N0}")} ({publisherCount} publishers, {deviceCount} devices) |"));
Console.WriteLine(FormattableString.Invariant($"| published (PUBACK) / failed | {published:N0} in {publishSeconds:F1} s = {published / publishSeconds:N0} messages/s / {Interlocked.Read(ref failed):N0} |"));
Console.WriteLine(FormattableString.Invariant($"| readings stored / expected (2 per message) | {windowRows:N0} / {2 * published:N0} |"));
Console.WriteLine(FormattableString.Invariant($"| lost messages / duplicated readings | {lost / 2.0:N0} / {duplicated:N0} |"));
Console.WriteLine(FormattableString.Invariant($"| batches whose COPY hit an existing (device, metric, ms) key (Postgres log) | {collisions:N0} |"));
Console.WriteLine(FormattableString.Invariant($"| **end-to-end: stored messages / time to the last stored** | **{sustained:N0} messages/s** ({storedMessages:N0} in {lastStoredAt:F1} s) |"));
Console.WriteLine(FormattableString.Invariant($"| publish → stored, p50 / p99 ({lat.Length} probes, {unseenProbes} never seen) | {Percentile(lat, 0.50):N0} ms / {Percentile(lat, 0.99):N0} ms |"));
Console.WriteLine(FormattableString.Invariant($"| mosquitto RSS: start / peak sampled / VmHWM | {rssStart / 1024.0:F1} / {rssPeak / 1024.0:F1} / {rssHwm / 1024.0:F1} MiB |"));
var cpuSeconds = lastStoredAt;
Console.WriteLine();
Console.WriteLine(FormattableString.Invariant($"CPU from the window's start to the last stored reading ({cpuSeconds:F1} s; 2 cores = 200 %), per stored message:"));
Console.WriteLine("| process tree | CPU s | share of a core | µs per message |");
Console.WriteLine("|---|---|---|---|");
var total = 0.0;
foreach (var (resource, after) in cpuAtLast.OrderByDescending(c => c.Value - cpuStart.GetValueOrDefault(c.Key)))
{
    var used = after - cpuStart.GetValueOrDefault(resource);
    if (resource != "load generator")
    {
        total += used;
    }
    Console.WriteLine(FormattableString.Invariant($"| {resource} | {used:F1} | {used / cpuSeconds:P0} | {used / storedMessages * 1e6:F0} |"));
}
Console.WriteLine(FormattableString.Invariant($"| all but the load generator | {total:F1} | {total / cpuSeconds:P0} | {total / storedMessages * 1e6:F0} |"));
foreach (var publisher in publishers)
{
    await publisher.DisposeAsync();
}
return 0;

// Publishes messages firstSeq, firstSeq + 1, … from every publisher (at `perSecond` all together, or as fast as acknowledged when 0)
// for `forSeconds`, at most `most`; returns the seconds it took.
async Task<double> PublishAllAsync(long firstSeq, int perSecond, int forSeconds, long most, bool probe)
{
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(publishers.Select(client => Task.Run(() => PublishAsync(client, firstSeq, perSecond, forSeconds, most, probe))));
    return clock.Elapsed.TotalSeconds;
}

async Task PublishAsync(WirePublisher client, long firstSeq, int rate, int seconds, long maxMessages, bool probe)
{
    using var slots = new SemaphoreSlim(inflight);
    var pending = new List<Task>();
    var stopAt = TimeSpan.FromSeconds(seconds);
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var seq = Interlocked.Increment(ref nextSeq);
        if (seq >= maxMessages)
        {
            break;
        }
        if (rate > 0)
        {
            var due = TimeSpan.FromSeconds((double)seq / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }
        }
        // Bounded in time too: as fast as acknowledged, at --seconds; at a fixed rate, once it is 10 s behind.
        if (clock.Elapsed >= (rate > 0 ? stopAt + TimeSpan.FromSeconds(10) : stopAt))
        {
            break;
        }
        await slots.WaitAsync();
        var publishedAt = Stopwatch.GetTimestamp();
        // Every 100 ms a message goes to the probe device (the warm-up's too, so that both replicas know it); the window times them.
        var toProbe = Stopwatch.GetElapsedTime(Interlocked.Read(ref lastProbe)).TotalMilliseconds >= 100 && Interlocked.Exchange(ref lastProbe, publishedAt) != publishedAt;
        if (toProbe && probe)
        {
            probes.Enqueue((firstSeq + seq, publishedAt));
        }
        pending.Add(PublishOneAsync(client, firstSeq + seq, toProbe, slots));
        if (pending.Count > 10_000)
        {
            pending.RemoveAll(t => t.IsCompleted);
        }
    }
    await Task.WhenAll(pending);
}

async Task PublishOneAsync(WirePublisher client, long seq, bool toProbe, SemaphoreSlim slots)
{
    try
    {
        await PublishMessageAsync(client, seq, toProbe);
        Interlocked.Increment(ref acked);
    }
    catch (Exception)
    {
        Interlocked.Increment(ref failed);
    }
    finally
    {
        slots.Release();
    }
}

// Times the probes: from the publish until a query sees the probe's temperature reading (polled every 20 ms), until `stop`;
// returns how many were never seen (lost).
async Task<int> ProbeAsync(CancellationToken stop)
{
    var waiting = new List<(long Seq, long PublishedAt)>();
    while (!stop.IsCancellationRequested)
    {
        while (probes.TryDequeue(out var probe))
        {
            waiting.Add(probe);
        }
        if (waiting.Count == 0)
        {
            await Task.Delay(20, CancellationToken.None);
            continue;
        }
        await using var seen = db.CreateCommand(
            "SELECT value FROM readings WHERE device_id = $1 AND metric = 'temperature' AND ts >= $2 AND value = ANY($3)");
        seen.Parameters.Add(new() { Value = deviceIds[deviceCount] });
        // A reading's time is its message's arrival at ingestion (same clock), so nothing older than the oldest waiting probe's
        // publish can be one: the query reads only the probe device's recent rows, a few dozen.
        seen.Parameters.Add(new() { Value = DateTime.UtcNow - Stopwatch.GetElapsedTime(waiting.Min(w => w.PublishedAt)) - TimeSpan.FromSeconds(5) });
        seen.Parameters.Add(new() { Value = waiting.Select(w => (double)w.Seq).ToArray() });
        var found = new HashSet<long>();
        await using (var reader = await seen.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                found.Add((long)reader.GetDouble(0));
            }
        }
        var at = Stopwatch.GetTimestamp();
        foreach (var w in waiting.Where(w => found.Contains(w.Seq)))
        {
            latencies.Add(Stopwatch.GetElapsedTime(w.PublishedAt, at).TotalMilliseconds);
        }
        waiting.RemoveAll(w => found.Contains(w.Seq));
        await Task.Delay(20, CancellationToken.None);
    }
    return waiting.Count + probes.Count;
}

// Postgres logs each COPY of a batch that hit an existing (device, metric, ts) key; Readings then inserts that batch with ON
// CONFLICT DO NOTHING. Two different messages of one device that ingestion timestamps in the same millisecond end up there.
int CollisionsLogged()
{
    using var stream = new FileStream(serviceLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    using var reader = new StreamReader(stream);
    var count = 0;
    while (reader.ReadLine() is { } line)
    {
        if (line.Contains(" postgres-server | ", StringComparison.Ordinal) && line.Contains("duplicate key value violates unique constraint \"readings_", StringComparison.Ordinal))
        {
            count++;
        }
    }
    return count;
}

async Task<WirePublisher> ConnectAsync(string clientId)
{
    var credentials = Uri.UnescapeDataString(broker.UserInfo).Split(':', 2);
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    return await WirePublisher.ConnectAsync(broker.Host, broker.Port, credentials[0], credentials[1], clientId, timeout.Token);
}

// The home's stored readings (those whose value is at least `minValue`). Without a minimum, as the exact hourly rollup counts them:
// written in the same transaction as the rows, and a few hundred rows to sum where count(*) scans them all, twice a second, on the
// Postgres the bench measures. The verdict (DistinctAsync) counts the rows themselves.
async Task<long> StoredAsync(double minValue = 0)
{
    await using var count = db.CreateCommand(minValue > 0
        ? "SELECT count(*) FROM readings WHERE home_id = $1 AND value >= $2"
        : "SELECT coalesce(sum(count), 0)::bigint FROM readings_1h WHERE home_id = $1");
    count.Parameters.Add(new() { Value = homeId });
    if (minValue > 0)
    {
        count.Parameters.Add(new() { Value = minValue });
    }
    return (long)(await count.ExecuteScalarAsync())!;
}

// The window's readings and how many distinct (device, metric, value) they hold.
async Task<(long Rows, long Distinct)> DistinctAsync()
{
    await using var count = db.CreateCommand(
        "SELECT count(*), count(DISTINCT (device_id, metric, value)) FROM readings WHERE home_id = $1 AND value >= $2");
    count.Parameters.Add(new() { Value = homeId });
    count.Parameters.Add(new() { Value = (double)SeqBase });
    await using var reader = await count.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1));
}

// Waits until the store holds `targetRows` readings (0: any) and then until it stops growing for `quiet`, at most `limit`.
async Task<long> SettleAsync(long targetRows, TimeSpan limit, TimeSpan quiet)
{
    var deadline = Stopwatch.StartNew();
    var last = await StoredAsync();
    var unchanged = Stopwatch.StartNew();
    while (deadline.Elapsed < limit && (last < targetRows || unchanged.Elapsed < quiet))
    {
        await Task.Delay(250);
        var now = await StoredAsync();
        if (now != last)
        {
            last = now;
            unchanged.Restart();
        }
    }
    return last;
}

async Task<Guid> CreateHomeAsync(HttpClient identityHttp)
{
    var email = $"bench-{Guid.NewGuid():N}@example.test";
    (await identityHttp.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "benchmark password", displayName = "Bench" })).EnsureSuccessStatusCode();
    var login = await (await identityHttp.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "benchmark password" })).Content.ReadFromJsonAsync<JsonElement>();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/homes") { Content = JsonContent.Create(new { name = "MQTT bench home" }) };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("accessToken").GetString());
    using var response = await identityHttp.SendAsync(request);
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("home").GetProperty("id").GetGuid();
}

// The RSS (or another /proc/<pid>/status field, in kB) of the mosquitto processes under the mqtt resource.
long BrokerRss(string field = "VmRSS:")
{
    var total = 0L;
    // As a local server the broker is the resource "mqtt-server" (a container would be "mqtt").
    foreach (var pid in Tree([.. roots.Where(r => r.Key.StartsWith("mqtt", StringComparison.Ordinal)).SelectMany(r => r.Value)]))
    {
        try
        {
            if (File.ReadAllText($"/proc/{pid}/comm").Trim() != "mosquitto")
            {
                continue;
            }
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            total += line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
    }
    return total;
}

// The processes under `rootPids` (DCP's process and its descendants).
List<int> Tree(HashSet<int> rootPids)
{
    var (parents, _) = ProcessCpu.Snapshot();
    return parents.Keys.Where(pid => ProcessCpu.IsUnder(pid, rootPids, parents)).ToList();
}

static string Commit()
{
    try
    {
        using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true })!;
        var text = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return text;
    }
    catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
    {
        return "?";
    }
}
