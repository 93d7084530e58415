using Microsoft.Extensions.Options;
using OnDemand.Grains.Alerts;
using OnDemand.Grains.Concourse;

namespace OnDemand.Tests.Http;

/// <summary>Issue 3: the pipeline lifecycle in the real world: operators' edits, template upgrades, a vanished pipeline, alerts.</summary>
public sealed class PipelineOperationsTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;

    private ConcourseClient OperatorsFly(BrokerStack stack) => new(new ConcourseOptions
    {
        Url = stack.Concourse.Url.ToString().TrimEnd('/'),
        Team = "main",
        Username = "admin",
        Password = "admin",
    });

    private async Task<string> ReadyClusterAsync(OsbClient osb)
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id)).Status);
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    private static JsonObject Tune(int maxConnections) => new()
    {
        ["service_id"] = Catalog.MySql,
        ["plan_id"] = Catalog.ClusterSmall,
        ["parameters"] = new JsonObject { ["max_connections"] = maxConnections },
    };

    [Fact]
    public async Task A_pipeline_changed_by_an_operator_is_reported_not_overwritten_and_a_retry_then_goes_through()
    {
        var id = await ReadyClusterAsync(Osb);
        var fly = OperatorsFly(fixture.Stack);
        var pipeline = $"ondemand-{id}";
        var current = await fly.GetPipelineConfigAsync(pipeline, default);
        var edited = current!.ConfigJson.Replace("\"check_every\":\"24h\"", "\"check_every\":\"1h\"");
        Assert.NotEqual(current.ConfigJson, edited);
        await fly.SetPipelineConfigAsync(pipeline, edited, current.Version, default);

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Tune(900))).Status);
        var failed = await Osb.WaitForOperationAsync(id);
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Contains("changed outside the broker", failed["description"]!.GetValue<string>());
        Assert.Contains("\"check_every\":\"1h\"", (await fly.GetPipelineConfigAsync(pipeline, default))!.ConfigJson);
        Assert.Equal(500, (await Osb.FetchAsync(id)).Body!["parameters"]!["max_connections"]?.GetValue<int>() ?? 500);

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, Tune(900))).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        var config = (await fly.GetPipelineConfigAsync(pipeline, default))!.ConfigJson;
        Assert.Contains("\"max_connections\":900", config);
        Assert.DoesNotContain("\"check_every\":\"1h\"", config);
    }

    [Fact]
    public async Task Deleting_a_cluster_whose_pipeline_vanished_sets_it_again_runs_the_delete_job_and_completes()
    {
        var id = await ReadyClusterAsync(Osb);
        Assert.True(await OperatorsFly(fixture.Stack).DeletePipelineAsync($"ondemand-{id}", default));

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(id)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}"));
        Assert.Equal(1, fixture.Stack.Concourse.Faults.CountRequests("POST", $"ondemand-{id}/jobs/delete/builds"));
    }

    [Fact]
    public async Task A_new_template_version_is_applied_by_an_upgrade_and_only_then()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var osb = new OsbClient(stack.Client);
        var id = await ReadyClusterAsync(osb);
        var before = stack.Concourse.State.GetPipeline($"ondemand-{id}")!.ConfigVersion;

        // The operator ships template 2.1.0 and redeploys the broker.
        var yaml = File.ReadAllText(RepositoryPaths.BrokerConfig).Replace("version: 2.0.0, description: \"pxc-release 2.0.5 pipeline template 2.0.0", "version: 2.1.0, description: \"pxc-release 2.0.5 pipeline template 2.1.0");
        await stack.RedeployAsync(new Dictionary<string, string?> { ["Broker:ConfigPath"] = TestCatalogs.Write(yaml) });
        osb = new OsbClient(stack.Client);

        Assert.Equal("2.0.0", (await osb.FetchAsync(id)).Body!["maintenance_info"]!["version"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await osb.UpdateAsync(id, new JsonObject { ["service_id"] = Catalog.MySql })).Status);
        Assert.Equal(before, stack.Concourse.State.GetPipeline($"ondemand-{id}")!.ConfigVersion);

        var upgrade = new JsonObject { ["service_id"] = Catalog.MySql, ["plan_id"] = Catalog.ClusterSmall, ["maintenance_info"] = new JsonObject { ["version"] = "2.1.0" } };
        Assert.Equal(HttpStatusCode.Accepted, (await osb.UpdateAsync(id, upgrade)).Status);
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal("2.1.0", (await osb.FetchAsync(id)).Body!["maintenance_info"]!["version"]!.GetValue<string>());
        Assert.True(stack.Concourse.State.GetPipeline($"ondemand-{id}")!.ConfigVersion > before);
        Assert.Equal(2, stack.Concourse.State.GetBuilds($"ondemand-{id}", "deploy").Count);
    }

    [Fact]
    public async Task A_failed_operation_alerts_slack_with_instance_space_operation_and_build_link_retrying_delivery()
    {
        await using var slack = await SlackReceiver.StartAsync(failFirst: 2);
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Slack:WebhookUrl"] = slack.Url });
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        stack.Concourse.State.ScriptNextBuilds($"ondemand-{id}", "deploy", "failed");
        await osb.ProvisionClusterAsync(id, instanceName: "alerting-cluster");
        Assert.Equal("failed", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        await Eventually.TrueAsync(() => Task.FromResult(!slack.Messages.IsEmpty), "the failure alert reaches Slack", TimeSpan.FromSeconds(20));
        var text = Assert.Single(slack.Messages)["text"]!.GetValue<string>();
        Assert.Contains("alerting-cluster", text);
        Assert.Contains(id, text);
        Assert.Contains("my-org", text);
        Assert.Contains("my-space", text);
        Assert.Contains("create operation", text);
        Assert.Contains($"/pipelines/ondemand-{id}/jobs/deploy/builds/1", text);
        Assert.Equal(3, slack.Attempts);
    }

    [Fact]
    public async Task Without_a_webhook_no_alert_is_sent()
    {
        using var http = new Flurl.Http.Testing.HttpTest();
        var sender = new SlackAlertSender(Options.Create(new SlackOptions()));
        Assert.False(sender.Enabled);
        await sender.SendAsync("nothing", default);
        http.ShouldNotHaveMadeACall();
    }
}
