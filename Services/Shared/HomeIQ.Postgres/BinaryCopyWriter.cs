using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Npgsql;

namespace HomeIQ.Postgres;

/// <summary>
/// Binary COPY for hot paths: rows are written in PostgreSQL's binary COPY format into a buffer of its own, which goes to Npgsql's
/// raw COPY stream (<see cref="NpgsqlConnection.BeginRawBinaryCopyAsync"/>) in chunks. Npgsql's typed importer resolves a converter
/// and runs an async call for every field, which a profile showed as most of the cost of storing a reading; here a row costs one
/// call that awaits only when a chunk is full. The values are encoded as Npgsql encodes them (UUIDs in network order, text as strict
/// UTF-8, timestamps as microseconds since 2000 truncated, big-endian numbers). Like the typed importer: the rows count only once
/// <see cref="CompleteAsync"/> succeeded, which throws what the server found wrong (such as a duplicate key); disposing without
/// completing discards the COPY.
/// </summary>
public sealed class BinaryCopyWriter : IAsyncDisposable
{
    private const int ChunkBytes = 32 * 1024;
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // "PGCOPY\n\377\r\n\0", then flags and the length of the header extension (both 0).
    private static ReadOnlySpan<byte> Header => [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly NpgsqlRawCopyStream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(2 * ChunkBytes);
    private int _length;
    private int _fieldsLeft;
    private bool _ended;

    private BinaryCopyWriter(NpgsqlRawCopyStream stream)
    {
        _stream = stream;
        Header.CopyTo(_buffer);
        _length = Header.Length;
    }

    /// <summary>Starts <paramref name="copyCommand"/>, a <c>COPY … FROM STDIN (FORMAT BINARY)</c>, on <paramref name="connection"/>.</summary>
    public static async Task<BinaryCopyWriter> BeginAsync(NpgsqlConnection connection, string copyCommand, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return new BinaryCopyWriter(await connection.BeginRawBinaryCopyAsync(copyCommand, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Starts a row of <paramref name="fields"/> columns, the columns of the COPY command; sends a full chunk first.</summary>
    public ValueTask StartRowAsync(short fields, CancellationToken cancellationToken)
    {
        if (_fieldsLeft != 0 || _ended)
        {
            throw new InvalidOperationException(_ended ? "The COPY has ended." : $"The previous row is missing {_fieldsLeft} field(s).");
        }
        if (_length >= ChunkBytes)
        {
            return SendThenStartAsync(fields, cancellationToken);
        }
        Start(fields);
        return ValueTask.CompletedTask;
    }

    public void WriteUuid(Guid value)
    {
        var span = Field(16);
        value.TryWriteBytes(span, bigEndian: true, out _);
    }

    /// <summary>Text as strict UTF-8: a string with an unpaired surrogate throws, as it does with Npgsql.</summary>
    public void WriteText(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        TakeField();
        var room = Room(4 + StrictUtf8.GetMaxByteCount(value.Length));
        var written = StrictUtf8.GetBytes(value, room[4..]);
        BinaryPrimitives.WriteInt32BigEndian(room, written);
        _length += 4 + written;
    }

    /// <summary>A <c>timestamptz</c>: the instant in microseconds since 2000-01-01 UTC, the last 100 ns dropped as Npgsql does.</summary>
    public void WriteTimestampTz(DateTimeOffset value) =>
        BinaryPrimitives.WriteInt64BigEndian(Field(8), (value.UtcTicks - PostgresEpochTicks) / 10);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleBigEndian(Field(8), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Field(8), value);

    public void WriteNull()
    {
        TakeField();
        BinaryPrimitives.WriteInt32BigEndian(Room(4), -1);
        _length += 4;
    }

    /// <summary>Sends the rest and ends the COPY; throws the server's error (a <see cref="PostgresException"/>) if it rejected any row.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_fieldsLeft != 0)
        {
            throw new InvalidOperationException($"The last row is missing {_fieldsLeft} field(s).");
        }
        BinaryPrimitives.WriteInt16BigEndian(Room(2), -1);
        _length += 2;
        await SendAsync(cancellationToken).ConfigureAwait(false);
        _ended = true;
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Discards the COPY unless it was completed.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_ended)
            {
                _ended = true;
                await _stream.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or ObjectDisposedException)
        {
            // The server's error for the rows already sent, or a broken connection (Npgsql has closed it): the COPY is gone either
            // way, and the exception that got here first is the one that matters.
        }
        finally
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
        }
    }

    private async ValueTask SendThenStartAsync(short fields, CancellationToken cancellationToken)
    {
        await SendAsync(cancellationToken).ConfigureAwait(false);
        Start(fields);
    }

    private void Start(short fields)
    {
        _fieldsLeft = fields;
        BinaryPrimitives.WriteInt16BigEndian(Room(2), fields);
        _length += 2;
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
        _length = 0;
    }

    /// <summary>A fixed-size field: its length, then <paramref name="size"/> bytes for the caller to fill.</summary>
    private Span<byte> Field(int size)
    {
        TakeField();
        var span = Room(4 + size);
        BinaryPrimitives.WriteInt32BigEndian(span, size);
        _length += 4 + size;
        return span.Slice(4, size);
    }

    private void TakeField()
    {
        if (_fieldsLeft-- <= 0)
        {
            _fieldsLeft = 0;
            throw new InvalidOperationException("The row already has all its fields.");
        }
    }

    /// <summary>At least <paramref name="size"/> free bytes at the end of the buffer (it grows for a row larger than a chunk).</summary>
    private Span<byte> Room(int size)
    {
        if (_buffer.Length - _length < size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * _buffer.Length, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        return _buffer.AsSpan(_length);
    }
}
