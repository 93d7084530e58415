using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines.Verification;
using Xunit;

namespace OnDemand.Tests.Pipelines;

/// <summary>The ops-file subset the checker applies, against the behaviour of go-patch as vendored by bosh-cli.</summary>
public sealed class BoshOpsTests
{
    private const string Manifest = """
        name: d
        instance_groups:
        - name: mysql
          jobs:
          - name: pxc-mysql
            properties: {port: 3306}
        - name: proxy
          jobs: []
        """;

    private static JsonNode Apply(string ops) =>
        BoshOps.Apply(YamlTree.Parse(Manifest, "manifest")!, YamlTree.Parse(ops, "ops"), "ops");

    private static JsonNode? Job(JsonNode doc, string group, string job) =>
        doc["instance_groups"]!.AsArray().Single(g => (string?)g!["name"] == group)!["jobs"]!.AsArray().SingleOrDefault(j => (string?)j!["name"] == job);

    [Fact]
    public void Replace_walks_named_items_and_creates_optional_keys()
    {
        var doc = Apply("""
            - type: replace
              path: /instance_groups/name=mysql/jobs/name=pxc-mysql/properties/tls?/required
              value: true
            """);

        Assert.True((bool)Job(doc, "mysql", "pxc-mysql")!["properties"]!["tls"]!["required"]!);
        Assert.Equal(3306, (long)Job(doc, "mysql", "pxc-mysql")!["properties"]!["port"]!);
    }

    [Fact]
    public void An_optional_named_item_is_appended_when_missing_and_replaced_when_present()
    {
        const string op = """
            - type: replace
              path: /instance_groups/name=proxy/jobs/name=proxy?
              value: {name: proxy, release: pxc}
            """;
        var once = Apply(op);
        var twice = BoshOps.Apply(once, YamlTree.Parse(op, "ops"), "ops");

        Assert.Equal("pxc", (string?)Job(once, "proxy", "proxy")!["release"]);
        Assert.Single(twice["instance_groups"]![1]!["jobs"]!.AsArray());
    }

    [Fact]
    public void Dash_appends_to_a_list()
    {
        var doc = Apply("""
            - type: replace
              path: /instance_groups/name=mysql/jobs/-
              value: {name: bootstrap, release: pxc}
            """);

        Assert.Equal(["pxc-mysql", "bootstrap"], doc["instance_groups"]![0]!["jobs"]!.AsArray().Select(j => (string?)j!["name"]));
    }

    [Fact]
    public void Remove_deletes_and_an_optional_miss_is_a_no_op()
    {
        var doc = Apply("""
            - type: remove
              path: /instance_groups/name=mysql/jobs/name=pxc-mysql/properties/port
            - type: remove
              path: /instance_groups/name=mysql/jobs/name=galera-agent?
            """);

        Assert.Empty(Job(doc, "mysql", "pxc-mysql")!["properties"]!.AsObject());
    }

    [Theory]
    [InlineData("/instance_groups/name=mysql/jobs/name=pxc-mysql/properties/tls/required", "expected to find a map key 'tls'")]
    [InlineData("/instance_groups/name=mysql/jobs/name=pxc-mysql/properties/missing", "expected to find a map key 'missing'")]
    [InlineData("/instance_groups/name=arbiter/instances", "expected to find an item matching 'name=arbiter'")]
    [InlineData("/instance_groups/-/name", "token '-' does not fit a list")]
    [InlineData("/instance_groups:before/0", "unsupported token modifier")]
    public void A_path_that_does_not_match_is_an_error(string path, string error)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Apply($"- {{type: replace, path: \"{path}\", value: 1}}"));

        Assert.Contains(error, e.Message);
    }
}
