using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Ingestion;
using HomeIQ.Ingestion.Pipeline;
using Microsoft.Extensions.Options;

namespace HomeIQ.Tests.Ingestion;

/// <summary>Batches accepted while earlier messages wait for their confirm share the next message, within its limit.</summary>
public sealed class ReadingsPublisherTests
{
    /// <summary>A bus whose publishes complete only when the test confirms them, one message at a time, in order.</summary>
    private sealed class GatedBus : IEventBus
    {
        private readonly Lock _lock = new();
        private readonly Queue<TaskCompletionSource> _unconfirmed = new();
        public readonly List<Guid[]> Messages = [];
        public Exception? Refuse;

        public Task PublishManyAsync<TEvent>(IReadOnlyList<TEvent> events, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
        {
            var confirm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                Messages.Add(events.Select(e => e.Id).ToArray());
                _unconfirmed.Enqueue(confirm);
            }
            return confirm.Task;
        }

        public int Waiting
        {
            get
            {
                lock (_lock)
                {
                    return _unconfirmed.Count;
                }
            }
        }

        /// <summary>Confirms (or, with <see cref="Refuse"/> set, refuses) the oldest message once it has been published.</summary>
        public async Task ConfirmNextAsync()
        {
            while (Waiting == 0)
            {
                await Task.Delay(5);
            }
            TaskCompletionSource next;
            lock (_lock)
            {
                next = _unconfirmed.Dequeue();
            }
            if (Refuse is { } refusal)
            {
                next.SetException(refusal);
            }
            else
            {
                next.SetResult();
            }
        }

        public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            PublishManyAsync([@event], cancellationToken);

        public Task SendAsync<TEvent>(string queue, TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            throw new NotSupportedException();
    }

    private static ReadingsPublisher Create(GatedBus bus, int inFlight = 1) =>
        new(bus, Options.Create(new IngestionOptions { PublishesInFlight = inFlight }));

    private static SensorReadingsReceived Batch(int readings)
    {
        var now = DateTimeOffset.UtcNow;
        return new SensorReadingsReceived(Guid.NewGuid(), "http",
            Enumerable.Range(0, readings).Select(i => new SensorReading(Guid.NewGuid(), "temperature", i, "°C", now.AddSeconds(-i))).ToArray());
    }

    private static async Task WaitForMessagesAsync(GatedBus bus, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (bus.Messages.Count < count)
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    [Fact]
    public async Task BatchesAcceptedWhileAMessageAwaitsItsConfirmLeaveTogetherInTheNextOne()
    {
        var bus = new GatedBus();
        var publisher = Create(bus);
        var first = Batch(10);
        var later = new[] { Batch(10), Batch(20), Batch(30) };

        var firstDone = publisher.PublishAsync(first, CancellationToken.None);
        await WaitForMessagesAsync(bus, 1);
        var laterDone = later.Select(e => publisher.PublishAsync(e, CancellationToken.None)).ToArray();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Single(bus.Messages); // nothing leaves while the one slot is taken
        Assert.False(laterDone.Any(t => t.IsCompleted), "a batch completed before the broker confirmed its message");
        await bus.ConfirmNextAsync();
        await firstDone;
        await WaitForMessagesAsync(bus, 2);
        Assert.False(laterDone.Any(t => t.IsCompleted), "a batch completed before the broker confirmed its message");
        await bus.ConfirmNextAsync();
        await Task.WhenAll(laterDone);

        Assert.Equal([[first.Id], later.Select(e => e.Id).ToArray()], bus.Messages);
    }

    [Fact]
    public async Task SmallBatchesShareAMessageUpToItsLimitAndALargeBatchLeavesAloneAtOnce()
    {
        var bus = new GatedBus();
        var publisher = Create(bus);
        var small = new IngestionOptions().SmallBatch - 1;
        var blocker = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await WaitForMessagesAsync(bus, 1);
        var fitting = ReadingsPublisher.MaxReadingsPerMessage / small;
        var waiting = Enumerable.Range(0, fitting + 1).Select(_ => Batch(small)).ToArray();

        var done = waiting.Select(e => publisher.PublishAsync(e, CancellationToken.None)).ToList();
        var large = Batch(small + 1);
        done.Add(publisher.PublishAsync(large, CancellationToken.None));
        await WaitForMessagesAsync(bus, 2); // while the one slot is still taken
        for (var i = 0; i < 4; i++)
        {
            await bus.ConfirmNextAsync();
        }
        await Task.WhenAll(done.Append(blocker));

        Assert.Equal([[large.Id], [.. waiting[..fitting].Select(e => e.Id)], [waiting[^1].Id]], bus.Messages.Skip(1));
    }

    [Fact]
    public async Task EveryBatchOfARefusedMessageFailsWithItAndTheNextMessageStillLeaves()
    {
        var bus = new GatedBus();
        var publisher = Create(bus);
        var blocker = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await WaitForMessagesAsync(bus, 1);
        var refused = new[] { Batch(5), Batch(5) }.Select(e => publisher.PublishAsync(e, CancellationToken.None)).ToArray();
        await bus.ConfirmNextAsync();
        await blocker;

        bus.Refuse = new EventBusPublishException("nack");
        await bus.ConfirmNextAsync();
        foreach (var failed in refused)
        {
            Assert.Same(bus.Refuse, await Assert.ThrowsAsync<EventBusPublishException>(() => failed));
        }
        bus.Refuse = null;
        var after = publisher.PublishAsync(Batch(5), CancellationToken.None);
        await bus.ConfirmNextAsync();
        await after;

        Assert.Equal([1, 2, 1], bus.Messages.Select(m => m.Length));
    }

    [Fact]
    public async Task ACallerThatGaveUpBeforeItsBatchLeftIsLeftOutOfTheMessage()
    {
        var bus = new GatedBus();
        var publisher = Create(bus);
        var blocker = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await WaitForMessagesAsync(bus, 1);
        using var gaveUp = new CancellationTokenSource();
        var abandoned = Batch(5);
        var kept = Batch(5);

        var abandonedDone = publisher.PublishAsync(abandoned, gaveUp.Token);
        var keptDone = publisher.PublishAsync(kept, CancellationToken.None);
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandonedDone);
        await bus.ConfirmNextAsync();
        await bus.ConfirmNextAsync();
        await Task.WhenAll(blocker, keptDone);

        Assert.Equal([kept.Id], bus.Messages[1]);
    }

    [Fact]
    public async Task WithTwoSlotsASecondMessageLeavesBeforeTheFirstIsConfirmedAndAThirdWaits()
    {
        var bus = new GatedBus();
        var publisher = Create(bus, inFlight: 2);

        var first = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await WaitForMessagesAsync(bus, 1);
        var second = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await WaitForMessagesAsync(bus, 2);
        var third = publisher.PublishAsync(Batch(1), CancellationToken.None);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(2, bus.Messages.Count);
        for (var i = 0; i < 3; i++)
        {
            await bus.ConfirmNextAsync();
        }
        await Task.WhenAll(first, second, third);

        Assert.Equal(3, bus.Messages.Count);
    }
}
