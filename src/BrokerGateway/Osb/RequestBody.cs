using System.Buffers;
using System.Text;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// The raw request body: read with a size bound, and checked for text no store or database can hold (NUL, a lone
/// UTF-16 surrogate written as a \u escape) and for a field given twice before it is parsed, so such input is a 400
/// naming the field rather than a failure deep inside the broker.
/// </summary>
public static class RequestBody
{
    /// <returns>the bytes, or tooLarge when the body exceeds <paramref name="maxBytes"/>.</returns>
    public static async Task<(byte[] Bytes, bool TooLarge)> ReadAsync(HttpRequest request, int maxBytes)
    {
        if (request.ContentLength > maxBytes) return ([], true);
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes) return ([], true);
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return (buffer.ToArray(), false);
    }

    /// <returns>null when every property name and string value is valid text; otherwise a description naming it.</returns>
    public static string? FindInvalidText(ReadOnlySpan<byte> json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json)) return "the request body is not valid UTF-8";
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var path = new List<string>();
        // The names seen in each open object (null for arrays): a name given twice is ambiguous, and JSON parsers
        // disagree on which one wins.
        var names = new Stack<HashSet<string>?>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.ValueIsEscaped ? Decode(ref reader, Where(path, null)) : reader.GetString();
                        if (names.Count > 0 && names.Peek() is { } seen && !seen.Add(property!))
                            throw new InvalidText($"{Where(path, property)} is given more than once; send each field once");
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        path.Add(property ?? (path.Count == 0 ? "" : "[]"));
                        names.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                        property = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        if (path.Count > 0) path.RemoveAt(path.Count - 1);
                        if (names.Count > 0) names.Pop();
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped) Decode(ref reader, Where(path, property));
                        property = null;
                        break;
                    default:
                        property = null;
                        break;
                }
            }
        }
        catch (InvalidText e)
        {
            return e.Message;
        }
        catch (JsonException)
        {
            return null; // malformed JSON: the parser says so with its own message
        }
        return null;
    }

    private static string Decode(ref Utf8JsonReader reader, string where)
    {
        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new InvalidText($"{where} is not valid text (a lone UTF-16 surrogate); send valid Unicode");
        }
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') throw new InvalidText($"{where} contains a NUL character, which no name or value may hold");
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) throw new InvalidText($"{where} is not valid text (a lone UTF-16 surrogate); send valid Unicode");
        }
        return text;
    }

    private static string Where(List<string> path, string? property)
    {
        var parts = path.Where(p => p.Length > 0).Append(property ?? "").Where(p => p.Length > 0).ToList();
        var name = string.Join(".", parts);
        if (name.Length > 80) name = name[..80] + "...";
        return parts.Count == 0 ? "a field name" : $"field '{name}'";
    }

    private sealed class InvalidText(string message) : Exception(message);
}
