namespace OnDemand.Tests.Integration;

/// <summary>
/// docs/crash-consistency.md, rule 2: Concourse performs a step but its answer is lost, and the silo dies right after.
/// The operation resumes on a new silo from persisted state and every effect happens exactly once.
/// </summary>
public sealed class CrashConsistencyTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("PUT", "/config")]
    [InlineData("PUT", "/unpause")]
    [InlineData("POST", "/jobs/deploy/builds")]
    public async Task A_lost_reply_then_a_dead_silo_still_creates_the_cluster_with_exactly_one_build(string method, string path)
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var osb = new OsbClient(stack.Client);
        var concourse = stack.Concourse;
        var id = Guid.NewGuid().ToString();
        concourse.Faults.LoseResponseNext(1, $"ondemand-{id}{path}", method);

        Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id)).Status);
        // The fault must have fired: otherwise this would quietly be a plain restart test.
        await Eventually.TrueAsync(() => Task.FromResult(concourse.Faults.RequestLog.Any(e => e.Fault is not null && e.Path.Contains($"ondemand-{id}{path}"))),
            $"the lost reply of {method} {path} happened", TimeSpan.FromSeconds(20));
        await stack.KillSiloAsync(stack.Silos.Single());
        await stack.StartSiloAsync();
        await stack.WaitUntilReadyAsync();

        var done = await osb.WaitForOperationAsync(id, TimeSpan.FromSeconds(90));
        Assert.Equal("succeeded", done["state"]!.GetValue<string>());
        var pipeline = concourse.State.GetPipeline($"ondemand-{id}");
        Assert.NotNull(pipeline);
        Assert.False(pipeline.Paused);
        Assert.Single(concourse.State.GetBuilds($"ondemand-{id}", "deploy"));
    }

    [Fact]
    public async Task Concourse_5xx_and_hangs_keep_the_operation_in_progress_saying_so_until_it_recovers()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        stack.Concourse.Faults.FailNext(6, 503, $"ondemand-{id}/config");

        await osb.ProvisionClusterAsync(id);
        var retrying = await Eventually.MatchesAsync(() => osb.LastOperationAsync(id), a => a.Field("description")!.Contains("unreachable"),
            "last_operation says Concourse is unreachable", TimeSpan.FromSeconds(20));
        Assert.Equal("in progress", retrying.Field("state"));
        Assert.Contains("Concourse unreachable, retrying", retrying.Field("description"));

        stack.Concourse.Faults.HangNext(1, TimeSpan.FromSeconds(5), $"ondemand-{id}/unpause");
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
        Assert.Equal(0, stack.Concourse.Faults.PendingFaults); // every 5xx and the hang were served
        Assert.Single(stack.Concourse.State.GetBuilds($"ondemand-{id}", "deploy"));
    }

    [Fact]
    public async Task An_operation_outliving_its_deadline_fails_with_a_clear_description()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["Broker:ConfigPath"] = TestCatalogs.WithPollingDuration(2),
        });
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        stack.Concourse.State.HoldBuilds("deploy");
        try
        {
            await osb.ProvisionClusterAsync(id);
            var failed = await osb.WaitForOperationAsync(id, TimeSpan.FromSeconds(30));
            Assert.Equal("failed", failed["state"]!.GetValue<string>());
            Assert.Contains("timed out after 2 seconds", failed["description"]!.GetValue<string>());
        }
        finally { stack.Concourse.State.ReleaseBuilds("deploy"); }
    }
}
