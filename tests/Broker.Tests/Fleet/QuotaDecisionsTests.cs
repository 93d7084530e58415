using OnDemand.Grains.Catalog;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "Quotas": which quota grains a create claims in, the refusals, the operator's report.</summary>
public sealed class QuotaDecisionsTests
{
    private static readonly BrokerCatalog Catalog = CatalogLoader.LoadFile(RepositoryPaths.BrokerConfig);
    private static ServicePlan Small => Catalog.FindPlan(Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterSmall)!.Value.Plan;

    [Fact]
    public void No_quota_configured_means_no_quota_grain_is_asked()
    {
        Assert.Equal((false, false), QuotaDecisions.Applies(Small, new QuotaOptions()));
        Assert.Equal((false, true), QuotaDecisions.Applies(Small, new QuotaOptions { ClustersPerOrg = 3 }));
        var byName = new QuotaOptions();
        byName.ClustersPerPlan["CLUSTER-SMALL"] = 1;
        Assert.Equal((true, false), QuotaDecisions.Applies(Small, byName));
        var other = new QuotaOptions();
        other.ClustersPerPlan["cluster-large"] = 1;
        Assert.Equal((false, false), QuotaDecisions.Applies(Small, other));
    }

    [Fact]
    public void Refusals_name_the_quota_its_value_and_the_use()
    {
        Assert.Equal("quota exceeded: clusters per plan for plan cluster-large is 2 for the whole broker and 2 exist; delete one or ask the platform operators to raise the quota",
            QuotaDecisions.PlanRefusal("cluster-large", 2, 2));
        Assert.Equal("quota exceeded: clusters per org is 3 and your org already has 3; delete one or ask the platform operators to raise the quota",
            QuotaDecisions.OrgRefusal(3, 3));
        Assert.Equal("-", QuotaDecisions.OrgKey(""));
        Assert.Equal("org-1", QuotaDecisions.OrgKey("org-1"));
    }

    [Fact]
    public void The_report_counts_configured_plans_from_their_grain_and_orgs_only_when_their_quota_is_set()
    {
        var live = new[]
        {
            new ClusterClaim("a", Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterSmall, "cluster-small", "org-1"),
            new ClusterClaim("b", Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterLarge, "cluster-large", "org-1"),
            new ClusterClaim("c", Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterLarge, "cluster-large", "org-2"),
        };
        var quotas = new QuotaOptions();
        quotas.ClustersPerPlan["cluster-large"] = 5;
        var report = QuotaDecisions.Report(live, new Dictionary<string, int> { [Infrastructure.Catalog.ClusterLarge] = 3 }, quotas, Catalog);
        Assert.Equal(new QuotaUse("clusters_per_plan", "cluster-large", 5, 3), report.Uses.Single(u => u.Scope == "cluster-large"));
        Assert.Equal(new QuotaUse("clusters_per_plan", "cluster-small", null, 1), report.Uses.Single(u => u.Scope == "cluster-small"));
        Assert.DoesNotContain(report.Uses, u => u.Quota == "clusters_per_org");

        quotas.ClustersPerOrg = 4;
        var withOrgs = QuotaDecisions.Report(live, new Dictionary<string, int>(), quotas, Catalog);
        Assert.Equal([new QuotaUse("clusters_per_org", "org-1", 4, 2), new QuotaUse("clusters_per_org", "org-2", 4, 1)],
            withOrgs.Uses.Where(u => u.Quota == "clusters_per_org").ToList());
    }
}
