using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OnDemand.BrokerGateway.CloudFoundry;

namespace OnDemand.Tests.CloudFoundry;

/// <summary>
/// A broker whose gateways check shared clusters against a fake Cloud Foundry API (one resource per page, so every
/// lookup follows pagination.next), with a clock the tests move, and a PostgreSQL cluster "shared-pg" in space
/// "cluster-space" of org "cluster-org". Requesters live in "team-space" of "team-org" (or "other-space" of the
/// cluster's org). Each org and space name has a decoy differing only in case, created first (page 1).
/// </summary>
public sealed class SharingFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public const string ClusterName = "shared-pg";
    public const string Service = Catalog.PostgreSql;

    public ManualClock Clock { get; } = new();
    internal FakeCloudFoundryApi Cf { get; private set; } = null!;
    public BrokerStack Stack { get; private set; } = null!;
    public OsbClient Osb { get; private set; } = null!;
    public PgSession Pg => new(Osb, postgres.Server);
    public string ClusterOrg { get; private set; } = "";
    public string ClusterSpace { get; private set; } = "";
    public string OtherSpace { get; private set; } = "";
    public string TeamOrg { get; private set; } = "";
    public string TeamSpace { get; private set; } = "";
    public string ClusterId { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        Cf = await FakeCloudFoundryApi.StartAsync(Clock);
        Cf.PerPage = 1;
        Cf.AddOrg("Cluster-Org");
        ClusterOrg = Cf.AddOrg("cluster-org");
        TeamOrg = Cf.AddOrg("team-org");
        Cf.AddSpace(ClusterOrg, "Cluster-Space");
        ClusterSpace = Cf.AddSpace(ClusterOrg, "cluster-space");
        OtherSpace = Cf.AddSpace(ClusterOrg, "other-space");
        TeamSpace = Cf.AddSpace(TeamOrg, "team-space");
        Stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["CloudFoundry:ApiUrl"] = Cf.ApiUrl,
            ["CloudFoundry:ClientId"] = FakeCloudFoundryApi.ClientId,
            ["CloudFoundry:ClientSecret"] = Cf.ClientSecret,
            ["CloudFoundry:RetryDelay"] = "00:00:00",
        }, gatewayServices: services => services.AddKeyedSingleton<TimeProvider>(CloudFoundryServices.ClockKey, Clock));
        Osb = new OsbClient(Stack.Client);
        ClusterId = await ClusterAsync(ClusterName);
    }

    public async ValueTask DisposeAsync()
    {
        await Stack.DisposeAsync();
        await Cf.DisposeAsync();
    }

    /// <summary>A PostgreSQL cluster in cluster-space of cluster-org.</summary>
    public async Task<string> ClusterAsync(string name)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await Osb.ProvisionAsync(id, Body(Catalog.PgClusterSmall, name, null, ClusterOrg, "cluster-org", ClusterSpace, "cluster-space"));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("succeeded", (await Pg.WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        return id;
    }

    /// <summary>A database create from team-space of team-org (or another place) with these parameters.</summary>
    public JsonObject Database(string name, JsonObject parameters, bool fromOtherSpace = false) => fromOtherSpace
        ? Body(Catalog.Pg1Gb, name, parameters, ClusterOrg, "cluster-org", OtherSpace, "other-space")
        : Body(Catalog.Pg1Gb, name, parameters, TeamOrg, "team-org", TeamSpace, "team-space");

    public static JsonObject Shared(string cluster = ClusterName, string org = "cluster-org", string space = "cluster-space") =>
        new() { ["cluster"] = cluster, ["cluster-org"] = org, ["cluster-space"] = space };

    /// <summary>PUT as Cloud Controller sends it for a user (no identity header when <paramref name="user"/> is null).</summary>
    public Task<Answer> ProvisionAsUserAsync(string? user, string id, JsonObject body, string platform = "cloudfoundry") =>
        Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", body, request =>
        {
            if (user is not null)
                request.Headers.Add("X-Broker-API-Originating-Identity",
                    $"{platform} {Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["user_id"] = user }.ToJsonString()))}");
        });

    public static string Refusal(string user, string cluster) =>
        $"requesting user (userGuid={user}) has not permission to access cluster service-instance guid={cluster}";

    private static JsonObject Body(string planId, string name, JsonObject? parameters, string org, string orgName, string space, string spaceName)
    {
        var body = OsbClient.ProvisionBody(Service, planId, (JsonObject?)parameters?.DeepClone(), instanceName: name, spaceGuid: space);
        body["organization_guid"] = org;
        var context = body["context"]!.AsObject();
        context["organization_guid"] = org;
        context["organization_name"] = orgName;
        context["space_name"] = spaceName;
        return body;
    }
}
