using System.Diagnostics;
using System.Net;
using HomeIQ.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace HomeIQ.Tests.ServiceDefaults;

/// <summary>The standard resilience handler: what is retried, timeouts, circuit breaker, limiter, per-client options.</summary>
public sealed class ResilienceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AServerErrorIsRetriedThreeTimes()
    {
        var server = FakeServer.Always(HttpStatusCode.ServiceUnavailable);
        using var client = Client(server, Fast());

        using var response = await client.GetAsync("/", Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(4, server.Calls);
        Assert.Equal([true, true, true], server.PreviousResponseDisposed);
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    public async Task TransientStatusCodesAreRetried(HttpStatusCode status)
    {
        var server = FakeServer.Always(status);
        using var client = Client(server, Fast());

        using var response = await client.GetAsync("/", Token);

        Assert.Equal(4, server.Calls);
    }

    [Fact]
    public async Task AnHttpRequestExceptionIsRetried()
    {
        var server = new FakeServer((_, _) => throw new HttpRequestException("connection refused"));
        using var client = Client(server, Fast());

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/", Token));

        Assert.Equal(4, server.Calls);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task ClientErrorsAreNotRetried(HttpStatusCode status)
    {
        var server = FakeServer.Always(status);
        using var client = Client(server, Fast());

        using var response = await client.GetAsync("/", Token);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task ARetryWaitsAsLongAsTheRetryAfterHeaderAsks()
    {
        var server = new FakeServer((call, _) =>
        {
            var response = new HttpResponseMessage(call == 1 ? HttpStatusCode.TooManyRequests : HttpStatusCode.OK);
            response.Headers.Add("Retry-After", "1");
            return Task.FromResult(response);
        });
        using var client = Client(server, Fast());
        var clock = Stopwatch.StartNew();

        using var response = await client.GetAsync("/", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed}");
    }

    [Fact]
    public void ARetryAfterDateIsTurnedIntoADelay()
    {
        var now = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter = new(now.AddSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(5), RetryAfterDelay.From(response, new FixedClock(now)));
        Assert.Equal(TimeSpan.Zero, RetryAfterDelay.From(response, new FixedClock(now.AddMinutes(1))));
        Assert.Null(RetryAfterDelay.From(new HttpResponseMessage(), new FixedClock(now)));
    }

    [Fact]
    public async Task TheCircuitBreakerOpensAndThenRejectsCallsWithoutReachingTheServer()
    {
        var server = FakeServer.Always(HttpStatusCode.InternalServerError);
        using var client = Client(server, Fast(o => o.Retry.MaxRetryAttempts = 0, SmallBreaker));

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/", Token);
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync("/", Token));
        Assert.Equal(5, server.Calls);
    }

    [Fact]
    public async Task ASlowAttemptIsCutByTheAttemptTimeoutAndRetried()
    {
        var server = new FakeServer(async (call, ct) =>
        {
            if (call == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
            }

            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = Client(server, Fast(o => o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(200)));
        var clock = Stopwatch.StartNew();

        using var response = await client.GetAsync("/", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.8), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task CancellationByTheCallerIsNotRetried()
    {
        var server = new FakeServer(async (_, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = Client(server, Fast());
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Token);
        caller.CancelAfter(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("/", caller.Token));

        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task TheConcurrencyLimiterRejectsWhenPermitsAreExhausted()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new FakeServer(async (call, ct) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = Client(server, Fast(o => o.RateLimiter.PermitLimit = 1));

        var first = client.GetAsync("/", Token);
        await entered.Task.WaitAsync(Token);
        await Assert.ThrowsAsync<RateLimiterRejectedException>(() => client.GetAsync("/", Token));
        release.SetResult();

        using var response = await first;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public void SynchronousSendsAreRetriedToo()
    {
        var server = FakeServer.Always(HttpStatusCode.ServiceUnavailable);
        using var client = Client(server, Fast());

        using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, "/"), Token);

        Assert.Equal(4, server.Calls);
    }

    [Fact]
    public async Task NamedClientsCanOverrideTheGlobalOptions()
    {
        FakeServer one = FakeServer.Always(HttpStatusCode.ServiceUnavailable), other = FakeServer.Always(HttpStatusCode.ServiceUnavailable);
        var services = new ServiceCollection();
        services.AddHttpClient("one").AddStandardResilienceHandler(o => o.Retry.MaxRetryAttempts = 1).ConfigurePrimaryHttpMessageHandler(() => one);
        services.AddHttpClient("other").AddStandardResilienceHandler().ConfigurePrimaryHttpMessageHandler(() => other);
        services.ConfigureAll(Fast());
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using var oneClient = factory.CreateClient("one");
        using var otherClient = factory.CreateClient("other");
        (await oneClient.GetAsync(new Uri("http://one/"), Token)).Dispose();
        (await otherClient.GetAsync(new Uri("http://other/"), Token)).Dispose();

        Assert.Equal(2, one.Calls);
        Assert.Equal(4, other.Calls);
        Assert.Equal(Timeout.InfiniteTimeSpan, oneClient.Timeout);
    }

    [Fact]
    public async Task AClientCanOptOutOfTheHandlerAddedToAllClients()
    {
        var server = FakeServer.Always(HttpStatusCode.ServiceUnavailable);
        var services = new ServiceCollection();
        services.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler(Fast()));
        services.AddHttpClient("off").DisableStandardResilience().ConfigurePrimaryHttpMessageHandler(() => server);
        using var provider = services.BuildServiceProvider();

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("off");
        using var response = await client.GetAsync(new Uri("http://off/"), Token);

        Assert.Equal(1, server.Calls);
        Assert.Equal(TimeSpan.FromSeconds(100), client.Timeout);
    }

    [Fact]
    public async Task AClientGetsTheHandlerOnceWhenAddedForAllClientsAndForItself()
    {
        var server = FakeServer.Always(HttpStatusCode.ServiceUnavailable);
        var services = new ServiceCollection();
        services.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler(Fast()));
        services.AddHttpClient("twice").AddStandardResilienceHandler().ConfigurePrimaryHttpMessageHandler(() => server);
        using var provider = services.BuildServiceProvider();

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("twice");
        using var response = await client.GetAsync(new Uri("http://twice/"), Token);

        Assert.Equal(4, server.Calls);
    }

    [Fact]
    public async Task AllHandlersOfOneClientNameShareTheCircuitBreaker()
    {
        FakeServer before = FakeServer.Always(HttpStatusCode.InternalServerError), after = FakeServer.Always(HttpStatusCode.OK);
        var services = new ServiceCollection();
        services.AddHttpClient("shared").AddStandardResilienceHandler(Fast(o => o.Retry.MaxRetryAttempts = 0, SmallBreaker));
        using var provider = services.BuildServiceProvider();
        var pipelines = provider.GetRequiredService<ResiliencePipelineProvider>();
        var (firstHandler, rotatedHandler) = (pipelines.CreateHandler("shared"), pipelines.CreateHandler("shared"));
        (firstHandler.InnerHandler, rotatedHandler.InnerHandler) = (before, after);
        using HttpClient first = new(firstHandler), rotated = new(rotatedHandler);

        for (var i = 0; i < 5; i++)
        {
            (await first.GetAsync(new Uri("http://shared/"), Token)).Dispose();
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => rotated.GetAsync(new Uri("http://shared/"), Token));
        Assert.Equal(0, after.Calls);
    }

    [Fact]
    public void ClientsWithoutTheirOwnOptionsGetTheStandardDefaults()
    {
        using var provider = new ServiceCollection().AddStandardResilience().BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get("anything");

        Assert.True(options.Enabled);
        Assert.Equal((1000, 0), (options.RateLimiter.PermitLimit, options.RateLimiter.QueueLimit));
        Assert.Equal(TimeSpan.FromSeconds(30), options.TotalRequestTimeout.Timeout);
        Assert.Equal((3, Polly.DelayBackoffType.Exponential, true, TimeSpan.FromSeconds(2), true),
            (options.Retry.MaxRetryAttempts, options.Retry.BackoffType, options.Retry.UseJitter, options.Retry.Delay, options.Retry.ShouldRetryAfterHeader));
        Assert.Equal((0.1, 100, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)),
            (options.CircuitBreaker.FailureRatio, options.CircuitBreaker.MinimumThroughput, options.CircuitBreaker.SamplingDuration, options.CircuitBreaker.BreakDuration));
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout.Timeout);
    }

    [Fact]
    public void AnAttemptTimeoutLongerThanTheTotalTimeoutIsRejectedOnStart()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("slow").AddStandardResilienceHandler(o => o.AttemptTimeout.Timeout = TimeSpan.FromMinutes(1));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("AttemptTimeout.Timeout", ex.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ResiliencePipelineProvider>().GetPipeline("slow"));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void AFailureRatioOutsideZeroToOneIsRejected(double ratio)
    {
        var options = new HttpStandardResilienceOptions();
        options.CircuitBreaker.FailureRatio = ratio;

        Assert.True(new HttpStandardResilienceOptionsValidator().Validate("x", options).Failed);
    }

    [Fact]
    public void ASamplingDurationShorterThanTwoAttemptTimeoutsIsRejected()
    {
        var options = new HttpStandardResilienceOptions();
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(15);

        Assert.True(new HttpStandardResilienceOptionsValidator().Validate("x", options).Failed);
        Assert.True(new HttpStandardResilienceOptionsValidator().Validate("x", new HttpStandardResilienceOptions()).Succeeded);
    }

    private static void SmallBreaker(HttpStandardResilienceOptions o)
    {
        o.CircuitBreaker.MinimumThroughput = 5;
        o.CircuitBreaker.FailureRatio = 0.5;
    }

    private static Action<HttpStandardResilienceOptions> Fast(params Action<HttpStandardResilienceOptions>[] more) => o =>
    {
        o.Retry.Delay = TimeSpan.FromMilliseconds(10);
        o.Retry.UseJitter = false;
        foreach (var configure in more)
        {
            configure(o);
        }
    };

    private static HttpClient Client(FakeServer server, Action<HttpStandardResilienceOptions> configure)
    {
        var options = new HttpStandardResilienceOptions();
        configure(options);
        var pipeline = StandardPipelineFactory.Create("test", options);
        return new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = server }) { BaseAddress = new Uri("http://test/") };
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Inner handler answering from a script; counts calls and notes whether the previous response was disposed by then.</summary>
    private sealed class FakeServer(Func<int, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
    {
        private int _calls;
        private TrackedContent? _previous;

        public int Calls => Volatile.Read(ref _calls);

        public List<bool> PreviousResponseDisposed { get; } = [];

        public static FakeServer Always(HttpStatusCode status) => new((_, _) => Task.FromResult(new HttpResponseMessage(status)));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (_previous is not null)
            {
                PreviousResponseDisposed.Add(_previous.Disposed);
            }

            var response = await respond(Calls, cancellationToken);
            response.Content = _previous = new TrackedContent();
            return response;
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            SendAsync(request, cancellationToken).GetAwaiter().GetResult();
    }

    private sealed class TrackedContent() : ByteArrayContent([])
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
