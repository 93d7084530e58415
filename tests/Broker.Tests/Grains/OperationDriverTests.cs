using OnDemand.Grains.Cluster;
using OnDemand.Grains.Database;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Interfaces.Messages;
using OnDemand.Grains.Operations;
using OnDemand.Tests.Infrastructure;

namespace OnDemand.Tests.Grains;

/// <summary>
/// The operation lifecycle both grains share, without Orleans: a new operation's deadline, back-off between failed
/// attempts, the deadline itself, and the end (docs/crash-consistency.md, rules 3 and 11).
/// </summary>
public sealed class OperationDriverTests
{
    private static readonly ServicePlan TenMinutes = new()
    {
        Id = "p",
        Name = "p",
        Description = "p",
        Kind = PlanKind.Cluster,
        Bindable = false,
        PlanUpdateable = true,
        MaintenanceInfoVersion = "1.0.0",
        MaximumPollingDuration = 600,
    };

    private static (OperationLifecycle Lifecycle, ManualClock Clock) Lifecycle(TimeSpan poll, TimeSpan cap)
    {
        var clock = new ManualClock();
        return (new OperationLifecycle(new ClusterLifecycleOptions { PollInterval = poll, MaxRetryDelay = cap }, clock), clock);
    }

    [Fact]
    public void Back_off_doubles_from_the_poll_interval_up_to_its_cap()
    {
        var (lifecycle, _) = Lifecycle(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.FromSeconds(5), lifecycle.Backoff(0));
        Assert.Equal(TimeSpan.FromSeconds(10), lifecycle.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(40), lifecycle.Backoff(3));
        Assert.Equal(TimeSpan.FromSeconds(60), lifecycle.Backoff(4));
        Assert.Equal(TimeSpan.FromSeconds(60), lifecycle.Backoff(1000)); // no overflow however long it fails
    }

    [Fact]
    public void A_new_operation_is_due_now_and_has_the_plans_deadline()
    {
        var (lifecycle, clock) = Lifecycle(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        var operation = lifecycle.Begin(new ClusterOperation { Step = OperationStep.SetPipeline }, OperationKind.Create, TenMinutes, "creating");

        Assert.StartsWith("create-", operation.Id);
        Assert.True(((IRecordedOperation)operation).IsRunning);
        Assert.Equal(OperationStep.SetPipeline, operation.Step);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(10), operation.Deadline);
        Assert.Equal(TickDue.Now, lifecycle.Due(operation));
        Assert.Equal(TimeSpan.FromHours(2), lifecycle.Begin(new DatabaseOperation(), OperationKind.Delete, null, "d").Deadline - clock.GetUtcNow());
    }

    [Fact]
    public void Failures_back_off_a_wait_does_not_and_progress_starts_the_back_off_over()
    {
        var (lifecycle, clock) = Lifecycle(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        var operation = lifecycle.Begin(new DatabaseOperation(), OperationKind.Create, TenMinutes, "creating");

        Assert.Equal(TimeSpan.FromSeconds(10), lifecycle.RetryLater(operation, failed: true));
        Assert.Equal(TimeSpan.FromSeconds(20), lifecycle.RetryLater(operation, failed: true));
        Assert.Equal(TickDue.NotYet, lifecycle.Due(operation));
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TickDue.Now, lifecycle.Due(operation));

        Assert.Equal(TimeSpan.FromSeconds(5), lifecycle.RetryLater(operation, failed: false)); // waiting is not failing
        Assert.Equal(0, operation.Attempts);
        lifecycle.RetryLater(operation, failed: true);
        OperationLifecycle.Progressed(operation);
        Assert.Equal(0, operation.Attempts);
    }

    [Fact]
    public void Past_its_deadline_an_operation_fails_naming_what_it_did_last()
    {
        var (lifecycle, clock) = Lifecycle(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        var operation = lifecycle.Begin(new ClusterOperation(), OperationKind.Update, TenMinutes, "updating cluster: waiting for build #3");
        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        Assert.Equal(TickDue.PastDeadline, lifecycle.Due(operation));
        var description = OperationLifecycle.TimedOut(operation, "updating the cluster");
        Assert.Equal("updating the cluster timed out after 10 minutes (last status: updating cluster: waiting for build #3)", description);

        lifecycle.Finish(operation, LastOperationState.Failed, description);
        Assert.False(((IRecordedOperation)operation).IsRunning);
        Assert.Equal(LastOperationState.Failed, operation.State);
        Assert.Equal(clock.GetUtcNow(), operation.CompletedAt);
        Assert.Equal(description, operation.Description);
    }
}
