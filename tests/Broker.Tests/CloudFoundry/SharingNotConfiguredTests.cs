namespace OnDemand.Tests.CloudFoundry;

/// <summary>A broker without CloudFoundry__ApiUrl: naming another org or space is a clear 400, and nothing is created.</summary>
public sealed class SharingNotConfiguredTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    private const string NotConfigured =
        "using a cluster of another org or space (cluster-org, cluster-space) is not available: the broker's operators have not configured " +
        "the Cloud Foundry API (CloudFoundry__ApiUrl); create the database in the cluster's own space";

    [Fact]
    public async Task Naming_another_org_or_space_or_a_cluster_id_of_another_space_says_the_api_is_not_configured()
    {
        var pg = new PgSession(fixture.Osb, postgres.Server);
        var clusterName = "elsewhere-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await pg.ClusterAsync(clusterName, spaceGuid: "space-of-the-cluster");

        foreach (var parameters in new[]
        {
            new JsonObject { ["cluster"] = clusterName, ["cluster-org"] = "my-org", ["cluster-space"] = "space-of-the-cluster" },
            new JsonObject { ["cluster"] = clusterName, ["cluster_space"] = "space-of-the-cluster" },
            new JsonObject { ["cluster"] = cluster },
        })
        {
            var id = Guid.NewGuid().ToString();
            var answer = await fixture.Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Catalog.PostgreSql, Catalog.Pg1Gb, parameters, instanceName: "db"));
            Assert.True(answer.Status == HttpStatusCode.BadRequest, answer.ToString());
            Assert.Equal(NotConfigured, answer.Field("description"));
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Osb.FetchAsync(id)).Status);
        }
    }
}
