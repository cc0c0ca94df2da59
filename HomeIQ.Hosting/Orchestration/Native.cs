using System.Runtime.InteropServices;

namespace HomeIQ.Hosting.Orchestration;

internal static class Native
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>kill(2): a negative pid signals the whole process group.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // A blittable signature needs no marshalling code.
    public static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
