using System.Text;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>X-Broker-API-Originating-Identity: `platform base64(json)`; for Cloud Foundry the JSON holds user_id.</summary>
public static class OriginatingIdentity
{
    public const string Header = "X-Broker-API-Originating-Identity";

    /// <returns>false when the header is present but malformed.</returns>
    public static bool TryRead(HttpRequest request, out string? userId, out string? problem)
    {
        userId = null;
        problem = null;
        var value = request.Headers[Header].ToString();
        if (value.Length == 0) return true;
        var space = value.IndexOf(' ');
        if (space <= 0)
        {
            problem = $"{Header} must be '<platform> <base64 JSON>'";
            return false;
        }
        try
        {
            var json = Encoding.UTF8.GetString(Convert.FromBase64String(value[(space + 1)..].Trim()));
            if (JsonNode.Parse(json) is not JsonObject identity) throw new FormatException("not a JSON object");
            userId = identity["user_id"] is JsonValue user && user.TryGetValue<string>(out var id) ? id : null;
            if (value[..space] == "cloudfoundry" && string.IsNullOrEmpty(userId)) throw new FormatException("no user_id");
            if (userId is { Length: > OsbRequest.MaxGuidLength } || userId?.Contains('\0') == true) throw new FormatException("user_id is not a user guid");
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            problem = $"{Header} is malformed: its value must be '<platform> <base64 of a JSON object>' with a user_id ({e.Message})";
            return false;
        }
    }
}
