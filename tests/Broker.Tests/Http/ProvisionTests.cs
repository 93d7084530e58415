namespace OnDemand.Tests.Http;

/// <summary>docs/osb-behaviour.md, "Provision": provisioning checks, async answers and idempotency; a 4xx never changes state.</summary>
public sealed class ProvisionTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private static string NewId() => Guid.NewGuid().ToString();

    private async Task AssertNothingCreated(string id)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(id)).Status);
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}"));
    }

    [Theory]
    [InlineData("service_id")]
    [InlineData("plan_id")]
    [InlineData("organization_guid")]
    [InlineData("space_guid")]
    public async Task A_missing_or_empty_required_field_is_400_naming_it(string field)
    {
        foreach (var empty in new[] { false, true })
        {
            var id = NewId();
            var body = OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall);
            if (empty) body[field] = ""; else body.Remove(field);
            var answer = await Osb.ProvisionAsync(id, body);
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Contains(field, answer.Field("description"));
            await AssertNothingCreated(id);
        }
    }

    [Fact]
    public async Task Unknown_service_or_plan_is_400()
    {
        var id = NewId();
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.ProvisionAsync(id, OsbClient.ProvisionBody("no-such-service", Catalog.ClusterSmall))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, "no-such-plan"))).Status);
        // a plan of another service
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, Catalog.PgClusterSmall))).Status);
        await AssertNothingCreated(id);
    }

    [Fact]
    public async Task Without_accepts_incomplete_it_is_422_AsyncRequired()
    {
        var id = NewId();
        var answer = await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall), acceptsIncomplete: false);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal("AsyncRequired", answer.Field("error"));
        await AssertNothingCreated(id);
    }

    [Theory]
    [InlineData("{\"max_connections\": 5}", "max_connections")]
    [InlineData("{\"max_connections\": \"lots\"}", "max_connections")]
    [InlineData("{\"innodb_buffer_pool_size\": \"2TB\"}", "innodb_buffer_pool_size")]
    [InlineData("{\"character_set_server\": \"ebcdic\"}", "character_set_server")]
    [InlineData("{\"evil\": true}", "evil")]
    public async Task Parameters_failing_the_plan_schema_are_400_naming_the_field(string parameters, string field)
    {
        var id = NewId();
        var answer = await Osb.ProvisionClusterAsync(id, parameters: JsonNode.Parse(parameters)!.AsObject());
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(field, answer.Field("description"));
        await AssertNothingCreated(id);
    }

    [Fact]
    public async Task Parameters_that_are_not_an_object_are_400()
    {
        var id = NewId();
        var body = OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall);
        body["parameters"] = new JsonArray(1, 2);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.ProvisionAsync(id, body)).Status);
        await AssertNothingCreated(id);
    }

    [Fact]
    public async Task A_different_maintenance_info_version_is_422_MaintenanceInfoConflict()
    {
        var id = NewId();
        var body = OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall);
        body["maintenance_info"] = new JsonObject { ["version"] = "0.9.0" };
        var answer = await Osb.ProvisionAsync(id, body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal("MaintenanceInfoConflict", answer.Field("error"));
        await AssertNothingCreated(id);
    }

    [Fact]
    public async Task Identical_put_while_in_progress_is_202_with_the_same_operation_then_200_when_done()
    {
        fixture.Stack.Concourse.State.HoldBuilds("deploy");
        var id = NewId();
        try
        {
            var first = await Osb.ProvisionClusterAsync(id);
            Assert.Equal(HttpStatusCode.Accepted, first.Status);
            var again = await Osb.ProvisionClusterAsync(id);
            Assert.Equal(HttpStatusCode.Accepted, again.Status);
            Assert.Equal(first.Field("operation"), again.Field("operation"));
            Assert.Null(again.Field("dashboard_url"));
        }
        finally
        {
            fixture.Stack.Concourse.State.ReleaseBuilds("deploy");
        }
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        var afterwards = await Osb.ProvisionClusterAsync(id);
        Assert.Equal(HttpStatusCode.OK, afterwards.Status);
        Assert.Single(fixture.Stack.Concourse.State.GetBuilds($"ondemand-{id}", "deploy"));
    }

    [Fact]
    public async Task Same_id_with_another_plan_space_or_parameters_is_409()
    {
        var id = NewId();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id)).Status);
        await Osb.WaitForOperationAsync(id);
        Assert.Equal(HttpStatusCode.Conflict, (await Osb.ProvisionClusterAsync(id, planId: Catalog.ClusterLarge)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Osb.ProvisionClusterAsync(id, parameters: new JsonObject { ["max_connections"] = 100 })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall, spaceGuid: "other-space"))).Status);
        // and none of those changed it
        var fetched = await Osb.FetchAsync(id);
        Assert.Equal(Catalog.ClusterSmall, fetched.Field("plan_id"));
        Assert.Empty(fetched.Body!["parameters"]!.AsObject());
    }

    [Fact]
    public async Task A_database_naming_an_unknown_cluster_is_400_and_creates_nothing()
    {
        var id = NewId();
        var answer = await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, Catalog.Db100Mb, new JsonObject { ["cluster"] = "no-such-cluster" }));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("no cluster named 'no-such-cluster' in this space", answer.Field("description"));
        await AssertNothingCreated(id);
        var noCluster = await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.MySql, Catalog.Db100Mb));
        Assert.Equal(HttpStatusCode.BadRequest, noCluster.Status);
        Assert.Contains("cluster", noCluster.Field("description"));
    }

    [Fact]
    public async Task An_invalid_instance_id_is_400()
    {
        var answer = await Osb.ProvisionAsync("bad id with spaces", OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
    }

    [Fact]
    public async Task A_postgresql_cluster_is_only_configuration()
    {
        var id = NewId();
        var answer = await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.PostgreSql, Catalog.PgClusterSmall, new JsonObject { ["shared_buffers"] = "256MB" }));
        Assert.Equal(HttpStatusCode.Accepted, answer.Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Contains("\"shared_buffers\":\"256MB\"", fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}")!.ConfigJson);
    }
}
