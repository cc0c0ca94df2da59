using System.Net;
using System.Net.Sockets;

namespace HomeIQ.Hosting;

/// <summary>
/// Free TCP ports on 127.0.0.1 for the local servers, chosen below the kernel's range of ephemeral ports. A port the kernel picks
/// (bind to port 0) comes from that range, and once released it can become the local port of any outgoing connection before the
/// server binds it: in a pipeline benchmark run Redis then failed to start ("Address already in use") and everything waiting for it
/// waited for good. Ports below the range are never given to outgoing connections.
/// </summary>
internal static class LoopbackPorts
{
    private const int Lowest = 15_000;
    private static readonly HashSet<int> Handed = [];

    public static int Allocate()
    {
        // Linux says its range in /proc (32768–60999 by default); Windows and macOS start theirs at 49152.
        var ephemeralStart = EphemeralRangeStart() ?? 49_152;
        var highest = Math.Min(ephemeralStart, 32_768);
        lock (Handed)
        {
            for (var attempt = 0; highest - Lowest > 1_000 && attempt < 100; attempt++)
            {
                var port = Random.Shared.Next(Lowest, highest);
                if (!Handed.Contains(port) && IsFree(port))
                {
                    Handed.Add(port);
                    return port;
                }
            }
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var chosen = ((IPEndPoint)listener.LocalEndpoint).Port;
            Handed.Add(chosen);
            return chosen;
        }
    }

    private static bool IsFree(int port)
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

    private static int? EphemeralRangeStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return range.Length > 0 && int.TryParse(range[0], out var start) ? start : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
