using System.Diagnostics;

namespace HomeIQ.Tests.Integration;

/// <summary>Helpers shared by the integration tests.</summary>
internal static class TestApps
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Resource output goes to the output of the test that is running when it arrives, as with Aspire's testing builder.</summary>
    public static void ToTestOutput(LogLine line)
    {
        try
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{line.Resource} | {line.Text}");
        }
        catch (InvalidOperationException)
        {
            // The test this output belonged to has finished; its output is closed. The line stays in ResourceLogs.
        }
    }

    public static DistributedApplicationOptions Options(string? dataDirectory = null) => new() { ResourceOutput = ToTestOutput, DataDirectory = dataDirectory };

    public static CancellationToken Timeout(TimeSpan? timeout = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? StartTimeout);
        return cts.Token;
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited && !File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z');
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    public static int[] Pids(DistributedApplication app, string resource) =>
        app.ResourceNotifications.TryGetCurrentState(resource, out var e) ? [.. e!.Snapshot.ProcessIds] : [];

    /// <summary>Every process id of every resource (the whole tree the AppHost started).</summary>
    public static int[] AllPids(DistributedApplication app) =>
        [.. app.ResourceNotifications.CurrentStates.SelectMany(e => e.Snapshot.ProcessIds)];
}
