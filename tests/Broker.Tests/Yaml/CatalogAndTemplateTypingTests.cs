using OnDemand.Grains.Catalog;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Tests.Yaml;

/// <summary>
/// The catalog (config/broker.yml) and the pipeline templates are read by the same YAML loader, so a scalar means
/// the same in both. Each case below is one where the old catalog reader (YamlJson with MergingParser) disagreed with
/// the renderer and with YAML 1.2; the comment says what the catalog did before.
/// </summary>
public sealed class CatalogAndTemplateTypingTests
{
    private static string Catalog(string planExtra, string documentEnd = "") =>
        $$"""
        services:
          - id: svc-id
            name: svc
            description: a service
            pipeline: { template: templates/mysql-cluster.yml }
            plans:
              - id: plan-id
                name: small
                kind: cluster
                description: a plan
                maintenance_info: { version: 1.0.0 }
        {{planExtra}}
        {{documentEnd}}
        """;

    private static BrokerCatalog Load(string yaml) => CatalogLoader.Parse(yaml, RepositoryPaths.Root);

    private static JsonNode? CatalogValue(string scalar) =>
        Load(Catalog($"        vars: {{ v: {scalar} }}")).Services[0].Plans[0].Vars["v"];

    private static JsonNode? TemplateValue(string scalar) =>
        JsonNode.Parse(new PipelineRenderer().Render($"v: {scalar}", new Dictionary<string, JsonNode?>()).ConfigJson)!["v"];

    private static CatalogException CatalogRefuses(string yaml) => Assert.Throws<CatalogException>(() => Load(yaml));

    [Theory]
    [InlineData("0x1F", "31")] // was the string "0x1F"
    [InlineData("0o17", "15")] // was the string "0o17"
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")] // was the double 1.2345678901234568E+29
    [InlineData("1.10", "1.10")] // was 1.1 (binary round trip)
    [InlineData("1e400", "1e400")] // was the string "1e400" (double overflow)
    [InlineData("! 42", "\"42\"")] // was the number 42: `!` (non-specific tag) asks for a string
    [InlineData("!!int \"42\"", "42")] // was the string "42": the tag decides, not the quotes
    [InlineData("!!bool 'false'", "false")] // was the string "false"
    [InlineData("!!null ''", "null")] // was the empty string
    [InlineData("yes", "\"yes\"")] // agreed before: YAML 1.2, not 1.1
    [InlineData("on", "\"on\"")]
    [InlineData("~", "null")]
    [InlineData("007", "7")]
    public void A_scalar_has_the_same_type_in_the_catalog_and_in_a_template(string scalar, string expectedJson)
    {
        var catalog = CatalogValue(scalar);
        var template = TemplateValue(scalar);

        Assert.Equal(expectedJson, catalog?.ToJsonString() ?? "null");
        Assert.Equal(expectedJson, template?.ToJsonString() ?? "null");
    }

    [Theory]
    [InlineData(".inf", "cannot be represented in JSON")] // was the string ".inf"
    [InlineData("-.Inf", "cannot be represented in JSON")] // was the string "-.Inf"
    [InlineData(".nan", "cannot be represented in JSON")] // was the string ".nan"
    [InlineData("!!int abc", "not a valid !!int")] // was the string "abc"
    [InlineData("!!bool yes", "not a valid !!bool")] // was the string "yes"
    [InlineData("!!binary aGVsbG8=", "unsupported YAML tag")] // was the string "aGVsbG8="
    [InlineData("!!timestamp 2001-12-14", "unsupported YAML tag")] // was the string "2001-12-14"
    [InlineData("!foo {b: 1}", "unsupported YAML tag '!foo'")] // was the map {"b":1}: tags on collections were ignored
    public void A_scalar_the_core_schema_refuses_is_refused_by_both(string scalar, string expected)
    {
        Assert.Contains(expected, CatalogRefuses(Catalog($"        vars: {{ v: {scalar} }}")).Message);
        Assert.Contains(expected, Assert.Throws<PipelineRenderException>(() => TemplateValue(scalar)).Message);
    }

    [Fact]
    public void A_mapping_may_override_a_merged_key()
    {
        // Was "Duplicate key x": MergingParser refused the override that a block of defaults is for.
        var plan = Load(Catalog(
            """
                    vars:
                      <<: { instances: 1, vm_type: small }
                      instances: 3
            """)).Services[0].Plans[0];

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"instances":3,"vm_type":"small"}"""), plan.Vars), plan.Vars.ToJsonString());
    }

    [Fact]
    public void A_quoted_merge_key_is_an_ordinary_key()
    {
        // Was a merge: MergingParser merged on "<<" whatever its quoting; YAML 1.2 merges only on a plain <<.
        var plan = Load(Catalog("""        vars: { "<<": { a: 1 } }""")).Services[0].Plans[0];

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"<<":{"a":1}}"""), plan.Vars), plan.Vars.ToJsonString());
    }

    [Fact]
    public void A_second_document_is_refused_not_ignored()
    {
        // Was silently ignored: only the first document was read.
        Assert.Contains("exactly one YAML document", CatalogRefuses(Catalog("", "---\nservices: []")).Message);
    }

    [Fact]
    public void A_tag_on_a_key_is_refused()
    {
        // Was dropped: `!custom vars` was read as `vars`.
        Assert.Contains("unsupported YAML tag '!custom'", CatalogRefuses(Catalog("        !custom vars: {}")).Message);
    }

    [Theory]
    [InlineData("        vars: &a { self: *a }", "recursive")] // would have recursed until the stack overflowed
    [InlineData("        vars: &a [*a]", "recursive")]
    public void Recursive_aliases_are_refused(string planExtra, string expected)
    {
        Assert.Contains(expected, CatalogRefuses(Catalog(planExtra)).Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_before_it_can_exhaust_the_stack()
    {
        // Was unbounded: the old reader recursed once per level.
        var yaml = Catalog("        vars: { v: " + new string('[', 10_000) + new string(']', 10_000) + " }");

        Assert.Contains("nested deeper than 64", CatalogRefuses(yaml).Message);
    }

    [Theory]
    [InlineData("maximum_polling_duration: 1.5")]
    [InlineData("maximum_polling_duration: \"600\"")]
    public void A_number_setting_that_is_not_an_integer_names_the_setting(string line)
    {
        // Was an InvalidOperationException from GetValue<long>, naming nothing.
        Assert.Contains("maximum_polling_duration must be an integer", CatalogRefuses(Catalog("        " + line)).Message);
    }

    [Fact]
    public void Errors_name_the_broker_configuration_and_the_position()
    {
        var e = CatalogRefuses(Catalog("        vars: { v: .inf }"));

        Assert.StartsWith("broker configuration is invalid at line 12, column", e.Message);
    }

    [Fact]
    public void The_real_catalog_loads()
    {
        var catalog = CatalogLoader.LoadFile(RepositoryPaths.BrokerConfig);

        Assert.NotEmpty(catalog.Services);
        Assert.Equal(4096, catalog.Services[0].Plans[0].Vars["vm_memory_mb"]!.GetValue<int>());
    }
}
