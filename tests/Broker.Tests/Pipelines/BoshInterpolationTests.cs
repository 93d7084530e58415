using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines.Verification;
using Xunit;

namespace OnDemand.Tests.Pipelines;

public sealed class BoshInterpolationTests
{
    private static BoshInterpolation.Result Interpolate(string yaml, params (string Name, JsonNode? Value)[] vars) =>
        BoshInterpolation.Interpolate(YamlTree.Parse(yaml, "manifest"), vars.ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void Whole_values_keep_their_type_and_text_is_spliced()
    {
        var result = Interpolate("""
            name: ((deployment_name))
            instances: ((instances))
            azs: ((azs))
            host: q-s0.proxy.((network)).((deployment_name)).bosh
            """, ("deployment_name", "d-1"), ("instances", 3), ("azs", new JsonArray("z1", "z2")), ("network", "default"));

        Assert.Empty(result.Errors);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"name":"d-1","instances":3,"azs":["z1","z2"],"host":"q-s0.proxy.default.d-1.bosh"}"""), result.Document));
    }

    [Fact]
    public void Declared_variables_stay_for_the_director_with_their_keys()
    {
        var result = Interpolate("""
            ca: ((server_tls.ca))
            password: ((admin_password))
            variables:
            - {name: server_tls, type: certificate}
            - {name: admin_password, type: password}
            """);

        Assert.Empty(result.Errors);
        Assert.Equal("((server_tls.ca))", (string?)result.Document!["ca"]);
    }

    [Fact]
    public void A_missing_var_and_an_unused_var_are_both_errors()
    {
        var result = Interpolate("size: ((buffer_pool))", ("innodb_buffer_pool_size", "512MB"));

        Assert.Equal(
        [
            "/size: var 'buffer_pool' is neither given nor declared under variables:",
            "var 'innodb_buffer_pool_size' is given but the manifest never uses it",
        ], result.Errors);
    }

    [Fact]
    public void A_list_cannot_be_spliced_into_text()
    {
        var result = Interpolate("name: x-((azs))", ("azs", new JsonArray("z1")));

        Assert.Equal(["/name: var 'azs' is not a scalar and cannot be spliced into text"], result.Errors);
    }
}
