using System.Globalization;
using System.Runtime.InteropServices;

namespace HomeIQ.Hosting;

/// <summary>Linux process helpers: the children of a process, and a polite stop.</summary>
internal static partial class ServiceProcesses
{
    private const int SigTerm = 15;

    /// <summary>The children of <paramref name="pid"/>, whichever of its threads started them.</summary>
    public static IEnumerable<int> ChildrenOf(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(c => int.Parse(c, CultureInfo.InvariantCulture))
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public static int Terminate(int pid) => OperatingSystem.IsWindows() ? -1 : Kill(pid, SigTerm);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
