namespace HomeIQ.Hosting;

/// <summary>Options for <see cref="DistributedApplication.CreateBuilder(DistributedApplicationOptions)"/>.</summary>
public sealed class DistributedApplicationOptions
{
    /// <summary>The command-line arguments.</summary>
    public string[] Args { get; set; } = [];

    /// <summary>The AppHost project directory; by default read from the AppHost assembly.</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>The AppHost assembly name, used to name its data directory.</summary>
    public string? AssemblyName { get; set; }

    /// <summary>Turns off the dashboard.</summary>
    public bool DisableDashboard { get; set; }

    /// <summary>Where data lives; by default /var/lib/homeiq (root) or ~/.local/share/homeiq, or HOMEIQ_DATA_DIR.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Receives every line of resource output; by default the AppHost console.</summary>
    public Action<LogLine>? ResourceOutput { get; set; }

    /// <summary>Set by the testing builder: random ports, no dashboard, no saved secrets, no console lifetime.</summary>
    internal bool IsTesting { get; set; }
}
