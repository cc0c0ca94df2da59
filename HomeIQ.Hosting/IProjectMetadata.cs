namespace HomeIQ.Hosting;

/// <summary>Metadata of a project referenced by the AppHost, generated as <c>Projects.*</c>.</summary>
public interface IProjectMetadata
{
    /// <summary>The absolute path of the project file.</summary>
    string ProjectPath { get; }

    /// <summary>The built assembly when known at AppHost build time; otherwise the orchestrator builds the project.</summary>
    string? TargetPath => null;
}

/// <summary>Project metadata for a path given at run time.</summary>
public sealed record ProjectMetadata(string ProjectPath, string? TargetPath = null) : IProjectMetadata;
