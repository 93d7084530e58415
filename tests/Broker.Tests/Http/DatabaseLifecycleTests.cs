using Npgsql;

namespace OnDemand.Tests.Http;

/// <summary>
/// Issue 4, the whole user experience of PRODUCT.md through OSB: a cluster, databases created in it by name,
/// bindings whose credentials really connect to PostgreSQL, a cluster update serialized with child work, the refused
/// parent delete, then deletes in order. The emulated deploy brings up the cluster's admin account in the test run's
/// PostgreSQL with the credentials the broker handed to the pipeline through (fake) CredHub.
/// </summary>
public sealed class DatabaseLifecycleTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private const string Service = Catalog.PostgreSql;

    private PgSession Pg => new(fixture.Osb, postgres.Server);
    private static JsonObject Database(string cluster, string name) => PgSession.Database(cluster, name);
    private Task<JsonObject> WaitAsync(string id, string planId) => Pg.WaitAsync(id, planId);
    private Task<string> ClusterAsync(string name) => Pg.ClusterAsync(name);
    private static Task<bool> CanConnectAsync(JsonNode credentials) => PgSession.CanConnectAsync(credentials);
    private Task<long> DatabasesNamedAsync(string id) => Pg.DatabasesNamedAsync(id);

    [Fact]
    public async Task The_product_session_from_cluster_to_bound_databases_and_back()
    {
        var clusterName = "team-db-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await ClusterAsync(clusterName);

        // two databases named by the cluster's name in the space
        var customers = Guid.NewGuid().ToString();
        var products = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(customers, Database(clusterName, "customer-db"))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(products, Database(clusterName, "product-db"))).Status);
        var created = await WaitAsync(customers, Catalog.Pg1Gb);
        Assert.Equal("succeeded", created["state"]!.GetValue<string>());
        Assert.Contains(clusterName, created["description"]!.GetValue<string>());
        Assert.Equal("succeeded", (await WaitAsync(products, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.Equal(1, await DatabasesNamedAsync(customers));
        var fetchedDatabase = await Osb.FetchAsync(customers);
        Assert.Equal(HttpStatusCode.OK, fetchedDatabase.Status);
        Assert.Equal(clusterName, fetchedDatabase.Body!["parameters"]!["cluster"]!.GetValue<string>());
        var clusterPage = await new HttpClient().GetAsync(fetchedDatabase.Field("dashboard_url"));
        Assert.Equal(HttpStatusCode.OK, clusterPage.StatusCode);
        Assert.Contains("customer-db", await clusterPage.Content.ReadAsStringAsync());

        // bindings: an app, and a service key without app_guid; credentials really connect and can create tables
        var appBinding = Guid.NewGuid().ToString();
        var bound = await Osb.BindAsync(customers, appBinding, Service, Catalog.Pg1Gb, appGuid: "app-1");
        Assert.Equal(HttpStatusCode.Created, bound.Status);
        var credentials = bound.Body!["credentials"]!;
        foreach (var key in new[] { "uri", "hostname", "port", "name", "username", "password", "jdbcUrl" }) Assert.NotNull(credentials[key]);
        await using (var connection = PgSession.Connect(credentials))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE customers (id int primary key, name text); INSERT INTO customers VALUES (1, 'ada');", connection);
            await create.ExecuteNonQueryAsync();
        }
        var again = await Osb.BindAsync(customers, appBinding, Service, Catalog.Pg1Gb, appGuid: "app-1");
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(credentials["password"]!.GetValue<string>(), again.Body!["credentials"]!["password"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await Osb.BindAsync(customers, appBinding, Service, Catalog.Pg1Gb, appGuid: "app-2")).Status);
        var serviceKey = await Osb.BindAsync(products, Guid.NewGuid().ToString(), Service, Catalog.Pg1Gb);
        Assert.Equal(HttpStatusCode.Created, serviceKey.Status);
        Assert.True(await CanConnectAsync(serviceKey.Body!["credentials"]!));
        var fetched = await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{customers}/service_bindings/{appBinding}");
        Assert.Equal(HttpStatusCode.OK, fetched.Status);
        Assert.Equal(credentials["username"]!.GetValue<string>(), fetched.Body!["credentials"]!["username"]!.GetValue<string>());

        // scale the cluster up; a database created meanwhile waits for it, then runs on the updated cluster
        fixture.Stack.Concourse.State.HoldBuilds("deploy");
        var late = Guid.NewGuid().ToString();
        try
        {
            var update = new JsonObject { ["service_id"] = Service, ["plan_id"] = Catalog.PgClusterLarge, ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.PgClusterSmall } };
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(cluster, update)).Status);
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(late, Database(clusterName, "late-db"))).Status);
            var waiting = (await Eventually.MatchesAsync(() => Osb.LastOperationAsync(late, serviceId: Service, planId: Catalog.Pg1Gb),
                a => a.Field("description")?.Contains("update in progress") == true, "the database waits for its cluster's update", TimeSpan.FromSeconds(10))).Field("description");
            Assert.Equal($"waiting for cluster '{clusterName}' (update in progress)", waiting);
            Assert.Equal(0, await DatabasesNamedAsync(late));
        }
        finally { fixture.Stack.Concourse.State.ReleaseBuilds("deploy"); }
        Assert.Equal("succeeded", (await WaitAsync(cluster, Catalog.PgClusterLarge))["state"]!.GetValue<string>());
        var lateDone = await WaitAsync(late, Catalog.Pg1Gb);
        Assert.Equal("succeeded", lateDone["state"]!.GetValue<string>());
        Assert.Contains("plan pg-1gb", lateDone["description"]!.GetValue<string>()); // the database's own plan, not its cluster's

        // the parent refuses to go while it has children, and nothing changes
        var refused = await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterLarge);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        var children = new[] { customers, products, late };
        Assert.Equal($"can not delete cluster service instance with child service instances ({string.Join(", ", children.Select(c => $"guid={c}"))}). Use dashboard to list all child service instance details.",
            refused.Field("description"));
        Assert.Equal(HttpStatusCode.OK, (await Osb.FetchAsync(cluster)).Status);
        var dashboard = await fixture.Stack.Client.GetStringAsync(DashboardPath(cluster));
        Assert.Contains("Databases (3)", dashboard);
        Assert.Contains("customer-db", dashboard);

        // unbind: the credentials stop working; delete the databases: they are gone
        Assert.Equal(HttpStatusCode.OK, (await Osb.UnbindAsync(customers, appBinding, Service, Catalog.Pg1Gb)).Status);
        Assert.False(await CanConnectAsync(credentials));
        Assert.Equal(HttpStatusCode.Gone, (await Osb.UnbindAsync(customers, appBinding, Service, Catalog.Pg1Gb)).Status);
        foreach (var child in children)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(child, Service, Catalog.Pg1Gb)).Status);
            Assert.Equal("succeeded", (await WaitAsync(child, Catalog.Pg1Gb))["state"]!.GetValue<string>());
            Assert.Equal(0, await DatabasesNamedAsync(child));
            Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(child, Service, Catalog.Pg1Gb)).Status);
        }
        Assert.False(await CanConnectAsync(serviceKey.Body!["credentials"]!));

        // now the cluster can go
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterLarge)).Status);
        Assert.Equal("succeeded", (await WaitAsync(cluster, Catalog.PgClusterLarge))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterLarge)).Status);
    }

    [Fact]
    public async Task Fifty_concurrent_databases_in_one_cluster_are_each_created_once_and_all_listed()
    {
        var clusterName = "busy-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await ClusterAsync(clusterName);
        var ids = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid().ToString()).ToList();
        var answers = await Task.WhenAll(ids.Select((id, i) => Osb.ProvisionAsync(id, Database(clusterName, $"db-{i}"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        foreach (var id in ids)
        {
            Assert.Equal("succeeded", (await WaitAsync(id, Catalog.Pg1Gb))["state"]!.GetValue<string>());
            Assert.Equal(1, await DatabasesNamedAsync(id));
        }
        var page = await fixture.Stack.Client.GetStringAsync(DashboardPath(cluster));
        Assert.Contains("Databases (50)", page);
        Assert.All(ids, id => Assert.Contains(id, page));
    }

    [Fact]
    public async Task A_database_names_only_clusters_of_its_own_space_and_not_one_being_deleted()
    {
        var clusterName = "mine-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await ClusterAsync(clusterName);

        var elsewhere = OsbClient.ProvisionBody(Service, Catalog.Pg1Gb, new JsonObject { ["cluster"] = clusterName }, instanceName: "db", spaceGuid: "another-space");
        var wrongSpace = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), elsewhere);
        Assert.Equal(HttpStatusCode.BadRequest, wrongSpace.Status);
        Assert.Contains($"no cluster named '{clusterName}' in this space", wrongSpace.Field("description"));

        var byId = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(byId, Database(cluster, "by-id"))).Status);
        Assert.Equal("succeeded", (await WaitAsync(byId, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(byId, Service, Catalog.Pg1Gb)).Status);
        await WaitAsync(byId, Catalog.Pg1Gb);

        // Renamed in Cloud Foundry (a context-only update): the new name resolves, the old one no longer does.
        var renamed = clusterName + "-renamed";
        var rename = new JsonObject
        {
            ["service_id"] = Service,
            ["plan_id"] = Catalog.PgClusterSmall,
            ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.PgClusterSmall },
            ["context"] = new JsonObject { ["platform"] = "cloudfoundry", ["organization_guid"] = OsbClient.OrgGuid, ["space_guid"] = OsbClient.SpaceGuid, ["instance_name"] = renamed },
        };
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(cluster, rename)).Status);
        var byOldName = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), Database(clusterName, "old-name"));
        Assert.Equal(HttpStatusCode.BadRequest, byOldName.Status);
        var byNewName = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(byNewName, Database(renamed, "new-name"))).Status);
        Assert.Equal("succeeded", (await WaitAsync(byNewName, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(byNewName, Service, Catalog.Pg1Gb)).Status);
        await WaitAsync(byNewName, Catalog.Pg1Gb);
        clusterName = renamed;

        var mysqlDb = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), OsbClient.ProvisionBody(Catalog.MySql, Catalog.Db100Mb, new JsonObject { ["cluster"] = clusterName }));
        Assert.Equal(HttpStatusCode.BadRequest, mysqlDb.Status);

        fixture.Stack.Concourse.State.HoldBuilds("delete");
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(cluster, Service, Catalog.PgClusterSmall)).Status);
            var late = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), Database(clusterName, "too-late"));
            Assert.Equal(HttpStatusCode.BadRequest, late.Status);
            Assert.Contains("being deleted", late.Field("description"));
        }
        finally { fixture.Stack.Concourse.State.ReleaseBuilds("delete"); }
    }

    private static string DashboardPath(string id) => DashboardPaths.For(id);
}
