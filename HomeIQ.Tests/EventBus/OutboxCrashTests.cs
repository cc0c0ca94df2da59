using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HomeIQ.Tests.Integration;
using RabbitMQ.Client;

namespace HomeIQ.Tests.EventBus;

/// <summary>A real service process killed between commit and publish still publishes its event after the restart.</summary>
public sealed class OutboxCrashTests(AppHostFixture fixture)
{
    private DistributedApplication App => fixture.App;

    [Fact]
    public async Task AnOutboxRowWrittenBeforeTheProcessWasKilledIsPublishedAfterTheRestart()
    {
        var ct = TestApps.Timeout();
        await using var channel = await BusHost.ChannelAsync(App, ct);
        await channel.ExchangeDeclareAsync("homeiq.events", ExchangeType.Topic, durable: true, cancellationToken: ct);
        var queue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        await channel.QueueBindAsync(queue, "homeiq.events", "sample.order-placed.v1", cancellationToken: ct);
        using var http = App.CreateHttpClient("outbox-sample");
        await App.ResourceNotifications.WaitForResourceHealthyAsync("outbox-sample", ct);
        var before = await App.ResourceNotifications.WaitForResourceAsync("outbox-sample", e => e.Pid() is not null, ct);

        (await http.PostAsync("/outbox/pause", null, ct)).EnsureSuccessStatusCode();
        using var placed = await http.PostAsync("/orders", null, ct);
        var orderId = (await placed.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("orderId").GetGuid();
        await Task.Delay(1500, ct);
        var publishedBeforeCrash = await channel.BasicGetAsync(queue, autoAck: true, ct);
        System.Diagnostics.Process.GetProcessById(TestApps.ServiceProcess(before.Pid()!.Value)).Kill();
        // HomeIQ.Hosting's restarter starts the crashed project again.
        await App.ResourceNotifications.WaitForResourceAsync("outbox-sample", e => e.Pid() is { } pid && pid != before.Pid() && e.IsHealthy(), ct);
        var published = await BusHost.GetAsync(channel, queue, ct);

        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);
        Assert.Null(publishedBeforeCrash);
        var body = JsonSerializer.Deserialize<JsonElement>(published.Body.Span);
        Assert.Equal(orderId, body.GetProperty("orderId").GetGuid());
        Assert.Equal(body.GetProperty("id").GetGuid().ToString(), published.BasicProperties.MessageId);
    }
}
