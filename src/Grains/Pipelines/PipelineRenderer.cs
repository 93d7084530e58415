using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Renders a pipeline template the way fly does (structural `((var))` substitution), but hardened for values that
/// come from users: a value is inserted as data into the parsed tree and is never parsed as YAML, and no value may
/// smuggle a new `((reference))` into the config, because Concourse resolves those from the credential manager at
/// run time.
/// </summary>
/// <remarks>
/// Scalars follow the YAML 1.2 core schema (not Go yaml.v2's YAML 1.1 rules): `on`/`yes` stay strings. The output is
/// JSON, so Concourse sees exactly the types decided here. Substitution happens while the YAML tree is converted, on
/// string scalars only; a substituted value is a fresh node that is never walked again. Map keys are never substituted.
/// Merge keys (`&lt;&lt;`) are resolved here rather than with YamlDotNet's MergingParser, because MergingParser reports
/// "Duplicate key" when a mapping overrides a merged key, which is the whole point of a `meta:` block of defaults.
/// </remarks>
public sealed partial class PipelineRenderer : IPipelineRenderer
{
    public const int MaxTemplateBytes = 1024 * 1024;
    public const int MaxValueStringBytes = 64 * 1024;

    // Realistic pipelines nest about 12 levels and have a few hundred nodes; the limits only stop hostile or broken
    // input (alias bombs, deep nesting that would exhaust the stack) before it costs a silo its memory or its process.
    private const int MaxTemplateDepth = 64;
    private const int MaxTemplateEvents = 200_000;
    private const int MaxTemplateNodes = 100_000;
    private const int MaxValueDepth = 32;
    private const int MaxNumberLiteralLength = 100;

    private const string StrTag = "tag:yaml.org,2002:str";
    private const string IntTag = "tag:yaml.org,2002:int";
    private const string FloatTag = "tag:yaml.org,2002:float";
    private const string BoolTag = "tag:yaml.org,2002:bool";
    private const string NullTag = "tag:yaml.org,2002:null";
    private const string MapTag = "tag:yaml.org,2002:map";
    private const string SeqTag = "tag:yaml.org,2002:seq";
    private const string MergeTag = "tag:yaml.org,2002:merge";

    // The default encoder escapes everything outside ASCII, so the bytes (and the hash) never depend on how a
    // terminal or proxy treats bidi or zero-width characters; JSON readers get the exact strings back.
    private static readonly JsonSerializerOptions OutputOptions = new() { WriteIndented = false };

    public RenderedPipeline Render(string templateYaml, IReadOnlyDictionary<string, JsonNode?> variables)
    {
        ArgumentNullException.ThrowIfNull(templateYaml);
        ArgumentNullException.ThrowIfNull(variables);

        var root = ParsedTemplates.TryGetValue(templateYaml, out var parsed) ? parsed : Parse(templateYaml);
        if (root is not YamlMappingNode)
        {
            throw new PipelineRenderException("the pipeline template must be a YAML mapping at the top level");
        }

        var converter = new TemplateConverter(variables);
        var config = converter.Convert(root, depth: 1)!;
        var json = config.ToJsonString(OutputOptions);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        return new RenderedPipeline(json, hash, converter.UnresolvedVariables);
    }

    // The configured templates are parsed once: parsing dominated rendering. The tree is only read afterwards
    // (substitution builds a new JSON tree), so one parsed tree serves concurrent renders. Bounded: templates are
    // few, but callers may pass arbitrary text.
    private const int MaxCachedTemplates = 32;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, YamlNode> ParsedTemplates = new(StringComparer.Ordinal);

    private static YamlNode Parse(string templateYaml)
    {
        EnsureTemplateSize(templateYaml);
        var root = LoadSingleDocument(templateYaml);
        if (ParsedTemplates.Count < MaxCachedTemplates) ParsedTemplates.TryAdd(templateYaml, root);
        return root;
    }

    private static void EnsureTemplateSize(string templateYaml)
    {
        // UTF-8 never takes fewer bytes than UTF-16 code units, so the cheap length test settles the large cases.
        if (templateYaml.Length > MaxTemplateBytes || Encoding.UTF8.GetByteCount(templateYaml) > MaxTemplateBytes)
        {
            throw new PipelineRenderException($"the pipeline template is larger than {MaxTemplateBytes / 1024} KiB");
        }
    }

    private static YamlNode LoadSingleDocument(string templateYaml)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(BoundedEventBuffer.Read(templateYaml));
            return stream.Documents.Count switch
            {
                0 => throw new PipelineRenderException("the pipeline template is empty"),
                1 => stream.Documents[0].RootNode,
                _ => throw new PipelineRenderException("the pipeline template must contain exactly one YAML document"),
            };
        }
        catch (YamlException e)
        {
            throw new PipelineRenderException($"the pipeline template is not valid YAML ({Position(e.Start)}): {e.Message}");
        }
    }

    private static string Position(Mark mark) => $"line {mark.Line}, column {mark.Column}";

    private static PipelineRenderException TemplateError(YamlNode node, string message) =>
        new($"the pipeline template is invalid at {Position(node.Start)}: {message}");

    /// <summary>Concourse's reference syntax (vars/template.go), with Go's ASCII-only `\w` spelled out.</summary>
    [GeneratedRegex("""\(\((([-/.0-9A-Za-z_\p{L}]+:)?[-/.:@"0-9A-Za-z_\p{L}]+)\)\)""", RegexOptions.CultureInvariant)]
    private static partial Regex VarReference();

    [GeneratedRegex("^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalInt();

    [GeneratedRegex("^0o[0-7]+$", RegexOptions.CultureInvariant)]
    private static partial Regex OctalInt();

    [GeneratedRegex("^0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant)]
    private static partial Regex HexInt();

    [GeneratedRegex(@"^(?<sign>[-+]?)(?:\.(?<frac>[0-9]+)|(?<int>[0-9]+)(?:\.(?<frac>[0-9]*))?)(?:[eE](?<exp>[-+]?[0-9]+))?$",
        RegexOptions.CultureInvariant)]
    private static partial Regex Float();

    [GeneratedRegex(@"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex NonFiniteFloat();

    /// <summary>
    /// Reads every parse event up front so nesting depth and size are checked before YamlStream's recursive loader
    /// runs: a stack overflow cannot be caught and would take the whole silo down.
    /// </summary>
    private sealed class BoundedEventBuffer(List<ParsingEvent> events) : IParser
    {
        private int _index = -1;

        public ParsingEvent? Current => _index >= 0 && _index < events.Count ? events[_index] : null;

        public bool MoveNext() => ++_index < events.Count;

        public static BoundedEventBuffer Read(string yaml)
        {
            var parser = new Parser(new StringReader(yaml));
            var events = new List<ParsingEvent>();
            var depth = 0;
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (events.Count >= MaxTemplateEvents)
                {
                    throw new PipelineRenderException($"the pipeline template has more than {MaxTemplateEvents} YAML nodes");
                }

                if (current is MappingStart or SequenceStart && ++depth > MaxTemplateDepth)
                {
                    throw new PipelineRenderException(
                        $"the pipeline template is nested deeper than {MaxTemplateDepth} levels ({Position(current.Start)})");
                }

                if (current is MappingEnd or SequenceEnd)
                {
                    depth--;
                }

                events.Add(current);
            }

            return new BoundedEventBuffer(events);
        }
    }

    /// <summary>One render: converts the YAML tree to JSON, substituting variables in string scalars on the way.</summary>
    private sealed class TemplateConverter(IReadOnlyDictionary<string, JsonNode?> variables)
    {
        private readonly Dictionary<string, JsonNode?> _imported = new(StringComparer.Ordinal);
        private readonly SortedSet<string> _unresolved = new(StringComparer.Ordinal);

        // Aliases share YamlNode instances, so a node that is its own ancestor is a recursive structure (`&a [*a]`).
        private readonly HashSet<YamlNode> _ancestors = new(ReferenceEqualityComparer.Instance);
        private int _nodeCount;

        public IReadOnlyList<string> UnresolvedVariables => [.. _unresolved];

        public JsonNode? Convert(YamlNode node, int depth)
        {
            if (depth > MaxTemplateDepth)
            {
                throw TemplateError(node, $"the structure (after expanding aliases) is nested deeper than {MaxTemplateDepth} levels");
            }

            if (++_nodeCount > MaxTemplateNodes)
            {
                throw TemplateError(node, $"the template expands to more than {MaxTemplateNodes} nodes (too many aliases?)");
            }

            if (!_ancestors.Add(node))
            {
                throw TemplateError(node, "an alias refers to a node that contains it (recursive structure)");
            }

            try
            {
                return node switch
                {
                    YamlScalarNode scalar => ConvertScalar(scalar),
                    YamlSequenceNode sequence => ConvertSequence(sequence, depth),
                    YamlMappingNode mapping => ConvertMapping(mapping, depth),
                    _ => throw TemplateError(node, $"unsupported YAML node {node.NodeType}"),
                };
            }
            finally
            {
                _ancestors.Remove(node);
            }
        }

        private JsonArray ConvertSequence(YamlSequenceNode sequence, int depth)
        {
            EnsureCollectionTag(sequence, SeqTag);
            var array = new JsonArray();
            foreach (var item in sequence.Children)
            {
                array.Add(Convert(item, depth + 1));
            }

            return array;
        }

        private JsonObject ConvertMapping(YamlMappingNode mapping, int depth)
        {
            EnsureCollectionTag(mapping, MapTag);

            // YAML merge semantics: keys written in the mapping win over merged ones, and among several merged
            // mappings the earlier one wins. Merged keys appear where the `<<` key stands, so output order is stable.
            var explicitKeys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in mapping.Children.Keys)
            {
                if (!IsMergeKey(key))
                {
                    explicitKeys.Add(KeyText(key));
                }
            }

            var result = new JsonObject();
            foreach (var (key, value) in mapping.Children)
            {
                if (IsMergeKey(key))
                {
                    foreach (var source in MergeSources(value))
                    {
                        var merged = (JsonObject)Convert(source, depth + 1)!;
                        var entries = merged.ToList();
                        merged.Clear(); // detaches the children so they can move into this mapping
                        foreach (var (mergedKey, mergedValue) in entries)
                        {
                            if (!explicitKeys.Contains(mergedKey) && !result.ContainsKey(mergedKey))
                            {
                                result[mergedKey] = mergedValue;
                            }
                        }
                    }

                    continue;
                }

                var text = KeyText(key);
                if (result.ContainsKey(text))
                {
                    throw TemplateError(key, $"duplicate key '{text}'");
                }

                result[text] = Convert(value, depth + 1);
            }

            return result;
        }

        private static bool IsMergeKey(YamlNode key) =>
            key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain } scalar
            && (scalar.Tag.IsEmpty || scalar.Tag.Value == MergeTag);

        private static IEnumerable<YamlMappingNode> MergeSources(YamlNode value) => value switch
        {
            YamlMappingNode mapping => [mapping],
            YamlSequenceNode sequence when sequence.Children.All(item => item is YamlMappingNode) =>
                sequence.Children.Cast<YamlMappingNode>(),
            _ => throw TemplateError(value, "a merge key '<<' needs a mapping or a list of mappings"),
        };

        /// <summary>Keys stay text: never typed, never substituted. References in them are still reported.</summary>
        private string KeyText(YamlNode key)
        {
            if (key is not YamlScalarNode scalar)
            {
                throw TemplateError(key, "mapping keys must be scalars");
            }

            EnsureScalarTag(scalar);
            var text = scalar.Value ?? string.Empty;
            foreach (Match match in VarReference().Matches(text))
            {
                _unresolved.Add(match.Groups[1].Value);
            }

            return text;
        }

        private JsonNode? ConvertScalar(YamlScalarNode scalar)
        {
            var text = scalar.Value ?? string.Empty;
            var tag = scalar.Tag;
            if (tag.IsEmpty)
            {
                return scalar.Style == ScalarStyle.Plain ? ResolvePlain(scalar, text) : Substitute(scalar, text);
            }

            if (tag.IsNonSpecific)
            {
                return Substitute(scalar, text); // `! value` asks for a string
            }

            return tag.Value switch
            {
                StrTag => Substitute(scalar, text),
                IntTag => ParseInt(scalar, text) ?? throw TemplateError(scalar, $"'{text}' is not a valid !!int"),
                FloatTag => ParseFloat(scalar, text) ?? throw TemplateError(scalar, $"'{text}' is not a valid !!float"),
                BoolTag => ParseBool(text) ?? throw TemplateError(scalar, $"'{text}' is not a valid !!bool"),
                NullTag when IsNull(text) => null,
                NullTag => throw TemplateError(scalar, $"'{text}' is not a valid !!null"),
                _ => throw UnsupportedTag(scalar),
            };
        }

        /// <summary>YAML 1.2 core schema resolution of an untagged plain scalar.</summary>
        private JsonNode? ResolvePlain(YamlScalarNode scalar, string text)
        {
            if (IsNull(text))
            {
                return null;
            }

            return ParseBool(text) ?? ParseInt(scalar, text) ?? ParseFloat(scalar, text) ?? Substitute(scalar, text);
        }

        private static bool IsNull(string text) => text is "" or "~" or "null" or "Null" or "NULL";

        private static JsonValue? ParseBool(string text) => text switch
        {
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ => null,
        };

        private static JsonNode? ParseInt(YamlScalarNode scalar, string text)
        {
            BigInteger value;
            if (DecimalInt().IsMatch(text))
            {
                EnsureNumberLength(scalar, text);
                value = BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            }
            else if (HexInt().IsMatch(text))
            {
                EnsureNumberLength(scalar, text);
                // A leading zero keeps BigInteger from reading the top bit as a sign.
                value = BigInteger.Parse("0" + text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            }
            else if (OctalInt().IsMatch(text))
            {
                EnsureNumberLength(scalar, text);
                value = text[2..].Aggregate(BigInteger.Zero, (acc, digit) => acc * 8 + (digit - '0'));
            }
            else
            {
                return null;
            }

            return JsonNode.Parse(value.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>Keeps the literal's digits (no binary round trip) and only reshapes it into JSON number syntax.</summary>
        private static JsonNode? ParseFloat(YamlScalarNode scalar, string text)
        {
            if (NonFiniteFloat().IsMatch(text))
            {
                throw TemplateError(scalar, $"'{text}' (infinity or NaN) cannot be represented in JSON");
            }

            var match = Float().Match(text);
            if (!match.Success)
            {
                return null;
            }

            EnsureNumberLength(scalar, text);
            var integer = match.Groups["int"].Value.TrimStart('0');
            var fraction = match.Groups["frac"].Value;
            var exponent = match.Groups["exp"].Value;
            var json = new StringBuilder();
            json.Append(match.Groups["sign"].Value == "-" ? "-" : string.Empty);
            json.Append(integer.Length == 0 ? "0" : integer);
            if (fraction.Length > 0)
            {
                json.Append('.').Append(fraction);
            }

            if (exponent.Length > 0)
            {
                json.Append('e').Append(exponent);
            }

            return JsonNode.Parse(json.ToString());
        }

        private static void EnsureNumberLength(YamlScalarNode scalar, string text)
        {
            if (text.Length > MaxNumberLiteralLength)
            {
                throw TemplateError(scalar, $"a number literal is longer than {MaxNumberLiteralLength} characters");
            }
        }

        private static void EnsureScalarTag(YamlScalarNode scalar)
        {
            var tag = scalar.Tag;
            if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value is not (StrTag or IntTag or FloatTag or BoolTag or NullTag))
            {
                throw UnsupportedTag(scalar);
            }
        }

        private static void EnsureCollectionTag(YamlNode node, string allowedTag)
        {
            if (!node.Tag.IsEmpty && !node.Tag.IsNonSpecific && node.Tag.Value != allowedTag)
            {
                throw UnsupportedTag(node);
            }
        }

        private static PipelineRenderException UnsupportedTag(YamlNode node) =>
            TemplateError(node, $"unsupported YAML tag '{node.Tag.Value}' (only the core schema tags are allowed)");

        /// <summary>
        /// Applies variables to one string scalar. A scalar that is exactly one reference takes the value's type;
        /// references inside longer text are spliced as text. Unknown and source-qualified references stay.
        /// </summary>
        private JsonNode? Substitute(YamlScalarNode scalar, string text)
        {
            var matches = VarReference().Matches(text);
            if (matches.Count == 0)
            {
                return JsonValue.Create(text);
            }

            if (matches is [{ Index: 0 } whole] && whole.Length == text.Length)
            {
                return TryGetValue(whole, out _, out var value) ? value?.DeepClone() : JsonValue.Create(text);
            }

            var result = new StringBuilder(text.Length);
            var kept = new HashSet<(int Start, int Length)>();
            var spliced = new List<(int Start, int Length, string Name)>();
            var position = 0;
            foreach (Match match in matches)
            {
                result.Append(text, position, match.Index - position);
                if (TryGetValue(match, out var name, out var value))
                {
                    var piece = SpliceText(name, value);
                    spliced.Add((result.Length, piece.Length, name));
                    result.Append(piece);
                }
                else
                {
                    kept.Add((result.Length, match.Length));
                    result.Append(match.Value);
                }

                position = match.Index + match.Length;
            }

            result.Append(text, position, text.Length - position);
            var rendered = result.ToString();
            EnsureNoNewReferences(rendered, kept, spliced);
            return JsonValue.Create(rendered);
        }

        /// <summary>
        /// A spliced value has no `((` of its own, but it could still complete one with the template's text around
        /// it (`((a` + `))`). Every reference Concourse will find in the result must be one the template wrote.
        /// </summary>
        private static void EnsureNoNewReferences(
            string rendered, HashSet<(int Start, int Length)> kept, List<(int Start, int Length, string Name)> spliced)
        {
            foreach (Match match in VarReference().Matches(rendered))
            {
                if (kept.Contains((match.Index, match.Length)))
                {
                    continue;
                }

                var culprit = spliced.FirstOrDefault(s => s.Start < match.Index + match.Length && match.Index < s.Start + s.Length);
                var name = culprit.Name ?? spliced[0].Name;
                throw new PipelineRenderException(
                    $"parameter value for '{name}' would form a '((...))' reference with the surrounding template text");
            }
        }

        private static string SpliceText(string name, JsonNode? value) => value?.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            var kind => throw new PipelineRenderException(
                $"parameter '{name}' is {Describe(kind)} and can only be used as a whole value, not inside a longer string"),
        };

        private static string Describe(JsonValueKind? kind) => kind switch
        {
            JsonValueKind.Object => "a map",
            JsonValueKind.Array => "a list",
            _ => "null",
        };

        private bool TryGetValue(Match reference, out string name, out JsonNode? value)
        {
            name = reference.Groups[1].Value;
            value = null;
            var hasSource = reference.Groups[2].Success; // `((vault:x))`, `((.:x))`: resolved by Concourse, not by us
            if (hasSource || !variables.TryGetValue(name, out var given))
            {
                _unresolved.Add(name);
                return false;
            }

            if (!_imported.TryGetValue(name, out value))
            {
                value = ValueImporter.Import(name, given);
                _imported[name] = value;
            }

            return true;
        }
    }

    /// <summary>
    /// Copies a caller's value into a fresh, canonical JSON tree (numbers as JSON text, exotic CLR-backed values
    /// normalized) and refuses anything that would not stay inert once it is in the pipeline config.
    /// </summary>
    private static class ValueImporter
    {
        public static JsonNode? Import(string name, JsonNode? value) => Import(name, value, depth: 1);

        private static JsonNode? Import(string name, JsonNode? value, int depth)
        {
            if (depth > MaxValueDepth)
            {
                throw new PipelineRenderException($"parameter value for '{name}' is nested deeper than {MaxValueDepth} levels");
            }

            switch (value)
            {
                case null:
                    return null;
                case JsonObject map:
                    var copy = new JsonObject();
                    foreach (var (key, child) in map)
                    {
                        EnsureInert(name, key);
                        copy[key] = Import(name, child, depth + 1);
                    }

                    return copy;
                case JsonArray list:
                    var items = new JsonArray();
                    foreach (var child in list)
                    {
                        items.Add(Import(name, child, depth + 1));
                    }

                    return items;
            }

            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    var text = value is JsonValue scalar && scalar.TryGetValue<string>(out var direct)
                        ? direct
                        : JsonSerializer.Deserialize<string>(value)!; // e.g. a DateTime or Guid wrapped by JsonValue.Create
                    EnsureInert(name, text);
                    return JsonValue.Create(text);
                case JsonValueKind.Number:
                    return ReparseNumber(name, value);
                case JsonValueKind.True:
                    return JsonValue.Create(true);
                case JsonValueKind.False:
                    return JsonValue.Create(false);
                case JsonValueKind.Object or JsonValueKind.Array:
                    return Import(name, ReparseContainer(name, value, depth), depth);
                default:
                    return null;
            }
        }

        private static JsonNode ReparseNumber(string name, JsonNode value)
        {
            try
            {
                return JsonNode.Parse(value.ToJsonString())!;
            }
            catch (ArgumentException)
            {
                throw new PipelineRenderException($"parameter value for '{name}' is not a finite number");
            }
        }

        /// <summary>A JsonValue can wrap a whole JsonElement object or array; reparse it into real nodes.</summary>
        private static JsonNode ReparseContainer(string name, JsonNode value, int depth)
        {
            try
            {
                var options = new JsonDocumentOptions { MaxDepth = MaxValueDepth - depth + 1 };
                return JsonNode.Parse(value.ToJsonString(), documentOptions: options)!;
            }
            catch (JsonException)
            {
                throw new PipelineRenderException($"parameter value for '{name}' is nested deeper than {MaxValueDepth} levels");
            }
        }

        private static void EnsureInert(string name, string text)
        {
            if (text.Length > MaxValueStringBytes || Encoding.UTF8.GetByteCount(text) > MaxValueStringBytes)
            {
                throw new PipelineRenderException(
                    $"parameter value for '{name}' has a string longer than {MaxValueStringBytes / 1024} KiB");
            }

            if (text.Contains("((", StringComparison.Ordinal))
            {
                throw new PipelineRenderException(
                    $"parameter value for '{name}' may not contain '((': Concourse would resolve it from the credential manager at run time");
            }

            if (text.Contains('\0'))
            {
                throw new PipelineRenderException($"parameter value for '{name}' may not contain a NUL character");
            }

            if (!IsWellFormedUtf16(text))
            {
                // The JSON writer would silently turn a lone surrogate into U+FFFD; refuse instead of altering data.
                throw new PipelineRenderException($"parameter value for '{name}' is not valid Unicode text");
            }
        }

        private static bool IsWellFormedUtf16(string text)
        {
            for (var i = 0; i < text.Length; i++)
            {
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(text[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
