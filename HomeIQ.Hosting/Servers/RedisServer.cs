using System.Globalization;
using System.Net.Sockets;
using System.Text;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Hosting.Servers;

/// <summary>redis-server from the Debian <c>redis-server</c> package, on loopback with a password.</summary>
internal sealed class RedisServer(IReadOnlyList<string>? candidates = null, bool searchPath = true) : ILocalServer
{
    private string _binary = "";

    public string DebianPackage => "redis-server";

    public void LocateBinaries(string resourceName)
    {
        _binary = Binaries.Find(searchPath ? "redis-server" : null, [.. candidates ?? ["/usr/bin/redis-server"]])
                  ?? throw new MissingServerBinaryException(resourceName, "redis-server", DebianPackage);
    }

    public Task<IReadOnlyList<ProcessSpec>> PrepareAsync(ServerContext context, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.DataDirectory);
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port {context.Port}")
            .AppendLine("bind 127.0.0.1")
            .AppendLine("protected-mode yes")
            .AppendLine(CultureInfo.InvariantCulture, $"requirepass \"{context.Password}\"")
            .AppendLine(CultureInfo.InvariantCulture, $"dir \"{context.DataDirectory}\"")
            .AppendLine("daemonize no")
            .AppendLine("logfile \"\"")
            .AppendLine(context.Durable ? "appendonly yes" : "appendonly no")
            .AppendLine(context.Durable ? "save 60 1" : "save \"\"");
        var file = Path.Combine(context.ConfigDirectory, "redis.conf");
        // The password lives in a private file, not on the command line where ps would show it.
        Binaries.WritePrivateFile(file, config.ToString());
        IReadOnlyList<ProcessSpec> specs = [new ProcessSpec(_binary, [file]) { WorkingDirectory = context.DataDirectory }];
        return Task.FromResult(specs);
    }

    /// <summary>AUTH then PING over RESP; the health check needs no client library.</summary>
    public async Task ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        var parts = connectionString.Split(',');
        var hostPort = parts[0].Split(':');
        var password = parts.Skip(1).Select(p => p.Split('=', 2)).FirstOrDefault(kv => kv[0].Trim() == "password")?[1] ?? "";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        using var client = new TcpClient();
        await client.ConnectAsync(hostPort[0], int.Parse(hostPort[1], CultureInfo.InvariantCulture), timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        var request = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request), timeout.Token).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var auth = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        var ping = auth == "+OK" ? await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false) : null;
        if (ping != "+PONG")
        {
            throw new InvalidOperationException($"Redis answered '{auth}' to AUTH and '{ping}' to PING.");
        }
    }
}
