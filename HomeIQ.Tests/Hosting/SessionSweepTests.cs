using System.Diagnostics;
using System.Text.Json;
using HomeIQ.Hosting.Orchestration;

namespace HomeIQ.Tests.Hosting;

/// <summary>What an AppHost killed with SIGKILL leaves behind is cleaned up by the next one.</summary>
public sealed class SessionSweepTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("homeiq-sweep-").FullName;

    [Fact]
    public void ProcessesOfADeadAppHostAreStoppedAndItsSessionRemoved()
    {
        using var orphan = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        using var deadAppHost = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        deadAppHost.WaitForExit();
        var stale = Directory.CreateDirectory(Path.Combine(_root, "stale")).FullName;
        File.WriteAllText(Path.Combine(stale, "session.json"), JsonSerializer.Serialize(new
        {
            AppHostPid = deadAppHost.Id,
            AppHostStart = "0",
            Processes = new Dictionary<int, string> { [orphan.Id] = SessionRecord.StartTimeOf(orphan.Id)! },
        }));
        var live = new SessionRecord(Directory.CreateDirectory(Path.Combine(_root, "live")).FullName);
        live.Add(Environment.ProcessId);

        var swept = SessionRecord.SweepStale(_root, _ => { });

        Assert.Equal(1, swept);
        Assert.True(orphan.WaitForExit(5000), "the orphaned process was stopped");
        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(live.Directory), "a running AppHost's session is left alone");
    }

    [Fact]
    public void ARecycledProcessIdIsNotKilled()
    {
        using var bystander = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        var stale = Directory.CreateDirectory(Path.Combine(_root, "stale")).FullName;
        File.WriteAllText(Path.Combine(stale, "session.json"), JsonSerializer.Serialize(new
        {
            AppHostPid = 0,
            AppHostStart = "0",
            Processes = new Dictionary<int, string> { [bystander.Id] = "1" }, // same pid, another start time
        }));

        SessionRecord.SweepStale(_root, _ => { });

        Assert.False(bystander.HasExited);
        bystander.Kill();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
