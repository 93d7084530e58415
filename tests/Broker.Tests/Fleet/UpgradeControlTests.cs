namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "Upgrade-all": a busy cluster is retried later, never interrupted; cancel ends a run.</summary>
public sealed class UpgradeControlTests(UpgradeStackFixture fixture) : IClassFixture<UpgradeStackFixture>
{
    [Fact]
    public async Task A_busy_cluster_is_retried_later_and_cancel_lets_running_upgrades_finish()
    {
        var osb = fixture.Osb;
        var ids = Enumerable.Range(0, 4).Select(n => $"ctl-{n}-{Guid.NewGuid().ToString("N")[..8]}").ToList();
        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionAsync(id, OperatorClient.ClusterIn("org-ctl", name: id))).Status);
            Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        }
        await fixture.NewCatalogAsync();
        osb = fixture.Osb;
        var op = fixture.Operator;
        var concourse = fixture.Stack.Concourse.State;

        concourse.HoldBuilds("deploy");
        // the user updates the first cluster: it is busy when the run reaches it
        Assert.Equal(HttpStatusCode.Accepted, (await osb.UpdateAsync(ids[0], new JsonObject
        {
            ["service_id"] = Catalog.MySql,
            ["parameters"] = new JsonObject { ["max_connections"] = 222 },
        })).Status);

        var start = await op.PostAsync("/operator/upgrades", new JsonObject { ["canaries"] = 0, ["parallelism"] = 1 });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        var waiting = await Eventually.MatchesAsync(() => op.GetAsync("/operator/upgrades"),
            a => a.Body!["items"]!.AsArray().Any(i => i!["note"]?.GetValue<string>().StartsWith("busy, retried later") == true) && a.Body["running"]!.GetValue<int>() == 1,
            "the busy cluster waits while another upgrades", TimeSpan.FromSeconds(30));
        Assert.Equal(1, waiting.Body!["running"]!.GetValue<int>());

        var cancelled = await op.PostAsync("/operator/upgrades/cancel");
        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        Assert.Equal("cancelled", cancelled.Field("status"));
        concourse.ReleaseBuilds("deploy");
        var ended = await Eventually.MatchesAsync(() => op.GetAsync("/operator/upgrades"), a => a.Body!["finished_at"] is not null,
            "the cancelled run ends once its running upgrade finished", TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", ended.Field("status"));
        Assert.Equal(0, ended.Body!["running"]!.GetValue<int>());
        Assert.Equal(1, ended.Body!["done"]!.GetValue<int>()); // the one that was running finished, never interrupted
        Assert.True(ended.Body!["left"]!.GetValue<int>() >= 2);
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync("/operator/upgrades/resume")).Status);
    }
}
