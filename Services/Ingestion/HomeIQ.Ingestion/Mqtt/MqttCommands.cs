using System.Buffers;
using System.Collections.Concurrent;
using HomeIQ.Contracts;
using HomeIQ.Ingestion.Commands;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// Sends commands to MQTT devices (<see cref="MqttCommandPlan"/>) and waits for the device's next state message as the answer. Every replica
/// keeps a second connection to the broker for this, with a clean session of its own (<c>…-commands</c>), so any replica can deliver a
/// command. While a command waits it subscribes to the device's state topics without the shared group (so this replica sees every state
/// message) and without retained messages (an old retained state is not an answer).
/// </summary>
internal sealed class MqttCommands(
    MqttConnection connection, IOptions<MqttOptions> options, MqttDiscoveryRegistry discovered, ILogger<MqttCommands> logger, TimeProvider time) : BackgroundService
{
    private readonly ConcurrentDictionary<string, List<Waiter>> _waiters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _subscriptions = new(1, 1);
    private readonly MqttHomes _homes = options.Value.Routes;
    private volatile IMqttClient? _client;

    /// <summary>The <c>src</c> of Shelly RPC requests (their responses, which HomeIQ does not need, go to <c>{src}/rpc</c>).</summary>
    public string RpcSource => $"{connection.ClientId}-commands";

    /// <summary>Publishes the command and waits for the device's answer; <paramref name="deadline"/> cancels at the command's deadline.</summary>
    public async Task<CommandResult> SendAsync(string externalId, DeviceCommandRequested command, CancellationToken deadline)
    {
        var (plan, problem) = MqttCommandPlan.For(externalId, command, RpcSource, _homes.PrefixOf(command.HomeId) ?? "", discovered.ForExternalId(externalId));
        if (plan is null)
        {
            return new(CommandOutcome.Failed, problem);
        }
        if (_client is not { IsConnected: true } client)
        {
            return CommandResult.NotConnected("Ingestion is not connected to the MQTT broker.");
        }
        var waiter = new Waiter(plan);
        try
        {
            foreach (var topic in plan.ReplyTopics)
            {
                await WatchAsync(client, topic, waiter, deadline);
            }
            var published = await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(plan.Topic).WithPayload(plan.Payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), deadline);
            if (!published.IsSuccess)
            {
                return new(CommandOutcome.Failed, $"The MQTT broker refused the command on {plan.Topic}: {published.ReasonCode} {published.ReasonString}".TrimEnd());
            }
            return await waiter.Answer.Task.WaitAsync(deadline);
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException && !deadline.IsCancellationRequested)
        {
            return CommandResult.NotConnected($"The connection to the MQTT broker broke: {ex.Message}");
        }
        finally
        {
            foreach (var topic in plan.ReplyTopics)
            {
                await UnwatchAsync(client, topic, waiter);
            }
        }
    }

    private async Task WatchAsync(IMqttClient client, string topic, Waiter waiter, CancellationToken cancellationToken)
    {
        await _subscriptions.WaitAsync(cancellationToken);
        try
        {
            var list = _waiters.GetOrAdd(topic, _ => []);
            bool first;
            lock (list)
            {
                first = list.Count == 0;
                list.Add(waiter);
            }
            if (first)
            {
                await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                    .WithTopicFilter(f => f.WithTopic(topic).WithAtLeastOnceQoS().WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe))
                    .Build(), cancellationToken);
            }
        }
        finally
        {
            _subscriptions.Release();
        }
    }

    private async Task UnwatchAsync(IMqttClient client, string topic, Waiter waiter)
    {
        await _subscriptions.WaitAsync();
        try
        {
            if (!_waiters.TryGetValue(topic, out var list))
            {
                return;
            }
            bool last;
            lock (list)
            {
                list.Remove(waiter);
                last = list.Count == 0;
            }
            if (last && client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.UnsubscribeAsync(topic, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            logger.LogDebug(ex, "Could not unsubscribe from {Topic}", topic);
        }
        finally
        {
            _subscriptions.Release();
        }
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        if (message.Retain || !_waiters.TryGetValue(message.Topic, out var list))
        {
            return Task.CompletedTask;
        }
        Waiter[] waiting;
        lock (list)
        {
            waiting = [.. list];
        }
        if (waiting.Length == 0)
        {
            return Task.CompletedTask;
        }
        ReadOnlyMemory<byte> payload = message.Payload.ToArray();
        foreach (var waiter in waiting)
        {
            if (waiter.Plan.Settle(message.Topic, payload) is { } result)
            {
                waiter.Answer.TrySetResult(result);
            }
        }
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_homes.IsEmpty)
        {
            return; // the subscriber says why
        }
        var delay = options.Value.ReconnectInitialDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.DisconnectedAsync += _ =>
            {
                lost.TrySetResult();
                return Task.CompletedTask;
            };
            client.ApplicationMessageReceivedAsync += OnMessageAsync;
            try
            {
                await client.ConnectAsync(new MqttClientOptionsBuilder()
                    .WithTcpServer(connection.Host, connection.Port)
                    .WithCredentials(connection.UserName, connection.Password)
                    .WithClientId(RpcSource)
                    .WithProtocolVersion(MqttProtocolVersion.V500)
                    .WithCleanStart(true)
                    .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
                    .WithTimeout(TimeSpan.FromSeconds(10))
                    .Build(), stoppingToken);
                _client = client;
                delay = options.Value.ReconnectInitialDelay;
                await lost.Task.WaitAsync(stoppingToken);
                logger.LogWarning("The command connection to the MQTT broker {Broker} was lost; reconnecting", connection.Endpoint);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Could not open the command connection to the MQTT broker {Broker}; trying again in {Delay}", connection.Endpoint, delay);
            }
            finally
            {
                _client = null;
                // A new connection has none of these subscriptions: the commands waiting on them end now.
                foreach (var list in _waiters.Values)
                {
                    lock (list)
                    {
                        list.ForEach(w => w.Answer.TrySetResult(CommandResult.NotConnected("The connection to the MQTT broker was lost before the device answered.")));
                    }
                }
                _waiters.Clear();
            }
            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delay = delay * 2 > options.Value.ReconnectMaxDelay ? options.Value.ReconnectMaxDelay : delay * 2;
        }
    }

    private sealed class Waiter(MqttCommandPlan plan)
    {
        public MqttCommandPlan Plan { get; } = plan;

        public TaskCompletionSource<CommandResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
