using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "Orphans": pipelines no instance owns, instances whose pipeline vanished, confirmed cleanup.</summary>
public sealed class OrphanTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private OperatorClient Operator => new(fixture.Stack.Client);

    private async Task<string> ReadyClusterAsync()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionClusterAsync(id, instanceName: "o-" + id[..8])).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    /// <summary>Talks to the emulated Concourse as someone else would (fly), behind the broker's back.</summary>
    private async Task<HttpClient> FlyAsync()
    {
        var fly = new HttpClient { BaseAddress = fixture.Stack.Concourse.Url };
        using var login = new HttpRequestMessage(HttpMethod.Post, "/sky/issuer/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "admin", ["password"] = "admin", ["scope"] = "openid" }),
        };
        login.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("fly:Zmx5")));
        var token = JsonNode.Parse(await (await fly.SendAsync(login)).Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
        fly.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return fly;
    }

    private static async Task CopyPipelineAsync(HttpClient fly, string from, string to)
    {
        var config = JsonNode.Parse(await fly.GetStringAsync($"/api/v1/teams/main/pipelines/{from}/config"))!["config"]!;
        var content = new StringContent(config.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json"); // Concourse refuses a charset
        var put = await fly.PutAsync($"/api/v1/teams/main/pipelines/{to}/config", content);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Orphans_are_listed_and_only_a_confirmed_cleanup_deletes_them()
    {
        var kept = await ReadyClusterAsync();
        var lost = await ReadyClusterAsync();
        using var fly = await FlyAsync();
        var ghost = $"ondemand-{Guid.NewGuid()}";
        await CopyPipelineAsync(fly, $"ondemand-{kept}", ghost);
        await CopyPipelineAsync(fly, $"ondemand-{kept}", "someone-elses-pipeline");
        Assert.True((await fly.DeleteAsync($"/api/v1/teams/main/pipelines/ondemand-{lost}")).IsSuccessStatusCode);

        var listing = await Operator.GetAsync("/operator/orphans");
        Assert.Equal(HttpStatusCode.OK, listing.Status);
        var orphans = listing.Body!["orphan_pipelines"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal([ghost], orphans);
        var missing = listing.Body!["missing_pipelines"]!.AsArray();
        Assert.Equal(lost, Assert.Single(missing)!["instance_id"]!.GetValue<string>());
        var token = listing.Field("confirm_token")!;

        // no confirmation, a wrong one: nothing is deleted
        Assert.Equal(HttpStatusCode.BadRequest, (await Operator.SendAsync(HttpMethod.Delete, "/operator/orphans")).Status);
        var wrong = await Operator.SendAsync(HttpMethod.Delete, "/operator/orphans?confirm=0123456789abcdef0123");
        Assert.Equal(HttpStatusCode.Conflict, wrong.Status);
        Assert.Contains("list them again", wrong.Field("description"));
        Assert.NotNull(fixture.Stack.Concourse.State.GetPipeline(ghost));

        var cleaned = await Operator.SendAsync(HttpMethod.Delete, $"/operator/orphans?confirm={token}");
        Assert.Equal(HttpStatusCode.OK, cleaned.Status);
        Assert.Equal(ghost, Assert.Single(cleaned.Body!["deleted"]!.AsArray())!.GetValue<string>());
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline(ghost));
        Assert.NotNull(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{kept}"));
        Assert.NotNull(fixture.Stack.Concourse.State.GetPipeline("someone-elses-pipeline"));
        // the instance whose pipeline is missing is left to the operator (an update re-creates it)
        Assert.Empty((await Operator.GetAsync("/operator/orphans")).Body!["orphan_pipelines"]!.AsArray());
        Assert.Equal(HttpStatusCode.Conflict, (await Operator.SendAsync(HttpMethod.Delete, $"/operator/orphans?confirm={token}")).Status);
    }

    [Fact]
    public async Task The_fleet_listing_shows_each_cluster_with_its_plan_status_and_template_version()
    {
        var id = await ReadyClusterAsync();
        var listing = await Operator.GetAsync($"/operator/instances?org={OsbClient.OrgGuid}");
        Assert.Equal(HttpStatusCode.OK, listing.Status);
        var entry = listing.Body!["instances"]!.AsArray().Single(i => i!["instance_id"]!.GetValue<string>() == id)!;
        Assert.Equal("cluster-small", entry["plan"]!.GetValue<string>());
        Assert.Equal("Ready", entry["status"]!.GetValue<string>());
        Assert.Equal("2.0.0", entry["template_version"]!.GetValue<string>());
        Assert.False(entry["behind"]!.GetValue<bool>());
        Assert.Equal("o-" + id[..8], entry["name"]!.GetValue<string>());
    }
}
