using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>The per-home policies. A route using them has a <c>{homeId}</c> parameter.</summary>
public static class HomePolicies
{
    /// <summary>Any member of the home: owner, member or guest.</summary>
    public const string HomeMember = nameof(HomeMember);

    /// <summary>The home's owner only.</summary>
    public const string HomeOwner = nameof(HomeOwner);

    /// <summary>Owner or member: may change the home's devices, rooms and automations; guests only read.</summary>
    public const string HomeWriter = nameof(HomeWriter);

    /// <summary>Service-to-service calls only: a token from the client-credentials grant (it has a <c>client_id</c> claim).</summary>
    public const string Internal = nameof(Internal);

    /// <summary>The route parameter that names the home.</summary>
    public const string HomeIdRouteValue = "homeId";
}

/// <summary>Requires one of <paramref name="roles"/> in the home named by the route's <c>{homeId}</c>.</summary>
public sealed class HomeRoleRequirement(params string[] roles) : IAuthorizationRequirement
{
    /// <summary>The roles that satisfy the requirement.</summary>
    public IReadOnlyList<string> Roles { get; } = roles;
}

/// <summary>Checks <see cref="HomeRoleRequirement"/> against the token's <c>homes</c> claim.</summary>
public sealed class HomeRoleHandler : AuthorizationHandler<HomeRoleRequirement>
{
    /// <summary>The failure reason that is answered 404: the user is not in the home, and must not learn that it exists.</summary>
    public const string NotAMember = "not-a-member";

    /// <inheritdoc />
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, HomeRoleRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        var http = context.Resource as HttpContext;
        var role = http?.Request.RouteValues[HomePolicies.HomeIdRouteValue] is { } value && Guid.TryParse(value.ToString(), out var homeId)
            ? context.User.GetHomeRole(homeId)
            : null;
        if (role is null)
        {
            context.Fail(new AuthorizationFailureReason(this, NotAMember));
        }
        else if (requirement.Roles.Contains(role, StringComparer.OrdinalIgnoreCase))
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, $"role '{role}' is not one of {string.Join(", ", requirement.Roles)}"));
        }
        return Task.CompletedTask;
    }
}

/// <summary>Answers "not a member of this home" with 404, so the existence of other homes is never revealed; other failures as usual.</summary>
public sealed class HomeAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc />
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Forbidden && authorizeResult.AuthorizationFailure?.FailureReasons.Any(r => r.Message == HomeRoleHandler.NotAMember) == true)
        {
            return Results.Problem(title: "Not found", detail: "There is no such home.", statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context);
        }
        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
