using System.Diagnostics;
using System.Text;
using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RabbitMQ.Client;

namespace HomeIQ.Tests.EventBus;

/// <summary>The event bus on the real broker and database of the shared AppHost; each test has its own queue.</summary>
public sealed class EventBusTests(AppHostFixture fixture)
{
    private static readonly ActivitySource TestSource = new("HomeIQ.Tests");
    private static readonly ActivityListener Listener = StartListening();
    private DistributedApplication App => fixture.App;

    // Publishers only create spans (and so traceparent headers) when someone listens, as the OpenTelemetry SDK does in a service.
    private readonly ActivityListener _listening = Listener;

    private static string Queue() => "test-" + Guid.NewGuid().ToString("N")[..8];

    private static ActivityListener StartListening()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("HomeIQ", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task APublishedEventIsConfirmedAndReachesItsHandlerIntact()
    {
        var ct = TestApps.Timeout();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, Queue(), recorder, b => b.AddSubscription<TestHappened, RecordingHandler>());
        var sent = new TestHappened("kitchen 21.5 °C");

        await host.Services.GetRequiredService<IEventBus>().PublishAsync(sent, ct);
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);

        var received = Assert.IsType<TestHappened>(Assert.Single(recorder.Handled).Event);
        Assert.Equal(sent, received);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task PublishingAnEventNoQueueIsBoundForFailsInsteadOfVanishing()
    {
        var ct = TestApps.Timeout();
        using var host = await BusHost.StartAsync(App, Queue(), new Recorder());

        var error = await Assert.ThrowsAsync<EventBusPublishException>(() => host.Services.GetRequiredService<IEventBus>().PublishAsync(new NobodyListens("x"), ct));

        Assert.Contains("test.unrouted.v1", error.Message, StringComparison.Ordinal);
        Assert.Contains("unroutable", error.Message, StringComparison.Ordinal);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AnEventSentToAQueueReachesOnlyThatQueuesHandler()
    {
        var ct = TestApps.Timeout();
        var (replies, others) = (new Recorder(), new Recorder());
        var queue = Queue();
        using var requester = await BusHost.StartAsync(App, queue, replies, b => b.AddSubscription<TestHappened, RecordingHandler>());
        using var bystander = await BusHost.StartAsync(App, Queue(), others, b => b.AddSubscription<TestHappened, RecordingHandler>());
        var reply = new TestHappened("reply to " + queue);

        await bystander.Services.GetRequiredService<IEventBus>().SendAsync(queue, reply, ct);
        await replies.WaitForAsync(r => !r.Handled.IsEmpty, ct);
        await Task.Delay(300, ct);

        Assert.Equal(reply, Assert.Single(replies.Handled).Event);
        Assert.Empty(others.Handled); // a reply goes to its reply-to queue, not to every subscriber of the event name
        await requester.StopAsync(ct);
        await bystander.StopAsync(ct);
    }

    [Fact]
    public async Task SendingToAQueueThatDoesNotExistFailsAsUnroutable()
    {
        var ct = TestApps.Timeout();
        using var host = await BusHost.StartAsync(App, Queue(), new Recorder());
        var missing = Queue();

        var error = await Assert.ThrowsAsync<EventBusPublishException>(() => host.Services.GetRequiredService<IEventBus>().SendAsync(missing, new TestHappened("x"), ct));

        Assert.True(error.Unroutable);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AFailingHandlerIsRetriedThenDeadLetteredWithTheMessageIntact()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new Recorder { Behaviour = _ => throw new InvalidOperationException("thermostat offline") };
        using var host = await BusHost.StartAsync(App, queue, recorder, b => b.AddSubscription<TestHappened, RecordingHandler>());
        var sent = new TestHappened("boom");
        await using var channel = await BusHost.ChannelAsync(App, ct);

        await host.Services.GetRequiredService<IEventBus>().PublishAsync(sent, ct);
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);

        Assert.Equal(3, recorder.Calls);
        var body = JsonSerializer.Deserialize<TestHappened>(dead.Body.Span, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Assert.Equal(sent, body);
        Assert.Equal(sent.Id.ToString(), dead.BasicProperties.MessageId);
        Assert.Equal("test.happened.v1", dead.BasicProperties.Type);
        var headers = dead.BasicProperties.Headers!;
        Assert.Equal("3", Encoding.UTF8.GetString((byte[])headers["x-attempts"]!));
        Assert.Contains("thermostat offline", Encoding.UTF8.GetString((byte[])headers["x-last-error"]!), StringComparison.Ordinal);
        Assert.Contains("failed 3 times", Encoding.UTF8.GetString((byte[])headers["x-dead-letter-reason"]!), StringComparison.Ordinal);
        Assert.True(headers.ContainsKey("traceparent"), "the original headers are kept");
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AHandlerThatFailsOnceSucceedsOnTheRetry()
    {
        var ct = TestApps.Timeout();
        var failures = 1;
        var recorder = new Recorder { Behaviour = _ => Interlocked.Decrement(ref failures) >= 0 ? throw new TimeoutException("busy") : Task.CompletedTask };
        using var host = await BusHost.StartAsync(App, Queue(), recorder, b => b.AddSubscription<TestHappened, RecordingHandler>());

        await host.Services.GetRequiredService<IEventBus>().PublishAsync(new TestHappened("retry me"), ct);
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);

        Assert.Equal(2, recorder.Calls);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AReadingBatchCrossesTheBrokerInItsCompactFormAndADamagedOneIsDeadLettered()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, queue, recorder, b => b.AddSubscription<SensorReadingsReceived, ReadingsRecordingHandler>());
        await using var channel = await BusHost.ChannelAsync(App, ct);
        var now = DateTimeOffset.UtcNow;
        var sent = new SensorReadingsReceived(Guid.NewGuid(), "http",
            [new(Guid.NewGuid(), "temperature", 21.5, "°C", now, 7), new(Guid.NewGuid(), "power", 1200, "W", now.AddSeconds(-1))]);
        var damaged = SensorReadingsBinary.Write(sent)[..^3];

        await host.Services.GetRequiredService<IEventBus>().PublishAsync(sent, ct);
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);
        await channel.BasicPublishAsync("homeiq.events", "readings.received.v1", mandatory: false,
            new BasicProperties { Type = "readings.received.v1", ContentType = SensorReadingsBinary.ContentType }, damaged, ct);
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);

        var received = Assert.IsType<SensorReadingsReceived>(Assert.Single(recorder.Handled).Event);
        Assert.Equal((sent.Id, sent.HomeId, sent.Source), (received.Id, received.HomeId, received.Source));
        Assert.Equal(sent.Readings, received.Readings);
        Assert.Equal(damaged, dead.Body.ToArray());
        Assert.Equal(SensorReadingsBinary.ContentType, dead.BasicProperties.ContentType);
        Assert.StartsWith("malformed", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-dead-letter-reason"]!), StringComparison.Ordinal);
        Assert.Equal(1, recorder.Calls);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task BatchesOfSeveralHomesPublishedTogetherReachTheHandlerEachWithItsOwnIdAndADamagedSetIsDeadLettered()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, queue, recorder, b => b.AddSubscription<SensorReadingsReceived, ReadingsRecordingHandler>());
        await using var channel = await BusHost.ChannelAsync(App, ct);
        var now = DateTimeOffset.UtcNow;
        var sent = Enumerable.Range(0, 3).Select(i => new SensorReadingsReceived(Guid.NewGuid(), i == 0 ? "mqtt" : "http",
            [.. Enumerable.Range(0, i + 1).Select(j => new SensorReading(Guid.NewGuid(), "power", 100 * i + j, "W", now.AddSeconds(-j)))])).ToArray();
        var damaged = SensorReadingsBinary.WriteSet(sent)[..^1];

        await host.Services.GetRequiredService<IEventBus>().PublishManyAsync(sent, ct);
        await recorder.WaitForAsync(r => r.Handled.Count >= 3, ct);
        await channel.BasicPublishAsync("homeiq.events", "readings.received.v1", mandatory: false,
            new BasicProperties { Type = "readings.received.v1", ContentType = SensorReadingsBinary.SetContentType }, damaged, ct);
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);

        var received = recorder.Handled.Select(h => Assert.IsType<SensorReadingsReceived>(h.Event)).ToArray();
        Assert.Equal(sent.Select(e => (e.Id, e.HomeId, e.Source)), received.Select(e => (e.Id, e.HomeId, e.Source)));
        Assert.Equal(sent.Select(e => e.Readings), received.Select(e => e.Readings));
        Assert.Equal(damaged, dead.Body.ToArray());
        Assert.StartsWith("malformed", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-dead-letter-reason"]!), StringComparison.Ordinal);
        Assert.Equal(3, recorder.Calls);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AMalformedMessageGoesStraightToTheDeadLetterQueueWithTheReason()
    {
        var ct = TestApps.Timeout();
        var queue = Queue();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, queue, recorder, b => b.AddSubscription<TestHappened, RecordingHandler>());
        await using var channel = await BusHost.ChannelAsync(App, ct);

        await channel.BasicPublishAsync("homeiq.events", "test.happened.v1", mandatory: false, new BasicProperties { Type = "test.happened.v1" },
            Encoding.UTF8.GetBytes("{not json"), ct);
        var dead = await BusHost.GetAsync(channel, queue + ".dlq", ct);

        Assert.Equal("{not json", Encoding.UTF8.GetString(dead.Body.Span));
        Assert.StartsWith("malformed", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-dead-letter-reason"]!), StringComparison.Ordinal);
        Assert.Equal(0, recorder.Calls);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task TheTraceIdIsTheSameOnBothSidesOfTheBroker()
    {
        var ct = TestApps.Timeout();
        Assert.NotNull(_listening);
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, Queue(), recorder, b => b.AddSubscription<TestHappened, RecordingHandler>());

        string traceId;
        using (var request = TestSource.StartActivity("POST /api/v1/test"))
        {
            traceId = request!.TraceId.ToString();
            await host.Services.GetRequiredService<IEventBus>().PublishAsync(new TestHappened("traced"), ct);
        }
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);

        Assert.Equal(traceId, Assert.Single(recorder.Handled).TraceId);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AnEventDeliveredTwiceIsHandledOnce()
    {
        var ct = TestApps.Timeout();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, Queue(), recorder,
            b => b.AddPostgresOutbox().AddSubscription<TestHappened, CountingHandler>(), o => o.MaxConcurrency = 1);
        var bus = host.Services.GetRequiredService<IEventBus>();
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using (var create = db.CreateCommand("CREATE TABLE IF NOT EXISTS bus_test_effects (event_id uuid NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        var once = new TestHappened("delivered twice");
        var marker = new TestHappened("marker");

        await bus.PublishAsync(once, ct);
        await bus.PublishAsync(once, ct);
        await bus.PublishAsync(marker, ct);
        await recorder.WaitForAsync(r => r.Calls >= 3, ct);
        // A handler call is counted before its transaction commits; one at a time, the marker commits last.
        while (await CountAsync(db, marker.Id, ct) == 0)
        {
            await Task.Delay(50, ct);
        }

        Assert.Equal(1L, await CountAsync(db, once.Id, ct));
        Assert.Equal(1L, await CountAsync(db, marker.Id, ct));
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AnOutboxRowCommittedWithTheBusinessChangeIsPublished()
    {
        var ct = TestApps.Timeout();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, Queue(), recorder,
            b => b.AddPostgresOutbox().AddSubscription<TestHappened, RecordingHandler>());
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        var written = new TestHappened("from the outbox");

        await WriteToOutboxAsync(host, written, commit: true, ct);
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);
        await using var published = db.CreateCommand("SELECT published_at IS NOT NULL FROM eventbus_outbox WHERE id = $1");
        published.Parameters.Add(new() { Value = written.Id });
        while (!(bool)(await published.ExecuteScalarAsync(ct))!)
        {
            await Task.Delay(50, ct); // the relay marks the row after the broker confirmed it, possibly after delivery
        }

        Assert.Equal(written, Assert.Single(recorder.Handled).Event);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AnOutboxRowOfARolledBackTransactionIsNeverPublished()
    {
        var ct = TestApps.Timeout();
        var recorder = new Recorder();
        using var host = await BusHost.StartAsync(App, Queue(), recorder,
            b => b.AddPostgresOutbox().AddSubscription<TestHappened, RecordingHandler>());

        await WriteToOutboxAsync(host, new TestHappened("rolled back"), commit: false, ct);
        var committed = new TestHappened("committed after");
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(committed, ct);
        await recorder.WaitForAsync(r => !r.Handled.IsEmpty, ct);
        await Task.Delay(1500, ct); // longer than the relay's poll interval

        Assert.Equal(committed, Assert.Single(recorder.Handled).Event);
        await host.StopAsync(ct);
    }

    [Fact]
    public async Task AnOutboxEventNoQueueSubscribesToIsMarkedPublishedOnceInsteadOfRetriedForever()
    {
        var ct = TestApps.Timeout();
        using var host = await BusHost.StartAsync(App, Queue(), new Recorder(),
            b => b.AddPostgresOutbox().AddSubscription<TestHappened, RecordingHandler>());
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        var unheard = new NobodyListens("no subscriber");

        await WriteToOutboxAsync(host, unheard, commit: true, ct);
        await using var state = db.CreateCommand("SELECT published_at IS NOT NULL, attempts FROM eventbus_outbox WHERE id = $1");
        state.Parameters.Add(new() { Value = unheard.Id });
        (bool Published, int Attempts) row;
        do
        {
            await Task.Delay(50, ct);
            await using var reader = await state.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            row = (reader.GetBoolean(0), reader.GetInt32(1));
        }
        while (!row.Published && row.Attempts == 0);

        Assert.True(row.Published, "the relay retries an event nobody subscribes to");
        Assert.Equal(0, row.Attempts);
        await host.StopAsync(ct);
    }

    private static async Task WriteToOutboxAsync<TEvent>(IHost host, TEvent @event, bool commit, CancellationToken ct) where TEvent : HomeIQ.Contracts.IntegrationEvent
    {
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await host.Services.GetRequiredService<Outbox>().AddAsync(connection, transaction, @event, ct);
        await (commit ? transaction.CommitAsync(ct) : transaction.RollbackAsync(ct));
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM bus_test_effects WHERE event_id = $1");
        command.Parameters.Add(new() { Value = id });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Writes one row per handling, in the inbox transaction, and counts every delivery.</summary>
    public sealed class CountingHandler(NpgsqlDataSource db, Recorder recorder) : PostgresEventHandler<TestHappened>(db)
    {
        protected override Task OnDuplicateAsync(TestHappened @event, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref recorder.Calls);
            return Task.CompletedTask;
        }

        protected override async Task HandleAsync(TestHappened @event, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref recorder.Calls);
            await using var command = new NpgsqlCommand(
                "INSERT INTO bus_test_effects VALUES (@id)", connection, transaction);
            command.Parameters.AddWithValue("id", @event.Id);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
