namespace OnDemand.Tests.Http;

/// <summary>docs/osb-behaviour.md, "Bindings" as far as cluster instances go: they are not bindable.</summary>
public sealed class BindingTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private OsbClient Osb => fixture.Osb;

    private static JsonObject BindBody(string? serviceId = Catalog.MySql, string? planId = Catalog.ClusterSmall)
    {
        var body = new JsonObject { ["bind_resource"] = new JsonObject() };
        if (serviceId is not null) body["service_id"] = serviceId;
        if (planId is not null) body["plan_id"] = planId;
        return body;
    }

    [Fact]
    public async Task Binding_a_cluster_is_400_telling_the_user_to_bind_a_database_instead()
    {
        var instance = Guid.NewGuid().ToString();
        await Osb.ProvisionClusterAsync(instance);
        var answer = await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{instance}/service_bindings/{Guid.NewGuid()}?accepts_incomplete=true", BindBody());
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("cannot be bound", answer.Field("description"));
        Assert.Contains("cluster", answer.Field("description"));
    }

    [Theory]
    [InlineData(null, Catalog.ClusterSmall)]
    [InlineData(Catalog.MySql, null)]
    [InlineData("unknown", Catalog.ClusterSmall)]
    [InlineData(Catalog.MySql, "unknown")]
    public async Task Bind_with_missing_or_unknown_ids_is_400(string? serviceId, string? planId)
    {
        var answer = await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{Guid.NewGuid()}/service_bindings/{Guid.NewGuid()}", BindBody(serviceId, planId));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
    }

    [Fact]
    public async Task Unbind_checks_ids_then_answers_410_for_unknown_bindings()
    {
        var path = $"/v2/service_instances/{Guid.NewGuid()}/service_bindings/{Guid.NewGuid()}";
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.SendAsync(HttpMethod.Delete, $"{path}?plan_id={Catalog.ClusterSmall}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Osb.SendAsync(HttpMethod.Delete, $"{path}?service_id={Catalog.MySql}")).Status);
        var gone = await Osb.SendAsync(HttpMethod.Delete, $"{path}?service_id={Catalog.MySql}&plan_id={Catalog.ClusterSmall}");
        Assert.Equal(HttpStatusCode.Gone, gone.Status);
    }

    [Fact]
    public async Task Fetching_an_unknown_binding_or_its_last_operation_is_404()
    {
        var path = $"/v2/service_instances/{Guid.NewGuid()}/service_bindings/{Guid.NewGuid()}";
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.SendAsync(HttpMethod.Get, path)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Osb.SendAsync(HttpMethod.Get, $"{path}/last_operation")).Status);
    }
}
