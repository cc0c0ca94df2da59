using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

// GET /api/v1/homes/{homeId}/devices/{deviceId} (an authenticated, per-home read of the registry in Postgres plus the device's
// last state in Redis) through the gateway and directly against Devices, alternating, with the same concurrency and duration;
// median of the rounds. Loopback only; stops by itself.
// Usage: dotnet run -c Release --project bench/GatewayBench -- [--seconds 10] [--concurrency 32] [--rounds 4]
var seconds = Arg("--seconds", 10);
var concurrency = Arg("--concurrency", 32);
var rounds = Arg("--rounds", 4);

Console.WriteLine("Starting postgres, redis, rabbitmq (Aspire, as local servers), identity, devices and gateway…");
var builder = BenchApps.CreateBuilder();
var postgres = builder.AddPostgres("postgres");
var identityDb = postgres.AddDatabase("identitydb");
var devicesDb = postgres.AddDatabase("devicesdb");
var cache = builder.AddRedis("cache");
var messaging = builder.AddRabbitMQ("messaging");
var identity = builder.AddProject<Projects.HomeIQ_Identity>("identity").WithReference(identityDb).WaitFor(identityDb).WithHttpHealthCheck("/health")
    .WithEnvironment("Logging__LogLevel__Default", "Warning");
var devices = builder.AddProject<Projects.HomeIQ_Devices>("devices")
    .WithReference(devicesDb).WaitFor(devicesDb).WithReference(cache).WaitFor(cache).WithReference(messaging).WaitFor(messaging)
    .WithReference(identity).WaitFor(identity).WithHttpHealthCheck("/health")
    .WithEnvironment("Logging__LogLevel__Default", "Warning");
builder.AddProject<Projects.HomeIQ_Gateway>("gateway").WithReference(identity).WaitFor(identity).WithReference(devices).WaitFor(devices)
    .WithHttpHealthCheck("/health")
    .WithEnvironment("Gateway__RateLimits__PerUserPerSecond", "10000000").WithEnvironment("Gateway__RateLimits__PerUserBurst", "10000000")
    .WithEnvironment("Logging__LogLevel__Default", "Warning");
await using var app = await builder.BuildAsync();
await app.StartAsync();
await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway");

using var setup = app.CreateHttpClient("gateway", "http");
var home = await BenchHome.CreateAsync(setup, deviceCount: 1);
var token = home.Token;
var path = $"/api/v1/homes/{home.HomeId}/devices/{home.Devices[0]}";

var targets = new Dictionary<string, Uri> { ["direct"] = app.GetEndpoint("devices", "http"), ["gateway"] = app.GetEndpoint("gateway", "http") };
Console.WriteLine($"{concurrency} concurrent clients, {seconds} s per measurement, {rounds} rounds, alternating which side goes first");
await RunAsync(targets["direct"], path, token, 3, concurrency); // warm-up of both paths (JIT, connection pools)
await RunAsync(targets["gateway"], path, token, 3, concurrency);
var results = targets.Keys.ToDictionary(k => k, _ => new List<Result>());
for (var round = 1; round <= rounds; round++)
{
    foreach (var side in round % 2 == 1 ? new[] { "direct", "gateway" } : ["gateway", "direct"])
    {
        results[side].Add(await RunAsync(targets[side], path, token, seconds, concurrency));
    }
    Console.WriteLine($"round {round}: " + string.Join(", ", results.Select(r => $"{r.Key} {r.Value[^1]}")));
}

Console.WriteLine();
Console.WriteLine("| path | median req/s | median p50 (ms) | median p99 (ms) | errors |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (side, list) in results)
{
    Console.WriteLine(FormattableString.Invariant($"| {side} | {Median(list.Select(r => r.Rps)):N0} | {Median(list.Select(r => r.P50)):F2} | {Median(list.Select(r => r.P99)):F2} | {list.Sum(r => r.Errors)} |"));
}
var ratio = Median(results["gateway"].Select(r => r.Rps)) / Median(results["direct"].Select(r => r.Rps));
var added = Median(results["gateway"].Select(r => r.P50)) - Median(results["direct"].Select(r => r.P50));
Console.WriteLine(FormattableString.Invariant($"\ngateway/direct throughput: {ratio:P0}; added p50 latency: {added:F2} ms"));
return 0;

static async Task<Result> RunAsync(Uri baseAddress, string path, string token, int seconds, int concurrency)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = baseAddress };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    var latencies = new List<double>[concurrency];
    var errors = 0;
    var deadline = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
    {
        var mine = latencies[worker] = [];
        while (deadline.Elapsed.TotalSeconds < seconds)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(path);
            await response.Content.LoadIntoBufferAsync();
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref errors);
            }
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }));
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Result(all.Length / deadline.Elapsed.TotalSeconds, all[all.Length / 2], all[(int)(all.Length * 0.99)], errors);
}



internal sealed record Result(double Rps, double P50, double P99, int Errors)
{
    public override string ToString() => FormattableString.Invariant($"{Rps:N0} req/s p50 {P50:F2} ms p99 {P99:F2} ms");
}
