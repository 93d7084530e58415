using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// The subset of the BOSH CLI's ops-file semantics (cppforlife/go-patch as vendored by bosh-cli 19ee1a8d: pointer.go,
/// replace_op.go, remove_op.go) the project's ops files use:
/// <c>replace</c> and <c>remove</c>; path tokens <c>/key</c>, <c>/0</c> (index), <c>/-</c> (append, last token only),
/// <c>/name=value</c> (the list item whose <c>name</c> is value); a <c>?</c> suffix makes that token and every later
/// one optional: a missing map key or list item is then created by replace (<c>name=x?</c> appends <c>{name: x}</c>)
/// and ignored by remove; without it a missing key is an error, even in the last position. Anything else (test ops,
/// <c>:before</c>/<c>:after</c>/<c>:prev</c>/<c>:next</c>, negative indexes) is refused.
/// </summary>
public static class BoshOps
{
    /// <summary>Applies the ops to <paramref name="document"/> in order and returns the patched document.</summary>
    /// <exception cref="InvalidOperationException">an op is malformed or its path does not match.</exception>
    public static JsonNode Apply(JsonNode document, JsonNode? ops, string source)
    {
        if (ops is not JsonArray list) throw new InvalidOperationException($"{source}: an ops file must be a list of operations");
        var root = new JsonObject { ["root"] = document.DeepClone() };
        for (var index = 0; index < list.Count; index++)
        {
            var op = list[index] as JsonObject ?? throw new InvalidOperationException($"{source}[{index}]: an operation must be a map");
            var type = op["type"]?.GetValue<string>();
            var path = op["path"]?.GetValue<string>() ?? throw new InvalidOperationException($"{source}[{index}]: no path");
            var unknown = op.Select(p => p.Key).Where(k => k is not ("type" or "path" or "value" or "error")).ToList();
            if (unknown.Count > 0) throw new InvalidOperationException($"{source}[{index}]: unsupported fields {string.Join(", ", unknown)}");
            try
            {
                switch (type)
                {
                    case "replace":
                        if (!op.ContainsKey("value")) throw new InvalidOperationException("replace needs a value");
                        Replace(root, Parse(path), op["value"]?.DeepClone());
                        break;
                    case "remove":
                        Remove(root, Parse(path));
                        break;
                    default:
                        throw new InvalidOperationException($"unsupported operation type '{type}'");
                }
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{source}[{index}] ({type} {path}): {e.Message}", e);
            }
        }
        return root["root"]!.DeepClone();
    }

    private sealed record Token(string Text, bool Optional, string? MatchKey, string? MatchValue, int? Index, bool Append);

    private static List<Token> Parse(string path)
    {
        if (path.Length == 0) return [];
        if (!path.StartsWith('/')) throw new InvalidOperationException("a path must start with '/'");
        var tokens = new List<Token>();
        var optional = false;
        var raws = path[1..].Split('/');
        for (var i = 0; i < raws.Length; i++)
        {
            var raw = raws[i];
            var text = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (text.EndsWith('?'))
            {
                optional = true;
                text = text[..^1];
            }
            if (text.Contains(':', StringComparison.Ordinal)) throw new InvalidOperationException($"unsupported token modifier in '{raw}'");
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            tokens.Add(text == "-" && i == raws.Length - 1 ? new Token(text, optional, null, null, null, true)
                : equals > 0 ? new Token(text, optional, text[..equals], text[(equals + 1)..], null, false)
                : int.TryParse(text, out var index) ? new Token(text, optional, null, null, index, false)
                : new Token(text, optional, null, null, null, false));
        }
        return tokens;
    }

    private static void Replace(JsonObject root, List<Token> tokens, JsonNode? value)
    {
        if (tokens.Count == 0)
        {
            root["root"] = value;
            return;
        }
        JsonNode parent = root;
        object slot = "root";
        for (var i = 0; i < tokens.Count; i++)
        {
            var current = Get(parent, slot);
            var token = tokens[i];
            var last = i == tokens.Count - 1;
            switch (current)
            {
                case JsonObject map when token.MatchKey is null && token.Index is null && !token.Append:
                    if (!map.ContainsKey(token.Text))
                    {
                        if (!token.Optional) throw new InvalidOperationException($"expected to find a map key '{token.Text}'");
                        if (!last)
                        {
                            map[token.Text] = tokens[i + 1] switch
                            {
                                { Index: not null } => throw new InvalidOperationException($"cannot create '{token.Text}' for an index token"),
                                { MatchKey: null, Append: false } => new JsonObject(),
                                _ => new JsonArray(),
                            };
                        }
                    }
                    parent = map;
                    slot = token.Text;
                    break;
                case JsonArray list when token.Append:
                    if (!last) throw new InvalidOperationException("'-' may only be the last token");
                    list.Add(value);
                    return;
                case JsonArray list when token.Index is { } index:
                    if (index < 0 || index >= list.Count) throw new InvalidOperationException($"index {index} out of range");
                    parent = list;
                    slot = index;
                    break;
                case JsonArray list when token.MatchKey is not null:
                    var matches = list.Select((item, at) => (item, at))
                        .Where(e => e.item is JsonObject o && o[token.MatchKey] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == token.MatchValue).ToList();
                    if (matches.Count > 1) throw new InvalidOperationException($"found {matches.Count} items matching '{token.Text}'");
                    if (matches.Count == 0)
                    {
                        if (!token.Optional) throw new InvalidOperationException($"expected to find an item matching '{token.Text}'");
                        list.Add(last ? null : new JsonObject { [token.MatchKey] = token.MatchValue });
                        matches.Add((list[^1], list.Count - 1));
                    }
                    parent = list;
                    slot = matches[0].at;
                    break;
                default:
                    throw new InvalidOperationException($"token '{token.Text}' does not fit a {Kind(current)}");
            }
        }
        Set(parent, slot, value);
    }

    private static void Remove(JsonObject root, List<Token> tokens)
    {
        if (tokens.Count == 0) throw new InvalidOperationException("cannot remove the document");
        JsonNode? current = root["root"];
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var last = i == tokens.Count - 1;
            JsonNode? next;
            object slot;
            switch (current)
            {
                case JsonObject map when token.MatchKey is null && token.Index is null && !token.Append:
                    if (!map.ContainsKey(token.Text))
                    {
                        if (token.Optional) return;
                        throw new InvalidOperationException($"expected to find a map key '{token.Text}'");
                    }
                    next = map[token.Text];
                    slot = token.Text;
                    break;
                case JsonArray list when token.Index is { } index && index >= 0 && index < list.Count:
                    next = list[index];
                    slot = index;
                    break;
                case JsonArray list when token.MatchKey is not null:
                    var at = list.Select((item, n) => (item, n)).Where(e => e.item is JsonObject o && (string?)o[token.MatchKey] == token.MatchValue).Select(e => e.n).ToList();
                    if (at.Count == 0)
                    {
                        if (token.Optional) return;
                        throw new InvalidOperationException($"expected to find an item matching '{token.Text}'");
                    }
                    if (at.Count > 1) throw new InvalidOperationException($"found {at.Count} items matching '{token.Text}'");
                    next = list[at[0]];
                    slot = at[0];
                    break;
                default:
                    throw new InvalidOperationException($"token '{token.Text}' does not fit a {Kind(current)}");
            }
            if (last)
            {
                if (current is JsonObject owner) owner.Remove((string)slot);
                else ((JsonArray)current!).RemoveAt((int)slot);
                return;
            }
            current = next;
        }
    }

    private static JsonNode? Get(JsonNode parent, object slot) => slot is string key ? parent[key] : parent[(int)slot];

    private static void Set(JsonNode parent, object slot, JsonNode? value)
    {
        if (slot is string key) parent[key] = value;
        else parent[(int)slot] = value;
    }

    private static string Kind(JsonNode? node) => node switch
    {
        JsonObject => "map",
        JsonArray => "list",
        null => "null",
        _ => "scalar",
    };
}
