using System.Text.Json;
using HomeIQ.Automations.Domain;
using HomeIQ.ServiceDefaults.Time;

namespace HomeIQ.Tests.Automations;

/// <summary>The pure parts of Automations: reading triggers with duration and hysteresis, schedules across DST, the saga's decisions, rule checks.</summary>
public sealed class RuleDomainTests
{
    private static readonly DateTimeOffset T0 = new(2026, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static (TrackerState State, List<int> Fired) Feed(ThresholdTracker tracker, params (int Minute, double Value)[] readings)
    {
        var state = TrackerState.Initial;
        var fired = new List<int>();
        foreach (var (minute, value) in readings)
        {
            (state, var fire) = tracker.Observe(state, T0.AddMinutes(minute), value);
            if (fire)
            {
                fired.Add(minute);
            }
        }
        return (state, fired);
    }

    [Fact]
    public void AboveForTenMinutesFiresOnceTheConditionHasHeldTenMinutesAndNotBefore()
    {
        var tracker = new ThresholdTracker(26, above: true, TimeSpan.FromMinutes(10), hysteresis: 0.5);

        var (state, fired) = Feed(tracker, (0, 25), (1, 26.2), (5, 27), (10, 26.4), (11, 26.8), (12, 27), (20, 27.5));

        Assert.Equal([11], fired); // held since minute 1: ten minutes at minute 11, and only once while it stays above
        Assert.Equal(TrackerPhase.Fired, state.Phase);
    }

    [Fact]
    public void NoiseWithinTheHysteresisNeitherRestartsTheDurationNorFiresTwice()
    {
        var tracker = new ThresholdTracker(26, above: true, TimeSpan.FromMinutes(10), hysteresis: 0.5);

        // 25.8 is below 26 but above 25.5: the condition still holds. After firing, 25.6 does not re-arm; 25.4 does.
        var (_, fired) = Feed(tracker, (0, 26.5), (4, 25.8), (10, 26.1), (12, 25.6), (13, 26.5), (14, 25.4), (15, 26.5), (25, 26.5));

        Assert.Equal([10, 25], fired);
    }

    [Fact]
    public void DroppingPastTheHysteresisCancelsAPendingDuration()
    {
        var tracker = new ThresholdTracker(26, above: true, TimeSpan.FromMinutes(10), hysteresis: 0.5);

        var (state, fired) = Feed(tracker, (0, 27), (9, 25.5), (10, 27), (19, 27));

        Assert.Empty(fired); // cancelled at 9; pending again since 10, not yet ten minutes at 19
        Assert.Equal(TrackerPhase.Pending, state.Phase);
        Assert.Equal(T0.AddMinutes(20), tracker.DueAt(state)); // the sweep fires it at 20 if no reading comes
    }

    [Fact]
    public void BelowTriggersMirrorAboveAndWithoutADurationFireOnTheFirstReading()
    {
        var tracker = new ThresholdTracker(18, above: false, TimeSpan.Zero, hysteresis: 1);

        var (_, fired) = Feed(tracker, (0, 19), (1, 17.9), (2, 17), (3, 18.5), (4, 19), (5, 17.5));

        Assert.Equal([1, 5], fired); // re-armed at 4 (19 ≥ 18 + 1), not at 3
    }

    [Fact]
    public void ReadingsNotNewerThanTheLastAreIgnoredSoARedeliveredBatchFiresNothingTwice()
    {
        var tracker = new ThresholdTracker(26, above: true, TimeSpan.Zero, hysteresis: 0);
        var batch = new (int, double)[] { (0, 25), (1, 27), (2, 25), (3, 27) };

        var state = TrackerState.Initial;
        var fires = 0;
        foreach (var _ in new[] { 1, 2 })
        {
            foreach (var (minute, value) in batch)
            {
                (state, var fire) = tracker.Observe(state, T0.AddMinutes(minute), value);
                fires += fire ? 1 : 0;
            }
        }

        Assert.Equal(2, fires);
    }

    [Fact]
    public void AScheduleRunsAtItsLocalTimeOnItsDaysAcrossBothDstChanges()
    {
        var berlin = TimeZones.Find("Europe/Berlin")!;
        var weekdays = new Schedule(new TimeOnly(7, 30), new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Friday }, berlin);
        var nightly = new Schedule(new TimeOnly(2, 30), new HashSet<DayOfWeek>(), berlin);

        // Friday 2026-03-27 07:30 CET is 06:30 UTC; after it, Monday 2026-03-30 07:30 CEST is 05:30 UTC.
        Assert.Equal(new DateTimeOffset(2026, 3, 27, 6, 30, 0, TimeSpan.Zero), weekdays.Next(new DateTimeOffset(2026, 3, 26, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 5, 30, 0, TimeSpan.Zero), weekdays.Next(new DateTimeOffset(2026, 3, 27, 6, 30, 0, TimeSpan.Zero)));
        // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00): it happens at 03:30 CEST, 01:30 UTC.
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 30, 0, TimeSpan.Zero), nightly.Next(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero)));
        // 2026-10-25 02:30 happens twice (03:00 → 02:00): once, the first time, 02:30 CEST = 00:30 UTC; the next is the 26th.
        var autumn = nightly.Next(new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), autumn);
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero), nightly.Next(autumn));
    }

    [Fact]
    public void ATimeWindowMaySpanMidnight()
    {
        var paris = TimeZones.Find("Europe/Paris")!;
        var night = new TimeCondition(new DailyWindow(new TimeOnly(22, 0), new TimeOnly(6, 0)), paris);

        Assert.True(night.Holds(new DateTimeOffset(2026, 1, 10, 22, 30, 0, TimeSpan.FromHours(1))));
        Assert.True(night.Holds(new DateTimeOffset(2026, 1, 11, 5, 59, 0, TimeSpan.FromHours(1))));
        Assert.False(night.Holds(new DateTimeOffset(2026, 1, 11, 6, 0, 0, TimeSpan.FromHours(1))));
        Assert.False(night.Holds(new DateTimeOffset(2026, 1, 11, 12, 0, 0, TimeSpan.FromHours(1))));
    }

    private static SagaStep Do(int position, StepStatus status) => new(StepPhase.Do, position, status);

    private static SagaStep Undo(int position, StepStatus status) => new(StepPhase.Undo, position, status);

    [Fact]
    public void TheSagaSendsStepsInOrderWaitsForEachAndSucceedsWhenAllDid()
    {
        Assert.Equal(new SagaDecision.Send(Do(0, StepStatus.Pending)), Saga.Next([Do(0, StepStatus.Pending), Do(1, StepStatus.Pending)]));
        Assert.IsType<SagaDecision.Wait>(Saga.Next([Do(0, StepStatus.Sent), Do(1, StepStatus.Pending)]));
        Assert.Equal(new SagaDecision.Send(Do(1, StepStatus.Pending)), Saga.Next([Do(0, StepStatus.Succeeded), Do(1, StepStatus.Pending)]));
        Assert.Equal(new SagaDecision.Finish(RunStatus.Succeeded), Saga.Next([Do(0, StepStatus.Succeeded), Do(1, StepStatus.Succeeded)]));
    }

    [Fact]
    public void AFailedStepCompensatesTheSucceededOnesLastFirstAndAFailedUndoMakesTheRunFailed()
    {
        var steps = new List<SagaStep> { Do(0, StepStatus.Succeeded), Do(1, StepStatus.Succeeded), Do(2, StepStatus.TimedOut), Do(3, StepStatus.Pending) };

        var compensate = Assert.IsType<SagaDecision.Compensate>(Saga.Next(steps));
        Assert.Equal([1, 0], compensate.SucceededPositionsLastFirst);

        steps[3] = Do(3, StepStatus.Skipped);
        steps.AddRange([Undo(0, StepStatus.Pending), Undo(1, StepStatus.Pending)]);
        Assert.Equal(new SagaDecision.Send(Undo(0, StepStatus.Pending)), Saga.Next(steps));
        steps[4] = Undo(0, StepStatus.Failed);
        Assert.Equal(new SagaDecision.Send(Undo(1, StepStatus.Pending)), Saga.Next(steps)); // a failed undo does not stop the others
        steps[5] = Undo(1, StepStatus.Succeeded);
        Assert.Equal(new SagaDecision.Finish(RunStatus.Failed), Saga.Next(steps));
        steps[4] = Undo(0, StepStatus.Succeeded);
        Assert.Equal(new SagaDecision.Finish(RunStatus.Compensated), Saga.Next(steps));
    }

    [Fact]
    public void AFirstStepThatFailsLeavesNothingToUndo()
    {
        Assert.Equal(new SagaDecision.Finish(RunStatus.Compensated), Saga.Next([Do(0, StepStatus.Failed), Do(1, StepStatus.Pending)]));
    }

    [Fact]
    public void RestoringPutsOnAndOffBackWithNumericAttributesAndAnythingElseAsASet()
    {
        var on = Saga.Restore("on", new Dictionary<string, string> { ["brightness"] = "128", ["friendly_name"] = "Lamp" })!.Value;
        Assert.Equal("turn_on", on.Action);
        Assert.Equal(128, Assert.Single(on.Parameters).Value.GetDouble());
        Assert.Equal("turn_off", Saga.Restore("off", null)!.Value.Action);
        var heat = Saga.Restore("heat", null)!.Value;
        Assert.Equal(("set", "heat"), (heat.Action, heat.Parameters["state"].GetString()));
        Assert.Null(Saga.Restore(null, null));
        Assert.Null(Saga.Restore("unavailable", null));
    }

    [Fact]
    public void ARuleWithEveryMistakeGetsEachNamedByItsPath()
    {
        var errors = new DefinitionErrors();
        var rule = errors.Rule(Guid.NewGuid(), Guid.NewGuid(), new RuleDefinition("", null,
            new TriggerDefinition("reading", DeviceId: Guid.NewGuid(), Metric: "temp\0erature", Above: 1, Below: 2, ForSeconds: -1),
            [new ConditionDefinition("time", After: "25:00", Before: "06:00", TimeZone: "Mars/Olympus")],
            [new ActionDefinition("command", Guid.NewGuid(), "explode"), new ActionDefinition("notify", Title: "Hot"), new ActionDefinition("dance")]));

        Assert.Null(rule);
        Assert.Equal(
            ["actions[0].action", "actions[1].message", "actions[2].type", "conditions[0].after", "conditions[0].timeZone", "name", "trigger.above", "trigger.forSeconds", "trigger.metric"],
            errors.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AValidRuleIsCheckedIntoItsParts()
    {
        var device = Guid.NewGuid();
        var parameters = new Dictionary<string, JsonElement> { ["brightness"] = JsonSerializer.SerializeToElement(200) };
        var errors = new DefinitionErrors();

        var rule = errors.Rule(Guid.NewGuid(), Guid.NewGuid(), new RuleDefinition("Warm evening", null,
            new TriggerDefinition("schedule", At: "19:00", Days: ["mon", "Fri"], TimeZone: "Europe/Paris"),
            [new ConditionDefinition("state", device, Is: "off")],
            [new ActionDefinition("command", device, "set", parameters)]));

        Assert.Empty(errors.Errors);
        Assert.NotNull(rule);
        Assert.True(rule.Enabled);
        var schedule = Assert.IsType<ScheduleTrigger>(rule.Trigger).Schedule;
        Assert.Equal(new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Friday }, schedule.Days);
        Assert.Equal(new CommandAction(device, "set", parameters), Assert.Single(rule.Actions));
    }
}
