using System.Diagnostics;
using HomeIQ.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

// RabbitMQ's CPU per message by body size, used as the readings pipeline uses it: persistent messages published with confirms (8 in
// flight, as from 8 hubs) to the topic exchange, bound to 3 durable queues (Readings, Energy, Anomalies), each consumed with acks.
// Bodies: today's readings body for a batch of 1,000 readings from 8 devices; 40 % of it (about what a further-compressed encoding
// could reach: series table, timestamp deltas); 1 KB (the per-message floor); and the body of 4,000 readings (four batches in one
// message). Bodies alternate, median of the rounds.
// Usage: dotnet run -c Release --project bench/BrokerBodyBench -- [--messages 2000] [--rounds 3]
var messages = Arg("--messages", 2000);
var rounds = Arg("--rounds", 3);
const int Queues = 3;
const int InFlight = 8;
const int Prefetch = 64;

var today = SensorReadingsBinary.Write(Batch(1000));
var four = SensorReadingsBinary.Write(Batch(4000));
(string Label, ReadOnlyMemory<byte> Body, int Readings)[] bodies =
[
    ("today's, 1,000 readings", today, 1000),
    ("40 % of today's", today.AsMemory(0, today.Length * 2 / 5), 1000),
    ("1 KB", today.AsMemory(0, 1024), 1000),
    ("today's, 4,000 readings", four, 4000),
];

await using var app = await BenchApps.StartRabbitMQAsync();
var amqp = (await app.GetConnectionStringAsync("messaging"))!;
var broker = BrokerProcess();
Console.WriteLine($"{messages} messages a size and round, {Queues} queues, {InFlight} publishes in flight, prefetch {Prefetch}, {rounds} rounds; broker pid {broker.Id}");

var results = bodies.Select(_ => new List<(double Rate, double CpuPerMessage)>()).ToArray();
for (var round = 1; round <= rounds; round++)
{
    // Each round starts with a different body, so a broker that warms up or slows down over the run does not favour one.
    for (var k = 0; k < bodies.Length; k++)
    {
        var b = (k + round - 1) % bodies.Length;
        var result = await RunAsync(amqp, broker, bodies[b].Body, messages, $"bench-{round}-{b}");
        results[b].Add(result);
        Console.WriteLine($"round {round}: {bodies[b].Body.Length,7:N0} bytes  {result.Rate,6:N0} messages/s  broker {result.CpuPerMessage,6:N0} µs CPU a message");
    }
}

Console.WriteLine();
Console.WriteLine("| body | bytes | messages/s, median | broker CPU a message, median | broker CPU a reading |");
Console.WriteLine("|---|---|---|---|---|");
var cpus = results.Select(r => Median(r.Select(x => x.CpuPerMessage))).ToArray();
for (var b = 0; b < bodies.Length; b++)
{
    Console.WriteLine($"| {bodies[b].Label} | {bodies[b].Body.Length:N0} | {Median(results[b].Select(r => r.Rate)):N0} | {cpus[b]:N0} µs | {cpus[b] / bodies[b].Readings:N2} µs |");
}
Console.WriteLine($"\nThe broker's CPU grows by {(cpus[0] - cpus[2]) / ((today.Length - 1024) / 1024.0):N1} µs a KB of body (today's against 1 KB).");

static async Task<(double Rate, double CpuPerMessage)> RunAsync(string amqp, Process broker, ReadOnlyMemory<byte> body, int count, string prefix)
{
    await using var connection = await new ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
    await using var setup = await connection.CreateChannelAsync();
    await setup.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true);
    var queues = Enumerable.Range(0, Queues).Select(q => $"{prefix}-{q}").ToArray();
    foreach (var queue in queues)
    {
        await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await setup.QueueBindAsync(queue, "homeiq.events", prefix);
    }
    using var delivered = new CountdownEvent(count * Queues);
    var consumers = new List<IChannel>();
    foreach (var queue in queues)
    {
        var channel = await connection.CreateChannelAsync();
        consumers.Add(channel);
        await channel.BasicQosAsync(0, Prefetch, false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, e) =>
        {
            await channel.BasicAckAsync(e.DeliveryTag, false);
            delivered.Signal();
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
    }
    await using var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
    broker.Refresh();
    var cpuBefore = broker.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var pending = new List<Task>(InFlight);
    for (var i = 0; i < count; i++)
    {
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = SensorReadingsBinary.ContentType, MessageId = Guid.NewGuid().ToString() };
        pending.Add(publisher.BasicPublishAsync("homeiq.events", prefix, mandatory: true, properties, body).AsTask());
        if (pending.Count == InFlight)
        {
            await Task.WhenAll(pending);
            pending.Clear();
        }
    }
    await Task.WhenAll(pending);
    if (!delivered.Wait(TimeSpan.FromMinutes(5)))
    {
        throw new TimeoutException($"{delivered.CurrentCount} deliveries of {count * Queues} did not arrive within 5 minutes.");
    }
    clock.Stop();
    broker.Refresh();
    var cpu = (broker.TotalProcessorTime - cpuBefore).TotalMicroseconds / count;
    foreach (var channel in consumers)
    {
        await channel.DisposeAsync();
    }
    foreach (var queue in queues)
    {
        await setup.QueueDeleteAsync(queue);
    }
    return (count / clock.Elapsed.TotalSeconds, cpu);
}

// The Erlang VM of the RabbitMQ this benchmark started: the newest beam.smp (read, never signalled).
static Process BrokerProcess() =>
    Process.GetProcessesByName("beam.smp").OrderByDescending(p => p.StartTime).FirstOrDefault()
    ?? throw new InvalidOperationException("No beam.smp process: RabbitMQ did not start as a local process.");

static SensorReadingsReceived Batch(int count)
{
    var devices = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToArray();
    var start = DateTimeOffset.UtcNow;
    var readings = Enumerable.Range(0, count).Select(i => new SensorReading(
        devices[i * devices.Length / count], i % 2 == 0 ? "temperature" : "power", 20 + (i % 50) * 0.1, i % 2 == 0 ? "°C" : "W",
        start.AddMilliseconds(i), i)).ToArray();
    return new SensorReadingsReceived(Guid.NewGuid(), "bench", readings);
}
