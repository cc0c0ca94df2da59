using System.Text;
using HomeIQ.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;

namespace HomeIQ.Tests.Hosting;

/// <summary>The Mosquitto broker resource, run as Debian's mosquitto by HomeIQ.Hosting: credentials, loopback, persistence.</summary>
public sealed class MqttBrokerTests
{
    [Fact]
    public async Task TheBrokerAcceptsItsGeneratedPasswordOnLoopbackAndRefusesAnonymousAndWrongPasswords()
    {
        var ct = TestApps.Timeout();
        var (app, uri) = await StartBrokerAsync(ct);
        await using var _ = app;

        Assert.Equal("mqtt", uri.Scheme);
        Assert.Equal("127.0.0.1", uri.Host);
        Assert.StartsWith("homeiq:", uri.UserInfo, StringComparison.Ordinal);
        Assert.True(uri.UserInfo.Length >= "homeiq:".Length + 22, "the password has fewer than 22 characters");
        Assert.Equal("Success", await ConnectResultAsync(uri, uri.UserInfo, ct));
        Assert.Contains("NotAuthorized", await ConnectResultAsync(uri, null, ct), StringComparison.Ordinal);
        Assert.Contains("NotAuthorized", await ConnectResultAsync(uri, "homeiq:wrong-password", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithADataVolumeAPersistentSessionGetsItsQueuedMessageAfterTheBrokerRestarts()
    {
        var ct = TestApps.Timeout();
        var builder = TestApps.CreateBuilder();
        builder.AddMqttBroker("mqtt").WithDataVolume("homeiq-tests-mqtt");
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("mqtt", ct);
        var uri = new Uri((await app.GetConnectionStringAsync("mqtt", ct))!);
        var topic = $"homeiq-tests/{Guid.NewGuid():N}";
        var clientId = $"homeiq-tests-{Guid.NewGuid():N}";
        await using (var subscriber = await MqttTestClient.ConnectAsync(uri, clientId, cleanStart: false, ct))
        {
            await subscriber.SubscribeAsync(topic, ct);
            await subscriber.DisconnectAsync(ct);
        }
        await using (var publisher = await MqttTestClient.ConnectAsync(uri, $"homeiq-tests-{Guid.NewGuid():N}", cleanStart: true, ct))
        {
            await publisher.PublishAsync(topic, "kept", ct);
            await publisher.DisconnectAsync(ct);
        }

        await app.CommandAsync("mqtt", KnownResourceCommands.RestartCommand, ct);
        var since = DateTime.UtcNow;
        await app.WaitForHealthySinceAsync("mqtt", since.AddSeconds(-5), ct);
        await using var again = await MqttTestClient.ConnectAsync(uri, clientId, cleanStart: false, ct);
        var message = await again.NextAsync(ct);

        Assert.Equal(topic, message.Topic);
        Assert.Equal("kept", message.Payload);
    }

    [Fact]
    public async Task TheBrokersLogReachesTheResourceLogWhileItRuns()
    {
        var ct = TestApps.Timeout();
        var (app, uri) = await StartBrokerAsync(ct);
        await using var _ = app;
        var clientId = $"homeiq-tests-{Guid.NewGuid():N}";
        using (var client = new MqttClientFactory().CreateMqttClient())
        {
            var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(uri.Host, uri.Port).WithCredentials(credentials[0], credentials[1])
                .WithClientId(clientId).Build(), ct);
        }

        // Mosquitto 2.0.11 block-buffers stdout on a pipe: without line buffering this one connection line would wait for 4 KB more.
        using var within = CancellationTokenSource.CreateLinkedTokenSource(ct);
        within.CancelAfter(TimeSpan.FromSeconds(30));
        var seen = false;
        try
        {
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync("mqtt").WithCancellation(within.Token))
            {
                if (batch.Any(l => l.Content.Contains(clientId, StringComparison.Ordinal)))
                {
                    seen = true;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        Assert.True(seen, $"mosquitto's line for the connection of {clientId} did not reach the resource log within 30 s");
    }

    /// <summary>A broker of its own, healthy, and its connection string.</summary>
    private static async Task<(DistributedApplication App, Uri Uri)> StartBrokerAsync(CancellationToken ct)
    {
        var builder = TestApps.CreateBuilder();
        builder.AddMqttBroker("mqtt");
        var app = await builder.BuildAsync(ct);
        try
        {
            await app.StartAsync(ct);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("mqtt", ct);
            return (app, new Uri((await app.GetConnectionStringAsync("mqtt", ct))!));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>"Success", or the message of the refusal (which names the result code).</summary>
    private static async Task<string> ConnectResultAsync(Uri uri, string? userInfo, CancellationToken ct)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer(uri.Host, uri.Port).WithTimeout(TimeSpan.FromSeconds(5));
        if (userInfo is not null)
        {
            var parts = Uri.UnescapeDataString(userInfo).Split(':', 2);
            options.WithCredentials(parts[0], parts[1]);
        }
        try
        {
            var result = await client.ConnectAsync(options.Build(), ct);
            return result.ResultCode.ToString();
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
        {
            return ex.Message;
        }
    }
}

/// <summary>An MQTTnet client for tests: QoS 1, messages received into a channel.</summary>
internal sealed class MqttTestClient : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly System.Threading.Channels.Channel<(string Topic, string Payload)> _received = System.Threading.Channels.Channel.CreateUnbounded<(string, string)>();

    private MqttTestClient(IMqttClient client)
    {
        _client = client;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
    }

    public static async Task<MqttTestClient> ConnectAsync(Uri uri, string clientId, bool cleanStart, CancellationToken ct)
    {
        var parts = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
        var client = new MqttClientFactory().CreateMqttClient();
        var wrapper = new MqttTestClient(client);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(uri.Host, uri.Port)
            .WithCredentials(parts[0], parts[1])
            .WithClientId(clientId)
            .WithCleanSession(cleanStart)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .Build();
        // The broker may still be starting after a restart: try for a while.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.ConnectAsync(options, ct);
                return wrapper;
            }
            catch (Exception) when (attempt < 40 && !ct.IsCancellationRequested)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    public Task SubscribeAsync(string topic, CancellationToken ct) =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);

    public Task PublishAsync(string topic, string payload, CancellationToken ct) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);

    public async Task<(string Topic, string Payload)> NextAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    public Task DisconnectAsync(CancellationToken ct) => _client.DisconnectAsync(cancellationToken: ct);

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
