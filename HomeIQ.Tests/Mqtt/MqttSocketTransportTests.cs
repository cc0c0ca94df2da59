using System.Net;
using System.Net.Sockets;
using HomeIQ.Ingestion.Mqtt;

namespace HomeIQ.Tests.Mqtt;

/// <summary>The subscriber's socket stream, against a loopback peer: held writes leave together, reads are buffered but lose nothing.</summary>
public sealed class MqttSocketTransportTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Socket _peer = null!;
    private MqttSocketStream _stream = null!;

    public async ValueTask InitializeAsync()
    {
        _listener.Start();
        var accepting = _listener.AcceptSocketAsync();
        _stream = (MqttSocketStream)await new MqttSocketTransport().ConnectAsync(_listener.LocalEndpoint, CancellationToken.None);
        _peer = await accepting;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _peer.Dispose();
        _listener.Stop();
    }

    [Fact]
    public async Task HeldWritesReachThePeerOnlyOnceSentAndInOrder()
    {
        _stream.HoldWrites();
        for (byte id = 1; id <= 100; id++)
        {
            await _stream.WriteAsync(new byte[] { 0x40, 0x02, 0x00, id }, TestContext.Current.CancellationToken); // PUBACK
        }
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(0, _peer.Available);

        await _stream.SendHeldAsync(CancellationToken.None);
        var received = await ReceiveAsync(400);
        Assert.Equal(Enumerable.Range(1, 100).SelectMany(id => new byte[] { 0x40, 0x02, 0x00, (byte)id }), received);

        // Not held any more: a write goes straight out.
        await _stream.WriteAsync(new byte[] { 0xC0, 0x00 }, TestContext.Current.CancellationToken);
        Assert.Equal([0xC0, 0x00], await ReceiveAsync(2));
    }

    [Fact]
    public async Task ManySmallReadsOfOneBufferedReceiveReturnEveryByteInOrder()
    {
        var sent = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        await _peer.SendAsync(sent, TestContext.Current.CancellationToken);

        var read = new List<byte>();
        var buffer = new byte[3]; // as MQTTnet reads: a fixed header, then a body
        // A stream that lost bytes would wait for more forever: fail instead.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (read.Count < sent.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, sent.Length - read.Count)), timeout.Token);
            Assert.True(n > 0);
            read.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        Assert.Equal(sent, read);

        _peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await _stream.ReadAsync(buffer, TestContext.Current.CancellationToken)); // the peer's close is the end of the stream
    }

    private async Task<byte[]> ReceiveAsync(int count)
    {
        var buffer = new byte[count];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var at = 0; at < count;)
        {
            at += await _peer.ReceiveAsync(buffer.AsMemory(at), SocketFlags.None, timeout.Token);
        }
        return buffer;
    }
}
