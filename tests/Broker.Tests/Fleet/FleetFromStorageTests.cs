using Microsoft.Extensions.Options;
using Npgsql;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Fleet;
using Orleans.Configuration;

namespace OnDemand.Tests.Fleet;

/// <summary>
/// docs/fleet.md, "How the fleet is read" and "Quotas": the fleet is listed from storage and a quota counts the
/// clusters that existed before it was configured. Clusters are created with template 1.9.0 and no quota; the broker is
/// then redeployed with the catalog's 2.0.0 and quotas, as an upgrade of a broker that had no registry would be.
/// </summary>
public sealed class FleetFromStorageTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Org = "org-before";
    private BrokerStack _stack = null!;
    private OsbClient Osb => new(_stack.Client);
    private OperatorClient Operator => new(_stack.Client);

    public async ValueTask InitializeAsync()
    {
        var oldCatalog = TestCatalogs.Write(File.ReadAllText(RepositoryPaths.BrokerConfig).Replace("maintenance_info: { version: 2.0.0", "maintenance_info: { version: 1.9.0"));
        _stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["Broker:ConfigPath"] = oldCatalog,
            ["Upgrades:TickInterval"] = "00:00:00.100",
            ["Upgrades:BusyRetryDelay"] = "00:00:00.200",
        }, new EmulatorOptions { Username = "admin", Password = "admin", Team = "main" });
    }

    public async ValueTask DisposeAsync() => await _stack.DisposeAsync();

    private async Task<string> CreateAsync(string org)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await Osb.ProvisionAsync(id, OperatorClient.ClusterIn(org));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        return id;
    }

    private async Task<long> QuotaRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_stack.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString IN ('plan-quota', 'org-quota')", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task The_fleet_listing_reads_an_index_of_the_cluster_rows_not_the_whole_storage_table()
    {
        await CreateAsync(Org);
        await using var connection = new NpgsqlConnection(_stack.ConnectionString);
        await connection.OpenAsync();
        // Few rows here, so the planner would scan anyway: with scans priced out, the plan shows whether the index can serve the query.
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection)) await off.ExecuteNonQueryAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN " + PostgresClusterDirectory.Query, connection);
        explain.Parameters.AddWithValue("service", "any");
        explain.Parameters.AddWithValue("after", "");
        explain.Parameters.AddWithValue("page", PostgresClusterDirectory.PageSize);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        }
        Assert.Contains(plan, line => line.Contains("ix_orleansstorage_clusterkeys", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(plan, line => line.Contains("Sort", StringComparison.Ordinal)); // already in key order
    }

    [Fact]
    public async Task Clusters_stored_before_any_quota_are_listed_upgraded_and_counted_by_a_new_quota()
    {
        var before = new List<string>();
        for (var n = 0; n < 3; n++) before.Add(await CreateAsync(Org));
        var deleted = await CreateAsync(Org);
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(deleted, planId: Catalog.ClusterSmall)).Status);
        Assert.Equal("succeeded", (await Osb.WaitForOperationAsync(deleted))["state"]!.GetValue<string>());

        // No quota configured: a create wrote no quota grain state.
        Assert.Equal(0, await QuotaRowsAsync());
        // The directory lists every stored cluster, the deleted one too (its status leaves it out of the fleet).
        var directory = new PostgresClusterDirectory(_stack.ConnectionString, Options.Create(new ClusterOptions { ServiceId = _stack.ServiceId }));
        var listed = new List<string>();
        await foreach (var id in directory.ListClusterIdsAsync()) listed.Add(id);
        Assert.Equal(before.Append(deleted).Order(StringComparer.Ordinal), listed);

        await _stack.RedeployAsync(new Dictionary<string, string?>
        {
            ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig,
            ["Quotas:ClustersPerOrg"] = "4",
            ["Quotas:ClustersPerPlan:cluster-small"] = "10",
        });

        var instances = await Operator.GetAsync("/operator/instances?behind=true");
        Assert.Equal(3, instances.Body!["total"]!.GetValue<int>());
        Assert.Equal(before.Order(StringComparer.Ordinal), instances.Body!["instances"]!.AsArray().Select(i => i!["instance_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        // The new quotas count the clusters that were never claimed (the backfill), not the deleted one.
        var quotas = (await Operator.GetAsync("/operator/quotas")).Body!["quotas"]!.AsArray();
        Assert.Equal(3, quotas.Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_plan" && q["scope"]!.GetValue<string>() == "cluster-small")!["used"]!.GetValue<int>());
        Assert.Equal(3, quotas.Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_org" && q["scope"]!.GetValue<string>() == Org)!["used"]!.GetValue<int>());
        await CreateAsync(Org);
        var refused = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), OperatorClient.ClusterIn(Org));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("clusters per org is 4 and your org already has 4", refused.Field("description"));
        Assert.Equal(4, (await Operator.GetAsync("/operator/quotas")).Body!["quotas"]!.AsArray()
            .Single(q => q!["quota"]!.GetValue<string>() == "clusters_per_plan" && q["scope"]!.GetValue<string>() == "cluster-small")!["used"]!.GetValue<int>());

        // Upgrade-all plans its run from storage: the clusters created before are upgraded.
        var start = await Operator.PostAsync("/operator/upgrades", new JsonObject { ["canaries"] = 1, ["parallelism"] = 2 });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        Assert.Equal(3, start.Body!["total"]!.GetValue<int>());
        await Eventually.MatchesAsync(() => Operator.GetAsync("/operator/upgrades"),
            a => a.Status == HttpStatusCode.OK && a.Body!["status"]!.GetValue<string>() == "completed", "the upgrade run completes", TimeSpan.FromSeconds(90));
        var after = await Operator.GetAsync("/operator/instances");
        Assert.All(after.Body!["instances"]!.AsArray(), i => Assert.Equal("2.0.0", i!["template_version"]!.GetValue<string>()));
        Assert.Equal(0, (await Operator.GetAsync("/operator/instances?behind=true")).Body!["total"]!.GetValue<int>());
    }
}
