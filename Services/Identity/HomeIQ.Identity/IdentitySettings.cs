namespace HomeIQ.Identity;

/// <summary>Identity's settings, section <c>Identity</c>.</summary>
public sealed class IdentitySettings
{
    /// <summary>How long an access token is valid; short, so membership changes reach every service quickly.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a refresh token is valid if unused.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Failed logins in a row before the account is locked.</summary>
    public int MaxFailedLogins { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Service clients for the client-credentials grant: client id → secret (AppHost secret parameters).</summary>
    public Dictionary<string, string> Clients { get; set; } = new(StringComparer.Ordinal);
}
