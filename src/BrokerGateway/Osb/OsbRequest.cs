using System.Text.RegularExpressions;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>Reading and checking the parts of an OSB request; every problem becomes a 400 the user can act on.</summary>
public static partial class OsbRequest
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex IdPattern();

    public static OsbError? CheckId(string id, string what) => IdPattern().IsMatch(id)
        ? null
        : OsbError.BadRequest($"{what} '{id}' is not valid: use letters, digits, '.', '_' or '-' (at most 100)");

    public static bool AcceptsIncomplete(HttpRequest request) =>
        string.Equals(request.Query["accepts_incomplete"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the body as a JSON object; null with a 400 when it is not one.</summary>
    public static async Task<(JsonObject? Body, OsbError? Error)> ReadBodyAsync(HttpRequest request)
    {
        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return node is JsonObject body ? (body, null) : (null, OsbError.MalformedJson("the request body must be a JSON object"));
        }
        catch (JsonException e)
        {
            return (null, OsbError.MalformedJson($"the request body is not valid JSON: {e.Message}"));
        }
    }

    public static string? String(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    public static OsbError? Require(JsonObject body, string name, out string value)
    {
        value = String(body, name) ?? "";
        return value.Length == 0 ? OsbError.BadRequest($"{name} is required") : null;
    }

    /// <summary>The parameters object (empty when absent); a 400 when it is not an object.</summary>
    public static OsbError? Parameters(JsonObject body, out JsonObject parameters)
    {
        parameters = [];
        switch (body["parameters"])
        {
            case null: return null;
            case JsonObject given: parameters = given; return null;
            default: return OsbError.BadRequest("parameters must be a JSON object");
        }
    }

    public static string? MaintenanceInfoVersion(JsonObject body) =>
        body["maintenance_info"] is JsonObject info ? String(info, "version") : null;

    /// <summary>The Cloud Foundry context, falling back to the deprecated top-level organization/space guids.</summary>
    public static InstanceContext Context(JsonObject body, string organizationGuid, string spaceGuid)
    {
        var context = body["context"] as JsonObject ?? [];
        return new InstanceContext(
            String(context, "platform") ?? "cloudfoundry",
            String(context, "organization_guid") ?? organizationGuid,
            String(context, "space_guid") ?? spaceGuid,
            String(context, "organization_name"),
            String(context, "space_name"),
            String(context, "instance_name"));
    }

    /// <summary>A context-only view, for updates (a rename arrives this way).</summary>
    public static InstanceContext? UpdateContext(JsonObject body) => body["context"] is JsonObject context
        ? new InstanceContext(String(context, "platform") ?? "cloudfoundry", String(context, "organization_guid") ?? "", String(context, "space_guid") ?? "",
            String(context, "organization_name"), String(context, "space_name"), String(context, "instance_name"))
        : null;
}
