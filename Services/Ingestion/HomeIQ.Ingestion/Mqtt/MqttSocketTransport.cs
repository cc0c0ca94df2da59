using System.Buffers;
using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace HomeIQ.Ingestion.Mqtt;

/// <summary>
/// The subscriber's TCP connection to the broker, given to MQTTnet as its stream (<c>WithStreamProvider</c>; MQTTnet still does the
/// protocol, and TLS on top when configured). Two differences from MQTTnet's own socket stream, for a client that receives thousands
/// of small messages a second:
/// <list type="bullet">
/// <item>reads are buffered: MQTTnet reads each packet's fixed header and body with separate reads, which on a bare socket are
/// two or three system calls a message;</item>
/// <item>writes can be held and sent together (<see cref="MqttSocketStream.HoldWrites"/>): a batch's PUBACKs leave in one socket
/// write instead of one each, which also spares the broker a wake-up and a read per acknowledgement.</item>
/// </list>
/// One per connection attempt; <see cref="Stream"/> is the stream of the latest connect.
/// </summary>
internal sealed class MqttSocketTransport : IMqttClientStreamProvider
{
    public MqttSocketStream? Stream { get; private set; }

    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(brokerEndPoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return Stream = new MqttSocketStream(socket);
    }
}

/// <summary>A connected socket as a stream: buffered reads, and writes that can be held and then sent in one go.</summary>
internal sealed class MqttSocketStream(Socket socket) : Stream, IMqttClientStreamEndPoints
{
    /// <summary>Held writes beyond this are sent at once: a hold only ever gathers acknowledgements, a few bytes each.</summary>
    private const int MostHeld = 64 * 1024;

    private readonly byte[] _read = new byte[64 * 1024];
    private int _readStart;
    private int _readEnd;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ArrayBufferWriter<byte> _held = new(4096);
    private bool _holding;

    public EndPoint LocalEndPoint { get; } = socket.LocalEndPoint!;

    public EndPoint RemoteEndPoint { get; } = socket.RemoteEndPoint!;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>From now on writes wait in memory until <see cref="SendHeldAsync"/>.</summary>
    public void HoldWrites() => Volatile.Write(ref _holding, true);

    /// <summary>Sends what was written since <see cref="HoldWrites"/> in one socket write, and writes go straight out again.</summary>
    public async Task SendHeldAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(CancellationToken.None);
        try
        {
            _holding = false;
            if (_held.WrittenCount > 0)
            {
                await SendAsync(_held.WrittenMemory, cancellationToken);
            }
        }
        finally
        {
            _held.ResetWrittenCount();
            _writing.Release();
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readStart == _readEnd)
        {
            if (buffer.Length >= _read.Length)
            {
                return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            }
            _readStart = 0;
            _readEnd = await socket.ReceiveAsync(_read, SocketFlags.None, cancellationToken);
        }
        return TakeRead(buffer.Span);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_readStart == _readEnd)
        {
            _readStart = 0;
            _readEnd = socket.Receive(_read);
        }
        return TakeRead(buffer.AsSpan(offset, count));
    }

    private int TakeRead(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _readEnd - _readStart);
        _read.AsSpan(_readStart, n).CopyTo(buffer);
        _readStart += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            if (_holding && _held.WrittenCount + buffer.Length <= MostHeld)
            {
                _held.Write(buffer.Span);
                return;
            }
            if (_held.WrittenCount > 0)
            {
                await SendAsync(_held.WrittenMemory, cancellationToken);
                _held.ResetWrittenCount();
            }
            await SendAsync(buffer, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None, cancellationToken)..];
        }
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
            socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
