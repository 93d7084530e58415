namespace OnDemand.Tests.Integration;

/// <summary>
/// Issue 7, finding 5: a request that times out waiting for its grain may still be applied (it is queued in the
/// grain), so the answer must not say "nothing was changed". The gateway waits at most one second here; the cluster
/// grain is held busy by a timer tick stuck on a hanging Concourse.
/// </summary>
public sealed class HonestTimeoutTests(PostgresFixture postgres) : IAsyncLifetime
{
    private BrokerStack _stack = null!;

    public async ValueTask InitializeAsync() =>
        _stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Orleans:ResponseTimeout"] = "00:00:01" });

    public async ValueTask DisposeAsync() => await _stack.DisposeAsync();

    [Fact]
    public async Task A_change_that_timed_out_is_reported_as_possibly_applied_and_a_read_as_nothing_changed()
    {
        var osb = new OsbClient(_stack.Client);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id)).Status);
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        // The update's first tick reads the pipeline config: Concourse hangs there, and the grain with it.
        _stack.Concourse.Faults.HangNext(1, TimeSpan.FromSeconds(4), "/config", "GET");
        var update = new JsonObject { ["service_id"] = Catalog.MySql, ["parameters"] = new JsonObject { ["max_connections"] = 700 } };
        Assert.Equal(HttpStatusCode.Accepted, (await osb.UpdateAsync(id, update)).Status);
        await Eventually.TrueAsync(() => Task.FromResult(_stack.Concourse.Faults.PendingFaults == 0), "the hang fault fired");

        var rename = new JsonObject
        {
            ["service_id"] = Catalog.MySql,
            ["context"] = new JsonObject { ["platform"] = "cloudfoundry", ["organization_guid"] = OsbClient.OrgGuid, ["space_guid"] = OsbClient.SpaceGuid, ["instance_name"] = "after-timeout" },
        };
        var timedOut = await osb.UpdateAsync(id, rename);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut.Status);
        Assert.Contains("may or may not have been applied", timedOut.Field("description"));
        Assert.DoesNotContain("nothing was changed", timedOut.Field("description"));

        // Whether the queued rename ran depends on where it was when the time ran out: repeating it is what the
        // answer tells the user, and it is safe.
        await Eventually.TrueAsync(async () => (await osb.UpdateAsync(id, rename)).Status == HttpStatusCode.OK, "the repeated rename answered 200");
        await Eventually.TrueAsync(async () =>
        {
            var page = await _stack.Client.GetAsync($"/dashboard/instances/{id}?token={DashboardToken(id)}");
            return page.IsSuccessStatusCode && (await page.Content.ReadAsStringAsync()).Contains("after-timeout");
        }, "the repeated rename was applied");
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
    }

    private static string DashboardToken(string id) => Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(BrokerStack.DashboardSecret), System.Text.Encoding.UTF8.GetBytes(id)));
}
