using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HomeIQ.Tests.Identity;
using HomeIQ.Tests.Integration;

namespace HomeIQ.Tests.Gateway;

/// <summary>
/// A corpus of bad requests, generated from the gateway's merged OpenAPI document, through the gateway: each gets a 4xx
/// ProblemDetails (or a success), never a 5xx or a reset, and every service is still healthy afterwards.
/// </summary>
[Collection(BadInputCorpusCollection.Name)]
public sealed class BadInputCorpusTests(AppHostFixture fixture)
{
    private static readonly string[] Services = ["identity", "devices", "readings", "ingestion", "energy", "anomalies", "automations", "notifications", "gateway"];
    private static readonly HttpRequestOptionsKey<bool> Latin1Headers = new("corpus-latin1-headers");

    /// <summary>Homes, each with its own owner: the fixture allows a user 2 requests a second, so the corpus spreads over many.</summary>
    private const int Homes = 12;

    /// <summary>Lanes for anonymous and hub-key requests; each calls from its own loopback address, so each has its own hub-route bucket.</summary>
    private const int FreeLanes = 4;

    private sealed record Answer(CorpusCase Case, string Url, int? Status, string? MediaType, string Body, string? Error)
    {
        public override string ToString() =>
            $"{Case.Method} {Trim(Url, 150)} [{Case.Kind}] as {Case.Caller} → {(Error is null ? $"{Status} {MediaType}: {Trim(Body, 200)}" : Error)}";
    }

    [Fact]
    public async Task FiveHundredMalformedRequestsThroughTheGatewayGetNo5xxAndNoReset()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(6));
        foreach (var service in Services)
        {
            await fixture.App.WaitForEveryReplicaHealthyAsync(service, ct);
        }
        var gateway = new IdentityClient(fixture.App.CreateHttpClient("gateway"));
        var homes = await Task.WhenAll(Enumerable.Range(0, Homes).Select(_ => CreateHomeAsync(gateway)));
        var cases = BadInputCorpus.From(await MergedDocumentAsync(gateway.Http, ct),
            ("GET", "/api/v1/homes/{homeId}/overview"), ("GET", "/openapi/merged.json")); // served by the gateway itself, so not in the merged document

        var clock = Stopwatch.StartNew();
        var answers = await RunAsync(cases, homes, ct);
        clock.Stop();
        var unhealthy = new List<string>();
        foreach (var service in Services)
        {
            try
            {
                await fixture.App.WaitForEveryReplicaHealthyAsync(service, TestApps.Timeout(TimeSpan.FromSeconds(30)));
            }
            catch (OperationCanceledException)
            {
                unhealthy.Add(service);
            }
        }

        var noAnswer = answers.Where(a => a.Error is not null).ToList();
        var serverErrors = answers.Where(a => a.Status >= 500).OrderBy(a => a.Status).ThenBy(a => a.Case.Kind, StringComparer.Ordinal).ToList();
        var notProblems = answers.Where(a => a.Status is >= 400 and < 500 && a.Body.Length > 0 && a.MediaType != "application/problem+json").ToList();
        var statuses = answers.GroupBy(a => a.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none").OrderBy(g => g.Key, StringComparer.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"{cases.Count} cases in {clock.Elapsed.TotalSeconds:F0} s: {string.Join(", ", statuses.Select(g => $"{g.Key} × {g.Count()}"))}");
        Assert.True(cases.Count >= 500, $"only {cases.Count} cases");
        Assert.True(cases.Select(c => c.Template).Distinct().Count() >= 15, "the merged document lists fewer than 15 routes");
        Assert.Equal(cases.Count, cases.Select(c => c.ToString()).Distinct().Count());
        Assert.True(noAnswer.Count + serverErrors.Count + notProblems.Count + unhealthy.Count == 0, string.Join('\n', [
            $"{cases.Count} cases in {clock.Elapsed.TotalSeconds:F0} s.",
            $"{serverErrors.Count} answered 5xx:", .. serverErrors.Select(a => "  " + a),
            $"{noAnswer.Count} got no answer (reset, closed or timed out):", .. noAnswer.Select(a => "  " + a),
            $"{notProblems.Count} answered a 4xx whose body is not application/problem+json:", .. notProblems.Select(a => "  " + a),
            $"Not healthy 30 s after the run: {string.Join(", ", unhealthy)}",
        ]));
    }

    private static async Task<CorpusHome> CreateHomeAsync(IdentityClient gateway)
    {
        var (homeId, token, hubKey, deviceId) = await gateway.CreateHubHomeAsync();
        using var room = await gateway.SendAsync(HttpMethod.Post, $"/api/v1/homes/{homeId}/rooms", token, new { name = "Kitchen" });
        Assert.Equal(HttpStatusCode.Created, room.StatusCode);
        var roomId = (await room.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetGuid();
        return new CorpusHome(homeId, token, hubKey, deviceId, roomId);
    }

    /// <summary>The merged document once it lists every service: one that has only just become healthy may not have answered yet.</summary>
    private static async Task<JsonElement> MergedDocumentAsync(HttpClient http, CancellationToken ct)
    {
        while (true)
        {
            var document = JsonDocument.Parse(await http.GetStringAsync("/openapi/merged.json", ct)).RootElement;
            if (document.GetProperty("x-unavailable").GetArrayLength() == 0)
            {
                return document;
            }
            await Task.Delay(500, ct);
        }
    }

    /// <summary>
    /// Runs the cases in lanes, one request at a time per lane: a lane per home owner (for the requests with that owner's token)
    /// and <see cref="FreeLanes"/> for the rest. A 429 is waited out as Retry-After says and resent, so each case gets its real answer.
    /// </summary>
    private async Task<List<Answer>> RunAsync(List<CorpusCase> cases, CorpusHome[] homes, CancellationToken ct)
    {
        var lanes = cases.Select((c, i) => (Case: c, Home: homes[i % homes.Length], Other: homes[(i + 1) % homes.Length], Index: i))
            .GroupBy(x => x.Case.Caller switch
            {
                Caller.Member => x.Index % homes.Length,
                Caller.OtherHomeMember => (x.Index + 1) % homes.Length,
                _ => homes.Length + x.Index % FreeLanes,
            });
        using var gate = new SemaphoreSlim(6); // two cores run the gateway, four services and their servers
        var answers = await Task.WhenAll(lanes.Select(async lane =>
        {
            using var client = ClientFrom(IPAddress.Parse($"127.0.0.{10 + lane.Key}"));
            var answered = new List<Answer>();
            foreach (var (c, home, other, _) in lane)
            {
                answered.Add(await SendAsync(client, gate, c, home, other, ct));
            }
            return answered;
        }));
        return [.. answers.SelectMany(a => a)];
    }

    private static async Task<Answer> SendAsync(HttpClient client, SemaphoreSlim gate, CorpusCase c, CorpusHome home, CorpusHome other, CancellationToken ct)
    {
        var url = c.Url(home);
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), url) { Content = c.Content(home) };
            switch (c.Caller)
            {
                case Caller.Member:
                    request.Headers.Authorization = new("Bearer", home.Token);
                    break;
                case Caller.OtherHomeMember:
                    request.Headers.Authorization = new("Bearer", other.Token);
                    break;
                case Caller.HubKey:
                    request.Headers.Add("X-Hub-Key", home.HubKey);
                    break;
                case Caller.GarbageToken:
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer garbage.garbage.garbage");
                    break;
            }
            foreach (var (name, value) in c.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            request.Headers.ExpectContinue = c.ExpectContinue ? true : null;
            request.Options.Set(Latin1Headers, c.Latin1Headers);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            HttpResponseMessage response;
            string body;
            await gate.WaitAsync(ct);
            try
            {
                response = await client.SendAsync(request, timeout.Token);
                body = await response.Content.ReadAsStringAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                return new Answer(c, url, null, null, "", $"{ex.GetType().Name} ({(ex as HttpRequestException)?.HttpRequestError}): {ex.Message} {ex.InnerException?.Message}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return new Answer(c, url, null, null, "", "no answer within 30 s");
            }
            finally
            {
                gate.Release();
            }
            using (response)
            {
                if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt == 60)
                {
                    return new Answer(c, url, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, null);
                }
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>
    /// A client of its own (no resilience handler to retry or hide a failure) whose connections come from <paramref name="source"/>,
    /// and that sends header values as UTF-8 bytes, or Latin-1 when the request asks.
    /// </summary>
    private HttpClient ClientFrom(IPAddress source) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        RequestHeaderEncodingSelector = (_, request) => request?.Options.TryGetValue(Latin1Headers, out var latin1) == true && latin1 ? Encoding.Latin1 : Encoding.UTF8,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    }) { BaseAddress = fixture.App.GetEndpoint("gateway"), Timeout = Timeout.InfiniteTimeSpan };

    private static string Trim(string text, int length) =>
        (text.Length > length ? text[..length] + "…" : text).ReplaceLineEndings(" ");
}

/// <summary>
/// The corpus runs alone: other tests stop services of the shared AppHost (a 503 meanwhile is theirs, not a corpus failure),
/// and its thousands of requests would slow theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BadInputCorpusCollection
{
    public const string Name = "bad-input corpus";
}
