using System.Net.Sockets;

namespace HomeIQ.Hosting;

/// <summary>Decides whether the backing servers run as containers or as local processes.</summary>
internal static class ContainerRuntime
{
    /// <summary>
    /// <c>HomeIQ:LocalServers</c>: <c>always</c>, <c>never</c>, or <c>auto</c> (the default: local when no Docker or Podman engine answers).
    /// </summary>
    public static async Task<bool> UseLocalServersAsync(string? setting, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            return false; // the servers come from Debian packages
        }
        switch (setting?.Trim().ToLowerInvariant())
        {
            case "always" or "true":
                return true;
            case "never" or "false":
                return false;
            case null or "" or "auto":
                return !await AnswersAsync(cancellationToken).ConfigureAwait(false);
            default:
                throw new InvalidOperationException($"HomeIQ:LocalServers is '{setting}'; use auto, always or never.");
        }
    }

    /// <summary>True when a Docker or Podman engine accepts a connection on its socket (a CLI alone is not a runtime).</summary>
    private static async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        foreach (var socket in CandidateSockets())
        {
            if (!File.Exists(socket))
            {
                continue;
            }
            try
            {
                using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), timeout.Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
        }
        return false;
    }

    private static IEnumerable<string> CandidateSockets()
    {
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { } dockerHost && dockerHost.StartsWith("unix://", StringComparison.Ordinal))
        {
            yield return dockerHost["unix://".Length..];
        }
        yield return "/var/run/docker.sock";
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtimeDir)
        {
            yield return Path.Combine(runtimeDir, "podman", "podman.sock");
            yield return Path.Combine(runtimeDir, "docker.sock");
        }
        yield return "/run/podman/podman.sock";
    }
}
