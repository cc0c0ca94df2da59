using HomeIQ.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Servers;

/// <summary>Says which local server process runs a server resource in run mode.</summary>
internal sealed class LocalServerAnnotation(ILocalServer server) : IResourceAnnotation
{
    public ILocalServer Server { get; } = server;
}
