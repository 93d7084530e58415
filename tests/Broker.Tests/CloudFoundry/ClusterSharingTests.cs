namespace OnDemand.Tests.CloudFoundry;

/// <summary>
/// Issue 12 through the gateway's HTTP interface: a database created from another space or org in a cluster shared
/// with it, the requesting user's role checked against a fake Cloud Foundry API and UAA (docs/sharing.md).
/// </summary>
public sealed class ClusterSharingTests(SharingFixture fixture) : IClassFixture<SharingFixture>
{
    private const string Service = SharingFixture.Service;
    private OsbClient Osb => fixture.Osb;
    private FakeCloudFoundryApi Cf => fixture.Cf;

    private static string NewUser() => Guid.NewGuid().ToString();

    private async Task<string> CreatedAsync(string user, JsonObject parameters, bool fromOtherSpace = false)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await fixture.ProvisionAsUserAsync(user, id, fixture.Database("db-" + id[..8], parameters, fromOtherSpace));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        return id;
    }

    /// <summary>Refused with a 400, and nothing exists under the id afterwards.</summary>
    private async Task<string> RefusedAsync(string? user, JsonObject parameters, HttpStatusCode status = HttpStatusCode.BadRequest, bool fromOtherSpace = false,
        string platform = "cloudfoundry")
    {
        var id = Guid.NewGuid().ToString();
        var answer = await fixture.ProvisionAsUserAsync(user, id, fixture.Database("db-" + id[..8], parameters, fromOtherSpace), platform);
        Assert.True(answer.Status == status, answer.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.FetchAsync(id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(id)).Status);
        return answer.Field("description")!;
    }

    [Fact]
    public async Task A_space_developer_of_the_clusters_space_shares_it_with_a_space_of_another_org()
    {
        var clusterName = "team-pg-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await fixture.ClusterAsync(clusterName);
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);

        // by names (the seed's spelling), and by guids with the other spelling (both spellings, same value: fine)
        var byNames = await CreatedAsync(user, SharingFixture.Shared(clusterName));
        var byGuids = await CreatedAsync(user, new JsonObject
        {
            ["cluster"] = cluster,
            ["cluster_org"] = fixture.ClusterOrg,
            ["cluster_space"] = fixture.ClusterSpace,
            ["cluster-space"] = fixture.ClusterSpace,
        });
        foreach (var id in new[] { byNames, byGuids })
        {
            var done = await fixture.Pg.WaitAsync(id, Catalog.Pg1Gb);
            Assert.True(done["state"]!.GetValue<string>() == "succeeded", done.ToString());
            Assert.Equal(1, await fixture.Pg.DatabasesNamedAsync(id));
        }
        var credentials = await fixture.Pg.BindAsync(byNames, Guid.NewGuid().ToString());
        Assert.True(await PgSession.CanConnectAsync(credentials));

        // the cluster owns them: its dashboard lists them with their own org and space, its delete names them
        var page = await Stack.Client.GetStringAsync(DashboardPath(cluster));
        Assert.Contains("Databases (2)", page);
        Assert.Contains($"team-org ({fixture.TeamOrg})", page);
        Assert.Contains($"team-space ({fixture.TeamSpace})", page);
        var refused = await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterSmall);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal($"can not delete cluster service instance with child service instances (guid={byNames}, guid={byGuids}). Use dashboard to list all child service instance details.",
            refused.Field("description"));

        // a cluster update applies to them: a database shared meanwhile waits for it; the bound one still connects after
        Stack.Concourse.State.HoldBuilds("deploy");
        string late;
        try
        {
            var update = new JsonObject { ["service_id"] = Service, ["plan_id"] = Catalog.PgClusterLarge, ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.PgClusterSmall } };
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(cluster, update)).Status);
            late = await CreatedAsync(user, SharingFixture.Shared(clusterName));
            await Eventually.MatchesAsync(() => Osb.LastOperationAsync(late, serviceId: Service, planId: Catalog.Pg1Gb),
                a => a.Field("description")?.Contains("update in progress") == true, "the shared database waits for its cluster's update", TimeSpan.FromSeconds(20));
        }
        finally { Stack.Concourse.State.ReleaseBuilds("deploy"); }
        Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(cluster, Catalog.PgClusterLarge))["state"]!.GetValue<string>());
        Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(late, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.True(await PgSession.CanConnectAsync(credentials));

        // deleting them from their own space works; then the cluster may go
        foreach (var id in new[] { byNames, byGuids, late })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(id, Service, Catalog.Pg1Gb)).Status);
            Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(id, Catalog.Pg1Gb))["state"]!.GetValue<string>());
            Assert.Equal(0, await fixture.Pg.DatabasesNamedAsync(id));
        }
        Assert.False(await PgSession.CanConnectAsync(credentials));
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterLarge)).Status);
        Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(cluster, Catalog.PgClusterLarge))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_user_without_a_role_is_refused_with_the_exact_text_and_nothing_is_created()
    {
        var user = NewUser();
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, SharingFixture.Shared()));

        // the refusal left nothing behind: once the role is given, the same id is created
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        var id = await CreatedAsync(user, SharingFixture.Shared());
        Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(id, Catalog.Pg1Gb))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_role_only_in_the_clusters_org_is_refused()
    {
        var user = NewUser();
        Cf.Grant(user, "organization_user", orgGuid: fixture.ClusterOrg);
        Cf.Grant(user, "organization_manager", orgGuid: fixture.ClusterOrg);
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, SharingFixture.Shared()));
    }

    [Fact]
    public async Task A_role_in_another_space_of_the_clusters_org_is_refused()
    {
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.OtherSpace);
        Cf.Grant(user, "space_auditor", spaceGuid: fixture.ClusterSpace); // a role type that is not allowed
        // requested from that other space, naming only the cluster's space (of the requester's own org)
        var parameters = new JsonObject { ["cluster"] = SharingFixture.ClusterName, ["cluster-space"] = "cluster-space" };
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, parameters, fromOtherSpace: true));
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, SharingFixture.Shared()));
    }

    [Fact]
    public async Task A_cluster_instance_id_from_another_space_needs_the_same_permission()
    {
        var user = NewUser();
        var byId = new JsonObject { ["cluster"] = fixture.ClusterId };
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, byId));
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        var id = await CreatedAsync(user, byId);
        Assert.Equal("succeeded", (await fixture.Pg.WaitAsync(id, Catalog.Pg1Gb))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_org_space_or_cluster_that_does_not_exist_is_a_400_naming_it()
    {
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        Assert.StartsWith("no organization named 'no-such-org'", await RefusedAsync(user, SharingFixture.Shared(org: "no-such-org")));
        Assert.StartsWith("no space named 'no-such-space' in organization 'cluster-org'", await RefusedAsync(user, SharingFixture.Shared(space: "no-such-space")));
        // a space of another org is not a space of this one
        Assert.StartsWith($"no space named '{fixture.TeamSpace}' in organization 'cluster-org'", await RefusedAsync(user, SharingFixture.Shared(space: fixture.TeamSpace)));
        Assert.Equal("no cluster named 'no-such-cluster' in space 'cluster-space' of organization 'cluster-org': check its name with cf services in that space",
            await RefusedAsync(user, SharingFixture.Shared(cluster: "no-such-cluster")));
    }

    [Fact]
    public async Task Names_that_need_pagination_are_found_on_a_later_page()
    {
        var (orgs, spaces) = (Cf.Calls("GET /v3/organizations page 2"), Cf.Calls("GET /v3/spaces page 2"));
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        // one resource per page, and a decoy differing only in case on page 1: the exact name is on page 2
        await CreatedAsync(user, SharingFixture.Shared());
        Assert.True(Cf.Calls("GET /v3/organizations page 2") > orgs);
        Assert.True(Cf.Calls("GET /v3/spaces page 2") > spaces);
    }

    [Fact]
    public async Task Both_spellings_with_different_values_are_a_400_naming_them()
    {
        var user = NewUser();
        var parameters = SharingFixture.Shared();
        parameters["cluster_org"] = "team-org";
        Assert.Equal("parameters 'cluster-org' and 'cluster_org' name different orgs ('cluster-org' and 'team-org'): give only one of them",
            await RefusedAsync(user, parameters));
        parameters = SharingFixture.Shared();
        parameters["cluster_space"] = "other-space";
        Assert.Equal("parameters 'cluster-space' and 'cluster_space' name different spaces ('cluster-space' and 'other-space'): give only one of them",
            await RefusedAsync(user, parameters));
        Assert.StartsWith("cluster-org 'cluster-org' needs cluster-space too",
            await RefusedAsync(user, new JsonObject { ["cluster"] = SharingFixture.ClusterName, ["cluster-org"] = "cluster-org" }));
    }

    [Fact]
    public async Task Without_the_users_identity_the_platform_is_told_to_send_it()
    {
        const string expected = "using a cluster of another space needs the requesting user: the platform must send X-Broker-API-Originating-Identity " +
            "(cloudfoundry, with the user_id) with the request. Ask the platform operators";
        Assert.Equal(expected, await RefusedAsync(null, SharingFixture.Shared()));
        Assert.Equal(expected, await RefusedAsync(NewUser(), SharingFixture.Shared(), platform: "kubernetes"));
        Assert.Equal(expected, await RefusedAsync(null, new JsonObject { ["cluster"] = fixture.ClusterId }));
    }

    [Fact]
    public async Task A_grant_is_remembered_for_30_seconds_and_a_refusal_never()
    {
        var user = NewUser();
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, SharingFixture.Shared()));
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        await CreatedAsync(user, SharingFixture.Shared()); // the refusal was not remembered
        Cf.Revoke(user, fixture.ClusterSpace);
        fixture.Clock.Advance(TimeSpan.FromSeconds(29));
        await CreatedAsync(user, SharingFixture.Shared()); // the grant is
        fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SharingFixture.Refusal(user, fixture.ClusterId), await RefusedAsync(user, SharingFixture.Shared()));
    }

    [Fact]
    public async Task An_expired_token_is_renewed_once_and_the_request_goes_through()
    {
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        await CreatedAsync(user, SharingFixture.Shared()); // a token is held from here on

        // the UAA rotated its keys: the API answers 401 CF-InvalidAuthToken, the broker logs in again once
        var (logins, invalid) = (Cf.Logins, Cf.InvalidTokenAnswers);
        Cf.ExpireTokens();
        await CreatedAsync(NewUserWithRole(), SharingFixture.Shared());
        Assert.Equal(logins + 1, Cf.Logins);
        Assert.Equal(invalid + 1, Cf.InvalidTokenAnswers);

        // the token's lifetime ran out: renewed before use, no 401 at all
        (logins, invalid) = (Cf.Logins, Cf.InvalidTokenAnswers);
        fixture.Clock.Advance(TimeSpan.FromSeconds(Cf.ExpiresIn));
        await CreatedAsync(NewUserWithRole(), SharingFixture.Shared());
        Assert.Equal(logins + 1, Cf.Logins);
        Assert.Equal(invalid, Cf.InvalidTokenAnswers);
    }

    [Fact]
    public async Task A_token_the_api_never_accepts_is_a_502_telling_the_operators_what_to_fix()
    {
        Cf.RejectEveryToken = true;
        try
        {
            var description = await RefusedAsync(NewUserWithRole(), SharingFixture.Shared(), HttpStatusCode.BadGateway);
            Assert.StartsWith("nothing was created: the broker could not check your access to the cluster: Cloud Foundry API GET /v3/organizations answered 401 CF-InvalidAuthToken", description);
            Assert.Contains("CloudFoundry__UaaUrl must be the UAA of this Cloud Foundry API", description);
        }
        finally { Cf.RejectEveryToken = false; }
    }

    [Fact]
    public async Task Wrong_client_credentials_or_authorities_are_a_502_telling_the_operators_what_to_fix()
    {
        var secret = Cf.ClientSecret;
        Cf.ClientSecret = "rotated-secret";
        Cf.ExpireTokens();
        try
        {
            var description = await RefusedAsync(NewUserWithRole(), SharingFixture.Shared(), HttpStatusCode.BadGateway);
            Assert.Contains($"login as client '{FakeCloudFoundryApi.ClientId}' was refused with 401 (unauthorized: Bad credentials)", description);
            Assert.Contains("CloudFoundry__ClientId and CloudFoundry__ClientSecret", description);
            Assert.DoesNotContain(secret, description);
        }
        finally { Cf.ClientSecret = secret; }

        Cf.ClientIsGlobalAuditor = false;
        Cf.ExpireTokens();
        try
        {
            var description = await RefusedAsync(NewUserWithRole(), SharingFixture.Shared(), HttpStatusCode.BadGateway);
            Assert.Contains("answered 403 CF-NotAuthorized", description);
            Assert.Contains("needs the authority cloud_controller.global_auditor", description);
        }
        finally
        {
            Cf.ClientIsGlobalAuditor = true;
            Cf.ExpireTokens();
        }
    }

    [Fact]
    public async Task The_api_down_is_a_503_after_one_retry_and_nothing_is_created()
    {
        var user = NewUserWithRole();
        Cf.Down = true;
        try
        {
            var description = await RefusedAsync(user, SharingFixture.Shared(), HttpStatusCode.ServiceUnavailable);
            Assert.StartsWith("nothing was created: the broker could not check your access to the cluster with the Cloud Foundry API: ", description);
            Assert.Contains("the platform operators must check that the broker reaches the Cloud Foundry API", description);
        }
        finally { Cf.Down = false; }

        Cf.ApiStatus = 503;
        try
        {
            var before = Cf.Calls("GET /v3/organizations");
            var description = await RefusedAsync(user, SharingFixture.Shared(), HttpStatusCode.ServiceUnavailable);
            Assert.Contains("Cloud Foundry API GET /v3/organizations: answered 503 ServiceUnavailable", description);
            Assert.Equal(before + 2, Cf.Calls("GET /v3/organizations")); // retried once
        }
        finally { Cf.ApiStatus = null; }

        // one transient failure is retried and not seen
        Cf.FailNext(1);
        await CreatedAsync(user, SharingFixture.Shared());
    }

    private string NewUserWithRole()
    {
        var user = NewUser();
        Cf.Grant(user, "space_developer", spaceGuid: fixture.ClusterSpace);
        return user;
    }

    private BrokerStack Stack => fixture.Stack;

    private static string DashboardPath(string id) => DashboardPaths.For(id);
}
