using HomeIQ.Postgres;
using HomeIQ.Identity.Infrastructure;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace HomeIQ.Identity;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("identitydb");
        builder.Services.AddOptions<IdentitySettings>().Bind(builder.Configuration.GetSection("Identity")).ValidateOnStart();
        builder.Services.AddPostgresSchema(IdentitySchema.Name, IdentitySchema.Ddl);
        builder.Services.AddSingleton<SigningKeyStore>();
        // Identity validates its own tokens from its key store, not over HTTP from itself.
        builder.Services.AddSingleton<IConfigurationManager<OpenIdConnectConfiguration>>(sp => sp.GetRequiredService<SigningKeyStore>());
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddHomeIQAuthentication();
    }
}
