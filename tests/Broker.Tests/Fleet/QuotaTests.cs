using Microsoft.Extensions.DependencyInjection;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Tests.Fleet;

/// <summary>A broker with quotas: 2 cluster-large for the whole broker, 3 clusters per org, 1 database per cluster.</summary>
public sealed class QuotaStackFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public BrokerStack Stack { get; private set; } = null!;
    public OsbClient Osb { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["Quotas:ClustersPerPlan:cluster-large"] = "2",
            ["Quotas:ClustersPerOrg"] = "3",
            ["Quotas:DatabasesPerCluster"] = "1",
        });
        Osb = new OsbClient(Stack.Client);
    }

    public async ValueTask DisposeAsync() => await Stack.DisposeAsync();
}

/// <summary>docs/fleet.md, "Quotas": over a quota is a 400 naming the quota, its value and the use; nothing changes.</summary>
public sealed class QuotaTests(QuotaStackFixture fixture, PostgresFixture postgres) : IClassFixture<QuotaStackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private OperatorClient Operator => new(fixture.Stack.Client);

    private static string NewOrg() => "org-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> CreateAsync(JsonObject body)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await Osb.ProvisionAsync(id, body);
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    [Fact]
    public async Task Clusters_per_plan_count_for_the_whole_broker_and_a_deleted_cluster_frees_its_slot()
    {
        var first = await CreateAsync(OperatorClient.ClusterIn(NewOrg(), Catalog.ClusterLarge));
        await CreateAsync(OperatorClient.ClusterIn(NewOrg(), Catalog.ClusterLarge));

        var refusedId = Guid.NewGuid().ToString();
        var refused = await Osb.ProvisionAsync(refusedId, OperatorClient.ClusterIn(NewOrg(), Catalog.ClusterLarge));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("quota exceeded: clusters per plan for plan cluster-large is 2 for the whole broker and 2 exist; delete one or ask the platform operators to raise the quota",
            refused.Field("description"));
        // nothing changed: no instance, no pipeline
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(refusedId)).Status);
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{refusedId}"));

        var quotas = await Operator.GetAsync("/operator/quotas");
        var large = quotas.Body!["quotas"]!.AsArray().Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_plan" && q["scope"]!.GetValue<string>() == "cluster-large")!;
        Assert.Equal(2, large["limit"]!.GetValue<int>());
        Assert.Equal(2, large["used"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(first, planId: Catalog.ClusterLarge)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(first))["state"]!.GetValue<string>());
        await CreateAsync(OperatorClient.ClusterIn(NewOrg(), Catalog.ClusterLarge));
    }

    [Fact]
    public async Task Creates_racing_for_the_last_slots_of_an_org_never_exceed_its_quota()
    {
        var org = NewOrg();
        var ids = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid().ToString()).ToList();
        var answers = await Task.WhenAll(ids.Select(id => Osb.ProvisionAsync(id, OperatorClient.ClusterIn(org))));
        Assert.Equal(3, answers.Count(a => a.Status == HttpStatusCode.Accepted));
        var refusals = answers.Where(a => a.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(3, refusals.Count);
        Assert.All(refusals, r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.Contains("clusters per org is 3 and your org already has 3", r.Field("description"));
        });
        var orgUse = (await Operator.GetAsync("/operator/quotas")).Body!["quotas"]!.AsArray()
            .Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_org" && q["scope"]!.GetValue<string>() == org)!;
        Assert.Equal(3, orgUse["used"]!.GetValue<int>());
        Assert.Equal(3, orgUse["limit"]!.GetValue<int>());
        foreach (var id in ids.Where((_, n) => answers[n].Status == HttpStatusCode.Accepted)) await Osb.WaitForOperationAsync(id);
    }

    [Fact]
    public async Task A_plan_change_into_a_full_plan_is_refused_and_changes_nothing()
    {
        async Task<int> LargeInUseAsync() => (await Operator.GetAsync("/operator/quotas")).Body!["quotas"]!.AsArray()
            .Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_plan" && q["scope"]!.GetValue<string>() == "cluster-large")!["used"]!.GetValue<int>();
        // (other tests of this class use cluster-large too: fill whatever is left)
        var filled = new List<string>();
        while (await LargeInUseAsync() < 2) filled.Add(await CreateAsync(OperatorClient.ClusterIn(NewOrg(), Catalog.ClusterLarge)));
        var small = await CreateAsync(OperatorClient.ClusterIn(NewOrg()));

        var change = await Osb.UpdateAsync(small, new JsonObject
        {
            ["service_id"] = Catalog.MySql,
            ["plan_id"] = Catalog.ClusterLarge,
            ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.ClusterSmall },
        });
        Assert.Equal(HttpStatusCode.BadRequest, change.Status);
        Assert.StartsWith("quota exceeded: clusters per plan for plan cluster-large is 2 for the whole broker and 2 exist", change.Field("description"));
        Assert.Equal(Catalog.ClusterSmall, (await Osb.FetchAsync(small)).Field("plan_id"));
        Assert.Equal(2, await LargeInUseAsync());

        // leave the plan as this test found it
        foreach (var id in filled)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(id, planId: Catalog.ClusterLarge)).Status);
            await Osb.WaitForOperationAsync(id);
        }
    }

    [Fact]
    public async Task Claims_of_creates_lost_before_their_intent_are_dropped_when_the_quota_would_refuse()
    {
        // docs/crash-consistency.md, rule 13: three creates claimed the org's slots and died before recording anything.
        var org = NewOrg();
        var grains = fixture.Stack.Gateways[0].Services.GetRequiredService<IGrainFactory>();
        var quota = grains.GetGrain<IOrgQuotaGrain>(org);
        for (var n = 0; n < 3; n++) Assert.Null(await quota.Claim(Guid.NewGuid().ToString(), "cluster-small", enforce: true));
        Assert.Equal(3, await quota.GetUse());

        // the next create is admitted: the re-check found no cluster behind those claims
        var id = await CreateAsync(OperatorClient.ClusterIn(org));
        Assert.Equal(1, await quota.GetUse());
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(id, planId: Catalog.ClusterSmall)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal(0, await quota.GetUse());
    }

    [Fact]
    public async Task Databases_per_cluster_is_checked_by_the_cluster()
    {
        var pg = new PgSession(Osb, postgres.Server);
        var clusterName = "quota-" + Guid.NewGuid().ToString("N")[..8];
        await pg.ClusterAsync(clusterName);
        await pg.DatabaseAsync(clusterName, name: "first");
        var secondId = Guid.NewGuid().ToString();
        var second = await Osb.ProvisionAsync(secondId, PgSession.Database(clusterName, "second"));
        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
        Assert.Equal($"quota exceeded: databases per cluster is 1 and cluster '{clusterName}' already has 1; delete one, use another cluster or ask the platform operators to raise the quota",
            second.Field("description"));
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(secondId)).Status);
        Assert.Equal(1, (await Operator.GetAsync("/operator/quotas")).Body!["databases_per_cluster"]!.GetValue<int>());
    }
}

/// <summary>
/// docs/fleet.md, "Quotas": a quota removed and configured again counts the clusters created while it was not
/// configured (IQuotaSettingsGrain gives the scope a new generation when a silo starts with it again).
/// </summary>
public sealed class QuotaConfiguredAgainTests(PostgresFixture postgres) : IAsyncLifetime
{
    private BrokerStack _stack = null!;
    private OsbClient Osb => new(_stack.Client);

    public async ValueTask InitializeAsync() =>
        _stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Quotas:ClustersPerOrg"] = "2" });

    public async ValueTask DisposeAsync() => await _stack.DisposeAsync();

    private async Task<HttpStatusCode> CreateAsync(string org)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await Osb.ProvisionAsync(id, OperatorClient.ClusterIn(org));
        if (answer.Status == HttpStatusCode.Accepted) Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return answer.Status;
    }

    [Fact]
    public async Task A_quota_configured_again_counts_the_clusters_created_while_it_was_off()
    {
        var org = "org-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Accepted, await CreateAsync(org));                 // claimed: 1 of 2

        await _stack.RedeployAsync(new Dictionary<string, string?> { ["Quotas:ClustersPerOrg"] = null });
        Assert.Equal(HttpStatusCode.Accepted, await CreateAsync(org));                 // no quota: no claim

        await _stack.RedeployAsync(new Dictionary<string, string?> { ["Quotas:ClustersPerOrg"] = "2" });
        var settings = _stack.Gateways[0].Services.GetRequiredService<IGrainFactory>().GetGrain<IQuotaSettingsGrain>(IQuotaSettingsGrain.Key);
        await Eventually.TrueAsync(async () => await settings.Generation(QuotaDecisions.OrgScope) == 1, "the restarted silo recorded that the org quota is back");

        // The org has 2 clusters: the quota, configured again, counts both (before, its grain remembered only the first).
        Assert.Equal(HttpStatusCode.BadRequest, await CreateAsync(org));
        var quotas = await new OperatorClient(_stack.Client).GetAsync("/operator/quotas");
        var orgQuota = quotas.Body!["quotas"]!.AsArray().Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_org" && q["scope"]!.GetValue<string>() == org)!;
        Assert.Equal(2, orgQuota["used"]!.GetValue<int>());
    }
}
