using System.Net.Mail;
using HomeIQ.Identity.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;
using HomeIQ.Postgres;

namespace HomeIQ.Identity.Apis;

/// <summary>Registration, login, token refresh, the client-credentials grant and the JWKS document.</summary>
public static class AuthApi
{
    private static readonly PasswordHasher<object> Passwords = new();
    private static readonly object PasswordUser = new();

    public sealed record RegisterRequest(string? Email, string? Password, string? DisplayName);
    public sealed record LoginRequest(string? Email, string? Password);
    public sealed record RefreshRequest(string? RefreshToken);
    public sealed record ClientTokenRequest(string? ClientId, string? ClientSecret);
    public sealed record UserCreated(Guid Id, string Email, string DisplayName);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", Jwks).AllowAnonymous();
        var auth = app.MapGroup("/api/v1/auth").AllowAnonymous();
        auth.MapPost("/register", Register);
        auth.MapPost("/login", Login);
        auth.MapPost("/refresh", Refresh);
        auth.MapPost("/token", ClientToken);
        return app;
    }

    internal static async Task<IResult> Jwks(SigningKeyStore keys, CancellationToken ct) => TypedResults.Ok(await keys.JwksAsync(ct));

    internal static async Task<Results<Created<UserCreated>, ValidationProblem, ProblemHttpResult>> Register(RegisterRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var email = request.Email?.Trim().ToLowerInvariant() ?? "";
        if (StoredText.HasControlCharacters(email))
        {
            errors["email"] = [StoredText.NoControlCharacters("email")];
        }
        else if (email.Length is 0 or > 254 || !MailAddress.TryCreate(email, out _))
        {
            errors["email"] = ["A valid email address is required."];
        }
        if (request.Password is not { Length: >= 10 and <= 128 })
        {
            errors["password"] = ["The password needs 10 to 128 characters."];
        }
        var name = request.DisplayName?.Trim() ?? "";
        if (name.Length is 0 or > 100)
        {
            errors["displayName"] = ["A display name of 1 to 100 characters is required."];
        }
        else if (StoredText.HasControlCharacters(name))
        {
            errors["displayName"] = [StoredText.NoControlCharacters("display name")];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var id = Guid.CreateVersion7();
        await using var insert = db.CreateCommand("INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING");
        insert.Parameters.Add(new() { Value = id });
        insert.Parameters.Add(new() { Value = email });
        insert.Parameters.Add(new() { Value = name });
        insert.Parameters.Add(new() { Value = Passwords.HashPassword(PasswordUser, request.Password!) });
        if (await insert.ExecuteNonQueryAsync(ct) == 0)
        {
            return TypedResults.Problem(title: "Email already registered", detail: "An account with this email exists; log in instead.", statusCode: 409);
        }
        return TypedResults.Created($"/api/v1/users/{id}", new UserCreated(id, email, name));
    }

    internal static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        LoginRequest request, NpgsqlDataSource db, TokenService tokens, IOptions<IdentitySettings> settings, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var invalid = TypedResults.Problem(title: "Login failed", detail: "The email or password is wrong.", statusCode: 401);
        if (string.IsNullOrWhiteSpace(request.Email) || string.IsNullOrEmpty(request.Password) || request.Password.Length > 128)
        {
            return invalid;
        }
        if (StoredText.HasControlCharacters(request.Email))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["email"] = [StoredText.NoControlCharacters("email")] });
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        Guid userId;
        string hash;
        DateTimeOffset? lockedUntil;
        await using (var select = new NpgsqlCommand("SELECT id, password_hash, locked_until FROM users WHERE email = $1 FOR UPDATE", connection, transaction)
                     { Parameters = { new() { Value = request.Email.Trim().ToLowerInvariant() } } })
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return invalid;
            }
            (userId, hash, lockedUntil) = (reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        }
        var now = clock.GetUtcNow();
        if (lockedUntil > now)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling((lockedUntil.Value - now).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(title: "Account locked", detail: "Too many failed logins; try again later.", statusCode: 423);
        }
        if (Passwords.VerifyHashedPassword(PasswordUser, hash, request.Password) == PasswordVerificationResult.Failed)
        {
            await using var fail = new NpgsqlCommand(
                """
                UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
                                 locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END
                WHERE id = $1
                """, connection, transaction)
            {
                Parameters = { new() { Value = userId }, new() { Value = settings.Value.MaxFailedLogins }, new() { Value = now + settings.Value.LockoutDuration } },
            };
            await fail.ExecuteNonQueryAsync(ct);
            await transaction.CommitAsync(ct);
            return invalid;
        }
        await using (var reset = new NpgsqlCommand("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", connection, transaction)
                     { Parameters = { new() { Value = userId } } })
        {
            await reset.ExecuteNonQueryAsync(ct);
        }
        var issued = await tokens.IssueAsync(connection, transaction, userId, family: null, ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(issued);
    }

    internal static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(RefreshRequest request, NpgsqlDataSource db, TokenService tokens, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken) || request.RefreshToken.Length > 200)
        {
            return TypedResults.Problem(title: "Invalid refresh token", statusCode: 401);
        }
        var (outcome, issued) = await tokens.RefreshAsync(db, request.RefreshToken, ct);
        return outcome switch
        {
            RefreshOutcome.Issued => TypedResults.Ok(issued!),
            RefreshOutcome.ReuseDetected => TypedResults.Problem(title: "Refresh token reused",
                detail: "This refresh token was already used, so every token of its session has been revoked. Log in again.", statusCode: 401),
            _ => TypedResults.Problem(title: "Invalid refresh token", detail: "It is unknown, expired or revoked. Log in again.", statusCode: 401),
        };
    }

    internal static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> ClientToken(
        ClientTokenRequest request, TokenService tokens, IOptions<IdentitySettings> settings, CancellationToken ct)
    {
        if (request.ClientId is { } id && settings.Value.Clients.TryGetValue(id, out var secret) && request.ClientSecret is { } given
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(TokenService.Hash(secret), TokenService.Hash(given)))
        {
            return TypedResults.Ok(await tokens.ServiceTokenAsync(id, ct));
        }
        return TypedResults.Problem(title: "Invalid client", detail: "Unknown client or wrong secret.", statusCode: 401);
    }
}
