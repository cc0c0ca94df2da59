namespace HomeIQ.Notifications.Domain;

/// <summary>
/// One notification in one user's inbox. <paramref name="Seq"/> grows by one per notification of the user, in commit order: a
/// client that reconnects asks for <c>since=</c> the last one it saw.
/// </summary>
/// <param name="Kind">anomaly, deviceOffline, anomalyResolved, automationFailed, automation or message.</param>
/// <param name="SubjectId">The anomaly, automation run or rule it is about; null for a message.</param>
/// <param name="DeviceId">The device, for anomalies.</param>
/// <param name="OccurredAt">When the fact happened (the event's time).</param>
public sealed record NotificationDto(Guid Id, long Seq, Guid HomeId, string Kind, string Title, string Message, Guid? SubjectId, Guid? DeviceId,
    DateTimeOffset OccurredAt, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>
/// What to put in the inbox of every member of a home. <paramref name="SourceKey"/> names the fact (the anomaly's detection, the run's
/// failure): a user's inbox holds one notification per key, whatever the redeliveries.
/// </summary>
public sealed record NotificationDraft(string SourceKey, string Kind, string Title, string Message, Guid? SubjectId, Guid? DeviceId, DateTimeOffset OccurredAt);

/// <summary>The kinds of notification, as the API and the preferences name them.</summary>
public static class NotificationKinds
{
    public const string Anomaly = "anomaly";
    public const string DeviceOffline = "deviceOffline";
    public const string AnomalyResolved = "anomalyResolved";
    public const string AutomationFailed = "automationFailed";
    public const string Automation = "automation";
    public const string Message = "message";

    public static readonly string[] All = [Anomaly, DeviceOffline, AnomalyResolved, AutomationFailed, Automation, Message];
}
