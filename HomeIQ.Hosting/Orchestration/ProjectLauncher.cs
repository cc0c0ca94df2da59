using HomeIQ.Hosting.ApplicationModel;
using HomeIQ.Hosting.Servers;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>Turns a project or executable resource into the command that starts it.</summary>
internal static class ProjectLauncher
{
    public static async Task<ProcessSpec> CreateSpecAsync(IResource resource, OrchestratorContext context, CancellationToken cancellationToken)
    {
        var args = await ResourceEnvironment.ArgsAsync(resource, cancellationToken).ConfigureAwait(false);
        switch (resource)
        {
            case ProjectResource project:
                var targetPath = await ResolveTargetPathAsync(project, context, cancellationToken).ConfigureAwait(false);
                // Projects run from their build output with the project directory as content root, as `dotnet run` would.
                return new ProcessSpec("dotnet", [targetPath, .. args])
                {
                    WorkingDirectory = Path.GetDirectoryName(project.Metadata.ProjectPath)!,
                    RemoveEnvironment = InheritedHostingVariables(),
                };
            case ExecutableResource executable:
                var command = Binaries.Find(executable.Command.Contains('/', StringComparison.Ordinal) ? null : executable.Command,
                                  Path.IsPathRooted(executable.Command) ? executable.Command : Path.Combine(executable.WorkingDirectory, executable.Command))
                              ?? throw new DistributedApplicationException(
                                  $"The program '{executable.Command}' of resource '{executable.Name}' was not found (in {executable.WorkingDirectory} or on PATH).");
                return new ProcessSpec(command, args) { WorkingDirectory = executable.WorkingDirectory };
            default:
                throw new InvalidOperationException($"Resource '{resource.Name}' is not a project or an executable.");
        }
    }

    /// <summary>The AppHost's own ASP.NET/OTEL settings must not leak into the processes it starts.</summary>
    private static string[] InheritedHostingVariables() =>
    [
        .. Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal)
                        || k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("services__", StringComparison.OrdinalIgnoreCase)),
    ];

    /// <summary>The built assembly: from the generated metadata, else by building the project once.</summary>
    private static async Task<string> ResolveTargetPathAsync(ProjectResource project, OrchestratorContext context, CancellationToken cancellationToken)
    {
        if (project.Metadata.TargetPath is { } known && File.Exists(known))
        {
            return known;
        }
        if (!File.Exists(project.Metadata.ProjectPath))
        {
            throw new DistributedApplicationException($"The project file of resource '{project.Name}' does not exist: {project.Metadata.ProjectPath}");
        }
        context.Log(project, $"building {project.Metadata.ProjectPath}");
        var output = new List<string>();
        await Binaries.RunAsync(
            new ProcessSpec("dotnet", ["build", project.Metadata.ProjectPath, "--nologo", "-v", "q", "-getProperty:TargetPath"]),
            $"Building project '{project.Name}'", cancellationToken).ConfigureAwait(false);
        var query = new ProcessSpec("dotnet", ["msbuild", project.Metadata.ProjectPath, "-getProperty:TargetPath", "-nologo"]);
        await using (var process = ManagedProcess.Start(query, (line, _) => { lock (output) { output.Add(line); } }))
        {
            await process.Exited.ConfigureAwait(false);
        }
        var path = output.Select(l => l.Trim()).LastOrDefault(l => l.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
        return path is not null && File.Exists(path)
            ? path
            : throw new DistributedApplicationException($"Could not find the build output of '{project.Name}' ({project.Metadata.ProjectPath}): {string.Join(' ', output)}");
    }
}
