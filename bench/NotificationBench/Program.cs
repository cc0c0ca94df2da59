using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Bench;
using HomeIQ.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using RabbitMQ.Client;

// Event → connected client: automation.notification.v1 events published on the broker (as Automations does) at --rate per second for
// --seconds, each for one of --homes homes; --clients users (spread over the homes) hold a SignalR WebSocket through the gateway. The
// latency is from the event's OccurredAt (set just before publishing) to its arrival at each member's client; every member should get
// every event of its home once. The real AppHost composition (notifications runs twice: half the clients reach each replica, and a push
// raised on one replica reaches the other's clients through the Redis backplane). Loopback only; bounded in time; stops by itself.
// Usage: dotnet run -c Release --project bench/NotificationBench -- [--clients 200] [--homes 20] [--rate 20] [--seconds 30]
var clients = Arg("--clients", 200);
var homes = Arg("--homes", 20);
var rate = Arg("--rate", 20);
var seconds = Arg("--seconds", 30);
if (clients < homes || homes < 1 || rate < 1 || seconds < 1)
{
    Console.Error.WriteLine("--clients must be at least --homes; --homes, --rate and --seconds at least 1.");
    return 2;
}

Console.WriteLine("Starting the AppHost composition (Aspire, servers as local processes)…");
var serviceLogPath = Path.Combine(Path.GetTempPath(), "homeiq-notificationbench.log");
await using var serviceLog = new StreamWriter(serviceLogPath) { AutoFlush = true };
Console.WriteLine($"Service output: {serviceLogPath}");
var builder = await BenchApps.CreateAppHostAsync<Projects.HomeIQ_AppHost>(serviceLog);
// Hundreds of users register and log in from 127.0.0.1: the anonymous bucket would throttle the set-up, not what is measured.
builder.CreateResourceBuilder<ProjectResource>("gateway")
    .WithEnvironment("Gateway__RateLimits__AnonymousPerSecond", "100000").WithEnvironment("Gateway__RateLimits__AnonymousBurst", "100000");
foreach (var service in new[] { "identity", "devices", "ingestion", "readings", "energy", "anomalies", "notifications", "gateway" })
{
    builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment("Logging__LogLevel__Default", "Warning");
}
await using var app = await builder.BuildAsync();
using var startTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
await app.StartAsync(startTimeout.Token);
foreach (var service in new[] { "identity", "notifications", "gateway" })
{
    await app.ResourceNotifications.WaitForResourceHealthyAsync(service, startTimeout.Token);
}
var gateway = app.GetEndpoint("gateway", "http");

Console.WriteLine($"Creating {homes} homes with {clients} users…");
var setup = Stopwatch.StartNew();
var users = new ConcurrentBag<(Guid HomeId, string Token)>();
var homeIds = new Guid[homes];
await Parallel.ForEachAsync(Enumerable.Range(0, homes), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (h, ct) =>
{
    using var http = new HttpClient { BaseAddress = gateway };
    var (ownerToken, _) = await RegisterAsync(http);
    var created = await SendAsync(http, HttpMethod.Post, "/api/v1/homes", ownerToken, new { name = $"Bench home {h}" });
    var homeId = created.GetProperty("home").GetProperty("id").GetGuid();
    var owner = created.GetProperty("tokens").GetProperty("accessToken").GetString()!;
    homeIds[h] = homeId;
    users.Add((homeId, owner));
    var members = clients / homes + (h < clients % homes ? 1 : 0) - 1;
    for (var m = 0; m < members; m++)
    {
        var (_, refresh, email) = await RegisterWithEmailAsync(http);
        await SendAsync(http, HttpMethod.Post, $"/api/v1/homes/{homeId}/members", owner, new { email, role = "member" });
        var refreshed = await SendAsync(http, HttpMethod.Post, "/api/v1/auth/refresh", null, new { refreshToken = refresh });
        users.Add((homeId, refreshed.GetProperty("accessToken").GetString()!));
    }
});
Console.WriteLine($"  {users.Count} users in {setup.Elapsed.TotalSeconds:F0} s");

Console.WriteLine($"Connecting {users.Count} SignalR clients through the gateway (WebSockets)…");
var arrivals = new ConcurrentBag<(int Client, string Title, double Milliseconds)>();
var connections = new List<HubConnection>();
var connect = Stopwatch.StartNew();
foreach (var chunk in users.Select((user, index) => (user, index)).Chunk(20))
{
    connections.AddRange(await Task.WhenAll(chunk.Select(async c =>
    {
        var (user, index) = c;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, "/hubs/notifications"), o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
                o.AccessTokenProvider = () => Task.FromResult<string?>(user.Token);
            })
            .Build();
        connection.On<JsonElement>("notification", n =>
        {
            var received = DateTimeOffset.UtcNow;
            var occurred = n.GetProperty("occurredAt").GetDateTimeOffset();
            arrivals.Add((index, n.GetProperty("title").GetString()!, (received - occurred).TotalMilliseconds));
        });
        await connection.StartAsync();
        return connection;
    })));
}
Console.WriteLine($"  connected in {connect.Elapsed.TotalSeconds:F1} s");
var membersPerHome = users.GroupBy(u => u.HomeId).ToDictionary(g => g.Key, g => g.Count());

var messaging = new ConnectionFactory { Uri = new Uri((await app.GetConnectionStringAsync("messaging"))!) };
await using var broker = await messaging.CreateConnectionAsync();
await using var channel = await broker.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);

async Task PublishAsync(AutomationNotificationRequested @event)
{
    var name = EventNames.Of<AutomationNotificationRequested>();
    var properties = new BasicProperties { MessageId = @event.Id.ToString(), Type = name, ContentType = "application/json", Persistent = true };
    await channel.BasicPublishAsync("homeiq.events", name, mandatory: true, properties, JsonSerializer.SerializeToUtf8Bytes(@event, web));
}

Console.WriteLine("Warm-up: 20 events…");
for (var i = 0; i < 20; i++)
{
    await PublishAsync(new AutomationNotificationRequested(Guid.NewGuid(), homeIds[i % homes], $"warm-up {i}", "Warm-up"));
}
await Task.Delay(TimeSpan.FromSeconds(5));
arrivals.Clear();

Console.WriteLine($"Measuring: {rate} events/s for {seconds} s…");
var sent = new List<(string Title, Guid HomeId)>();
var clock = Stopwatch.StartNew();
var total = rate * seconds;
for (var i = 0; i < total; i++)
{
    var due = TimeSpan.FromSeconds((double)i / rate);
    if (clock.Elapsed < due)
    {
        await Task.Delay(due - clock.Elapsed);
    }
    var homeId = homeIds[i % homes];
    var title = $"event {i}";
    sent.Add((title, homeId));
    // OccurredAt is now: the latency counts the publish, the broker, the inbox commit, the backplane, the gateway and the client.
    await PublishAsync(new AutomationNotificationRequested(Guid.NewGuid(), homeId, title, "Bench") { OccurredAt = DateTimeOffset.UtcNow });
}
var publishSeconds = clock.Elapsed.TotalSeconds;
var expected = sent.Sum(s => membersPerHome[s.HomeId]);
var drain = Stopwatch.StartNew();
while (arrivals.Count < expected && drain.Elapsed < TimeSpan.FromSeconds(30))
{
    await Task.Delay(100);
}
var latencies = arrivals.Select(a => a.Milliseconds).Order().ToArray();
var duplicates = arrivals.Count - arrivals.Select(a => (a.Client, a.Title)).Distinct().Count();

await using var db = NpgsqlDataSource.Create((await app.GetConnectionStringAsync("notificationsdb"))!);
await using var count = db.CreateCommand("SELECT count(*) FROM notifications WHERE title LIKE 'event %'");
var stored = (long)(await count.ExecuteScalarAsync())!;

Console.WriteLine();
Console.WriteLine("| measure | value |");
Console.WriteLine("|---|---|");
Console.WriteLine(FormattableString.Invariant($"| connected clients (users), homes | {connections.Count}, {homes} |"));
Console.WriteLine(FormattableString.Invariant($"| events published, rate | {total} in {publishSeconds:F1} s ({total / publishSeconds:F1}/s) |"));
Console.WriteLine(FormattableString.Invariant($"| pushes expected (one per member per event) / received / duplicated | {expected} / {arrivals.Count} / {duplicates} |"));
Console.WriteLine(FormattableString.Invariant($"| inbox rows stored | {stored} |"));
Console.WriteLine(FormattableString.Invariant($"| event → client p50 / p99 / max | {Percentile(0.50):F0} ms / {Percentile(0.99):F0} ms / {(latencies.Length > 0 ? latencies[^1] : double.NaN):F0} ms |"));

foreach (var connection in connections)
{
    await connection.DisposeAsync();
}
await app.StopAsync();
return arrivals.Count == expected && duplicates == 0 && stored == expected ? 0 : 1;

double Percentile(double p) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

static async Task<(string Access, string Refresh)> RegisterAsync(HttpClient http)
{
    var (access, refresh, _) = await RegisterWithEmailAsync(http);
    return (access, refresh);
}

static async Task<(string Access, string Refresh, string Email)> RegisterWithEmailAsync(HttpClient http)
{
    var email = $"bench-{Guid.NewGuid():N}@example.test";
    await SendAsync(http, HttpMethod.Post, "/api/v1/auth/register", null, new { email, password = "benchmark password", displayName = "Bench" });
    var login = await SendAsync(http, HttpMethod.Post, "/api/v1/auth/login", null, new { email, password = "benchmark password" });
    return (login.GetProperty("accessToken").GetString()!, login.GetProperty("refreshToken").GetString()!, email);
}

static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? token, object body)
{
    for (var attempt = 1; ; attempt++)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await http.SendAsync(request);
        if ((int)response.StatusCode is 429 or 503 && attempt < 20)
        {
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            continue;
        }
        response.EnsureSuccessStatusCode();
        return response.Content.Headers.ContentLength == 0 ? default : await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
