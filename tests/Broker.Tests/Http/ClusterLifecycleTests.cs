namespace OnDemand.Tests.Http;

/// <summary>The life of a cluster instance through OSB, as Cloud Controller drives it, against the Concourse emulator.</summary>
public sealed class ClusterLifecycleTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private static string NewId() => Guid.NewGuid().ToString();

    [Fact]
    public async Task Create_update_delete_runs_the_clusters_own_pipeline_and_ends_in_gone()
    {
        var id = NewId();
        var created = await Osb.ProvisionClusterAsync(id, parameters: new JsonObject { ["max_connections"] = 800 });
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        Assert.StartsWith("create-", created.Field("operation"));
        Assert.Contains($"/dashboard/instances/{id}?expires=", created.Field("dashboard_url"));

        var done = await Osb.WaitForOperationAsync(id);
        Assert.Equal("succeeded", done["state"]!.GetValue<string>());
        Assert.Contains("build #1", done["description"]!.GetValue<string>());

        var pipeline = fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}");
        Assert.NotNull(pipeline);
        Assert.False(pipeline.Paused);
        Assert.Contains("\"max_connections\":800", pipeline.ConfigJson);

        var fetched = await Osb.FetchAsync(id);
        Assert.Equal(HttpStatusCode.OK, fetched.Status);
        Assert.Equal(Catalog.ClusterSmall, fetched.Field("plan_id"));
        Assert.Equal(800, fetched.Body!["parameters"]!["max_connections"]!.GetValue<int>());
        Assert.Equal("2.0.0", fetched.Body["maintenance_info"]!["version"]!.GetValue<string>());

        var updated = await Osb.UpdateAsync(id, new JsonObject { ["service_id"] = Catalog.MySql, ["plan_id"] = Catalog.ClusterLarge });
        Assert.Equal(HttpStatusCode.Accepted, updated.Status);
        Assert.StartsWith("update-", updated.Field("operation"));
        var updateDone = await Osb.WaitForOperationAsync(id);
        Assert.Equal("succeeded", updateDone["state"]!.GetValue<string>());
        Assert.Contains("build #2", updateDone["description"]!.GetValue<string>());
        pipeline = fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}");
        Assert.Contains("\"instances\":3", pipeline!.ConfigJson);
        Assert.Contains("\"max_connections\":800", pipeline.ConfigJson);
        Assert.Equal(Catalog.ClusterLarge, (await Osb.FetchAsync(id)).Field("plan_id"));

        var deleting = await Osb.DeprovisionAsync(id, planId: Catalog.ClusterLarge);
        Assert.Equal(HttpStatusCode.Accepted, deleting.Status);
        var deleteDone = await Osb.WaitForOperationAsync(id);
        Assert.Equal("succeeded", deleteDone["state"]!.GetValue<string>());
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}"));

        Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(id, planId: Catalog.ClusterLarge)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.FetchAsync(id)).Status);
    }
}
