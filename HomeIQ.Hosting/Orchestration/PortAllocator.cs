using System.Net;
using System.Net.Sockets;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>Hands out free loopback ports, never the same one twice in a run.</summary>
internal sealed class PortAllocator
{
    private readonly HashSet<int> _given = [];
    private readonly Lock _gate = new();

    public int Allocate()
    {
        lock (_gate)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (_given.Add(port))
                {
                    return port;
                }
            }
            throw new DistributedApplicationException("Could not find a free loopback port.");
        }
    }

    /// <summary>Reserves a fixed port; throws a clear error naming the resource when it is in use.</summary>
    public void Reserve(int port, string resourceName)
    {
        lock (_gate)
        {
            if (!IsFree(port) || !_given.Add(port))
            {
                throw new DistributedApplicationException(
                    $"Port {port} for resource '{resourceName}' is already in use. Stop whatever listens on it, or choose another port in WithHttpEndpoint(port: …).");
            }
        }
    }

    /// <summary>Takes a port that is free now; false when something listens on it or it was handed out.</summary>
    public bool TryReserve(int port)
    {
        lock (_gate)
        {
            return IsFree(port) && _given.Add(port);
        }
    }

    /// <summary>Takes a port our own persistent server already listens on; false when it was handed out in this run.</summary>
    public bool Claim(int port)
    {
        lock (_gate)
        {
            return _given.Add(port);
        }
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
