namespace OnDemand.Tests.Fleet;

/// <summary>A broker whose silo reads the fleet for its gauges every second.</summary>
public sealed class MetricsStackFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public BrokerStack Stack { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Metrics:FleetRefresh"] = "00:00:01" });

    public async ValueTask DisposeAsync() => await Stack.DisposeAsync();
}

/// <summary>docs/fleet.md, "Metrics": the domain metrics on the silo's and the gateway's /metrics.</summary>
public sealed class MetricsTests(MetricsStackFixture fixture, PostgresFixture postgres) : IClassFixture<MetricsStackFixture>
{
    private async Task<string> ScrapeAsync(Uri host)
    {
        using var client = new HttpClient { BaseAddress = host };
        // /metrics is (being) put behind operator auth: always send it.
        client.DefaultRequestHeaders.Authorization = OperatorClient.Auth;
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static Uri SiloUrl(BrokerStack stack) => new(stack.Silos[0].Urls.First());

    [Fact]
    public async Task Metrics_show_operations_by_kind_plan_and_cause_after_a_create_and_a_failed_update()
    {
        var stack = fixture.Stack;
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id, instanceName: "metrics-" + id[..8])).Status);
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        stack.Concourse.State.ScriptNextBuilds($"ondemand-{id}", "deploy", "failed");
        var update = await osb.UpdateAsync(id, new JsonObject
        {
            ["service_id"] = Catalog.MySql,
            ["parameters"] = new JsonObject { ["max_connections"] = 321 },
        });
        Assert.Equal(HttpStatusCode.Accepted, update.Status);
        Assert.Equal("failed", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        var text = await Eventually.MatchesAsync(() => ScrapeAsync(SiloUrl(stack)), t => t.Contains("status=\"failed\""), "the fleet gauge shows the failed cluster", TimeSpan.FromSeconds(15));
        // (counters are per process: in the full test run other stacks in this process add to them)
        AssertSeries(text, "ondemand_broker_operations_started", "kind=\"create\" plan=\"cluster-small\"");
        AssertSeries(text, "ondemand_broker_operations_succeeded", "kind=\"create\" plan=\"cluster-small\"");
        AssertSeries(text, "ondemand_broker_operations_failed", "kind=\"update\" plan=\"cluster-small\" cause=\"build_failed\"");
        AssertSeries(text, "ondemand_broker_operation_duration_bucket", "kind=\"update\" outcome=\"failed\" le=\"+Inf\"");
        AssertSeries(text, "ondemand_broker_instances", "plan=\"cluster-small\" status=\"failed\"");
    }

    [Fact]
    public async Task Database_operations_are_counted_under_their_own_kinds_with_the_database_plan()
    {
        var stack = fixture.Stack;
        var session = new PgSession(new OsbClient(stack.Client), postgres.Server);
        var cluster = "metrics-db-" + Guid.NewGuid().ToString("N")[..8];
        await session.ClusterAsync(cluster);
        var database = await session.DatabaseAsync(cluster);
        Assert.Equal(HttpStatusCode.Accepted, (await session.Osb.DeprovisionAsync(database, PgSession.Service, Catalog.Pg1Gb)).Status);
        Assert.Equal("succeeded", (await session.WaitAsync(database, Catalog.Pg1Gb))["state"]!.GetValue<string>());

        var text = await ScrapeAsync(SiloUrl(stack));
        AssertSeries(text, "ondemand_broker_operations_started", "kind=\"database_create\" plan=\"pg-1gb\"");
        AssertSeries(text, "ondemand_broker_operations_succeeded", "kind=\"database_create\" plan=\"pg-1gb\"");
        AssertSeries(text, "ondemand_broker_operations_succeeded", "kind=\"database_delete\" plan=\"pg-1gb\"");
        AssertSeries(text, "ondemand_broker_operation_duration_bucket", "kind=\"database_delete\" outcome=\"succeeded\" le=\"+Inf\"");
        // Clusters keep their kinds (dashboards and alerts written before databases were counted still match).
        AssertSeries(text, "ondemand_broker_operations_succeeded", "kind=\"create\" plan=\"pg-cluster-small\"");
    }

    [Fact]
    public async Task Operations_in_progress_are_a_gauge_while_they_run()
    {
        var stack = fixture.Stack;
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();
        stack.Concourse.State.HoldBuilds("deploy");
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id, planId: Catalog.ClusterLarge, instanceName: "metrics-" + id[..8])).Status);
            await Eventually.TrueAsync(async () => (await ScrapeAsync(SiloUrl(stack))).Contains("ondemand_broker_operations_in_progress{kind=\"create\",plan=\"cluster-large\"}"),
                "the running create is counted", TimeSpan.FromSeconds(10));
        }
        finally
        {
            stack.Concourse.State.ReleaseBuilds("deploy");
        }
        Assert.Equal("succeeded", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        // the gateway publishes the same Meter: refusals by the maintenance switch or a quota land there or on the silo
        Assert.Contains("# TYPE", await ScrapeAsync(stack.GatewayUrl));
    }

    /// <summary>A series of the metric whose labels include every given label="value", with a value of at least 1.</summary>
    private static void AssertSeries(string text, string metric, string labels)
    {
        var wanted = labels.Split(' ');
        var lines = text.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Any(l => wanted.All(w => l.Contains(w, StringComparison.Ordinal)) && double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 1),
            $"no series {metric} with {labels} >= 1 among:\n{string.Join("\n", lines)}");
    }
}
