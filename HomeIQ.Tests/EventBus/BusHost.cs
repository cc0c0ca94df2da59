using System.Collections.Concurrent;
using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;

namespace HomeIQ.Tests.EventBus;

[EventName("test.happened.v1")]
public sealed record TestHappened(string Text) : IntegrationEvent;

[EventName("test.unrouted.v1")]
public sealed record NobodyListens(string Text) : IntegrationEvent;

/// <summary>What handlers saw, shared with the test.</summary>
public sealed class Recorder
{
    public ConcurrentQueue<(IntegrationEvent Event, string? TraceId)> Handled { get; } = new();
    public int Calls;
    public Func<IntegrationEvent, Task>? Behaviour { get; set; }

    public async Task WaitForAsync(Func<Recorder, bool> condition, CancellationToken ct)
    {
        while (!condition(this))
        {
            await Task.Delay(50, ct);
        }
    }
}

public sealed class RecordingHandler(Recorder recorder) : IIntegrationEventHandler<TestHappened>
{
    public async Task HandleAsync(TestHappened @event, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref recorder.Calls);
        if (recorder.Behaviour is { } behaviour)
        {
            await behaviour(@event);
        }
        recorder.Handled.Enqueue((@event, System.Diagnostics.Activity.Current?.TraceId.ToString()));
    }
}

public sealed class ReadingsRecordingHandler(Recorder recorder) : IIntegrationEventHandler<SensorReadingsReceived>
{
    public Task HandleAsync(SensorReadingsReceived @event, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref recorder.Calls);
        recorder.Handled.Enqueue((@event, System.Diagnostics.Activity.Current?.TraceId.ToString()));
        return Task.CompletedTask;
    }
}

/// <summary>An in-process service with the event bus, on the real broker and database of the shared AppHost.</summary>
internal static class BusHost
{
    public static async Task<IHost> StartAsync(DistributedApplication app, string queue, Recorder recorder, Action<IEventBusBuilder>? configure = null,
        Action<EventBusOptions>? options = null)
    {
        var ct = TestApps.Timeout();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = queue, EnvironmentName = "Development" });
        builder.Configuration["ConnectionStrings:messaging"] = await app.GetConnectionStringAsync("messaging", ct);
        builder.Configuration["ConnectionStrings:eventbustestdb"] = await app.GetConnectionStringAsync("eventbustestdb", ct);
        builder.AddNpgsqlDataSource("eventbustestdb");
        var bus = builder.AddEventBus("messaging", o =>
        {
            o.QueueName = queue;
            o.RetryDelays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)];
            o.MaxAttempts = 3;
            options?.Invoke(o);
        });
        configure?.Invoke(bus);
        builder.Services.AddSingleton(recorder);
        var host = builder.Build();
        await host.StartAsync(ct);
        return host;
    }

    public static async Task<IChannel> ChannelAsync(DistributedApplication app, CancellationToken ct)
    {
        var factory = new ConnectionFactory { Uri = new Uri((await app.GetConnectionStringAsync("messaging", ct))!) };
        var connection = await factory.CreateConnectionAsync(ct);
        return await connection.CreateChannelAsync(cancellationToken: ct);
    }

    /// <summary>Waits for one message on a queue.</summary>
    public static async Task<BasicGetResult> GetAsync(IChannel channel, string queue, CancellationToken ct)
    {
        while (true)
        {
            if (await channel.BasicGetAsync(queue, autoAck: true, ct) is { } message)
            {
                return message;
            }
            await Task.Delay(50, ct);
        }
    }
}
