using System.Globalization;
using System.Text;

namespace HomeIQ.Hosting.Servers;

/// <summary>
/// Mosquitto from the Debian <c>mosquitto</c> package: one listener on loopback, user <c>homeiq</c> from a hashed password file,
/// anonymous clients refused, sessions and queued messages persisted in the data directory.
/// </summary>
internal sealed class MosquittoLocalServer : LocalServer
{
    private string _broker = "";
    private string _passwd = "";

    public override string DebianPackage => "mosquitto";

    public override string? RootRunAsUser => "mosquitto";

    public override void LocateBinaries(string resourceName, string root)
    {
        _broker = Binaries.Find(root, "mosquitto", "/usr/sbin/mosquitto") ?? throw new MissingServerBinaryException(resourceName, "mosquitto", DebianPackage);
        _passwd = Binaries.Find(root, "mosquitto_passwd", "/usr/bin/mosquitto_passwd") ?? throw new MissingServerBinaryException(resourceName, "mosquitto_passwd", DebianPackage);
    }

    public override IReadOnlyList<ServerProcess> Processes(ServerContext context)
    {
        var (command, args) = AsUser(context, _broker, ["-c", ConfigFile(context)]);
        return [new ServerProcess(context.Resource.Name, command, args, LineBufferedStdout(), "/")];
    }

    public override async Task PrepareAsync(ServerContext context, string password, Action<string> log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.DataDirectory);
        // The plain password goes into a private file that mosquitto_passwd hashes in place: it is never on a command line.
        var passwordFile = Path.Combine(context.ConfigDirectory, "passwd");
        Binaries.WritePrivateFile(passwordFile, $"{Mqtt.MqttBrokerResource.UserName}:{password}\n");
        await Binaries.RunAsync(_passwd, ["-U", passwordFile], "mosquitto_passwd", cancellationToken).ConfigureAwait(false);
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"listener {context.Port} 127.0.0.1")
            .AppendLine("allow_anonymous false")
            .AppendLine(CultureInfo.InvariantCulture, $"password_file {passwordFile}")
            .AppendLine(context.Durable ? "persistence true" : "persistence false")
            .AppendLine(CultureInfo.InvariantCulture, $"persistence_location {context.DataDirectory.TrimEnd('/')}/")
            // Saved every 10 s and at shutdown: a broker killed with SIGKILL loses at most that window of queued messages.
            .AppendLine("autosave_interval 10")
            // A replica that is away keeps its QoS 1 messages queued (its persistent session) instead of dropping them past 1000.
            .AppendLine("max_queued_messages 100000")
            .AppendLine("log_dest stdout")
            .AppendLine("log_type error")
            .AppendLine("log_type warning")
            .AppendLine("log_type notice")
            .AppendLine("log_type information")
            .AppendLine("connection_messages true");
        Binaries.WritePrivateFile(ConfigFile(context), config.ToString());
        if (context.RunAsUser is not null)
        {
            Binaries.Chown(context.ConfigDirectory, context.RunAsUser);
            Binaries.Chown(context.DataDirectory, context.RunAsUser);
        }
    }

    /// <summary>
    /// Mosquitto before 2.0.16 block-buffers its log on a pipe, so its lines would reach the dashboard in 4 KB lumps, or only when it
    /// stops. coreutils' <c>stdbuf -oL</c> mechanism (its preload library) makes stdout line-buffered without a wrapper process.
    /// </summary>
    private static Dictionary<string, string> LineBufferedStdout() =>
        File.Exists(StdbufLibrary) ? new() { ["LD_PRELOAD"] = StdbufLibrary, ["_STDBUF_O"] = "L" } : [];

    private const string StdbufLibrary = "/usr/libexec/coreutils/libstdbuf.so";

    private static string ConfigFile(ServerContext context) => Path.Combine(context.ConfigDirectory, "mosquitto.conf");
}
