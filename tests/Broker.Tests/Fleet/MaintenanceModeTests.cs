namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "Maintenance mode": the operator switch, through the gateway's HTTP interface.</summary>
public sealed class MaintenanceModeTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private OperatorClient Operator => new(fixture.Stack.Client);
    private ConcourseEmulator.EmulatorState Concourse => fixture.Stack.Concourse.State;

    private static JsonObject Patch(JsonObject parameters) => new()
    {
        ["service_id"] = Catalog.MySql,
        ["parameters"] = parameters,
        ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.ClusterSmall },
    };

    private async Task<string> ReadyClusterAsync()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id, instanceName: "m-" + id[..8])).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task While_on_changes_are_422_with_when_to_come_back_and_reads_and_running_operations_go_on()
    {
        var ready = await ReadyClusterAsync();
        var running = Guid.NewGuid().ToString();
        Concourse.HoldBuilds("deploy");
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(running, instanceName: "m-" + running[..8])).Status);
        try
        {
            var on = await Operator.MaintenanceAsync(true, "PostgreSQL upgrade", minutes: 30);
            Assert.Equal(HttpStatusCode.OK, on.Status);
            Assert.True(on.Body!["on"]!.GetValue<bool>());

            var create = await Osb.ProvisionClusterAsync(Guid.NewGuid().ToString());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, create.Status);
            Assert.Equal("MaintenanceMode", create.Field("error"));
            Assert.Contains("PostgreSQL upgrade", create.Field("description"));
            Assert.Matches(@"until \d{4}-\d\d-\d\d \d\d:\d\d UTC", create.Field("description"));
            var retryAfter = int.Parse(create.Headers["Retry-After"]);
            Assert.InRange(retryAfter, 29 * 60, 30 * 60 + 1);

            var update = await Osb.UpdateAsync(ready, Patch(new JsonObject { ["max_connections"] = 300 }));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, update.Status);
            Assert.Equal("MaintenanceMode", update.Field("error"));
            var delete = await Osb.DeprovisionAsync(ready);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, delete.Status);
            var bind = await Osb.BindAsync(ready, Guid.NewGuid().ToString(), Catalog.MySql, Catalog.ClusterSmall);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bind.Status);

            // reads go on
            Assert.Equal(HttpStatusCode.OK, (await Osb.SendAsync(HttpMethod.Get, "/v2/catalog")).Status);
            Assert.Equal(HttpStatusCode.OK, (await Osb.FetchAsync(ready)).Status);
            Assert.Equal("in progress", (await Osb.LastOperationAsync(running)).Field("state"));
            var status = await Operator.GetAsync("/operator/maintenance");
            Assert.True(status.Body!["on"]!.GetValue<bool>());
            Assert.Equal("operator", status.Body!["changed_by"]!.GetValue<string>());

            // the running operation goes on and finishes
            Concourse.ReleaseBuilds("deploy");
            Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(running))["state"]!.GetValue<string>());
            // nothing changed
            Assert.Equal(HttpStatusCode.OK, (await Osb.FetchAsync(ready)).Status);
            Assert.NotEqual(300, (await Osb.FetchAsync(ready)).Body!["parameters"]!["max_connections"]?.GetValue<int>());
        }
        finally
        {
            Concourse.ReleaseBuilds("deploy");
            await Operator.MaintenanceAsync(false);
        }
        var after = await Osb.UpdateAsync(ready, Patch(new JsonObject { ["max_connections"] = 300 }));
        Assert.Equal(HttpStatusCode.Accepted, after.Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(ready))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Operator_routes_need_operator_credentials_and_bad_input_is_a_400_that_changes_nothing()
    {
        // broker credentials are not operator credentials
        var asBroker = await Osb.SendAsync(HttpMethod.Put, "/operator/maintenance", new JsonObject { ["on"] = true });
        Assert.Equal(HttpStatusCode.Unauthorized, asBroker.Status);
        using var anonymous = new HttpClient { BaseAddress = fixture.Stack.GatewayUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/operator/maintenance")).StatusCode);

        foreach (var bad in new JsonObject[]
                 {
                     new() { ["on"] = "yes" },
                     new() { ["reason"] = "no switch" },
                     new() { ["on"] = true, ["until"] = "2001-01-01T00:00:00Z" },
                     new() { ["on"] = true, ["until"] = "tomorrow" },
                     new() { ["on"] = true, ["minutes"] = 0 },
                     new() { ["on"] = true, ["reason"] = new string('x', 501) },
                     new() { ["on"] = false, ["minutes"] = 30 },                    // an end for a maintenance that is not on
                     new() { ["on"] = false, ["until"] = "2099-01-01T00:00:00Z" },
                 })
        {
            var answer = await Operator.SendAsync(HttpMethod.Put, "/operator/maintenance", bad);
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Equal("BadRequest", answer.Field("error"));
            Assert.NotNull(answer.Field("description"));
        }
        var malformed = await Operator.SendAsync(HttpMethod.Put, "/operator/maintenance");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.False((await Operator.GetAsync("/operator/maintenance")).Body!["on"]!.GetValue<bool>());
    }
}

/// <summary>docs/fleet.md, "Maintenance mode": one switch for every gateway, kept across a restart of the whole broker.</summary>
public sealed class MaintenanceSwitchSharingTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task The_switch_is_shared_by_every_gateway_and_survives_a_restart_of_the_whole_broker()
    {
        var second = await fixture.Stack.StartGatewayAsync();
        using var secondClient = BrokerStack.NewClient(new Uri(second.Urls.First()));
        var secondOsb = new OsbClient(secondClient);
        // an empty provision body: 400 normally, 422 in maintenance (the gate answers before any validation)
        Assert.Equal(HttpStatusCode.BadRequest, (await secondOsb.ProvisionAsync("x-1", new JsonObject())).Status);

        Assert.Equal(HttpStatusCode.OK, (await new OperatorClient(fixture.Stack.Client).MaintenanceAsync(true, "restart test")).Status);
        // the other gateway's cache expires within Maintenance:CacheDuration (2 s)
        await Eventually.TrueAsync(async () => (await secondOsb.ProvisionAsync("x-1", new JsonObject())).Status == HttpStatusCode.UnprocessableEntity,
            "the second gateway refuses changes", TimeSpan.FromSeconds(5));

        await fixture.Stack.RedeployAsync(new Dictionary<string, string?>());
        var osb = new OsbClient(fixture.Stack.Client);
        var refused = await osb.ProvisionClusterAsync(Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Contains("restart test", refused.Field("description"));
        Assert.Contains("try again in 15 minutes", refused.Field("description"));

        Assert.Equal(HttpStatusCode.OK, (await new OperatorClient(fixture.Stack.Client).MaintenanceAsync(false)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await osb.ProvisionAsync("x-1", new JsonObject())).Status);
    }
}
