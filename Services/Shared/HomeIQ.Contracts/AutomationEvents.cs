namespace HomeIQ.Contracts;

/// <summary>A rule's run or a scene's run failed (a step failed or timed out); <paramref name="Compensated"/> says whether the steps already done were undone.</summary>
/// <param name="RunId">The run, as listed in the home's run history.</param>
/// <param name="HomeId">The home.</param>
/// <param name="Name">The rule's or scene's name.</param>
/// <param name="Reason">What failed, in words a user can read.</param>
/// <param name="Compensated">True when every completed step was put back.</param>
[EventName("automation.run-failed.v1")]
public sealed record AutomationRunFailed(Guid RunId, Guid HomeId, string Name, string Reason, bool Compensated) : IntegrationEvent;

/// <summary>A rule's notify action fired: tell the members of the home.</summary>
/// <param name="RuleId">The rule that fired.</param>
/// <param name="HomeId">The home.</param>
/// <param name="Title">A short title.</param>
/// <param name="Message">The message.</param>
[EventName("automation.notification.v1")]
public sealed record AutomationNotificationRequested(Guid RuleId, Guid HomeId, string Title, string Message) : IntegrationEvent;
