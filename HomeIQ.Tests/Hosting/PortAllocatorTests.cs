using System.Net;
using System.Net.Sockets;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Tests.Hosting;

public sealed class PortAllocatorTests
{
    [Fact]
    public void AFixedPortInUseIsAClearErrorNamingTheResourceAndPort()
    {
        using var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;

        var ex = Assert.Throws<DistributedApplicationException>(() => new PortAllocator().Reserve(port, "gateway"));

        Assert.Contains($"Port {port} for resource 'gateway' is already in use", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AllocatedPortsAreFreeAndNeverRepeatedInARun()
    {
        var allocator = new PortAllocator();

        var ports = Enumerable.Range(0, 50).Select(_ => allocator.Allocate()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, p => Assert.True(PortAllocator.IsFree(p)));
    }
}
