using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers HomeIQ's token authentication and per-home authorization.</summary>
public static class HomeIQAuthenticationExtensions
{
    /// <summary>
    /// Bearer authentication with Identity's RS256 access tokens (keys from <c>http://identity/.well-known/jwks.json</c>
    /// through discovery, cached, refreshed on rotation) and the <see cref="HomePolicies.HomeMember"/> and
    /// <see cref="HomePolicies.HomeOwner"/> policies. Settings come from the <c>Authentication</c> section.
    /// </summary>
    public static TBuilder AddHomeIQAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HomeIQAuthenticationOptions>().Bind(builder.Configuration.GetSection("Authentication"));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<JwksKeyProvider>();
        builder.Services.TryAddSingleton<ValidatedTokenCache>();
        // Identity registers its own key store first; every other service reads Identity's JWKS.
        builder.Services.TryAddSingleton<ISigningKeySource>(sp => sp.GetRequiredService<JwksKeyProvider>());
        builder.Services.AddHttpClient(JwksKeyProvider.HttpClientName);
        builder.Services.AddAuthentication(JwtBearerHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, JwtBearerHandler>(JwtBearerHandler.SchemeName, configureOptions: null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(HomePolicies.HomeMember, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner", "member", "guest")))
            .AddPolicy(HomePolicies.HomeOwner, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner")))
            .AddPolicy(HomePolicies.HomeWriter, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner", "member")))
            .AddPolicy(HomePolicies.Internal, p => p.RequireAuthenticatedUser().RequireClaim("client_id"));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, HomeRoleHandler>());
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, HomeAuthorizationResultHandler>();
        return builder;
    }
}
