using System.Collections.Concurrent;
using System.Text;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace HomeIQ.Tests.EventBus;

[EventName("test.batched.v1")]
public sealed record TestBatched(int Number, bool Poison = false) : IntegrationEvent;

/// <summary>What the batch handler saw: the size of every call and every event it committed.</summary>
public sealed class BatchRecorder
{
    public ConcurrentQueue<int> BatchSizes { get; } = new();
    public ConcurrentQueue<TestBatched> Committed { get; } = new();
    public int PoisonCalls;
}

public sealed class RecordingBatchHandler(BatchRecorder recorder) : IIntegrationEventBatchHandler<TestBatched>
{
    public async Task HandleAsync(IReadOnlyList<TestBatched> events, CancellationToken cancellationToken)
    {
        recorder.BatchSizes.Enqueue(events.Count);
        await Task.Delay(20, cancellationToken);
        if (events.Any(e => e.Poison))
        {
            Interlocked.Increment(ref recorder.PoisonCalls);
            throw new InvalidOperationException("poisoned batch");
        }
        foreach (var e in events)
        {
            recorder.Committed.Enqueue(e);
        }
    }
}

/// <summary>Batch subscriptions on the real broker: many messages per handler call, same retry and dead-letter paths.</summary>
public sealed class BatchSubscriptionTests(AppHostFixture fixture)
{
    private static string Queue() => "batch-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<Microsoft.Extensions.Hosting.IHost> StartAsync(DistributedApplication app, string queue, BatchRecorder recorder) =>
        await BusHost.StartAsync(app, queue, new Recorder(), b =>
        {
            b.AddBatchSubscription<TestBatched, RecordingBatchHandler>(maxBatch: 50, maxWait: TimeSpan.FromMilliseconds(300));
            b.Services.AddSingleton(recorder);
        });

    private static async Task WaitAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(50, ct);
        }
    }

    [Fact]
    public async Task EventsPublishedTogetherAreHandledInBatchesEachExactlyOnce()
    {
        var ct = TestApps.Timeout();
        var recorder = new BatchRecorder();
        using var host = await StartAsync(fixture.App, Queue(), recorder);
        var bus = host.Services.GetRequiredService<IEventBus>();
        var sent = Enumerable.Range(0, 40).Select(i => new TestBatched(i)).ToList();

        await Task.WhenAll(sent.Select(e => bus.PublishAsync(e, ct)));
        await WaitAsync(() => recorder.Committed.Count >= sent.Count, ct);
        await Task.Delay(300, ct);

        Assert.Equal(sent.Select(e => e.Id).Order(), recorder.Committed.Select(e => e.Id).Order());
        Assert.True(recorder.BatchSizes.Max() > 1, $"batch sizes: {string.Join(", ", recorder.BatchSizes)}");
        Assert.Equal(sent.Count, recorder.BatchSizes.Sum());
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task APoisonEventFailsAloneAndIsDeadLetteredWhileTheRestOfItsBatchCommits()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new BatchRecorder();
        using var host = await StartAsync(fixture.App, queue, recorder);
        var bus = host.Services.GetRequiredService<IEventBus>();
        var good = Enumerable.Range(0, 20).Select(i => new TestBatched(i)).ToList();
        var poison = new TestBatched(-1, Poison: true);
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);

        await Task.WhenAll(good.Take(10).Append(poison).Concat(good.Skip(10)).Select(e => bus.PublishAsync(e, ct)));
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);
        await WaitAsync(() => recorder.Committed.Count >= good.Count, ct);

        Assert.Equal(good.Select(e => e.Id).Order(), recorder.Committed.Select(e => e.Id).Order());
        Assert.Equal(poison.Id.ToString(), dead.BasicProperties.MessageId);
        Assert.Equal("3", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-attempts"]!));
        Assert.Contains("poisoned batch", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-last-error"]!), StringComparison.Ordinal);
        Assert.True(recorder.PoisonCalls >= 3, $"the poison was handled {recorder.PoisonCalls} times");
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AMalformedMessageIsDeadLetteredAndDoesNotHoldUpTheBatch()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new BatchRecorder();
        using var host = await StartAsync(fixture.App, queue, recorder);
        await using var channel = await BusHost.ChannelAsync(fixture.App, ct);
        var good = new TestBatched(7);

        await channel.BasicPublishAsync("homeiq.events", "test.batched.v1", mandatory: false, new BasicProperties { Type = "test.batched.v1" },
            Encoding.UTF8.GetBytes("{not json"), ct);
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(good, ct);
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);
        await WaitAsync(() => !recorder.Committed.IsEmpty, ct);

        Assert.Equal("{not json", Encoding.UTF8.GetString(dead.Body.Span));
        Assert.Contains("malformed", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-dead-letter-reason"]!), StringComparison.Ordinal);
        Assert.Equal(good, Assert.Single(recorder.Committed));
        await host.StopAsync(ct);
    }
}
