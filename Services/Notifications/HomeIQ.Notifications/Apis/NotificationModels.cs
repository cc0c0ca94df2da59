using System.Globalization;
using System.Security.Claims;
using HomeIQ.Notifications.Domain;
using HomeIQ.ServiceDefaults.Authentication;
using HomeIQ.ServiceDefaults.Errors;

namespace HomeIQ.Notifications.Apis;

/// <summary>A page of notifications; <paramref name="Next"/> is the <c>after</c> (or, when catching up, the <c>since</c>) of the next page, null on the last.</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationDto> Notifications, long? Next);

/// <summary>Unread notifications of the caller, in all and per home.</summary>
public sealed record UnreadCount(int Unread, IReadOnlyDictionary<Guid, int> ByHome);

/// <summary>Marks the caller's notifications read: all, or those of <paramref name="HomeId"/>, up to <paramref name="UpTo"/> (a seq) when given.</summary>
public sealed record MarkAllReadRequest(Guid? HomeId, long? UpTo);

/// <summary>How many notifications changed.</summary>
public sealed record Marked(int Count);

/// <summary>A message from a member to every member of the home.</summary>
public sealed record AnnounceRequest(string? Title, string? Message);

/// <summary>How many members' inboxes got the message.</summary>
public sealed record Announced(int Delivered);

/// <summary>
/// The caller's notification preferences. <paramref name="TimeZone"/> is an IANA id (default UTC); <paramref name="QuietHours"/> is a
/// daily local window (<c>{"from":"22:00","to":"07:00"}</c>) during which nothing is pushed live; <paramref name="MutedKinds"/> are
/// kinds never stored for the caller.
/// </summary>
public sealed record PreferencesDto(string TimeZone, QuietHoursDto? QuietHours, IReadOnlyList<string> MutedKinds);

/// <summary>What PUT …/preferences takes: the same fields; a missing time zone is UTC, missing muted kinds are none.</summary>
public sealed record PreferencesRequest(string? TimeZone, QuietHoursDto? QuietHours, string[]? MutedKinds);

/// <summary>A quiet window as local wall-clock times, HH:mm.</summary>
public sealed record QuietHoursDto(string From, string To);

/// <summary>The query parameters of the inbox.</summary>
internal sealed class InboxQuery : QueryErrors
{
    /// <summary>A seq: a whole number from 0, or null when absent.</summary>
    public long? Seq(string name, string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        Add(name, $"'{name}' must be a whole number: the seq of a notification, or a page's 'next'.");
        return null;
    }

    /// <summary>true or false, or null when absent.</summary>
    public bool? Flag(string name, string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        if (bool.TryParse(raw, out var value))
        {
            return value;
        }
        Add(name, $"'{name}' must be true or false.");
        return null;
    }
}

internal static class Caller
{
    /// <summary>The calling user; null for a service token, whose subject is not a user.</summary>
    public static Guid? UserId(ClaimsPrincipal user) => Guid.TryParse(user.GetUserId(), out var id) ? id : null;
}
