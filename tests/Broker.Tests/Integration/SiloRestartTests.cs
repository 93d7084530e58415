using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Durability on the real PostgreSQL: grain state and reminders outlive silos, gateways find restarted silos, and an
/// operation interrupted by a dead silo completes exactly once elsewhere.
/// </summary>
public sealed class SiloRestartTests(PostgresFixture postgres)
{
    private static (int Silo, int Gateway) PortsOf(WebApplication silo) =>
        (silo.Configuration.GetValue<int>("Orleans:SiloPort"), silo.Configuration.GetValue<int>("Orleans:GatewayPort"));

    [Fact]
    public async Task State_survives_a_silo_restart_and_the_gateway_reconnects()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        await osb.ProvisionClusterAsync(id, parameters: new JsonObject { ["max_connections"] = 321 });
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        var silo = stack.Silos.Single();
        var (siloPort, gatewayPort) = PortsOf(silo);
        await stack.StopSiloAsync(silo);
        await stack.StartSiloAsync(siloPort, gatewayPort);
        await stack.WaitUntilReadyAsync();

        var fetched = await osb.FetchAsync(id);
        Assert.Equal(HttpStatusCode.OK, fetched.Status);
        Assert.Equal(321, fetched.Body!["parameters"]!["max_connections"]!.GetValue<int>());
        Assert.Equal("succeeded", (await osb.LastOperationAsync(id)).Field("state"));
        Assert.Equal(HttpStatusCode.Accepted, (await osb.UpdateAsync(id, new JsonObject { ["service_id"] = Catalog.MySql, ["plan_id"] = Catalog.ClusterLarge })).Status);
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_silo_killed_while_its_build_runs_is_replaced_and_the_operation_completes_with_one_build()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var osb = new OsbClient(stack.Client);
        var concourse = stack.Concourse;
        var id = Guid.NewGuid().ToString();
        concourse.State.HoldBuilds("deploy");
        await osb.ProvisionClusterAsync(id);
        await Eventually.MatchesAsync(() => osb.LastOperationAsync(id), a => a.Field("description")!.Contains("build #1"), "the deploy build runs", TimeSpan.FromSeconds(20));

        await stack.KillSiloAsync(stack.Silos.Single());
        await stack.StartSiloAsync();
        concourse.State.ReleaseBuilds("deploy");
        await stack.WaitUntilReadyAsync();

        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
        Assert.Single(concourse.State.GetBuilds($"ondemand-{id}", "deploy"));
        Assert.Equal(1, concourse.Faults.CountRequests("POST", $"ondemand-{id}/jobs/deploy/builds"));
    }

    [Fact]
    public async Task The_reminder_finishes_an_orphaned_operation_with_no_request_at_all()
    {
        // The reminder period is a setting (production: one minute); here it is short, so the test waits seconds.
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Lifecycle:ReminderPeriod"] = "00:00:03" });
        var osb = new OsbClient(stack.Client);
        var concourse = stack.Concourse;
        var id = Guid.NewGuid().ToString();
        await osb.ProvisionClusterAsync(id);
        await osb.WaitForOperationAsync(id);

        concourse.State.HoldBuilds("delete");
        Assert.Equal(HttpStatusCode.Accepted, (await osb.DeprovisionAsync(id)).Status);
        await Eventually.TrueAsync(() => Task.FromResult(concourse.State.GetBuilds($"ondemand-{id}", "delete").Count > 0), "the delete build started", TimeSpan.FromSeconds(20));
        await stack.KillSiloAsync(stack.Silos.Single());
        concourse.State.ReleaseBuilds("delete");
        await stack.StartSiloAsync();

        // Nobody calls the grain: only its reminder can bring it back to destroy the pipeline.
        await Eventually.TrueAsync(() => Task.FromResult(concourse.State.GetPipeline($"ondemand-{id}") is null), "the reminder destroyed the pipeline", TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.Gone, (await osb.DeprovisionAsync(id)).Status);
    }
}
