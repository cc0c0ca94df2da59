using System.Globalization;
using System.Security.Claims;
using HomeIQ.Notifications.Domain;
using HomeIQ.ServiceDefaults.Time;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace HomeIQ.Notifications.Apis;

/// <summary>
/// The caller's preferences: which kinds are muted (never stored for the caller) and quiet hours in the caller's time zone (stored,
/// not pushed live). They apply to notifications added after they change.
/// </summary>
public static class PreferencesApi
{
    private static readonly PreferencesDto Defaults = new("UTC", null, []);

    public static IEndpointRouteBuilder MapPreferencesApi(this IEndpointRouteBuilder app)
    {
        var preferences = app.MapGroup("/api/v1/notifications/preferences").WithTags("Notifications").RequireAuthorization();
        preferences.MapGet("/", Get);
        preferences.MapPut("/", Put);
        return app;
    }

    private static ProblemHttpResult UsersOnly() =>
        TypedResults.Problem(title: "Users only", detail: "A service token has no preferences.", statusCode: StatusCodes.Status403Forbidden);

    /// <summary>The caller's preferences (UTC, no quiet hours, nothing muted until set).</summary>
    internal static async Task<Results<Ok<PreferencesDto>, ProblemHttpResult>> Get(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        await using var command = db.CreateCommand("SELECT time_zone, quiet_from, quiet_to, muted_kinds FROM notification_preferences WHERE user_id = $1");
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return TypedResults.Ok(Defaults);
        }
        var quiet = reader.IsDBNull(1) || reader.IsDBNull(2) ? null
            : new QuietHoursDto(Format(reader.GetFieldValue<TimeOnly>(1)), Format(reader.GetFieldValue<TimeOnly>(2)));
        return TypedResults.Ok(new PreferencesDto(reader.GetString(0), quiet, reader.GetFieldValue<string[]>(3)));
    }

    /// <summary>Replaces the caller's preferences; every field is checked and a wrong one is named in a 400.</summary>
    internal static async Task<Results<Ok<PreferencesDto>, ValidationProblem, ProblemHttpResult>> Put(PreferencesRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, CancellationToken ct)
    {
        if (Caller.UserId(user) is not { } userId)
        {
            return UsersOnly();
        }
        var errors = new Dictionary<string, string[]>();
        var zoneId = request.TimeZone ?? Defaults.TimeZone;
        if (TimeZones.Find(zoneId) is null)
        {
            errors["timeZone"] = ["'timeZone' must be an IANA time zone, e.g. Europe/Paris or America/New_York."];
        }
        TimeOnly? from = null, to = null;
        if (request.QuietHours is { } quiet)
        {
            from = ParseTime(quiet.From);
            to = ParseTime(quiet.To);
            if (from is null || to is null)
            {
                errors["quietHours"] = ["'quietHours' needs 'from' and 'to' as HH:mm (24-hour local time), e.g. {\"from\":\"22:00\",\"to\":\"07:00\"}."];
            }
            else if (from == to)
            {
                errors["quietHours"] = ["'from' and 'to' must differ; to turn quiet hours off, send \"quietHours\": null."];
            }
        }
        var muted = request.MutedKinds ?? [];
        if (muted.Any(k => !NotificationKinds.All.Contains(k)))
        {
            errors["mutedKinds"] = [$"'mutedKinds' may only hold {string.Join(", ", NotificationKinds.All)}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var command = db.CreateCommand("""
            INSERT INTO notification_preferences (user_id, time_zone, quiet_from, quiet_to, muted_kinds) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone, quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to,
                muted_kinds = excluded.muted_kinds, updated_at = now()
            """);
        var kinds = muted.Distinct().Order(StringComparer.Ordinal).ToArray();
        foreach (var value in new object?[] { userId, zoneId, from, to, kinds })
        {
            command.Parameters.Add(new() { Value = value ?? DBNull.Value });
        }
        await command.ExecuteNonQueryAsync(ct);
        return TypedResults.Ok(new PreferencesDto(zoneId, from is { } f && to is { } t ? new QuietHoursDto(Format(f), Format(t)) : null, kinds));
    }

    private static TimeOnly? ParseTime(string? raw) =>
        TimeOnly.TryParseExact(raw, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;

    private static string Format(TimeOnly time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);
}
