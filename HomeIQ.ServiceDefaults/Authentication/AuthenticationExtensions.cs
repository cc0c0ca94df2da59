using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers HomeIQ's token authentication and per-home authorization.</summary>
public static class HomeIQAuthenticationExtensions
{
    /// <summary>The named HttpClient (service discovery, resilience) that fetches Identity's JWKS.</summary>
    public const string JwksHttpClientName = "homeiq-jwks";

    /// <summary>
    /// JwtBearer with Identity's RS256 access tokens: keys from <c>http://identity/.well-known/jwks.json</c> through service
    /// discovery, cached and fetched again for an unknown key id (rotation); the <see cref="HomePolicies"/>; a 401 is a
    /// ProblemDetails saying why. Settings come from the <c>Authentication</c> section. Identity registers its own
    /// <see cref="IConfigurationManager{T}"/> first, so it validates from its key store instead of over HTTP from itself.
    /// </summary>
    public static TBuilder AddHomeIQAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HomeIQAuthenticationOptions>().Bind(builder.Configuration.GetSection("Authentication"));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ValidatedTokenCache>();
        builder.Services.AddHttpClient(JwksHttpClientName);
        builder.Services.TryAddSingleton<IConfigurationManager<OpenIdConnectConfiguration>>(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<HomeIQAuthenticationOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(JwksHttpClientName);
            return new ConfigurationManager<OpenIdConnectConfiguration>(settings.JwksUri.ToString(), new JwksRetriever(), new HttpDocumentRetriever(http) { RequireHttps = false })
            {
                AutomaticRefreshInterval = settings.JwksRefreshInterval,
                // An unknown key id (rotation, or a forged kid) fetches again at most this often, so forged ids cannot flood Identity.
                RefreshInterval = settings.JwksMinimumRefetchInterval < BaseConfigurationManager.MinimumRefreshInterval
                    ? BaseConfigurationManager.MinimumRefreshInterval
                    : settings.JwksMinimumRefetchInterval,
            };
        });
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<HomeIQAuthenticationOptions>, IConfigurationManager<OpenIdConnectConfiguration>, ValidatedTokenCache>(
                (jwt, settings, keys, validated) => Configure(jwt, settings.Value, keys, validated));
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(HomePolicies.HomeMember, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner", "member", "guest")))
            .AddPolicy(HomePolicies.HomeOwner, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner")))
            .AddPolicy(HomePolicies.HomeWriter, p => p.RequireAuthenticatedUser().AddRequirements(new HomeRoleRequirement("owner", "member")))
            .AddPolicy(HomePolicies.Internal, p => p.RequireAuthenticatedUser().RequireClaim("client_id"));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, HomeRoleHandler>());
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, HomeAuthorizationResultHandler>();
        return builder;
    }

    /// <summary>Routes under this prefix are SignalR hubs: they also take the token as the <c>access_token</c> query parameter.</summary>
    public const string HubPathPrefix = "/hubs/";

    // Browsers cannot set headers on a WebSocket, so SignalR clients send the token as ?access_token=…; only hub routes accept it,
    // so a token in a URL (which proxies log) is never accepted for the HTTP API.
    private static string? QueryToken(HttpRequest request) =>
        request.Headers.Authorization.Count == 0 && request.Path.StartsWithSegments(HubPathPrefix.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
            && request.Query["access_token"].ToString() is { Length: > 0 } token
            ? token
            : null;

    private static string? RawToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : QueryToken(request);
    }

    private static void Configure(JwtBearerOptions jwt, HomeIQAuthenticationOptions settings, IConfigurationManager<OpenIdConnectConfiguration> keys, ValidatedTokenCache validated)
    {
        jwt.ConfigurationManager = keys;
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ClockSkew = settings.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            NameClaimType = "sub",
        };
        jwt.Events = new JwtBearerEvents
        {
            // A client sends the same token for its whole lifetime; an RSA verification per request is the largest cost of an
            // authenticated call through the gateway, so a token already validated (and unexpired) is not verified again.
            OnMessageReceived = context =>
            {
                if (QueryToken(context.Request) is { } fromQuery)
                {
                    context.Token = fromQuery;
                }
                if (RawToken(context.Request) is { } raw && validated.TryGet(raw, out var known))
                {
                    context.Principal = known;
                    context.Success();
                }
                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                if (context.Principal is { } principal && context.SecurityToken is { } token && RawToken(context.Request) is { } raw)
                {
                    validated.Add(raw, principal, token.ValidTo);
                }
                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var why = context.AuthenticateFailure is null ? null : context.ErrorDescription ?? context.AuthenticateFailure.Message;
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = why is null
                    ? "Bearer"
                    : $"Bearer error=\"invalid_token\", error_description=\"{why.Replace("\"", "'", StringComparison.Ordinal)}\"";
                await Results.Problem(title: "Unauthorized", detail: why ?? "An access token is required: Authorization: Bearer <token>.", statusCode: 401)
                    .ExecuteAsync(context.HttpContext).ConfigureAwait(false);
            },
            OnForbidden = context =>
                Results.Problem(title: "Forbidden", detail: "Your role does not allow this.", statusCode: 403).ExecuteAsync(context.HttpContext),
        };
    }
}
