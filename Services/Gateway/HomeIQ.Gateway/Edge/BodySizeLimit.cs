using Microsoft.AspNetCore.Http.Features;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// The request size cap, answered so that clients read it: 413 at once for a declared length over the cap; for a chunked body,
/// 413 when the cap is crossed while forwarding. Either way the rest of the body the client is still sending is then read and
/// discarded (bounded in size and time): closing with unread data in the socket makes the kernel reset the connection, and the
/// client would see the reset instead of the 413.
/// </summary>
internal static class BodySizeLimit
{
    private const long DrainLimitBytes = 64 * 1024 * 1024;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app, long maxBody) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        var expectsContinue = request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (request.ContentLength > maxBody)
        {
            // A client waiting for 100-continue sends nothing more: there is nothing to drain.
            var drain = !expectsContinue && TryLiftKestrelLimit(limit);
            context.Response.Headers.Connection = "close";
            await TooLarge(maxBody).ExecuteAsync(context);
            if (drain)
            {
                await DrainAsync(context, request.Body);
            }
            return;
        }
        if (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0 && TryLiftKestrelLimit(limit))
        {
            var body = request.Body;
            var capped = new CappedStream(body, maxBody);
            request.Body = capped;
            await next(context);
            if (capped.Exceeded && !expectsContinue)
            {
                await DrainAsync(context, body);
            }
            return;
        }
        await next(context);
    });

    /// <summary>The 413 answer; also what a chunked body over the cap gets (see <see cref="ForwardingProblems"/>).</summary>
    public static BadHttpRequestException TooLargeError(long maxBody) =>
        new($"Requests are limited to {maxBody} bytes.", StatusCodes.Status413PayloadTooLarge);

    private static IResult TooLarge(long maxBody) =>
        Results.Problem(title: "Payload too large", detail: $"Requests are limited to {maxBody} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>The gateway enforces the cap itself for this request, so it can keep reading past it to drain.</summary>
    private static bool TryLiftKestrelLimit(IHttpMaxRequestBodySizeFeature? limit)
    {
        if (limit is not { IsReadOnly: false })
        {
            return false;
        }
        limit.MaxRequestBodySize = null;
        return true;
    }

    private static async Task DrainAsync(HttpContext context, Stream body)
    {
        await context.Response.CompleteAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(DrainTimeout);
        var buffer = new byte[64 * 1024];
        long drained = 0;
        try
        {
            int read;
            while (drained < DrainLimitBytes && (read = await body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                drained += read;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client gave up or is too slow: the connection closes either way.
        }
    }

    /// <summary>A request body that fails with 413 once more than <paramref name="maxBody"/> bytes have been read.</summary>
    private sealed class CappedStream(Stream inner, long maxBody) : Stream
    {
        private long _read;

        public bool Exceeded { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            if (_read > maxBody)
            {
                Exceeded = true;
                throw TooLargeError(maxBody);
            }
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
