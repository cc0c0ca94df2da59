using HomeIQ.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace HomeIQ.Notifications.Infrastructure;

/// <summary>
/// The live push: a client connects with its access token and receives <c>notification</c> messages (a <see cref="Domain.NotificationDto"/>)
/// for the notifications added to its own inbox, which only ever holds notifications of homes the user is a member of.
/// Clients call nothing on it.
/// </summary>
[Authorize]
public sealed class NotificationsHub : Hub
{
    public const string Path = "/hubs/notifications";
    public const string NotificationMethod = "notification";
}

/// <summary>A connection belongs to the token's subject (the user id), which is what the inbox is keyed by.</summary>
internal sealed class SubjectUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) => connection.User.GetUserId();
}
