using System.Net;
using System.Net.Sockets;

namespace HomeIQ.Hosting;

/// <summary>Free TCP ports on 127.0.0.1, chosen by the kernel.</summary>
internal static class LoopbackPorts
{
    public static int Allocate()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
