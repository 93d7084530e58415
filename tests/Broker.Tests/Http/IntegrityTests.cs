using System.Text;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Http;

/// <summary>
/// Issue 7, one test per finding: one id is one instance of one tenant, whatever the input. Each test drives the
/// real stack over HTTP (gateway, silo, PostgreSQL, the Concourse emulator) and checks what PostgreSQL really holds.
/// </summary>
public sealed class IntegrityTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;
    private PgSession Pg => new(fixture.Osb, postgres.Server);
    private const string Service = PgSession.Service;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    // 1. Different ids, same database.
    [Fact]
    public async Task Ids_that_read_alike_get_their_own_database_and_logins()
    {
        var cluster = await Pg.ClusterAsync(Unique("alike"));
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var a = await Pg.DatabaseAsync(cluster, $"Tenant-A.db1{suffix}");
        var b = await Pg.DatabaseAsync(cluster, $"tenanta_DB1{suffix}");
        Assert.Equal(1, await Pg.DatabasesNamedAsync(a));
        Assert.Equal(1, await Pg.DatabasesNamedAsync(b));

        var bindingA = $"App-Key.1{suffix}";
        var bindingB = $"appkey1{suffix}";
        var credentialsA = await Pg.BindAsync(a, bindingA);
        var credentialsB = await Pg.BindAsync(b, bindingB);
        Assert.NotEqual(credentialsA["name"]!.GetValue<string>(), credentialsB["name"]!.GetValue<string>());
        Assert.NotEqual(credentialsA["username"]!.GetValue<string>(), credentialsB["username"]!.GetValue<string>());

        await using (var connection = PgSession.Connect(credentialsA))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand("CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('tenant a')", connection);
            await create.ExecuteNonQueryAsync();
        }
        await using (var connection = PgSession.Connect(credentialsB))
        {
            await connection.OpenAsync();
            await using var read = new Npgsql.NpgsqlCommand("SELECT to_regclass('public.secrets') IS NULL", connection);
            Assert.True((bool)(await read.ExecuteScalarAsync())!, "tenant B sees tenant A's table");
        }

        // GUID binding ids that differ only in their last hex digits get their own logins too.
        var guid = Guid.NewGuid().ToString();
        var first = await Pg.BindAsync(a, guid[..^2] + "00");
        var second = await Pg.BindAsync(a, guid[..^2] + "01");
        Assert.NotEqual(first["username"]!.GetValue<string>(), second["username"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await Osb.UnbindAsync(a, guid[..^2] + "00", Service, Catalog.Pg1Gb)).Status);
        Assert.False(await PgSession.CanConnectAsync(first));
        Assert.True(await PgSession.CanConnectAsync(second));

        // Deleting B leaves A and its data alone.
        Assert.Equal(HttpStatusCode.OK, (await Osb.UnbindAsync(b, bindingB, Service, Catalog.Pg1Gb)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(b, Service, Catalog.Pg1Gb)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(b, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.Equal(1, await Pg.DatabasesNamedAsync(a));
        Assert.True(await PgSession.CanConnectAsync(credentialsA));
    }

    [Fact]
    public void Names_are_distinct_for_distinct_ids_and_fit_every_engine()
    {
        string[] ids = ["Tenant-A.db1", "tenanta_DB1", "tenanta-db1", "TENANTADB1", "a", "A", "-", "_", ".", Guid.NewGuid().ToString(), new string('x', 100), new string('x', 99)];
        Assert.Equal(ids.Length, ids.Select(DatabaseNames.Database).Distinct().Count());
        Assert.Equal(ids.Length, ids.Select(DatabaseNames.BindingUser).Distinct().Count());
        Assert.Equal(ids.Length, ids.Select(DatabaseNames.ClusterAdmin).Distinct().Count());
        Assert.All(ids, id =>
        {
            Assert.Matches("^[a-z_][a-z0-9_]*$", DatabaseNames.Database(id));
            Assert.True(DatabaseNames.Database(id).Length <= 57, "PostgreSQL: 63 bytes less the owner role's suffix");
            Assert.True(DatabaseNames.BindingUser(id).Length <= 32, "MySQL: 32-character user names");
            Assert.True(DatabaseNames.ClusterAdmin(id).Length <= 32, "MySQL: 32-character user names");
        });
        // Stable: the same id gives the same name on every silo and after every restart.
        Assert.Equal(DatabaseNames.Database("Tenant-A.db1"), DatabaseNames.Database("Tenant-A.db1"));
    }

    // 2. A name that wedges an instance.
    [Theory]
    [InlineData("team{db}", "space-0001")]
    [InlineData("a}b{c", "space-{0}")]
    public async Task Braces_in_names_or_space_guids_neither_wedge_nor_lose_a_cluster(string name, string space)
    {
        var id = Guid.NewGuid().ToString();
        var body = OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, instanceName: name + Unique(""), spaceGuid: space);
        var clusterName = body["context"]!["instance_name"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(id, body)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await Osb.ProvisionAsync(id, body)).Status);

        var renamed = "x{y}" + Unique("");
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, Rename(space, renamed))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, Rename(space, renamed + "{again}"))).Status);
        var database = PgSession.Database(renamed + "{again}", "db", space);
        var databaseId = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(databaseId, database)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(databaseId, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        var byOldName = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), PgSession.Database(clusterName, "db", space));
        Assert.Equal(HttpStatusCode.BadRequest, byOldName.Status);
    }

    private static JsonObject Rename(string space, string name) => new()
    {
        ["service_id"] = Service,
        ["plan_id"] = Catalog.PgClusterSmall,
        ["previous_values"] = new JsonObject { ["plan_id"] = Catalog.PgClusterSmall },
        ["context"] = new JsonObject { ["platform"] = "cloudfoundry", ["organization_guid"] = OsbClient.OrgGuid, ["space_guid"] = space, ["instance_name"] = name },
    };

    // 3. One id, two instances.
    [Fact]
    public async Task An_id_names_one_instance_of_one_kind()
    {
        var clusterName = Unique("one-id");
        var cluster = await Pg.ClusterAsync(clusterName);
        var asDatabase = await Osb.ProvisionAsync(cluster, PgSession.Database(clusterName, "db"));
        Assert.Equal(HttpStatusCode.Conflict, asDatabase.Status);
        Assert.Contains("already exists as a cluster", asDatabase.Field("description"));

        var database = await Pg.DatabaseAsync(cluster);
        var asCluster = await Osb.ProvisionAsync(database, OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, instanceName: Unique("c")));
        Assert.Equal(HttpStatusCode.Conflict, asCluster.Status);
        Assert.Contains("already exists as a database", asCluster.Field("description"));

        var fetched = await Osb.FetchAsync(database);
        Assert.Equal(Catalog.Pg1Gb, fetched.Field("plan_id"));
        Assert.Equal("succeeded", (await Osb.LastOperationAsync(database))!.Field("state"));
        Assert.Equal(Catalog.PgClusterSmall, (await Osb.FetchAsync(cluster)).Field("plan_id"));
        Assert.DoesNotContain(fixture.Stack.Concourse.State.GetPipelines(), p => p.Name == $"ondemand-{database}");
    }

    // 4. DELETE and unbind ignore service_id/plan_id.
    [Fact]
    public async Task Delete_unbind_and_reads_with_another_instances_ids_change_nothing()
    {
        var cluster = await Pg.ClusterAsync(Unique("ids"));
        var database = await Pg.DatabaseAsync(cluster);
        var credentials = await Pg.BindAsync(database, Guid.NewGuid().ToString());

        var otherService = await Osb.DeprovisionAsync(cluster, Catalog.MySql, Catalog.ClusterSmall);
        Assert.Equal(HttpStatusCode.BadRequest, otherService.Status);
        Assert.Contains($"service_id {Service}", otherService.Field("description"));
        Assert.Contains("pg-cluster-small", otherService.Field("description"));
        var otherKind = await Osb.DeprovisionAsync(cluster, Service, Catalog.Pg1Gb);
        Assert.Equal(HttpStatusCode.BadRequest, otherKind.Status);
        var databaseAsCluster = await Osb.DeprovisionAsync(database, Service, Catalog.PgClusterSmall);
        Assert.Equal(HttpStatusCode.BadRequest, databaseAsCluster.Status);
        Assert.Contains("pg-1gb", databaseAsCluster.Field("description"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.LastOperationAsync(cluster, serviceId: Catalog.MySql, planId: Catalog.ClusterSmall)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.LastOperationAsync(database, serviceId: Service, planId: Catalog.PgClusterSmall)).Status);
        Assert.Equal(HttpStatusCode.Gone, (await Osb.DeprovisionAsync(Guid.NewGuid().ToString(), Service, Catalog.Pg1Gb)).Status);

        // Unbind with a cluster plan or another database plan: a 400, and the login still works.
        var binding = Guid.NewGuid().ToString();
        var bound = await Pg.BindAsync(database, binding);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.UnbindAsync(database, binding, Service, Catalog.PgClusterSmall)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.UnbindAsync(database, binding, Catalog.MySql, Catalog.Db100Mb)).Status);
        Assert.True(await PgSession.CanConnectAsync(bound));
        Assert.True(await PgSession.CanConnectAsync(credentials));

        Assert.Equal("succeeded", (await Osb.LastOperationAsync(cluster, serviceId: Service, planId: Catalog.PgClusterSmall)).Field("state"));
        Assert.Equal(HttpStatusCode.OK, (await Osb.FetchAsync(database)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{database}?service_id={Catalog.MySql}")).Status);
    }

    // 6. Bad text, 503.
    [Theory]
    [InlineData("instance_name", "\"bad\\udc00name\"")]
    [InlineData("instance_name", "\"bad\\u0000name\"")]
    [InlineData("cluster", "\"\\ud800\"")]
    [InlineData("cluster", "\"a\\u0000b\"")]
    public async Task Invalid_text_anywhere_is_a_400_naming_the_field_and_nothing_is_created(string field, string jsonValue)
    {
        var id = Guid.NewGuid().ToString();
        var body = field == "cluster"
            ? $$$"""{"service_id":"{{{Service}}}","plan_id":"{{{Catalog.Pg1Gb}}}","organization_guid":"o","space_guid":"s","parameters":{"cluster":{{{jsonValue}}}}}"""
            : $$$"""{"service_id":"{{{Service}}}","plan_id":"{{{Catalog.PgClusterSmall}}}","organization_guid":"o","space_guid":"s","context":{"instance_name":{{{jsonValue}}}}}""";
        var answer = await SendRawAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", body);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(field, answer.Field("description"));
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(id)).Status);
    }

    [Theory]
    [InlineData("service_id")]
    [InlineData("parameters.max_connections")]
    [InlineData("context.instance_name")]
    public async Task A_field_given_twice_is_a_400_naming_it_and_nothing_is_created(string field)
    {
        var id = Guid.NewGuid().ToString();
        var body = field switch
        {
            "service_id" => $$$"""{"service_id":"{{{Service}}}","service_id":"other","plan_id":"{{{Catalog.PgClusterSmall}}}","organization_guid":"o","space_guid":"s"}""",
            "parameters.max_connections" => $$$"""{"service_id":"{{{Service}}}","plan_id":"{{{Catalog.PgClusterSmall}}}","organization_guid":"o","space_guid":"s","parameters":{"max_connections":20,"max_connections":30}}""",
            _ => $$$"""{"service_id":"{{{Service}}}","plan_id":"{{{Catalog.PgClusterSmall}}}","organization_guid":"o","space_guid":"s","context":{"instance_name":"a","instance_name":"b"}}""",
        };
        var answer = await SendRawAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", body);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains($"field '{field}' is given more than once", answer.Field("description"));
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(id)).Status);
    }

    // 8. No length limits on context strings.
    [Fact]
    public async Task Oversized_fields_and_bodies_are_400s_naming_what_is_too_long()
    {
        var id = Guid.NewGuid().ToString();
        var longName = OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, instanceName: new string('n', 256));
        var answer = await Osb.ProvisionAsync(id, longName);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("context.instance_name", answer.Field("description"));

        var longSpace = OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, spaceGuid: new string('s', 101));
        Assert.Contains("space_guid", (await Osb.ProvisionAsync(id, longSpace)).Field("description"));

        var bigParameters = OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, new JsonObject { ["work_mem"] = new string('1', 70_000) });
        Assert.Contains("parameters are larger", (await Osb.ProvisionAsync(id, bigParameters)).Field("description"));

        var huge = new StringBuilder("{\"service_id\":\"").Append('x', 2 * 1024 * 1024).Append("\"}").ToString();
        var tooLarge = await SendRawAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", huge);
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.Status);
        Assert.Contains("request body is larger", tooLarge.Field("description"));

        var wrongType = OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall);
        wrongType["context"] = "not an object";
        Assert.Contains("context must be a JSON object", (await Osb.ProvisionAsync(id, wrongType)).Field("description"));
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.LastOperationAsync(id)).Status);
    }

    // 9. Schema looser than JSON Schema.
    [Fact]
    public async Task Parameters_follow_json_schema_patterns_and_integers_stay_integers()
    {
        var id = Guid.NewGuid().ToString();
        foreach (var bad in new[] { "128MB\n", "١٢٨MB" })
        {
            var answer = await Osb.ProvisionAsync(id, OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, new JsonObject { ["shared_buffers"] = bad }));
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Contains("shared_buffers", answer.Field("description"));
        }

        var body = $$$"""{"service_id":"{{{Service}}}","plan_id":"{{{Catalog.PgClusterSmall}}}","organization_guid":"o","space_guid":"s","parameters":{"max_connections":100.0}}""";
        Assert.Equal(HttpStatusCode.Accepted, (await SendRawAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", body)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        var config = fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}")!.ConfigJson!;
        Assert.Contains("\"max_connections\":100", config.Replace(" ", ""));
        Assert.DoesNotContain("100.0", config);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, (await Osb.FetchAsync(id)).Body!["parameters"]!["max_connections"]!.GetValueKind());
        Assert.Equal("100", (await Osb.FetchAsync(id)).Body!["parameters"]!["max_connections"]!.ToJsonString());
    }

    // 7. Rename reruns the deploy.  11. No-op PATCH without accepts_incomplete.
    [Fact]
    public async Task A_rename_after_a_failed_update_runs_nothing_and_no_op_patches_are_synchronous()
    {
        var name = Unique("renamed");
        var id = await Pg.ClusterAsync(name);
        var pipeline = $"ondemand-{id}";
        fixture.Stack.Concourse.State.ScriptNextBuilds(pipeline, "deploy", "failed");
        var update = new JsonObject { ["service_id"] = Service, ["parameters"] = new JsonObject { ["max_connections"] = 300 } };
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, update)).Status);
        Assert.Equal("failed", (await Pg.WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        var builds = fixture.Stack.Concourse.State.GetBuilds(pipeline, "deploy").Count;

        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, Rename(OsbClient.SpaceGuid, name + "-new"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, Rename(OsbClient.SpaceGuid, name + "-newer"), acceptsIncomplete: false)).Status);
        Assert.Equal(builds, fixture.Stack.Concourse.State.GetBuilds(pipeline, "deploy").Count);
        await Pg.DatabaseAsync(name + "-newer");

        // The same update again repairs (update_repeatable); without accepts_incomplete it must say so first.
        var refused = await Osb.UpdateAsync(id, update, acceptsIncomplete: false);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal("AsyncRequired", refused.Field("error"));
        Assert.Equal(builds, fixture.Stack.Concourse.State.GetBuilds(pipeline, "deploy").Count);
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.UpdateAsync(id, update)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        var noOp = new JsonObject { ["service_id"] = Service, ["plan_id"] = Catalog.PgClusterSmall, ["parameters"] = new JsonObject() };
        Assert.Equal(HttpStatusCode.OK, (await Osb.UpdateAsync(id, noOp, acceptsIncomplete: false)).Status);
        Assert.Equal(builds + 1, fixture.Stack.Concourse.State.GetBuilds(pipeline, "deploy").Count);
    }

    // 10. Child protocol not intent-first: a binding refused by the cluster leaves nothing, and never takes another's login.
    [Fact]
    public async Task A_binding_id_taken_in_the_cluster_is_refused_without_touching_the_owner()
    {
        var cluster = await Pg.ClusterAsync(Unique("taken"));
        var first = await Pg.DatabaseAsync(cluster);
        var second = await Pg.DatabaseAsync(cluster);
        var binding = Guid.NewGuid().ToString();
        var credentials = await Pg.BindAsync(first, binding);

        var again = await Osb.BindAsync(second, binding, Service, Catalog.Pg1Gb, "app-2");
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.Equal(HttpStatusCode.Gone, (await Osb.UnbindAsync(second, binding, Service, Catalog.Pg1Gb)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.DeprovisionAsync(second, Service, Catalog.Pg1Gb)).Status);
        Assert.Equal("succeeded", (await Pg.WaitAsync(second, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        Assert.True(await PgSession.CanConnectAsync(credentials));
        Assert.Equal(HttpStatusCode.OK, (await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{first}/service_bindings/{binding}")).Status);
    }

    // 12. A truthful catalog; a database's views name the database's plan; hints name the service's own plans.
    [Fact]
    public async Task The_catalog_and_descriptions_tell_the_truth()
    {
        var catalog = (await Osb.SendAsync(HttpMethod.Get, "/v2/catalog")).Body!;
        var plans = catalog["services"]!.AsArray().SelectMany(s => s!["plans"]!.AsArray()).ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        Assert.True(plans["cluster-small"]!["plan_updateable"]!.GetValue<bool>());
        Assert.True(plans["pg-cluster-small"]!["plan_updateable"]!.GetValue<bool>());
        foreach (var name in new[] { "cluster-large", "pg-cluster-large", "100mb", "1gb", "15gb", "pg-1gb" })
            Assert.False(plans[name]!["plan_updateable"]!.GetValue<bool>(), name);

        var cluster = await Pg.ClusterAsync(Unique("truth"));
        var database = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await Osb.ProvisionAsync(database, PgSession.Database(cluster, "db"))).Status);
        var description = (await Pg.WaitAsync(database, Catalog.Pg1Gb))["description"]!.GetValue<string>();
        Assert.Contains("plan pg-1gb", description);
        Assert.DoesNotContain("pg-cluster-small", description);

        var unknown = await Osb.ProvisionAsync(Guid.NewGuid().ToString(), PgSession.Database("no-such-cluster", "db"));
        Assert.Contains("cf create-service postgresql-on-demand pg-cluster-small no-such-cluster", unknown.Field("description"));
    }

    private async Task<Answer> SendRawAsync(HttpMethod method, string path, string body) =>
        await Osb.SendAsync(method, path, configure: request => request.Content = new StringContent(body, Encoding.UTF8, "application/json"));
}
