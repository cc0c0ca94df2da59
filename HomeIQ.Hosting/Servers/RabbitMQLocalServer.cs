using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Servers;

/// <summary>
/// RabbitMQ from the Debian <c>rabbitmq-server</c> package as a private node: its own epmd on a private port (run by DCP too, so
/// nothing outlives the AppHost), its own Erlang cookie and data directory, everything on loopback.
/// </summary>
internal sealed class RabbitMQLocalServer : LocalServer
{
    private const string EpmdPort = "epmd";
    private const string DistributionPort = "dist";
    private string _server = "";
    private string _epmd = "";

    public override string DebianPackage => "rabbitmq-server";

    public override void LocateBinaries(string resourceName, string root)
    {
        _server = Binaries.Find(root, null, "/usr/lib/rabbitmq/bin/rabbitmq-server") ?? throw new MissingServerBinaryException(resourceName, "rabbitmq-server", DebianPackage);
        _epmd = Binaries.Find(root, "epmd", "/usr/bin/epmd") ?? throw new MissingServerBinaryException(resourceName, "epmd (Erlang)", DebianPackage);
    }

    public override void AllocatePorts(ServerContext context)
    {
        context.ExtraPorts[EpmdPort] = LoopbackPorts.Allocate();
        context.ExtraPorts[DistributionPort] = LoopbackPorts.Allocate();
    }

    public override IReadOnlyList<ServerProcess> Processes(ServerContext context)
    {
        var inv = CultureInfo.InvariantCulture;
        var epmdPort = context.ExtraPorts[EpmdPort].ToString(inv);
        var config = context.ConfigDirectory;
        var data = context.DataDirectory;
        var erlang = new Dictionary<string, string> { ["ERL_EPMD_PORT"] = epmdPort, ["ERL_EPMD_ADDRESS"] = "127.0.0.1", ["HOME"] = data };
        var rabbit = new Dictionary<string, string>(erlang)
        {
            ["RABBITMQ_NODENAME"] = $"homeiq-{context.Resource.Name}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = context.Port.ToString(inv),
            ["RABBITMQ_DIST_PORT"] = context.ExtraPorts[DistributionPort].ToString(inv),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(data, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(data, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(config, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(config, "advanced.config"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(config, "enabled_plugins"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(config, "rabbitmq-env.conf"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["ERL_LIBS"] = "",
            // Every Erlang VM of the broker (also the one RabbitMQ runs to bring its epmd back when the epmd it registered with is
            // gone) would otherwise start an `epmd -daemon` of its own, which DCP does not know of and which outlives the AppHost.
            // The epmd above is started and listening before the broker starts (PrepareAsync waits for it).
            ["ERL_AFLAGS"] = "-start_epmd false",
            // Makes the start script exec the Erlang VM, so the PID DCP holds is the broker's and SIGTERM stops it cleanly.
            ["RUNNING_UNDER_SYSTEMD"] = "true",
        };
        return
        [
            new ServerProcess($"{context.Resource.Name}-epmd", _epmd, ["-port", epmdPort, "-address", "127.0.0.1"], erlang, "/"),
            new ServerProcess(context.Resource.Name, _server, [], rabbit, data),
        ];
    }

    public override async Task PrepareAsync(ServerContext context, string password, Action<string> log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.DataDirectory);
        var config = context.ConfigDirectory;
        var user = context.Resource is RabbitMQServerResource server && server.UserNameParameter is { } userName
            ? await userName.GetValueAsync(cancellationToken).ConfigureAwait(false)
            : "guest";
        Binaries.WritePrivateFile(Path.Combine(config, "rabbitmq.conf"), string.Join('\n',
            $"listeners.tcp.default = 127.0.0.1:{context.Port}",
            $"default_user = {user}",
            $"default_pass = {password}",
            "loopback_users = none",
            "log.console = true",
            "log.console.level = info",
            "log.file = false",
            ""));
        await File.WriteAllTextAsync(Path.Combine(config, "enabled_plugins"), "[].\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(config, "rabbitmq-env.conf"), "", cancellationToken).ConfigureAwait(false);
        // The broker registers with its epmd at boot: wait until that epmd listens (it starts just before).
        await WaitForListenerAsync(context.ExtraPorts[EpmdPort], TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }

    private static async Task WaitForListenerAsync(int port, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
