using OnDemand.Grains.Interfaces;
using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Tests.Grains;

/// <summary>The ClusterGrain through grain calls: its decisions as values, and its operation surviving deactivation.</summary>
public sealed class ClusterGrainTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    private static readonly InstanceContext Context = new("cloudfoundry", "org", "space", "my-org", "my-space", "grain-cluster");

    private static ProvisionRequest Create(string planId = Catalog.ClusterSmall, string parameters = "{}") =>
        new(Catalog.MySql, planId, parameters, null, Context, "user-1");

    private IClusterGrain Grain(string id) => fixture.Grains.GetGrain<IClusterGrain>(id);

    private static Task<LastOperationView> WaitAsync(IClusterGrain grain) =>
        Eventually.MatchesAsync(() => grain.GetLastOperation(null), view => view.State != LastOperationState.InProgress,
            "the cluster's operation ends", TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Provision_is_accepted_once_then_reports_the_same_operation_then_exists()
    {
        var grain = Grain(Guid.NewGuid().ToString());
        fixture.Concourse.State.HoldBuilds("deploy");
        try
        {
            var first = await grain.Provision(Create());
            Assert.Equal(OperationOutcome.Accepted, first.Outcome);
            var second = await grain.Provision(Create());
            Assert.Equal(OperationOutcome.InProgress, second.Outcome);
            Assert.Equal(first.Operation, second.Operation);
        }
        finally { fixture.Concourse.State.ReleaseBuilds("deploy"); }
        Assert.Equal(LastOperationState.Succeeded, (await WaitAsync(grain)).State);
        Assert.Equal(OperationOutcome.AlreadyExists, (await grain.Provision(Create())).Outcome);
        Assert.Equal(OperationOutcome.Conflict, (await grain.Provision(Create(Catalog.ClusterLarge))).Outcome);
    }

    [Fact]
    public async Task Unknown_instances_are_not_found_or_gone_and_stay_unknown()
    {
        var grain = Grain(Guid.NewGuid().ToString());
        Assert.False((await grain.GetLastOperation(null)).Found);
        Assert.Equal(FetchOutcome.NotFound, (await grain.Fetch()).Outcome);
        Assert.Equal(OperationOutcome.Gone, (await grain.Deprovision(new DeprovisionRequest(Catalog.MySql, Catalog.ClusterSmall, null))).Outcome);
        Assert.Equal(OperationOutcome.NotFound, (await grain.Update(new UpdateRequest(Catalog.MySql, Catalog.ClusterLarge, null, null, null, null))).Outcome);
        Assert.Null(await grain.GetDashboard());
        Assert.False((await grain.GetLastOperation(null)).Found);
    }

    [Fact]
    public async Task A_database_plan_or_a_hostile_value_is_refused_before_anything_is_recorded()
    {
        var grain = Grain(Guid.NewGuid().ToString());
        Assert.Equal(OperationOutcome.BadRequest, (await grain.Provision(Create(Catalog.Db100Mb))).Outcome);
        var hostile = await grain.Provision(Create(parameters: "{\"innodb_buffer_pool_size\": \"((admin_password))\"}"));
        Assert.Equal(OperationOutcome.BadRequest, hostile.Outcome);
        Assert.Contains("innodb_buffer_pool_size", hostile.Description);
        Assert.False((await grain.GetLastOperation(null)).Found);
    }

    [Fact]
    public async Task Plan_changes_outside_the_allowed_list_are_refused_as_values()
    {
        var grain = Grain(Guid.NewGuid().ToString());
        await grain.Provision(Create(Catalog.ClusterLarge));
        await WaitAsync(grain);
        var result = await grain.Update(new UpdateRequest(Catalog.MySql, Catalog.ClusterSmall, null, null, null, null));
        Assert.Equal(OperationOutcome.PlanChangeNotSupported, result.Outcome);
        Assert.Contains("none", result.Description);
        Assert.Equal(Catalog.ClusterLarge, (await grain.Fetch()).PlanId);
    }

    [Fact]
    public async Task An_operation_resumes_after_the_grain_is_deactivated_mid_build_and_builds_once()
    {
        var id = Guid.NewGuid().ToString();
        var grain = Grain(id);
        fixture.Concourse.State.HoldBuilds("deploy");
        try
        {
            await grain.Provision(Create());
            await Eventually.MatchesAsync(() => grain.GetLastOperation(null), o => o.Description.Contains("build #1"), "the deploy build runs", TimeSpan.FromSeconds(10));
            await fixture.Cluster.DeactivateAsync(grain);
        }
        finally { fixture.Concourse.State.ReleaseBuilds("deploy"); }
        Assert.Equal(LastOperationState.Succeeded, (await WaitAsync(grain)).State);
        Assert.Single(fixture.Concourse.State.GetBuilds($"ondemand-{id}", "deploy"));
    }

    [Fact]
    public async Task Many_clusters_provision_in_parallel_each_with_its_own_pipeline()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid().ToString()).ToList();
        var results = await Task.WhenAll(ids.Select(id => Grain(id).Provision(Create())));
        Assert.All(results, r => Assert.Equal(OperationOutcome.Accepted, r.Outcome));
        var views = await Task.WhenAll(ids.Select(id => WaitAsync(Grain(id))));
        Assert.All(views, v => Assert.Equal(LastOperationState.Succeeded, v.State));
        Assert.All(ids, id => Assert.NotNull(fixture.Concourse.State.GetPipeline($"ondemand-{id}")));
    }

    [Fact]
    public async Task A_reservation_a_crashed_database_create_left_behind_does_not_lose_the_id()
    {
        // What a database create that died between reserving its id and recording its intent leaves behind.
        var id = Guid.NewGuid().ToString();
        Assert.True(await Grain(id).ReserveForDatabase());
        Assert.False(await fixture.Grains.GetGrain<IDatabaseGrain>(id).HoldsInstanceId());

        Assert.Equal(OperationOutcome.Accepted, (await Grain(id).Provision(Create())).Outcome);
        Assert.Equal(LastOperationState.Succeeded, (await WaitAsync(Grain(id))).State);
        Assert.False(await Grain(id).ReserveForDatabase()); // and the id now names the cluster only
    }

    [Fact]
    public async Task A_refused_database_create_holds_nothing_and_leaves_the_id_free()
    {
        var id = Guid.NewGuid().ToString();
        var database = fixture.Grains.GetGrain<IDatabaseGrain>(id);
        // A database create that is refused later (no such cluster) still reserved the id first, then gave it back.
        var refused = await database.Provision(new ProvisionRequest(Catalog.MySql, Catalog.Db100Mb, """{"cluster":"no-such-cluster"}""", null, Context, "user-1"));
        Assert.Equal(OperationOutcome.BadRequest, refused.Outcome);
        Assert.False(await database.HoldsInstanceId());
        Assert.Equal(OperationOutcome.Accepted, (await Grain(id).Provision(Create())).Outcome);
    }

    [Fact]
    public async Task A_create_reads_its_pipeline_config_only_after_setting_it_and_copes_with_one_that_exists_already()
    {
        var id = Guid.NewGuid().ToString();
        var configReads = $"/pipelines/ondemand-{id}/config";
        Assert.Equal(OperationOutcome.Accepted, (await Grain(id).Provision(Create())).Outcome);
        Assert.Equal(LastOperationState.Succeeded, (await WaitAsync(Grain(id))).State);
        Assert.Equal(1, fixture.Concourse.Faults.CountRequests("GET", configReads)); // the version the PUT wrote

        // A pipeline of that name set by someone else first: the version-less PUT is refused, the retry reads, then sets.
        var taken = Guid.NewGuid().ToString();
        using (var concourse = new OnDemand.Grains.Concourse.ConcourseClient(new OnDemand.Grains.Concourse.ConcourseOptions
        { Url = fixture.Concourse.Url.ToString(), Username = "admin", Password = "admin", Team = "main" }))
        {
            await concourse.SetPipelineConfigAsync($"ondemand-{taken}", """{"jobs":[{"name":"other","plan":[{"task":"t","config":{"platform":"linux","image_resource":{"type":"registry-image","source":{"repository":"busybox"}},"run":{"path":"true"}}}]}]}""", null, TestContext.Current.CancellationToken);
        }
        Assert.Equal(OperationOutcome.Accepted, (await Grain(taken).Provision(Create())).Outcome);
        Assert.Equal(LastOperationState.Succeeded, (await WaitAsync(Grain(taken))).State);
        Assert.Contains(fixture.Concourse.Faults.RequestLog, entry => entry.Method == "PUT" && entry.Path.EndsWith($"ondemand-{taken}/config") && entry.StatusCode == 500);
    }
}
