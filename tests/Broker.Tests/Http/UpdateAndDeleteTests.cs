namespace OnDemand.Tests.Http;

/// <summary>docs/osb-behaviour.md, "Fetch", "Update", "Deprovision" and "Last operation": fetch, update, deprovision and last_operation around running operations.</summary>
public sealed class UpdateAndDeleteTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private ConcourseEmulator.EmulatorState Concourse => fixture.Stack.Concourse.State;

    private async Task<string> ReadyClusterAsync(JsonObject? parameters = null, string? name = null)
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id, parameters: parameters, instanceName: name)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    private int DeployBuilds(string id) => Concourse.GetBuilds($"ondemand-{id}", "deploy").Count;

    private static JsonObject Patch(string? planId = null, JsonObject? parameters = null) => new()
    {
        ["service_id"] = Catalog.MySql,
        ["plan_id"] = planId,
        ["parameters"] = parameters,
        ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.ClusterSmall },
    };

    [Fact]
    public async Task Fetch_is_404_while_provisioning_and_422_while_updating()
    {
        Concourse.HoldBuilds("deploy");
        var id = Guid.NewGuid().ToString();
        try
        {
            await Osb.ProvisionClusterAsync(id);
            Assert.Equal(HttpStatusCode.NotFound, (await Osb.FetchAsync(id)).Status);
        }
        finally { Concourse.ReleaseBuilds("deploy"); }
        await Osb.WaitForOperationAsync(id);

        Concourse.HoldBuilds("deploy");
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Patch(parameters: new JsonObject { ["max_connections"] = 900 }))).Status);
            var fetch = await Osb.FetchAsync(id);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, fetch.Status);
            Assert.Equal("ConcurrencyError", fetch.Field("error"));
            // another update or a delete while it runs: 422 ConcurrencyError, nothing changes
            var second = await Osb.UpdateAsync(id, Patch(parameters: new JsonObject { ["max_connections"] = 100 }));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, second.Status);
            Assert.Equal("ConcurrencyError", second.Field("error"));
            var delete = await Osb.DeprovisionAsync(id);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, delete.Status);
            Assert.Equal("ConcurrencyError", delete.Field("error"));
        }
        finally { Concourse.ReleaseBuilds("deploy"); }
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal(900, (await Osb.FetchAsync(id)).Body!["parameters"]!["max_connections"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_plan_change_outside_the_allowed_list_is_422_listing_the_allowed_targets()
    {
        var id = await ReadyClusterAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Patch(Catalog.ClusterLarge))).Status);
        await Osb.WaitForOperationAsync(id);

        var down = await Osb.UpdateAsync(id, Patch(Catalog.ClusterSmall));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, down.Status);
        Assert.Equal("PlanChangeNotSupported", down.Field("error"));
        Assert.Contains("cluster-large to cluster-small", down.Field("description"));
        Assert.Equal(Catalog.ClusterLarge, (await Osb.FetchAsync(id)).Field("plan_id"));

        var toDatabase = await Osb.UpdateAsync(id, Patch(Catalog.Db100Mb));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, toDatabase.Status);
        Assert.Equal("PlanChangeNotSupported", toDatabase.Field("error"));
    }

    [Fact]
    public async Task Small_lists_large_as_its_allowed_target()
    {
        var id = await ReadyClusterAsync();
        var sideways = await Osb.UpdateAsync(id, new JsonObject { ["service_id"] = Catalog.MySql, ["plan_id"] = Catalog.PgClusterSmall });
        Assert.Equal(HttpStatusCode.BadRequest, sideways.Status); // not a plan of this service
    }

    [Fact]
    public async Task A_no_op_update_completes_without_running_the_pipeline()
    {
        var id = await ReadyClusterAsync(new JsonObject { ["max_connections"] = 700 });
        var builds = DeployBuilds(id);
        var same = await Osb.UpdateAsync(id, Patch(Catalog.ClusterSmall, new JsonObject { ["max_connections"] = 700 }));
        Assert.Equal(HttpStatusCode.OK, same.Status);
        var nothing = await Osb.UpdateAsync(id, new JsonObject { ["service_id"] = Catalog.MySql });
        Assert.Equal(HttpStatusCode.OK, nothing.Status);
        Assert.Equal(builds, DeployBuilds(id));
    }

    [Fact]
    public async Task A_context_only_update_renames_the_instance_synchronously()
    {
        var id = await ReadyClusterAsync(name: "before");
        var rename = new JsonObject
        {
            ["service_id"] = Catalog.MySql,
            ["plan_id"] = Catalog.ClusterSmall,
            ["parameters"] = new JsonObject(),
            ["context"] = new JsonObject { ["platform"] = "cloudfoundry", ["instance_name"] = "after", ["organization_guid"] = OsbClient.OrgGuid, ["space_guid"] = OsbClient.SpaceGuid },
            ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.ClusterSmall },
            ["maintenance_info"] = new JsonObject { ["version"] = "2.0.0" },
        };
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, rename)).Status);
        var page = await fixture.Stack.Client.GetStringAsync(DashboardPath(id));
        Assert.Contains("<h1>after</h1>", page);
    }

    [Fact]
    public async Task Update_checks_service_id_schema_and_async()
    {
        var id = await ReadyClusterAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.UpdateAsync(id, new JsonObject { ["plan_id"] = Catalog.ClusterLarge })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.UpdateAsync(id, new JsonObject { ["service_id"] = "nope" })).Status);
        var bad = await Osb.UpdateAsync(id, Patch(parameters: new JsonObject { ["max_connections"] = 1 }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("max_connections", bad.Field("description"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Osb.UpdateAsync(id, Patch(Catalog.ClusterLarge), acceptsIncomplete: false)).Status);
        var maintenance = Patch(Catalog.ClusterLarge);
        maintenance["maintenance_info"] = new JsonObject { ["version"] = "9.9.9" };
        Assert.Equal("MaintenanceInfoConflict", (await Osb.UpdateAsync(id, maintenance)).Field("error"));
        Assert.Equal(Catalog.ClusterSmall, (await Osb.FetchAsync(id)).Field("plan_id"));
    }

    [Fact]
    public async Task Deprovision_checks_its_query_and_answers_410_for_unknown_instances()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{id}?plan_id={Catalog.ClusterSmall}&accepts_incomplete=true")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{id}?service_id={Catalog.MySql}&accepts_incomplete=true")).Status);
        var gone = await Osb.DeprovisionAsync(id);
        Assert.Equal(HttpStatusCode.Gone, gone.Status);
        Assert.Equal("{}", gone.Text);
    }

    [Fact]
    public async Task A_delete_resent_while_in_progress_is_202_and_last_operation_then_succeeds_before_410()
    {
        var id = await ReadyClusterAsync();
        Concourse.HoldBuilds("delete");
        string? operation;
        try
        {
            var first = await Osb.DeprovisionAsync(id);
            Assert.Equal(HttpStatusCode.Accepted, first.Status);
            operation = first.Field("operation");
            var again = await Osb.DeprovisionAsync(id);
            Assert.Equal(HttpStatusCode.Accepted, again.Status);
            Assert.Equal(operation, again.Field("operation"));
        }
        finally { Concourse.ReleaseBuilds("delete"); }
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        var tombstone = await Osb.LastOperationAsync(id, operation);
        Assert.Equal(HttpStatusCode.OK, tombstone.Status);
        Assert.Equal("succeeded", tombstone.Field("state"));
        Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(id)).Status);
    }

    [Fact]
    public async Task Last_operation_is_404_for_unknown_and_accepts_unknown_or_missing_operation_values()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(Guid.NewGuid().ToString())).Status);
        var id = await ReadyClusterAsync();
        Assert.Equal("succeeded", (await Osb.LastOperationAsync(id, "not-an-operation-we-issued")).Field("state"));
        Assert.Equal("succeeded", (await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}/last_operation")).Field("state"));
    }

    [Fact]
    public async Task Orphan_mitigation_delete_during_create_succeeds_and_removes_the_pipeline()
    {
        Concourse.HoldBuilds("deploy");
        var id = Guid.NewGuid().ToString();
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id)).Status);
            // wait until the deploy build runs, then Cloud Controller gives up on the create and deletes
            await Eventually.MatchesAsync(() => Osb.LastOperationAsync(id), a => a.Field("description")!.Contains("build #1"), "the deploy build runs", TimeSpan.FromSeconds(10));
            var delete = await Osb.DeprovisionAsync(id);
            Assert.Equal(HttpStatusCode.Accepted, delete.Status);
        }
        finally { Concourse.ReleaseBuilds("deploy"); }
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Null(Concourse.GetPipeline($"ondemand-{id}"));
        Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(id)).Status);
    }

    [Fact]
    public async Task A_failed_build_fails_the_operation_with_the_job_and_build_link_and_the_cluster_can_be_deleted()
    {
        var id = Guid.NewGuid().ToString();
        Concourse.ScriptNextBuilds($"ondemand-{id}", "deploy", "failed");
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id)).Status);
        var failed = await Osb.WaitForOperationAsync(id);
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        var description = failed["description"]!.GetValue<string>();
        Assert.Contains("'deploy'", description);
        Assert.Contains($"/teams/main/pipelines/ondemand-{id}/jobs/deploy/builds/1", description);
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.FetchAsync(id)).Status);

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(id)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Null(Concourse.GetPipeline($"ondemand-{id}"));
    }

    [Fact]
    public async Task A_failed_update_keeps_the_old_plan_and_can_be_retried()
    {
        var id = await ReadyClusterAsync();
        Concourse.ScriptNextBuilds($"ondemand-{id}", "deploy", "errored");
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Patch(Catalog.ClusterLarge))).Status);
        Assert.Equal("failed", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal(Catalog.ClusterSmall, (await Osb.FetchAsync(id)).Field("plan_id"));

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Patch(Catalog.ClusterLarge))).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal(Catalog.ClusterLarge, (await Osb.FetchAsync(id)).Field("plan_id"));
    }

    private static string DashboardPath(string id) => DashboardPaths.For(id);
}
