using OnDemand.ConcourseEmulator;

namespace OnDemand.Tests.Fleet;

/// <summary>
/// A broker whose clusters were created with template 1.9.0 and that was then redeployed with the catalog's 2.0.0:
/// the whole fleet is behind. Upgrades tick fast; reminders are short so that a killed silo's run resumes quickly.
/// </summary>
public sealed class UpgradeStackFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public BrokerStack Stack { get; private set; } = null!;
    public OsbClient Osb => new(Stack.Client);
    public OperatorClient Operator => new(Stack.Client);

    public async ValueTask InitializeAsync()
    {
        var oldCatalog = TestCatalogs.Write(File.ReadAllText(RepositoryPaths.BrokerConfig).Replace("maintenance_info: { version: 2.0.0", "maintenance_info: { version: 1.9.0"));
        // Builds take no time and touch no database: the fleet is large, the deploys are not what is tested here.
        Stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["Broker:ConfigPath"] = oldCatalog,
            ["Upgrades:TickInterval"] = "00:00:00.100",
            ["Upgrades:BusyRetryDelay"] = "00:00:00.200",
            ["Lifecycle:ReminderPeriod"] = "00:00:05",
            ["Serilog:MinimumLevel:Default"] = "Error",
        }, new EmulatorOptions { Username = "admin", Password = "admin", Team = "main" });
    }

    /// <summary>The catalog moves on to 2.0.0: every silo and gateway is replaced.</summary>
    public Task NewCatalogAsync() => Stack.RedeployAsync(new Dictionary<string, string?> { ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig });

    public async ValueTask DisposeAsync() => await Stack.DisposeAsync();
}

/// <summary>docs/fleet.md, "Upgrade-all": canaries first, a failing canary stops the run, parallelism, pause/resume, crash.</summary>
public sealed class UpgradeAllTests(UpgradeStackFixture fixture) : IClassFixture<UpgradeStackFixture>
{
    private const int FleetSize = 200;
    private const int Parallelism = 20;

    private EmulatorState Concourse => fixture.Stack.Concourse.State;

    private async Task<JsonObject> WaitForRunAsync(params string[] statuses) =>
        (await Eventually.MatchesAsync(() => fixture.Operator.GetAsync("/operator/upgrades"),
            a => a.Status == HttpStatusCode.OK && statuses.Contains(a.Body!["status"]!.GetValue<string>()),
            $"the upgrade run reaches {string.Join(" or ", statuses)}", TimeSpan.FromSeconds(90))).Body!;

    private static int Count(JsonObject report, string field) => report[field]!.GetValue<int>();

    [Fact]
    public async Task A_fleet_of_200_stops_at_a_failing_canary_then_upgrades_completely()
    {
        var osb = fixture.Osb;
        var ids = Enumerable.Range(0, FleetSize).Select(n => $"fleet-{n:D3}-{Guid.NewGuid().ToString("N")[..8]}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 25 }, async (id, _) =>
        {
            var answer = await osb.ProvisionAsync(id, OperatorClient.ClusterIn("org-" + id[6..9], name: id));
            Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
            Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id, TimeSpan.FromSeconds(120)))["state"]!.GetValue<string>());
        });
        await fixture.NewCatalogAsync();
        osb = fixture.Osb; // the redeploy replaced the gateway and its client
        var op = fixture.Operator;
        var behind = await op.GetAsync("/operator/instances?behind=true");
        Assert.Equal(FleetSize, behind.Body!["total"]!.GetValue<int>());
        Assert.All(behind.Body!["instances"]!.AsArray(), i => Assert.Equal("1.9.0", i!["template_version"]!.GetValue<string>()));

        // Run 1: the first canary's deploy fails: the run stops, no other cluster is touched.
        var sorted = ids.Order(StringComparer.Ordinal).ToList();
        Concourse.ScriptNextBuilds($"ondemand-{sorted[0]}", "deploy", "failed");
        var start = await op.PostAsync("/operator/upgrades", new JsonObject { ["canaries"] = 3, ["parallelism"] = Parallelism });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        Assert.Equal(FleetSize, Count(start.Body!, "total"));
        var stopped = await WaitForRunAsync("stopped", "completed");
        Assert.Equal("stopped", stopped["status"]!.GetValue<string>());
        Assert.Contains($"canary {sorted[0]} failed", stopped["reason"]!.GetValue<string>());
        Assert.Equal(1, Count(stopped, "failed"));
        Assert.Equal(FleetSize - 3, Count(stopped, "left"));
        Assert.All(stopped["items"]!.AsArray().Where(i => !i!["canary"]!.GetValue<bool>()), i => Assert.Equal("pending", i!["phase"]!.GetValue<string>()));
        Assert.Single(Concourse.GetBuilds($"ondemand-{sorted[10]}", "deploy")); // its create only
        Assert.Equal("failed", (await osb.LastOperationAsync(sorted[0])).Field("state"));

        // Run 2: the cause is fixed; canaries first again, then the rest, at most Parallelism at once, through a
        // pause and a silo crash.
        var second = await op.PostAsync("/operator/upgrades", new JsonObject { ["canaries"] = 3, ["parallelism"] = Parallelism });
        Assert.Equal(HttpStatusCode.Accepted, second.Status);
        Assert.Equal(FleetSize - 2, Count(second.Body!, "total")); // the two canaries that succeeded are current
        Assert.True(second.Body!["items"]!.AsArray().Single(i => i!["instance_id"]!.GetValue<string>() == sorted[0])!["canary"]!.GetValue<bool>());

        await Eventually.TrueAsync(async () => Count((await op.GetAsync("/operator/upgrades")).Body!, "done") >= 20, "20 clusters upgraded", TimeSpan.FromSeconds(60));
        var paused = await op.PostAsync("/operator/upgrades/pause");
        Assert.Equal(HttpStatusCode.OK, paused.Status);
        Assert.Equal("paused", paused.Field("status"));
        var drained = await Eventually.MatchesAsync(() => op.GetAsync("/operator/upgrades"), a => Count(a.Body!, "running") == 0, "running upgrades finish while paused", TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        var stillPaused = (await op.GetAsync("/operator/upgrades")).Body!;
        Assert.Equal(Count(drained.Body!, "left"), Count(stillPaused, "left"));
        Assert.True(Count(stillPaused, "left") > 0);
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync("/operator/upgrades/pause")).Status);
        var busy = await op.PostAsync("/operator/upgrades", new JsonObject());
        Assert.Equal(HttpStatusCode.Conflict, busy.Status);
        Assert.Contains("is paused", busy.Field("description"));

        Assert.Equal("running", (await op.PostAsync("/operator/upgrades/resume")).Field("status"));
        await Eventually.TrueAsync(async () => Count((await op.GetAsync("/operator/upgrades")).Body!, "running") > 0, "upgrades run again", TimeSpan.FromSeconds(30));
        var sample = (await op.GetAsync("/operator/upgrades")).Body!;
        Assert.InRange(Count(sample, "running"), 1, Parallelism);

        // the silo dies mid-run; a new one takes over and the run goes on from its recorded steps
        await fixture.Stack.KillSiloAsync(fixture.Stack.Silos[0]);
        await fixture.Stack.StartSiloAsync();
        await fixture.Stack.WaitUntilReadyAsync();

        var completed = await WaitForRunAsync("completed", "stopped");
        Assert.Equal("completed", completed["status"]!.GetValue<string>());
        Assert.Equal(0, Count(completed, "failed"));
        Assert.Equal(FleetSize - 2, Count(completed, "done"));
        Assert.Equal(0, (await op.GetAsync("/operator/instances?behind=true")).Body!["total"]!.GetValue<int>());
        Assert.Equal("2.0.0", (await osb.FetchAsync(sorted[0])).Body!["maintenance_info"]!["version"]!.GetValue<string>());

        // nothing left to do: a new run completes at once
        var idle = await op.PostAsync("/operator/upgrades", new JsonObject());
        Assert.Equal("completed", idle.Field("status"));
        Assert.Equal(0, Count(idle.Body!, "total"));
    }

    [Fact]
    public async Task Bad_upgrade_requests_are_400_and_start_nothing()
    {
        var op = fixture.Operator;
        var before = (await op.GetAsync("/operator/upgrades")).Body!["run_id"]?.ToJsonString();
        foreach (var bad in new JsonObject[] { new() { ["parallelism"] = 0 }, new() { ["canaries"] = -1 }, new() { ["parallelism"] = "ten" }, new() { ["canary_org"] = 5 } })
        {
            var answer = await op.PostAsync("/operator/upgrades", bad);
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.NotNull(answer.Field("description"));
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await op.PostAsync("/operator/upgrades/explode")).Status);
        Assert.Equal(before, (await op.GetAsync("/operator/upgrades")).Body!["run_id"]?.ToJsonString());
    }
}
