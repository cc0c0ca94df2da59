using System.Buffers;
using System.IO.Compression;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>A request body read into a pooled buffer, never more than a limit (after gzip decompression too).</summary>
internal sealed class OtlpRequestBody : IDisposable
{
    private const int InitialSize = 64 * 1024;

    private OtlpRequestBody(byte[] buffer, int length)
    {
        Buffer = buffer;
        Length = length;
    }

    public byte[] Buffer { get; private set; }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    /// <summary>Reads the whole body; null when it is larger than <paramref name="limit"/> bytes.</summary>
    public static async Task<OtlpRequestBody?> ReadAsync(Stream body, bool gzip, long? declaredLength, long limit, CancellationToken cancellationToken)
    {
        var max = (int)Math.Min(limit, Array.MaxLength - 1);
        var initial = declaredLength is { } declared && !gzip ? declared + 1 : InitialSize;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(initial, 1, max + 1L));
        var length = 0;
        var source = gzip ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true) : body;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > max)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, max + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > max)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (gzip)
            {
                await source.DisposeAsync();
            }
        }
        return new OtlpRequestBody(buffer, length);
    }

    public void Dispose()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }
}
