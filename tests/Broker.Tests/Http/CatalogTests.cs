namespace OnDemand.Tests.Http;

/// <summary>docs/osb-behaviour.md, "Catalog": the catalog Cloud Controller and strict clients accept.</summary>
public sealed class CatalogTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private async Task<JsonObject> CatalogAsync()
    {
        var answer = await fixture.Osb.SendAsync(HttpMethod.Get, "/v2/catalog");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("application/json", answer.MediaType);
        return answer.Body!;
    }

    [Fact]
    public async Task Services_carry_the_required_fields_and_stable_ids()
    {
        var services = (await CatalogAsync())["services"]!.AsArray();
        var mysql = services.Single(s => s!["name"]!.GetValue<string>() == "mysql-on-demand")!;
        Assert.Equal(Catalog.MySql, mysql["id"]!.GetValue<string>());
        Assert.Equal("MySQL clusters and databases on demand", mysql["description"]!.GetValue<string>());
        Assert.True(mysql["bindable"]!.GetValue<bool>());
        Assert.True(mysql["instances_retrievable"]!.GetValue<bool>());
        Assert.True(mysql["allow_context_updates"]!.GetValue<bool>());
        var plans = mysql["plans"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["cluster-small", "cluster-large", "100mb", "1gb", "15gb"], plans);
        Assert.Contains(services, s => s!["name"]!.GetValue<string>() == "postgresql-on-demand");
    }

    [Fact]
    public async Task Cluster_plans_are_not_bindable_and_database_plans_are()
    {
        var plans = (await CatalogAsync())["services"]![0]!["plans"]!.AsArray();
        Assert.False(plans.Single(p => p!["name"]!.GetValue<string>() == "cluster-small")!["bindable"]!.GetValue<bool>());
        Assert.False(plans.Single(p => p!["name"]!.GetValue<string>() == "cluster-large")!["bindable"]!.GetValue<bool>());
        Assert.True(plans.Single(p => p!["name"]!.GetValue<string>() == "100mb")!["bindable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Plans_advertise_semver_maintenance_info_whole_second_polling_and_draft04_schemas()
    {
        foreach (var plan in (await CatalogAsync())["services"]!.AsArray().SelectMany(s => s!["plans"]!.AsArray()))
        {
            Assert.Matches(@"^\d+\.\d+\.\d+", plan!["maintenance_info"]!["version"]!.GetValue<string>());
            Assert.True(plan["maximum_polling_duration"]!.GetValue<int>() > 0);
            var create = plan["schemas"]!["service_instance"]!["create"]!["parameters"]!;
            Assert.Equal("http://json-schema.org/draft-04/schema#", create["$schema"]!.GetValue<string>());
            Assert.DoesNotContain("$ref", create.ToJsonString());
            Assert.True(create.ToJsonString().Length <= 64 * 1024);
        }
    }

    [Fact]
    public async Task No_field_is_null()
    {
        var text = (await fixture.Osb.SendAsync(HttpMethod.Get, "/v2/catalog")).Text;
        Assert.DoesNotContain(":null", text.Replace(" ", ""));
    }

    [Fact]
    public async Task The_cluster_tuning_schema_names_its_keys()
    {
        var plan = (await CatalogAsync())["services"]![0]!["plans"]![0]!;
        var properties = plan["schemas"]!["service_instance"]!["create"]!["parameters"]!["properties"]!.AsObject();
        Assert.Contains("innodb_buffer_pool_size", properties.Select(p => p.Key));
        Assert.Contains("max_connections", properties.Select(p => p.Key));
    }
}
