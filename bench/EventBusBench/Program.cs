using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

// Publish with confirms and consume with acks, 1 KB messages: the event bus against raw RabbitMQ.Client doing the same work
// (same body size, same number of publishes in flight, same prefetch), interleaved, median of the rounds.
// Usage: dotnet run -c Release --project bench/EventBusBench -- [--messages 20000] [--rounds 6] [--in-flight 256]
var messages = Arg("--messages", 20_000);
var rounds = Arg("--rounds", 6); // even: each side goes first equally often
var inFlight = Arg("--in-flight", 256);
const int Prefetch = 64;

await using var app = await BenchApps.StartRabbitMQAsync();
var amqp = (await app.GetConnectionStringAsync("messaging"))!;

var payload = new string('x', 1024 - 80); // the serialised event is about 1 KB
var body = JsonSerializer.SerializeToUtf8Bytes(new BenchHappened(payload), new JsonSerializerOptions(JsonSerializerDefaults.Web));
Console.WriteLine($"{messages} messages of {body.Length} bytes, {inFlight} publishes in flight, prefetch {Prefetch}, {rounds} rounds");

var results = new Dictionary<string, List<double>> { ["raw publish"] = [], ["bus publish"] = [], ["raw consume"] = [], ["bus consume"] = [] };
for (var round = 1; round <= rounds; round++)
{
    // Alternate which side goes first, so a broker that slows down over a run does not favour one side.
    async Task Raw()
    {
        results["raw publish"].Add(await RawPublishAsync(amqp, body, messages, inFlight, $"raw-{round}"));
        results["raw consume"].Add(await RawConsumeAsync(amqp, $"raw-{round}", messages));
    }
    async Task Bus()
    {
        results["bus publish"].Add(await BusPublishAsync(amqp, payload, messages, inFlight, $"bus-{round}"));
        results["bus consume"].Add(await BusConsumeAsync(amqp, $"bus-{round}", messages));
    }
    if (round % 2 == 1)
    {
        await Raw();
        await Bus();
    }
    else
    {
        await Bus();
        await Raw();
    }
    await DeleteQueuesAsync(amqp, $"raw-{round}", $"bus-{round}");
    Console.WriteLine($"round {round}: " + string.Join(", ", results.Select(r => $"{r.Key} {r.Value[^1]:N0}/s")));
}

Console.WriteLine();
Console.WriteLine("| operation | median msg/s | rounds (msg/s) |");
Console.WriteLine("|---|---|---|");
foreach (var (name, values) in results)
{
    Console.WriteLine($"| {name} | {Median(values):N0} | {string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
}
Console.WriteLine();
foreach (var operation in new[] { "publish", "consume" })
{
    var ratios = results[$"bus {operation}"].Zip(results[$"raw {operation}"], (bus, raw) => bus / raw).ToList();
    Console.WriteLine($"bus/raw {operation}: median of per-round ratios {Median(ratios):P0} (rounds: {string.Join(", ", ratios.Select(r => r.ToString("P0", CultureInfo.InvariantCulture)))}); ratio of medians {Median(results[$"bus {operation}"]) / Median(results[$"raw {operation}"]):P0}");
}
return 0;

static async Task DeleteQueuesAsync(string amqp, params string[] queues)
{
    await using var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync();
    foreach (var queue in queues)
    {
        await channel.QueueDeleteAsync(queue);
        foreach (var suffix in new[] { ".retry.0", ".retry.1", ".retry.2", ".retry.3", ".dlq" })
        {
            await channel.QueueDeleteAsync(queue + suffix);
        }
    }
}

static async Task<double> RawPublishAsync(string amqp, byte[] body, int count, int inFlight, string queue)
{
    await using var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
    await channel.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true);
    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    await channel.QueueBindAsync(queue, "homeiq.events", "bench.happened.v1");
    return await TimeAsync(count, inFlight, async i =>
    {
        var properties = new BasicProperties { MessageId = Guid.NewGuid().ToString(), Type = "bench.happened.v1", DeliveryMode = DeliveryModes.Persistent, ContentType = "application/json" };
        await channel.BasicPublishAsync("homeiq.events", "bench.happened.v1", mandatory: true, properties, body);
    });
}

static async Task<double> BusPublishAsync(string amqp, string payload, int count, int inFlight, string queue)
{
    // Declare and bind the queue as a consuming service would, then stop consuming so the messages stay for the consume run.
    using (var consumer = await BusHostAsync(amqp, queue, new Counter(int.MaxValue)))
    {
        await consumer.StopAsync();
    }
    using var host = BusHostBuilder(amqp, queue, null).Build();
    var bus = host.Services.GetRequiredService<IEventBus>();
    return await TimeAsync(count, inFlight, _ => bus.PublishAsync(new BenchHappened(payload)));
}

static async Task<double> RawConsumeAsync(string amqp, string queue, int count)
{
    await using var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
    await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: 8));
    await channel.BasicQosAsync(0, Prefetch, false);
    var done = new TaskCompletionSource();
    var received = 0;
    var consumer = new AsyncEventingBasicConsumer(channel);
    consumer.ReceivedAsync += async (_, e) =>
    {
        JsonSerializer.Deserialize<BenchHappened>(e.Body.Span, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await channel.BasicAckAsync(e.DeliveryTag, false);
        if (Interlocked.Increment(ref received) == count)
        {
            done.TrySetResult();
        }
    };
    var clock = Stopwatch.StartNew();
    await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
    await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
    return count / clock.Elapsed.TotalSeconds;
}

static async Task<double> BusConsumeAsync(string amqp, string queue, int count)
{
    var counter = new Counter(count);
    var clock = Stopwatch.StartNew();
    using var host = await BusHostAsync(amqp, queue, counter);
    await counter.Done.Task.WaitAsync(TimeSpan.FromMinutes(2));
    var rate = count / clock.Elapsed.TotalSeconds;
    await host.StopAsync();
    return rate;
}

static HostApplicationBuilder BusHostBuilder(string amqp, string queue, Counter? counter)
{
    var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = queue });
    builder.Configuration["ConnectionStrings:messaging"] = amqp;
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    var bus = builder.AddEventBus("messaging", o => { o.QueueName = queue; o.PrefetchCount = Prefetch; o.MaxConcurrency = 8; });
    if (counter is not null)
    {
        builder.Services.AddSingleton(counter);
        bus.AddSubscription<BenchHappened, CountingHandler>();
    }
    return builder;
}

static async Task<IHost> BusHostAsync(string amqp, string queue, Counter counter)
{
    var host = BusHostBuilder(amqp, queue, counter).Build();
    await host.StartAsync();
    return host;
}

static async Task<double> TimeAsync(int count, int inFlight, Func<int, Task> publish)
{
    var clock = Stopwatch.StartNew();
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            await publish(i);
        }
    }));
    return count / clock.Elapsed.TotalSeconds;
}



[EventName("bench.happened.v1")]
internal sealed record BenchHappened(string Payload) : IntegrationEvent;

internal sealed class Counter(int expected)
{
    private int _handled;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add()
    {
        if (Interlocked.Increment(ref _handled) == expected)
        {
            Done.TrySetResult();
        }
    }
}

internal sealed class CountingHandler(Counter counter) : IIntegrationEventHandler<BenchHappened>
{
    public Task HandleAsync(BenchHappened @event, CancellationToken cancellationToken)
    {
        counter.Add();
        return Task.CompletedTask;
    }
}
