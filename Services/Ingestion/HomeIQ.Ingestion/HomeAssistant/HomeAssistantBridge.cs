using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>
/// Follows Home Assistant while this replica holds the lease: connect, authenticate, subscribe, map, forward; reconnect with
/// exponential back-off and jitter after any loss; wait <see cref="HomeAssistantOptions.AuthRetryDelay"/> after <c>auth_invalid</c>.
/// Nothing it meets ever stops the host.
/// </summary>
internal sealed class HomeAssistantBridge(
    IOptions<HomeAssistantOptions> optionsAccessor, IBridgeLease lease, ReadingForwarder forwarder, HomeAssistantMetrics metrics,
    HomeAssistantBridgeStatus status, HomeAssistantCommands commands, IServiceProvider services, ILogger<HomeAssistantBridge> logger, TimeProvider time) : BackgroundService
{
    private readonly HomeAssistantOptions _options = optionsAccessor.Value;
    private readonly CancellationTokenSource _drain = new();
    private Task _forwarding = Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        status.Replica = lease.Replica;
        _forwarding = forwarder.RunAsync(_options.Home, _drain.Token);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await lease.TryAcquireAsync(stoppingToken))
                {
                    var holder = await lease.HolderAsync(stoppingToken);
                    if (holder != status.Holder)
                    {
                        logger.LogInformation("Replica {Holder} runs the Home Assistant bridge; replica {Replica} stands by", holder ?? "none", lease.Replica);
                        status.Holder = holder;
                    }
                    await Task.Delay(_options.LeaseTtl / 3, time, stoppingToken);
                    continue;
                }
                await HoldAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "The Home Assistant bridge lease could not be checked; trying again in {Delay}", _options.LeaseTtl / 3);
                await Task.Delay(_options.LeaseTtl / 3, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task HoldAsync(CancellationToken stoppingToken)
    {
        status.HoldsLease = true;
        status.Holder = lease.Replica;
        logger.LogInformation("Replica {Replica} holds the Home Assistant bridge for home {HomeId}; following {Url}", lease.Replica, _options.HomeId, _options.WebSocketUri);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewing = RenewAsync(session);
        try
        {
            await FollowAsync(session.Token);
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested)
        {
            // Stopping, or the lease was lost.
        }
        finally
        {
            await session.CancelAsync();
            await renewing;
            status.HoldsLease = false;
            status.Connected = false;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await lease.ReleaseAsync(timeout.Token);
                logger.LogInformation("Replica {Replica} released the Home Assistant bridge", lease.Replica);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Replica {Replica} could not release the Home Assistant bridge lease; it expires by itself", lease.Replica);
            }
        }
    }

    /// <summary>Renews every third of the lease; ends the session when the lease is lost, or could not be renewed for a whole lease time.</summary>
    private async Task RenewAsync(CancellationTokenSource session)
    {
        var renewed = time.GetTimestamp();
        while (!session.IsCancellationRequested)
        {
            await Task.Delay(_options.LeaseTtl / 3, time, session.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (session.IsCancellationRequested)
            {
                return;
            }
            try
            {
                if (!await lease.RenewAsync(session.Token))
                {
                    logger.LogWarning("Replica {Replica} lost the Home Assistant bridge lease; disconnecting", lease.Replica);
                    await session.CancelAsync();
                    return;
                }
                renewed = time.GetTimestamp();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (time.GetElapsedTime(renewed) >= _options.LeaseTtl)
                {
                    logger.LogWarning(ex, "Replica {Replica} could not renew the Home Assistant bridge lease in time; disconnecting", lease.Replica);
                    await session.CancelAsync();
                    return;
                }
            }
        }
    }

    /// <summary>Connects again and again until cancelled.</summary>
    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        var attempt = 0;
        var everConnected = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = time.GetTimestamp();
            try
            {
                await using var connection = await OpenAsync(cancellationToken);
                if (everConnected)
                {
                    metrics.Reconnect();
                }
                everConnected = true;
                status.Connected = true;
                status.LastError = null;
                logger.LogInformation("Connected to Home Assistant {Version} at {Url}", connection.Version, _options.WebSocketUri);
                var session = new BridgeSession(_options, services.GetRequiredService<IExternalDeviceDirectory>(), forwarder, metrics, status, commands, logger, time);
                await session.RunAsync(connection, cancellationToken);
                status.LastError = "Home Assistant closed the connection.";
                logger.LogWarning("Home Assistant at {Url} closed the connection; reconnecting", _options.WebSocketUri);
            }
            catch (HomeAssistantAuthException ex)
            {
                status.LastError = ex.Message;
                logger.LogError("{Reason} The bridge tries again in {Delay}.", ex.Message, _options.AuthRetryDelay);
                await Task.Delay(_options.AuthRetryDelay, time, cancellationToken);
                attempt = 0;
                continue;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                status.LastError = ex.Message;
                logger.LogWarning("The connection to Home Assistant at {Url} failed or broke: {Reason}", _options.WebSocketUri, ex.Message);
                logger.LogDebug(ex, "Connection failure details");
            }
            finally
            {
                status.Connected = false;
                status.Subscribed = false;
            }
            if (time.GetElapsedTime(started) >= _options.HealthyAfter)
            {
                attempt = 0;
            }
            var delay = Backoff(attempt++);
            logger.LogInformation("Reconnecting to Home Assistant in {Delay}", delay);
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    private async Task<HomeAssistantConnection> OpenAsync(CancellationToken cancellationToken)
    {
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshake.CancelAfter(_options.HandshakeTimeout);
        try
        {
            return await HomeAssistantConnection.OpenAsync(_options.WebSocketUri, _options.AccessToken!, handshake.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No authenticated connection to Home Assistant within {_options.HandshakeTimeout}.");
        }
    }

    /// <summary>Initial × 2^attempt, capped, times a jitter of ±20 % so that restarts do not reconnect in lockstep.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var exponential = _options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var capped = Math.Min(exponential, _options.ReconnectMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    /// <summary>Stops following (and releases the lease), then gives the buffer up to <see cref="HomeAssistantOptions.DrainTimeout"/> to reach the broker.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        forwarder.Complete();
        _drain.CancelAfter(_options.DrainTimeout);
        try
        {
            await _forwarding;
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Stopping with {Count} Home Assistant readings and states not confirmed by the broker", forwarder.Buffered);
        }
    }

    public override void Dispose()
    {
        _drain.Dispose();
        base.Dispose();
    }
}
