using HomeIQ.Hosting.ApplicationModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace HomeIQ.Hosting.Dashboard;

/// <summary>Resources, their console output and their commands, under <c>/api/v1/resources</c>.</summary>
internal static class ResourceApi
{
    public sealed record ResourceDto(
        string Name, string Type, string State, string? Health, string? StateReason, int? ExitCode, DateTimeOffset? StartTime, DateTimeOffset? StopTime,
        int RestartCount, int Replicas, IReadOnlyList<string> Urls, IReadOnlyList<int> ProcessIds, IReadOnlyDictionary<string, string> Environment,
        IReadOnlyList<string> References, IReadOnlyList<string> Commands);

    public sealed record ConsoleLineDto(string Resource, DateTimeOffset Timestamp, string Text, bool IsError);

    public static IEndpointRouteBuilder MapResourceApi(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/resources");
        group.MapGet("/", GetResources);
        group.MapGet("/{name}", GetResource);
        group.MapGet("/{name}/console", GetConsole);
        group.MapPost("/{name}/commands/{command}", ExecuteCommand);
        return api;
    }

    public static ResourceDto ToDto(ResourceEvent e)
    {
        var r = e.Resource;
        var s = e.Snapshot;
        var hasProcess = r is ProjectResource or ExecutableResource or ServerResource;
        return new ResourceDto(
            r.Name, s.ResourceType, s.State, s.HealthStatus?.ToString(), s.StateReason, s.ExitCode, s.StartTimeStamp, s.StopTimeStamp, s.RestartCount,
            r.Annotations.Last<ReplicaAnnotation>()?.Replicas ?? 1, s.Urls, s.ProcessIds, s.EnvironmentVariables,
            [.. r.Annotations.All<ResourceRelationshipAnnotation>().Select(a => a.Resource.Name).Distinct(StringComparer.Ordinal)],
            hasProcess ? [KnownResourceCommands.Start, KnownResourceCommands.Stop, KnownResourceCommands.Restart] : []);
    }

    private static Ok<ResourceDto[]> GetResources(ResourceNotificationService notifications) =>
        TypedResults.Ok(notifications.CurrentStates.Select(ToDto).ToArray());

    private static Results<Ok<ResourceDto>, NotFound<ProblemDetailsDto>> GetResource(string name, ResourceNotificationService notifications) =>
        notifications.TryGetCurrentState(name, out var e) ? TypedResults.Ok(ToDto(e!)) : NotFound(name);

    private static Results<Ok<ConsoleLineDto[]>, NotFound<ProblemDetailsDto>> GetConsole(
        string name, ResourceNotificationService notifications, ResourceLoggerService logs, int? tail)
    {
        if (!notifications.TryGetCurrentState(name, out _))
        {
            return NotFound(name);
        }
        var lines = logs.GetLines(name);
        var take = Math.Clamp(tail ?? 1000, 1, 10_000);
        return TypedResults.Ok(lines.Skip(Math.Max(0, lines.Count - take)).Select(l => new ConsoleLineDto(l.Resource, l.Timestamp, l.Text, l.IsError)).ToArray());
    }

    private static async Task<Results<Ok<ExecuteCommandResult>, NotFound<ProblemDetailsDto>, BadRequest<ProblemDetailsDto>>> ExecuteCommand(
        string name, string command, ResourceNotificationService notifications, ResourceCommandService commands, CancellationToken cancellationToken)
    {
        if (!notifications.TryGetCurrentState(name, out _))
        {
            return NotFound(name);
        }
        var result = await commands.ExecuteCommandAsync(name, command, cancellationToken).ConfigureAwait(false);
        return result.Success ? TypedResults.Ok(result) : TypedResults.BadRequest(new ProblemDetailsDto("Command failed", result.ErrorMessage ?? "", 400));
    }

    private static NotFound<ProblemDetailsDto> NotFound(string name) =>
        TypedResults.NotFound(new ProblemDetailsDto("Unknown resource", $"There is no resource named '{name}'.", 404));

    /// <summary>A ProblemDetails body for typed results.</summary>
    public sealed record ProblemDetailsDto(string Title, string Detail, int Status);
}
