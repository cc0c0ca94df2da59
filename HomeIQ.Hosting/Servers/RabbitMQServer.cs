using System.Globalization;
using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Orchestration;
using RabbitMQ.Client;

namespace HomeIQ.Hosting.Servers;

/// <summary>
/// RabbitMQ from the Debian <c>rabbitmq-server</c> package, as a private node: its own epmd on a private port
/// (so nothing outlives the AppHost), its own Erlang cookie and data directory, everything on loopback.
/// </summary>
internal sealed class RabbitMQServer : ILocalServer
{
    private string _server = "";
    private string _epmd = "";

    public string DebianPackage => "rabbitmq-server";

    public void LocateBinaries(string resourceName)
    {
        _server = Binaries.Find("rabbitmq-server-not-on-path", "/usr/lib/rabbitmq/bin/rabbitmq-server")
                  ?? throw new MissingServerBinaryException(resourceName, "rabbitmq-server", DebianPackage);
        _epmd = Binaries.Find("epmd", "/usr/bin/epmd")
                ?? throw new MissingServerBinaryException(resourceName, "epmd (Erlang)", DebianPackage);
    }

    public Task<IReadOnlyList<ProcessSpec>> PrepareAsync(ServerContext context, CancellationToken cancellationToken)
    {
        var server = (RabbitMQServerResource)context.Resource;
        var data = context.DataDirectory;
        Directory.CreateDirectory(data);
        var config = context.ConfigDirectory;
        var epmdPort = context.AllocatePort();
        var distPort = context.AllocatePort();

        Binaries.WritePrivateFile(Path.Combine(config, "rabbitmq.conf"), string.Join('\n',
            $"listeners.tcp.default = 127.0.0.1:{context.Port}",
            $"default_user = {server.UserName}",
            $"default_pass = {context.Password}",
            "loopback_users = none",
            "log.console = true",
            "log.console.level = info",
            "log.file = false",
            "") );
        File.WriteAllText(Path.Combine(config, "enabled_plugins"), "[].\n");
        File.WriteAllText(Path.Combine(config, "rabbitmq-env.conf"), "");

        var inv = CultureInfo.InvariantCulture;
        var erlangEnv = new Dictionary<string, string>
        {
            ["ERL_EPMD_PORT"] = epmdPort.ToString(inv),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["HOME"] = data,
        };
        var rabbitEnv = new Dictionary<string, string>(erlangEnv)
        {
            ["RABBITMQ_NODENAME"] = $"homeiq-{context.Resource.Name}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = context.Port.ToString(inv),
            ["RABBITMQ_DIST_PORT"] = distPort.ToString(inv),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(data, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(data, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(config, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(config, "advanced.config"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(config, "enabled_plugins"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(config, "rabbitmq-env.conf"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            // Makes the start script exec the Erlang VM, so the PID we hold is the broker's and SIGTERM stops it cleanly.
            ["RUNNING_UNDER_SYSTEMD"] = "true",
        };
        IReadOnlyList<ProcessSpec> specs =
        [
            new ProcessSpec(_epmd, ["-port", epmdPort.ToString(inv)]) { Environment = erlangEnv, WorkingDirectory = data },
            new ProcessSpec(_server, []) { Environment = rabbitEnv, WorkingDirectory = data, RemoveEnvironment = ["RABBITMQ_NODENAME", "ERL_LIBS"] },
        ];
        return Task.FromResult(specs);
    }

    public async Task ProbeAsync(string connectionString, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(connectionString),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
            AutomaticRecoveryEnabled = false,
        };
        await using var connection = await factory.CreateConnectionAsync("homeiq-health", cancellationToken).ConfigureAwait(false);
    }
}
