using System.Text;
using System.Text.Json;
using OnDemand.Grains.Yaml;

namespace OnDemand.Tests.Yaml;

/// <summary>The typing rules of the broker's one YAML reader (YAML 1.2 core schema), as the catalog and templates see them.</summary>
public sealed class YamlLoaderTests
{
    private static JsonNode? Value(string scalar) => YamlLoader.Parse("a: " + scalar, "the test document")!["a"];

    private static YamlLoadException Refused(string yaml) =>
        Assert.Throws<YamlLoadException>(() => YamlLoader.Parse(yaml, "the test document"));

    private static void AssertJson(string expectedJson, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), actual), $"expected {expectedJson}, got {actual?.ToJsonString() ?? "null"}");

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    [InlineData("on")]
    [InlineData("off")]
    [InlineData("Yes")]
    [InlineData("y")]
    [InlineData("n")]
    [InlineData("1_000")]
    [InlineData("0b101")]
    [InlineData("0X1F")]
    [InlineData("0O17")]
    [InlineData("2001-12-14")]
    [InlineData("1.0.0")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    [InlineData(".Nan")]
    [InlineData("nULL")]
    [InlineData("tRUE")]
    public void Yaml_1_1_and_look_alike_words_stay_strings(string scalar)
    {
        var value = Value(scalar);

        Assert.Equal(JsonValueKind.String, value!.GetValueKind());
        Assert.Equal(scalar, (string?)value);
    }

    [Theory]
    [InlineData("~")]
    [InlineData("null")]
    [InlineData("Null")]
    [InlineData("NULL")]
    [InlineData("")]
    [InlineData("!!null ''")]
    public void Null_forms_are_null(string scalar)
    {
        Assert.Null(Value(scalar));
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("True", "true")]
    [InlineData("TRUE", "true")]
    [InlineData("false", "false")]
    [InlineData("False", "false")]
    [InlineData("FALSE", "false")]
    [InlineData("!!bool 'true'", "true")]
    public void Only_true_and_false_are_booleans(string scalar, string expected)
    {
        AssertJson(expected, Value(scalar));
    }

    [Theory]
    [InlineData("42", "42")]
    [InlineData("-7", "-7")]
    [InlineData("+7", "7")]
    [InlineData("007", "7")]
    [InlineData("0x1F", "31")]
    [InlineData("0xffffffffffffffffff", "4722366482869645213695")]
    [InlineData("0o17", "15")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("!!int '42'", "42")]
    public void Integers_are_decimal_hex_or_octal_and_exact(string scalar, string expectedJson)
    {
        var value = Value(scalar);

        Assert.Equal(JsonValueKind.Number, value!.GetValueKind());
        Assert.Equal(expectedJson, value.ToJsonString());
    }

    [Theory]
    [InlineData("1.5", "1.5")]
    [InlineData("1.10", "1.10")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("1e3", "1e3")]
    [InlineData("1.", "1")]
    [InlineData(".5", "0.5")]
    [InlineData("+.5", "0.5")]
    [InlineData("1e400", "1e400")]
    [InlineData("!!float 2", "2")]
    public void Floats_keep_the_digits_the_file_wrote(string scalar, string expectedJson)
    {
        Assert.Equal(expectedJson, Value(scalar)!.ToJsonString());
    }

    [Theory]
    [InlineData(".inf")]
    [InlineData("-.Inf")]
    [InlineData("+.INF")]
    [InlineData(".nan")]
    [InlineData(".NaN")]
    public void Infinity_and_nan_are_floats_json_cannot_hold_so_they_are_refused(string scalar)
    {
        var e = Refused("a: " + scalar);

        Assert.Contains("cannot be represented in JSON", e.Message);
        Assert.StartsWith("the test document is invalid at line 1", e.Message);
    }

    [Theory]
    [InlineData("'42'")]
    [InlineData("\"true\"")]
    [InlineData("! 42")]
    [InlineData("!!str 42")]
    [InlineData("|\n  42")]
    public void Quoted_block_and_string_tagged_scalars_are_strings(string scalar)
    {
        Assert.Equal(JsonValueKind.String, Value(scalar)!.GetValueKind());
    }

    [Theory]
    [InlineData("a: !!int abc", "not a valid !!int")]
    [InlineData("a: !!float abc", "not a valid !!float")]
    [InlineData("a: !!bool yes", "not a valid !!bool")]
    [InlineData("a: !!null x", "not a valid !!null")]
    [InlineData("a: !!binary aGVsbG8=", "unsupported YAML tag 'tag:yaml.org,2002:binary'")]
    [InlineData("a: !!timestamp 2001-12-14", "unsupported YAML tag 'tag:yaml.org,2002:timestamp'")]
    [InlineData("a: !foo x", "unsupported YAML tag '!foo'")]
    [InlineData("a: !foo {b: 1}", "unsupported YAML tag '!foo'")]
    [InlineData("a: !!map [1]", "unsupported YAML tag 'tag:yaml.org,2002:map'")]
    [InlineData("!custom key: 1", "unsupported YAML tag '!custom'")]
    public void Tags_outside_the_core_schema_or_not_matching_their_scalar_are_refused(string yaml, string expected)
    {
        Assert.Contains(expected, Refused(yaml).Message);
    }

    [Fact]
    public void Keys_stay_text()
    {
        AssertJson("""{"~":1,"true":2,"42":3,"0x1F":4}""", YamlLoader.Parse("~: 1\ntrue: 2\n42: 3\n0x1F: 4", "doc"));
    }

    [Fact]
    public void Anchors_and_merge_keys_with_overrides()
    {
        var tree = YamlLoader.Parse(
            """
            base: &base {x: 1, y: 2}
            other: &other {y: 3, z: 4}
            merged:
              <<: *base
              x: override
            listed:
              <<: [*other, *base]
            quoted:
              "<<": *base
            """,
            "doc")!;

        AssertJson("""{"x":"override","y":2}""", tree["merged"]);
        AssertJson("""{"y":3,"z":4,"x":1}""", tree["listed"]); // the earlier mapping in a merge list wins
        AssertJson("""{"<<":{"x":1,"y":2}}""", tree["quoted"]); // a quoted "<<" is an ordinary key
    }

    [Theory]
    [InlineData("a: 1\na: 2", "is not valid YAML")]
    [InlineData("a: [unclosed", "is not valid YAML (line")]
    [InlineData("a: [1, 2\nb: 3", "is not valid YAML")] // YamlDotNet's scanner fails with InvalidOperationException here
    [InlineData("", "is empty")]
    [InlineData("# only a comment", "is empty")]
    [InlineData("a: 1\n---\nb: 2", "must contain exactly one YAML document")]
    [InlineData("a: &a [*a]", "recursive")]
    [InlineData("a: &a {<<: *a}", "recursive")]
    [InlineData("? [complex]\n: 1", "keys must be scalars")]
    [InlineData("a:\n  <<: scalar", "merge key")]
    public void Broken_documents_are_refused_naming_the_document(string yaml, string expected)
    {
        var e = Refused(yaml);

        Assert.StartsWith("the test document ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Size_depth_and_alias_expansion_are_bounded()
    {
        Assert.Contains("larger than 1024 KiB", Refused("a: " + new string('x', YamlLimits.MaxDocumentBytes)).Message);
        Assert.Contains("nested deeper than 64", Refused("a: " + new string('[', 10_000) + new string(']', 10_000)).Message);
        Assert.Contains("a number literal is longer than", Refused("a: " + new string('1', 101)).Message);

        var bomb = new StringBuilder("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 10; level++)
        {
            bomb.Append($"l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]\n");
        }

        Assert.Contains("more than 100000 nodes", Refused(bomb.ToString()).Message);
    }

    [Fact]
    public void Too_many_events_are_refused_before_the_tree_is_built()
    {
        var yaml = "a: [" + string.Join(",", Enumerable.Repeat("1", YamlLimits.MaxEvents)) + "]";

        Assert.Contains($"more than {YamlLimits.MaxEvents} YAML nodes", Refused(yaml).Message);
    }
}
