using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace HomeIQ.Tests.Integration;

/// <summary>A minimal OTLP/HTTP endpoint for tests: it accepts every POST and keeps what was sent.</summary>
public sealed class OtlpCapture : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public OtlpCapture()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Endpoint = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public sealed record Request(string Path, string? ContentType, string? ApiKey, byte[] Body);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Requests.Enqueue(new Request(context.Request.Url!.AbsolutePath, context.Request.ContentType, context.Request.Headers["x-otlp-api-key"], body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}
