using System.Diagnostics;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>What to start: a program, its arguments and environment.</summary>
internal sealed record ProcessSpec(string FileName, IReadOnlyList<string> Args)
{
    public string WorkingDirectory { get; init; } = System.Environment.CurrentDirectory;
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> RemoveEnvironment { get; init; } = [];

    /// <summary>Run as this system user (servers that refuse root).</summary>
    public string? RunAsUser { get; init; }

    /// <summary>Write output to this file instead of a pipe, so the process can outlive the AppHost.</summary>
    public string? LogFile { get; init; }
}

/// <summary>
/// A child process in its own session and process group (via setsid), so Ctrl+C in the terminal reaches only the AppHost,
/// which then stops children in order, and a stop signal reaches every process of the child's tree.
/// </summary>
internal sealed class ManagedProcess : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly CancellationTokenSource _tail = new();

    private ManagedProcess(int pid, Process? process, Task<int> exited)
    {
        Pid = pid;
        _process = process;
        Exited = exited;
    }

    public int Pid { get; }

    /// <summary>Completes with the exit code (-1 when it is unknown, for adopted processes).</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    public static ManagedProcess Start(ProcessSpec spec, Action<string, bool> onOutput)
    {
        var psi = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = spec.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = spec.LogFile is null,
            RedirectStandardError = spec.LogFile is null,
        };
        if (spec.LogFile is not null)
        {
            psi.ArgumentList.Add("/bin/sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$HOMEIQ_LOG_FILE\" 2>&1 </dev/null");
            psi.Environment["HOMEIQ_LOG_FILE"] = spec.LogFile;
        }
        if (spec.RunAsUser is not null)
        {
            psi.ArgumentList.Add("setpriv");
            psi.ArgumentList.Add($"--reuid={spec.RunAsUser}");
            psi.ArgumentList.Add($"--regid={spec.RunAsUser}");
            psi.ArgumentList.Add("--init-groups");
            psi.ArgumentList.Add("--");
        }
        psi.ArgumentList.Add(spec.FileName);
        foreach (var a in spec.Args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var name in spec.RemoveEnvironment)
        {
            psi.Environment.Remove(name);
        }
        foreach (var (k, v) in spec.Environment)
        {
            psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdoutDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderrDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (spec.LogFile is null)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is null) { stdoutDone.TrySetResult(); } else { onOutput(e.Data, false); } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is null) { stderrDone.TrySetResult(); } else { onOutput(e.Data, true); } };
        }
        else
        {
            stdoutDone.SetResult();
            stderrDone.SetResult();
        }
        process.Exited += async (_, _) =>
        {
            // Let the last lines of output arrive before reporting the exit.
            await Task.WhenAny(Task.WhenAll(stdoutDone.Task, stderrDone.Task), Task.Delay(1000)).ConfigureAwait(false);
            exited.TrySetResult(process.ExitCode);
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new DistributedApplicationException($"Could not start '{spec.FileName}': {ex.Message}", ex);
        }
        if (spec.LogFile is null)
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        var managed = new ManagedProcess(process.Id, process, exited.Task);
        if (spec.LogFile is not null)
        {
            _ = managed.TailAsync(spec.LogFile, onOutput);
        }
        return managed;
    }

    /// <summary>Takes over a process started by an earlier AppHost (a persistent resource).</summary>
    public static ManagedProcess Adopt(int pid, string? logFile, Action<string, bool> onOutput)
    {
        var managed = new ManagedProcess(pid, null, WaitForPidExitAsync(pid));
        if (logFile is not null)
        {
            _ = managed.TailAsync(logFile, onOutput, fromEnd: true);
        }
        return managed;
    }

    public static bool IsAlive(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    /// <summary>Asks the whole process group to stop, then kills it after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace, int signal = Native.SigTerm)
    {
        if (HasExited)
        {
            return;
        }
        Signal(signal);
        if (await Task.WhenAny(Exited, Task.Delay(grace)).ConfigureAwait(false) != Exited)
        {
            Signal(Native.SigKill);
            await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
        // Children that ignored the group signal (none should) are killed with the tree.
        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Sends a signal to the process group (the child is its leader).</summary>
    public void Signal(int signal)
    {
        if (Native.Kill(-Pid, signal) != 0)
        {
            Native.Kill(Pid, signal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _tail.CancelAsync().ConfigureAwait(false);
        _tail.Dispose();
        _process?.Dispose();
    }

    private async Task TailAsync(string path, Action<string, bool> onOutput, bool fromEnd = false)
    {
        try
        {
            while (!File.Exists(path))
            {
                await Task.Delay(100, _tail.Token).ConfigureAwait(false);
            }
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fromEnd)
            {
                stream.Seek(0, SeekOrigin.End);
            }
            using var reader = new StreamReader(stream);
            while (!_tail.IsCancellationRequested)
            {
                var line = await reader.ReadLineAsync(_tail.Token).ConfigureAwait(false);
                if (line is null)
                {
                    await Task.Delay(200, _tail.Token).ConfigureAwait(false);
                    continue;
                }
                onOutput(line, false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<int> WaitForPidExitAsync(int pid)
    {
        while (IsAlive(pid))
        {
            await Task.Delay(500).ConfigureAwait(false);
        }
        return -1;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat[(stat.LastIndexOf(')') + 2)..];
            return afterName.StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
