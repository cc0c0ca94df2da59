using System.Globalization;
using System.Text;

namespace HomeIQ.Hosting.Servers;

/// <summary>redis-server from the Debian <c>redis-server</c> package, on loopback with a password.</summary>
internal sealed class RedisLocalServer : LocalServer
{
    private string _binary = "";

    public override string DebianPackage => "redis-server";

    public override void LocateBinaries(string resourceName, string root) =>
        _binary = Binaries.Find(root, "redis-server", "/usr/bin/redis-server") ?? throw new MissingServerBinaryException(resourceName, "redis-server", DebianPackage);

    // The password lives in a private file, not on the command line where ps would show it.
    public override IReadOnlyList<ServerProcess> Processes(ServerContext context) =>
        [new ServerProcess(context.Resource.Name, _binary, [ConfigFile(context)], new Dictionary<string, string>(), context.DataDirectory)];

    public override Task PrepareAsync(ServerContext context, string password, Action<string> log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.DataDirectory);
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port {context.Port}")
            .AppendLine("bind 127.0.0.1")
            .AppendLine("protected-mode yes")
            .AppendLine(CultureInfo.InvariantCulture, $"requirepass \"{password}\"")
            .AppendLine(CultureInfo.InvariantCulture, $"dir \"{context.DataDirectory}\"")
            .AppendLine("daemonize no")
            .AppendLine("logfile \"\"")
            .AppendLine(context.Durable ? "appendonly yes" : "appendonly no")
            .AppendLine(context.Durable ? "save 60 1" : "save \"\"");
        Binaries.WritePrivateFile(ConfigFile(context), config.ToString());
        return Task.CompletedTask;
    }

    private static string ConfigFile(ServerContext context) => Path.Combine(context.ConfigDirectory, "redis.conf");
}
