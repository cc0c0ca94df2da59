using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace HomeIQ.Bench;

/// <summary>
/// The load generator's MQTT client: MQTT 3.1.1 over one TCP connection, written straight to the socket, publishing at QoS 1.
/// <see cref="PublishAsync"/> sends one PUBLISH (one socket write, as a device or a Zigbee2MQTT bridge sends it) and completes when
/// the broker's PUBACK for its packet id arrives. It does what the bench needs and nothing more (no QoS 2, no subscriptions, no
/// reconnect): it shares the machine with the services it measures, and a full client library cost about 38 µs of CPU a message
/// there, a quarter of both cores at 14,000 messages/s.
/// </summary>
internal sealed class WirePublisher : IAsyncDisposable
{
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(20);
    private const ushort KeepAliveSeconds = 60;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);
    // Indexed by packet id (1–65535): the publish waiting for its PUBACK.
    private readonly TaskCompletionSource?[] _waiting = new TaskCompletionSource?[65536];
    private readonly CancellationTokenSource _stop = new();
    private ushort _lastId;
    private Task _receiving = Task.CompletedTask;
    private Task _pinging = Task.CompletedTask;
    private Exception? _failure;

    private WirePublisher(Socket socket) => _socket = socket;

    public static async Task<WirePublisher> ConnectAsync(string host, int port, string userName, string password, string clientId, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(host, port, cancellationToken);
        var publisher = new WirePublisher(socket);
        await publisher.HandshakeAsync(userName, password, clientId, cancellationToken);
        publisher._receiving = Task.Run(publisher.ReceiveAsync, CancellationToken.None);
        publisher._pinging = Task.Run(publisher.PingAsync, CancellationToken.None);
        return publisher;
    }

    /// <summary>Sends the message at QoS 1; the task completes on its PUBACK and fails if the connection ends first.</summary>
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var topicLength = Encoding.UTF8.GetByteCount(topic);
        var remaining = 2 + topicLength + 2 + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(remaining + 5);
        try
        {
            await _sending.WaitAsync();
            try
            {
                if (_failure is not null)
                {
                    throw new IOException("The connection to the broker ended.", _failure);
                }
                var id = NextId();
                Volatile.Write(ref _waiting[id], done);
                if (_failure is { } failure)
                {
                    // The connection ended between the check above and now: Fail may have swept before this publish was registered.
                    Interlocked.Exchange(ref _waiting[id], null)?.TrySetException(new IOException("The connection to the broker ended.", failure));
                    throw new IOException("The connection to the broker ended.", failure);
                }
                var at = 0;
                buffer[at++] = 0x32; // PUBLISH, QoS 1
                at = WriteLength(buffer, at, remaining);
                buffer[at++] = (byte)(topicLength >> 8);
                buffer[at++] = (byte)topicLength;
                at += Encoding.UTF8.GetBytes(topic, buffer.AsSpan(at));
                buffer[at++] = (byte)(id >> 8);
                buffer[at++] = (byte)id;
                payload.Span.CopyTo(buffer.AsSpan(at));
                at += payload.Length;
                await SendAsync(buffer.AsMemory(0, at));
            }
            finally
            {
                _sending.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _sending.WaitAsync();
            await _socket.SendAsync(new byte[] { 0xE0, 0x00 }); // DISCONNECT
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        _socket.Shutdown(SocketShutdown.Both);
        _socket.Dispose();
        await Task.WhenAll(_receiving, _pinging).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task HandshakeAsync(string userName, string password, string clientId, CancellationToken cancellationToken)
    {
        var body = new List<byte>();
        AddString(body, "MQTT");
        body.Add(4);    // protocol level: 3.1.1
        body.Add(0xC2); // user name, password, clean session
        body.Add(KeepAliveSeconds >> 8);
        body.Add(KeepAliveSeconds & 0xFF);
        AddString(body, clientId);
        AddString(body, userName);
        AddString(body, password);
        var packet = new byte[body.Count + 5];
        packet[0] = 0x10; // CONNECT
        var at = WriteLength(packet, 1, body.Count);
        body.CopyTo(packet, at);
        await _socket.SendAsync(packet.AsMemory(0, at + body.Count), cancellationToken);
        var connack = new byte[4];
        for (var read = 0; read < connack.Length;)
        {
            var n = await _socket.ReceiveAsync(connack.AsMemory(read), cancellationToken);
            read += n > 0 ? n : throw new IOException("The broker closed the connection before its CONNACK.");
        }
        if (connack[0] != 0x20 || connack[3] != 0)
        {
            throw new IOException($"The broker refused the connection (CONNACK {Convert.ToHexString(connack)}).");
        }
    }

    private static void AddString(List<byte> body, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }

    /// <summary>The MQTT variable-length "remaining length" at <paramref name="at"/>; returns the index after it.</summary>
    private static int WriteLength(byte[] buffer, int at, int length)
    {
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            buffer[at++] = length > 0 ? (byte)(digit | 0x80) : digit;
        }
        while (length > 0);
        return at;
    }

    private ushort NextId()
    {
        for (var tries = 0; tries < 65535; tries++)
        {
            _lastId = _lastId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastId + 1);
            if (Volatile.Read(ref _waiting[_lastId]) is null)
            {
                return _lastId;
            }
        }
        throw new InvalidOperationException("Every packet id is waiting for its PUBACK.");
    }

    private async Task SendAsync(ReadOnlyMemory<byte> packet)
    {
        while (packet.Length > 0)
        {
            var sent = await _socket.SendAsync(packet);
            packet = packet[sent..];
        }
    }

    /// <summary>Reads the broker's packets; a PUBACK completes its publish. Anything else (PINGRESP) is skipped.</summary>
    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var start = 0;
        var end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    Array.Copy(buffer, start, buffer, 0, end - start);
                    (end, start) = (end - start, 0);
                }
                var n = await _socket.ReceiveAsync(buffer.AsMemory(end), _stop.Token);
                if (n == 0)
                {
                    throw new IOException("The broker closed the connection.");
                }
                end += n;
                while (TryReadPacket(buffer, start, end, out var type, out var bodyAt, out var bodyLength))
                {
                    if (type == 0x40 && bodyLength >= 2)
                    {
                        var id = (buffer[bodyAt] << 8) | buffer[bodyAt + 1];
                        Interlocked.Exchange(ref _waiting[id], null)?.TrySetResult();
                    }
                    start = bodyAt + bodyLength;
                }
                if (start == end)
                {
                    (start, end) = (0, 0);
                }
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    private static bool TryReadPacket(byte[] buffer, int start, int end, out int type, out int bodyAt, out int bodyLength)
    {
        (type, bodyAt, bodyLength) = (0, 0, 0);
        if (end - start < 2)
        {
            return false;
        }
        type = buffer[start] & 0xF0;
        var multiplier = 1;
        var at = start + 1;
        while (true)
        {
            if (at == end)
            {
                return false;
            }
            var digit = buffer[at++];
            bodyLength += (digit & 0x7F) * multiplier;
            multiplier *= 128;
            if ((digit & 0x80) == 0)
            {
                break;
            }
        }
        bodyAt = at;
        return end - at >= bodyLength;
    }

    private async Task PingAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(PingEvery, _stop.Token);
                await _sending.WaitAsync(_stop.Token);
                try
                {
                    await SendAsync(new byte[] { 0xC0, 0x00 }); // PINGREQ
                }
                finally
                {
                    _sending.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    private void Fail(Exception ex)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        Volatile.Write(ref _failure, ex);
        for (var id = 0; id < _waiting.Length; id++)
        {
            Interlocked.Exchange(ref _waiting[id], null)?.TrySetException(new IOException("The connection to the broker ended before its PUBACK.", ex));
        }
    }
}
