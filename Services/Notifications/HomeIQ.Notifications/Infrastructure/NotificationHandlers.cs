using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.Notifications.Domain;
using Npgsql;

namespace HomeIQ.Notifications.Infrastructure;

/// <summary>
/// Turns anomaly and automation events into notifications for every member of the home. No inbox table is needed: each notification's
/// source key (the anomaly's detection, the run's failure, the rule's event) is unique per user, so a redelivery adds nothing.
/// There is no hub-offline event yet; a device offline is an offline anomaly.
/// </summary>
internal sealed class NotificationHandlers(InboxWriter inbox, NpgsqlDataSource db) : IIntegrationEventHandler<AnomalyDetected>,
    IIntegrationEventHandler<AnomalyResolved>, IIntegrationEventHandler<AutomationRunFailed>, IIntegrationEventHandler<AutomationNotificationRequested>
{
    public Task HandleAsync(AnomalyDetected @event, CancellationToken cancellationToken)
    {
        var offline = @event.Kind == AnomalyKind.Offline;
        var title = offline ? $"Device offline ({@event.Metric})" : $"{KindTitle(@event.Kind)}: {@event.Metric}";
        return inbox.DeliverAsync(@event.HomeId, new NotificationDraft($"anomaly.detected:{@event.AnomalyId}",
            offline ? NotificationKinds.DeviceOffline : NotificationKinds.Anomaly, title, @event.Description, @event.AnomalyId, @event.DeviceId,
            @event.OccurredAt), cancellationToken);
    }

    public async Task HandleAsync(AnomalyResolved @event, CancellationToken cancellationToken)
    {
        // The event does not say what resolved; the detection's notification does, when this service saw it.
        await using var select = db.CreateCommand("SELECT kind FROM notifications WHERE subject_id = $1 AND source_key = $2 LIMIT 1");
        select.Parameters.Add(new() { Value = @event.AnomalyId });
        select.Parameters.Add(new() { Value = $"anomaly.detected:{@event.AnomalyId}" });
        var wasOffline = await select.ExecuteScalarAsync(cancellationToken) as string == NotificationKinds.DeviceOffline;
        await inbox.DeliverAsync(@event.HomeId, new NotificationDraft($"anomaly.resolved:{@event.AnomalyId}", NotificationKinds.AnomalyResolved,
            wasOffline ? "Device back online" : "Anomaly resolved",
            wasOffline ? "The device is reporting again." : "The device is behaving normally again.", @event.AnomalyId, @event.DeviceId,
            @event.OccurredAt), cancellationToken);
    }

    public Task HandleAsync(AutomationRunFailed @event, CancellationToken cancellationToken) =>
        inbox.DeliverAsync(@event.HomeId, new NotificationDraft($"automation.run-failed:{@event.RunId}", NotificationKinds.AutomationFailed,
            $"{@event.Name} failed",
            @event.Reason + (@event.Compensated ? " The steps already done were undone." : " Some steps already done were not undone."),
            @event.RunId, null, @event.OccurredAt), cancellationToken);

    // A rule fires many times: each firing is its own event, so the event id is the key.
    public Task HandleAsync(AutomationNotificationRequested @event, CancellationToken cancellationToken) =>
        inbox.DeliverAsync(@event.HomeId, new NotificationDraft($"automation.notification:{@event.Id}", NotificationKinds.Automation, @event.Title,
            @event.Message, @event.RuleId, null, @event.OccurredAt), cancellationToken);

    private static string KindTitle(AnomalyKind kind) => kind switch
    {
        AnomalyKind.Outlier => "Unusual reading",
        AnomalyKind.Stuck => "Sensor stuck",
        AnomalyKind.LevelShift => "Level changed",
        AnomalyKind.Implausible => "Implausible reading",
        _ => "Anomaly",
    };
}
