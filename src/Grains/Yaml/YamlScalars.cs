using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Yaml;

/// <summary>
/// Types scalars by the YAML 1.2 core schema (not YAML 1.1): `yes`/`no`/`on`/`off` are strings; `~`, `null` and the
/// empty scalar are null; integers are decimal, `0o` octal or `0x` hex; `.inf` and `.nan` are floats, refused because
/// JSON cannot hold them. Only untagged plain scalars are resolved; quoted scalars and `!` are strings, and the core
/// tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) force a type. Numbers keep their literal digits (1.10 stays
/// 1.10, big integers stay exact): the JSON holds what the file says.
/// </summary>
public static partial class YamlScalars
{
    public const string StrTag = "tag:yaml.org,2002:str";
    public const string IntTag = "tag:yaml.org,2002:int";
    public const string FloatTag = "tag:yaml.org,2002:float";
    public const string BoolTag = "tag:yaml.org,2002:bool";
    public const string NullTag = "tag:yaml.org,2002:null";
    public const string MapTag = "tag:yaml.org,2002:map";
    public const string SeqTag = "tag:yaml.org,2002:seq";
    public const string MergeTag = "tag:yaml.org,2002:merge";

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

    /// <summary>The JSON value of a scalar; <paramref name="asString"/> makes the node for every string result.</summary>
    internal static JsonNode? Resolve(YamlScalarNode scalar, Func<string, JsonNode?> asString)
    {
        var text = scalar.Value ?? string.Empty;
        var tag = scalar.Tag;
        if (tag.IsEmpty)
        {
            if (scalar.Style != ScalarStyle.Plain)
            {
                return asString(text);
            }

            return IsNull(text) ? null : ParseBool(text) ?? ParseInt(scalar, text) ?? ParseFloat(scalar, text) ?? asString(text);
        }

        if (tag.IsNonSpecific)
        {
            return asString(text); // `! value` asks for a string
        }

        return tag.Value switch
        {
            StrTag => asString(text),
            IntTag => ParseInt(scalar, text) ?? throw Error(scalar, $"'{text}' is not a valid !!int"),
            FloatTag => ParseFloat(scalar, text) ?? throw Error(scalar, $"'{text}' is not a valid !!float"),
            BoolTag => ParseBool(text) ?? throw Error(scalar, $"'{text}' is not a valid !!bool"),
            NullTag when IsNull(text) => null,
            NullTag => throw Error(scalar, $"'{text}' is not a valid !!null"),
            _ => throw UnsupportedTag(scalar),
        };
    }

    /// <summary>Map keys stay text: only their tag is checked.</summary>
    internal static string KeyText(YamlNode key)
    {
        if (key is not YamlScalarNode scalar)
        {
            throw Error(key, "mapping keys must be scalars");
        }

        if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value is not (StrTag or IntTag or FloatTag or BoolTag or NullTag))
        {
            throw UnsupportedTag(scalar);
        }

        return scalar.Value ?? string.Empty;
    }

    internal static void EnsureCollectionTag(YamlNode node, string allowedTag)
    {
        if (!node.Tag.IsEmpty && !node.Tag.IsNonSpecific && node.Tag.Value != allowedTag)
        {
            throw UnsupportedTag(node);
        }
    }

    internal static YamlNodeException Error(YamlNode node, string message) => new(node.Start, message);

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
            throw Error(scalar, $"'{text}' (infinity or NaN) cannot be represented in JSON");
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
        if (text.Length > YamlLimits.MaxNumberLiteralLength)
        {
            throw Error(scalar, $"a number literal is longer than {YamlLimits.MaxNumberLiteralLength} characters");
        }
    }

    private static YamlNodeException UnsupportedTag(YamlNode node) =>
        Error(node, $"unsupported YAML tag '{node.Tag.Value}' (only the core schema tags are allowed)");
}
