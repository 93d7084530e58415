using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Http;

/// <summary>JSON request bodies and lenient reading of JSON answers, the same for every client.</summary>
public static class HttpJson
{
    /// <summary>
    /// UTF-8 JSON with the bare media type: some servers (Concourse) compare Content-Type exactly, and
    /// "application/json; charset=utf-8" would be a 415.
    /// </summary>
    public static ByteArrayContent Content(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static ByteArrayContent Content(JsonNode json) => Content(json.ToJsonString());

    /// <summary>The body as JSON, or null when it is empty or not JSON (a proxy's HTML page, say).</summary>
    public static JsonNode? TryParse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
