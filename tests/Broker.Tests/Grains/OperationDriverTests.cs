using OnDemand.Grains.Cluster;
using OnDemand.Grains.Operations;

namespace OnDemand.Tests.Grains;

/// <summary>The part of the shared operation driver that needs no grain: back-off between failed attempts.</summary>
public sealed class OperationDriverTests
{
    private static OperationDriver Driver(TimeSpan poll, TimeSpan cap) =>
        new(null!, "test", new ClusterLifecycleOptions { PollInterval = poll, MaxRetryDelay = cap }, _ => Task.CompletedTask, interleave: false, onWriteFailure: () => { });

    [Fact]
    public void Back_off_doubles_from_the_poll_interval_up_to_its_cap()
    {
        var driver = Driver(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.FromSeconds(5), driver.Backoff(0));
        Assert.Equal(TimeSpan.FromSeconds(10), driver.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(40), driver.Backoff(3));
        Assert.Equal(TimeSpan.FromSeconds(60), driver.Backoff(4));
        Assert.Equal(TimeSpan.FromSeconds(60), driver.Backoff(1000)); // no overflow however long it fails
    }
}
