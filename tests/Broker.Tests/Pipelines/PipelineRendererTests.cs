using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines;
using Xunit;

namespace OnDemand.Tests.Pipelines;

public sealed class PipelineRendererTests
{
    private readonly PipelineRenderer _renderer = new();

    private RenderedPipeline Render(string yaml, params (string Name, JsonNode? Value)[] variables) =>
        _renderer.Render(yaml, variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal));

    private JsonObject Tree(string yaml, params (string Name, JsonNode? Value)[] variables) =>
        JsonNode.Parse(Render(yaml, variables).ConfigJson)!.AsObject();

    private PipelineRenderException Refused(string yaml, params (string Name, JsonNode? Value)[] variables) =>
        Assert.Throws<PipelineRenderException>(() => Render(yaml, variables));

    private static void AssertJson(string expectedJson, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), actual), $"expected {expectedJson}, got {actual?.ToJsonString() ?? "null"}");

    // ---- typed substitution ----

    [Fact]
    public void Whole_scalar_reference_takes_the_type_of_the_value()
    {
        var tree = Tree(
            """
            count: ((instances))
            ratio: ((ratio))
            enabled: ((enabled))
            nothing: ((nothing))
            name: ((name))
            quoted: "((instances))"
            """,
            ("instances", 3), ("ratio", 0.75), ("enabled", true), ("nothing", null), ("name", "db"));

        AssertJson("""{"count":3,"ratio":0.75,"enabled":true,"nothing":null,"name":"db","quoted":3}""", tree);
        Assert.Equal(JsonValueKind.Number, tree["count"]!.GetValueKind());
    }

    [Fact]
    public void List_and_map_values_are_inserted_as_structures()
    {
        var tree = Tree(
            """
            ops: ((ops))
            tuning: ((tuning))
            again: ((tuning))
            """,
            ("ops", new JsonArray("a.yml", 2, new JsonObject { ["deep"] = new JsonArray(true, null) })),
            ("tuning", new JsonObject { ["max_connections"] = 500, ["mode"] = "strict" }));

        AssertJson("""["a.yml",2,{"deep":[true,null]}]""", tree["ops"]);
        AssertJson("""{"max_connections":500,"mode":"strict"}""", tree["tuning"]);
        AssertJson("""{"max_connections":500,"mode":"strict"}""", tree["again"]);
    }

    [Fact]
    public void The_callers_value_is_copied_not_shared()
    {
        var tuning = new JsonObject { ["mode"] = "strict" };
        Render("a: ((tuning))\nb: ((tuning))", ("tuning", tuning));

        Assert.Null(tuning.Parent); // still the caller's, not attached into the rendered tree
        Assert.Equal("strict", (string?)tuning["mode"]);
    }

    [Fact]
    public void References_inside_longer_text_are_spliced_as_text()
    {
        var tree = Tree(
            """
            text: "cluster ((name)) has ((instances)) nodes at ratio ((ratio)), tls ((tls))"
            path: pxc-release/((dir))/use-clustered.yml
            """,
            ("name", "db-1"), ("instances", 3), ("ratio", 1.5), ("tls", false), ("dir", "operations"));

        Assert.Equal("cluster db-1 has 3 nodes at ratio 1.5, tls false", (string?)tree["text"]);
        Assert.Equal("pxc-release/operations/use-clustered.yml", (string?)tree["path"]);
    }

    [Theory]
    [InlineData("""["a"]""", "a list")]
    [InlineData("""{"a":1}""", "a map")]
    [InlineData("null", "null")]
    public void Structures_and_null_cannot_be_spliced_into_text(string valueJson, string described)
    {
        var e = Refused("text: prefix-((value))", ("value", JsonNode.Parse(valueJson)));

        Assert.Contains("'value'", e.Message);
        Assert.Contains(described, e.Message);
    }

    [Fact]
    public void Unknown_references_stay_for_the_credential_manager_and_are_listed_sorted_and_distinct()
    {
        var rendered = Render(
            """
            source:
              client_secret: ((bosh_client_secret))
              url: https://((bosh_target)):25555
              again: ((bosh_client_secret))
              deployment: ((deployment_name))
            """,
            ("deployment_name", "mysql-1"));

        var source = JsonNode.Parse(rendered.ConfigJson)!["source"]!;
        Assert.Equal("((bosh_client_secret))", (string?)source["client_secret"]);
        Assert.Equal("https://((bosh_target)):25555", (string?)source["url"]);
        Assert.Equal("mysql-1", (string?)source["deployment"]);
        Assert.Equal(new[] { "bosh_client_secret", "bosh_target" }, rendered.UnresolvedVariables);
    }

    [Fact]
    public void Source_qualified_references_are_never_substituted()
    {
        var rendered = Render(
            """
            a: ((vault:x))
            b: "in text ((vault:x))"
            c: ((.:local))
            """,
            ("x", "from-broker"), ("vault:x", "from-broker"), ("local", "from-broker"));

        AssertJson("""{"a":"((vault:x))","b":"in text ((vault:x))","c":"((.:local))"}""", JsonNode.Parse(rendered.ConfigJson));
        Assert.Equal(new[] { ".:local", "vault:x" }, rendered.UnresolvedVariables);
    }

    [Fact]
    public void Map_keys_are_never_substituted_but_their_references_are_reported()
    {
        var rendered = Render("((instance_id)): ((instance_id))", ("instance_id", "abc"));

        AssertJson("""{"((instance_id))":"abc"}""", JsonNode.Parse(rendered.ConfigJson));
        Assert.Equal(new[] { "instance_id" }, rendered.UnresolvedVariables);
    }

    // ---- YAML features ----

    [Fact]
    public void Anchors_aliases_and_merge_keys_work_with_overrides()
    {
        var tree = Tree(
            """
            meta:
              base: &base {deployment: ((deployment_name)), target: ((bosh_target)), tier: base}
              extra: &extra {tier: extra, region: eu}
              name: &name shared
            merged:
              <<: *base
              tier: override
            listed:
              <<: [*extra, *base]
            inline:
              <<: {a: 1}
              b: 2
            alias: *name
            whole: *base
            """,
            ("deployment_name", "mysql-1"));

        AssertJson("""{"deployment":"mysql-1","target":"((bosh_target))","tier":"override"}""", tree["merged"]);
        // Earlier mappings in a merge list win over later ones.
        AssertJson("""{"tier":"extra","region":"eu","deployment":"mysql-1","target":"((bosh_target))"}""", tree["listed"]);
        AssertJson("""{"a":1,"b":2}""", tree["inline"]);
        Assert.Equal("shared", (string?)tree["alias"]);
        AssertJson("""{"deployment":"mysql-1","target":"((bosh_target))","tier":"base"}""", tree["whole"]);
    }

    [Fact]
    public void A_quoted_merge_key_is_an_ordinary_key()
    {
        AssertJson("""{"<<":"x"}""", Tree("\"<<\": x"));
    }

    [Fact]
    public void Plain_scalars_follow_the_yaml_1_2_core_schema()
    {
        var tree = Tree(
            """
            int: 42
            negative: -7
            plus: +7
            leading_zeros: 007
            hex: 0x1F
            octal: 0o17
            float: 1.5
            exp: 1e3
            trailing_dot: 1.
            leading_dot: .5
            big: 123456789012345678901234567890
            yes_is_text: yes
            on_is_text: on
            true_bool: True
            null_tilde: ~
            null_empty:
            null_word: NULL
            quoted_int: "42"
            quoted_bool: 'true'
            str_tag: !!str 42
            bang: ! 42
            int_tag: !!int "42"
            float_tag: !!float 2
            bool_tag: !!bool "false"
            null_tag: !!null ""
            literal: |
              42
            version: 1.10
            """);

        AssertJson(
            """
            {"int":42,"negative":-7,"plus":7,"leading_zeros":7,"hex":31,"octal":15,"float":1.5,"exp":1e3,
             "trailing_dot":1,"leading_dot":0.5,"big":123456789012345678901234567890,"yes_is_text":"yes",
             "on_is_text":"on","true_bool":true,"null_tilde":null,"null_empty":null,"null_word":null,
             "quoted_int":"42","quoted_bool":"true","str_tag":"42","bang":"42","int_tag":42,"float_tag":2,
             "bool_tag":false,"null_tag":null,"literal":"42\n","version":1.10}
            """,
            tree);
        // The literal's digits are kept: 1.10 must not become 1.1.
        Assert.Contains("\"version\":1.10", Render("version: 1.10").ConfigJson);
    }

    [Theory]
    [InlineData("a: !foo x", "!foo")]
    [InlineData("a: !!binary aGVsbG8=", "tag:yaml.org,2002:binary")]
    [InlineData("a: !!python/object:os.system [rm]", "tag:yaml.org,2002:python/object:os.system")]
    [InlineData("a: !!str {b: 1}", "tag:yaml.org,2002:str")]
    [InlineData("!custom key: 1", "!custom")]
    public void Templates_with_other_explicit_tags_are_refused(string yaml, string tag)
    {
        var e = Refused(yaml);

        Assert.Contains($"unsupported YAML tag '{tag}'", e.Message);
    }

    [Theory]
    [InlineData("a: !!int abc", "not a valid !!int")]
    [InlineData("a: !!bool yes", "not a valid !!bool")]
    [InlineData("a: .inf", "cannot be represented in JSON")]
    [InlineData("a: .NaN", "cannot be represented in JSON")]
    [InlineData("a: &a [*a]", "recursive")]
    [InlineData("a: &a {<<: *a}", "recursive")]
    [InlineData("a: *missing", "not valid YAML")]
    [InlineData("a: 1\na: 2", "not valid YAML")]
    [InlineData("a: [unclosed", "not valid YAML")]
    [InlineData("? [complex]\n: 1", "keys must be scalars")]
    [InlineData("a:\n  <<: scalar", "merge key")]
    [InlineData("- a\n- b", "mapping at the top level")]
    [InlineData("", "empty")]
    [InlineData("a: 1\n---\nb: 2", "exactly one YAML document")]
    public void Broken_templates_are_refused_with_a_clear_message(string yaml, string expected)
    {
        var e = Refused(yaml);

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Deeply_nested_templates_are_refused_before_they_can_exhaust_the_stack()
    {
        var yaml = "a: " + new string('[', 10_000) + new string(']', 10_000);

        Assert.Contains("nested deeper", Refused(yaml).Message);
    }

    [Fact]
    public void Alias_bombs_are_refused()
    {
        var yaml = new StringBuilder("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 10; level++)
        {
            var previous = $"*l{level - 1}";
            yaml.Append($"l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat(previous, 10))}]\n");
        }

        Assert.Contains("more than", Refused(yaml.ToString()).Message);
    }

    [Fact]
    public void Templates_over_one_mebibyte_are_refused()
    {
        var yaml = "a: " + new string('x', PipelineRenderer.MaxTemplateBytes);

        Assert.Contains("larger than", Refused(yaml).Message);
    }

    // ---- determinism ----

    [Fact]
    public void Same_inputs_give_the_same_bytes_and_the_hash_is_the_sha256_of_the_json()
    {
        const string yaml = "b: ((x))\na: [((y)), 2]\nc: {z: ((secret))}";
        var first = Render(yaml, ("x", new JsonObject { ["k"] = "v", ["a"] = 1 }), ("y", "é😀"));
        var second = Render(yaml, ("y", "é😀"), ("x", new JsonObject { ["k"] = "v", ["a"] = 1 }));
        var changed = Render(yaml, ("x", new JsonObject { ["k"] = "v", ["a"] = 2 }), ("y", "é😀"));

        Assert.Equal(first.ConfigJson, second.ConfigJson);
        Assert.Equal(first.ConfigHash, second.ConfigHash);
        Assert.Equal(new[] { "secret" }, second.UnresolvedVariables);
        Assert.Equal("""{"b":{"k":"v","a":1},"a":["\u00E9\uD83D\uDE00",2],"c":{"z":"((secret))"}}""", first.ConfigJson);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(first.ConfigJson))), first.ConfigHash);
        Assert.Matches("^[0-9a-f]{64}$", first.ConfigHash);
        Assert.NotEqual(first.ConfigHash, changed.ConfigHash);
    }

    [Fact]
    public void Renders_of_one_template_share_nothing_and_each_reports_its_own_references()
    {
        // The template is loaded and typed once; every render must still build a tree of its own.
        const string yaml = "meta: &m {port: 5432, on: true}\njobs:\n- name: ((name))\n  <<: *m\n  ((key_ref)): x\n  plan: [{get: ((source))}]";
        var first = Render(yaml, ("name", "a"), ("source", new JsonObject { ["k"] = "v" }));
        var firstJson = first.ConfigJson;
        var second = Render(yaml, ("name", "b"));

        first.Config["jobs"]![0]!["port"] = 1;
        first.Config["jobs"]![0]!["plan"]![0]!["get"]!["k"] = "changed";
        Assert.Equal(firstJson, Render(yaml, ("name", "a"), ("source", new JsonObject { ["k"] = "v" })).ConfigJson);
        Assert.Equal(5432, second.Config["jobs"]![0]!["port"]!.GetValue<int>());
        Assert.Equal("((source))", second.Config["jobs"]![0]!["plan"]![0]!["get"]!.GetValue<string>());
        Assert.Equal(new[] { "key_ref" }, first.UnresolvedVariables);
        Assert.Equal(new[] { "key_ref", "source" }, second.UnresolvedVariables);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(second.ConfigJson), second.Config));
    }

    [Fact]
    public void A_template_that_cannot_be_loaded_is_refused_on_every_render()
    {
        const string yaml = "a: [1, 2\nb: 3"; // a load failure (YamlLoaderTests has the message)
        var first = Refused(yaml);
        var second = Refused(yaml);
        Assert.Equal(first.Message, second.Message);
    }

    // ---- hostile values stay inert or are refused ----

    [Fact]
    public void A_value_that_looks_like_yaml_stays_one_string()
    {
        const string hostile = "x\n  evil: true\n- &a [*a]\n!!python/object:os.system [\"rm -rf /\"]";
        var tree = Tree(
            """
            jobs:
            - name: ((name))
              note: "prefix ((name))"
            """,
            ("name", hostile));

        var job = tree["jobs"]![0]!.AsObject();
        Assert.Equal(new[] { "name", "note" }, job.Select(p => p.Key));
        Assert.Equal(JsonValueKind.String, job["name"]!.GetValueKind());
        Assert.Equal(hostile, (string?)job["name"]);
        Assert.Equal("prefix " + hostile, (string?)job["note"]);
        Assert.Single(tree);
    }

    [Theory]
    [InlineData("&a [*a]")]
    [InlineData("!!python/object:os.system [\"rm\"]")]
    [InlineData("{evil: true}")]
    [InlineData("[1, 2]")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("~")]
    public void Yaml_syntax_in_a_value_is_just_text(string hostile)
    {
        var tree = Tree("a: ((v))\nb: x-((v))", ("v", hostile));

        Assert.Equal(JsonValueKind.String, tree["a"]!.GetValueKind());
        Assert.Equal(hostile, (string?)tree["a"]);
        Assert.Equal("x-" + hostile, (string?)tree["b"]);
    }

    [Theory]
    [InlineData("((admin_password))")]
    [InlineData("prefix ((vault:secret)) suffix")]
    [InlineData("((")]
    public void A_value_that_contains_a_reference_is_refused(string hostile)
    {
        var e = Refused("a: ((x))", ("x", hostile));

        Assert.StartsWith("parameter value for 'x' may not contain '(('", e.Message);
    }

    [Theory]
    [InlineData("""{"a":"((b))"}""")]
    [InlineData("""{"a":{"b":["ok","((c))"]}}""")]
    [InlineData("""[[["((deep))"]]]""")]
    [InlineData("""{"((key))":"value"}""")]
    public void A_reference_anywhere_inside_a_structured_value_is_refused(string valueJson)
    {
        var e = Refused("a: ((x))", ("x", JsonNode.Parse(valueJson)));

        Assert.StartsWith("parameter value for 'x' may not contain '(('", e.Message);
    }

    [Theory]
    [InlineData("text: ((vault((x))", "))")]
    [InlineData("text: ((x))vault))", "((")]
    [InlineData("text: (((x))y))", "(")]
    public void A_value_cannot_complete_a_reference_with_the_surrounding_text(string yaml, string value)
    {
        var e = Assert.Throws<PipelineRenderException>(() => Render(yaml, ("x", value)));

        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Strings_over_64_kib_are_refused_quickly()
    {
        var tenMegabytes = new string('a', 10 * 1024 * 1024);

        var e = Refused("a: ((x))", ("x", tenMegabytes));

        Assert.Contains("'x'", e.Message);
        Assert.Contains("64 KiB", e.Message);
        Assert.Throws<PipelineRenderException>(() => Render("a: ((x))", ("x", new JsonArray(new string('é', 40 * 1024)))));
        Render("a: ((x))", ("x", new string('a', PipelineRenderer.MaxValueStringBytes))); // the limit itself is fine
    }

    [Theory]
    [InlineData("emoji 😀👩‍👩‍👧")]
    [InlineData("RTL \u202Eevil\u202C and עברית العربية")]
    [InlineData("zero\u200Bwidth\u200Djoiner\uFEFF")]
    [InlineData("combining e\u0301 and \u00E9")]
    [InlineData("controls \t\r\n\u0001\u007F")]
    public void Unicode_is_preserved_exactly(string text)
    {
        var rendered = Render("whole: ((x))\ninside: <((x))>", ("x", text));
        var tree = JsonNode.Parse(rendered.ConfigJson)!;

        Assert.Equal(text, (string?)tree["whole"]);
        Assert.Equal($"<{text}>", (string?)tree["inside"]);
        Assert.All(rendered.ConfigJson, c => Assert.InRange(c, ' ', '~')); // escaped: the bytes are plain ASCII
    }

    [Fact]
    public void Nul_characters_are_refused()
    {
        Assert.Contains("NUL", Refused("a: ((x))", ("x", "a\0b")).Message);
        Assert.Contains("NUL", Refused("a: ((x))", ("x", new JsonObject { ["k\0"] = 1 })).Message);
    }

    [Fact]
    public void Lone_surrogates_are_refused_instead_of_being_silently_replaced()
    {
        Assert.Contains("not valid Unicode", Refused("a: ((x))", ("x", "bad \uD800 surrogate")).Message);
    }

    [Fact]
    public void Non_finite_numbers_are_refused()
    {
        Assert.Contains("finite", Refused("a: ((x))", ("x", JsonValue.Create(double.NaN))).Message);
    }

    [Fact]
    public void Values_nested_too_deeply_are_refused()
    {
        JsonNode value = "leaf";
        for (var i = 0; i < 100; i++)
        {
            value = new JsonArray(value);
        }

        Assert.Contains("nested deeper", Refused("a: ((x))", ("x", value)).Message);
    }

    [Fact]
    public void Values_wrapping_other_clr_types_are_normalized()
    {
        var tree = Tree(
            "date: ((date))\nmap: ((map))\nlong: ((long))\nelement: ((element))",
            ("date", JsonValue.Create(new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc))),
            ("map", JsonValue.Create(new Dictionary<string, object[]> { ["a"] = [1, "b"] })),
            ("long", JsonValue.Create(long.MaxValue)),
            ("element", JsonValue.Create(JsonDocument.Parse("\"text\"").RootElement)));

        AssertJson("""{"date":"2024-05-06T07:08:09Z","map":{"a":[1,"b"]},"long":9223372036854775807,"element":"text"}""", tree);
    }
}
