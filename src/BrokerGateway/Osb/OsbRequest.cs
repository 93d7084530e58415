namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// Reading and checking the parts of an OSB request; every problem becomes a 400 the user can act on, before any
/// grain is called. The limits are documented in docs/osb-behaviour.md ("Limits").
/// </summary>
public static class OsbRequest
{
    /// <summary>A whole request body; Cloud Controller's own requests are a few kilobytes.</summary>
    public const int MaxBodyBytes = 1024 * 1024;
    /// <summary>The user's parameters (`cf create-service -c`), as JSON text.</summary>
    public const int MaxParametersBytes = 64 * 1024;
    /// <summary>Ids and guids: Cloud Foundry sends 36-character GUIDs.</summary>
    public const int MaxGuidLength = InstanceIds.MaxLength;
    /// <summary>Org, space and instance names: Cloud Foundry's own limit.</summary>
    public const int MaxNameLength = 255;

    private static readonly string[] GuidFields = ["service_id", "plan_id", "organization_guid", "space_guid", "app_guid"];
    private static readonly string[] ContextGuidFields = ["platform", "organization_guid", "space_guid"];
    private static readonly string[] ContextNameFields = ["organization_name", "space_name", "instance_name"];

    public static OsbError? CheckId(string id, string what) => InstanceIds.IsValid(id)
        ? null
        : OsbError.BadRequest($"{what} '{Shorten(id)}' is not valid: use letters, digits, '.', '_' or '-' (at most {InstanceIds.MaxLength})");

    public static bool AcceptsIncomplete(HttpRequest request) =>
        string.Equals(request.Query["accepts_incomplete"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the body as a JSON object of bounded size whose every string is valid text (no NUL, no lone UTF-16
    /// surrogate), with every field the broker reads of the right type and within its limit.
    /// </summary>
    public static async Task<(JsonObject? Body, OsbError? Error)> ReadBodyAsync(HttpRequest request)
    {
        var (bytes, tooLarge) = await RequestBody.ReadAsync(request, MaxBodyBytes);
        if (tooLarge) return (null, OsbError.BadRequest($"the request body is larger than {MaxBodyBytes / 1024} KiB"));
        if (RequestBody.FindInvalidText(bytes) is { } badText) return (null, OsbError.BadRequest(badText));
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return (null, OsbError.MalformedJson($"the request body is not valid JSON: {e.Message}"));
        }
        if (node is not JsonObject body) return (null, OsbError.MalformedJson("the request body must be a JSON object"));
        return (body, CheckFields(body));
    }

    /// <summary>A query parameter such as service_id, bounded like the body's guids.</summary>
    public static OsbError? Query(HttpRequest request, string name, out string value)
    {
        value = request.Query[name].ToString();
        if (value.Length == 0) return OsbError.BadRequest($"{name} is required");
        return value.Length > MaxGuidLength || value.Contains('\0')
            ? OsbError.BadRequest($"{name} is not valid: at most {MaxGuidLength} characters, no NUL")
            : null;
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

    private static OsbError? CheckFields(JsonObject body)
    {
        if (CheckStrings(body, "", GuidFields, MaxGuidLength) is { } e1) return e1;
        foreach (var name in new[] { "context", "previous_values", "maintenance_info", "bind_resource" })
        {
            if (body[name] is not (null or JsonObject)) return OsbError.BadRequest($"{name} must be a JSON object");
        }
        if (body["context"] is JsonObject context
            && (CheckStrings(context, "context.", ContextGuidFields, MaxGuidLength) ?? CheckStrings(context, "context.", ContextNameFields, MaxNameLength)) is { } e2)
            return e2;
        if (body["previous_values"] is JsonObject previous && CheckStrings(previous, "previous_values.", GuidFields, MaxGuidLength) is { } e3) return e3;
        if (body["maintenance_info"] is JsonObject info && CheckStrings(info, "maintenance_info.", ["version"], MaxGuidLength) is { } e4) return e4;
        if (body["bind_resource"] is JsonObject resource && CheckStrings(resource, "bind_resource.", ["app_guid", "route"], MaxNameLength) is { } e5) return e5;
        if (body["parameters"] is JsonObject parameters && System.Text.Encoding.UTF8.GetByteCount(parameters.ToJsonString()) > MaxParametersBytes)
            return OsbError.BadRequest($"parameters are larger than {MaxParametersBytes / 1024} KiB");
        return null;
    }

    private static OsbError? CheckStrings(JsonObject body, string prefix, string[] names, int maxLength)
    {
        foreach (var name in names)
        {
            switch (body[name])
            {
                case null:
                    continue;
                case JsonValue value when value.TryGetValue<string>(out var text):
                    if (text.Length > maxLength) return OsbError.BadRequest($"{prefix}{name} is longer than {maxLength} characters");
                    continue;
                default:
                    return OsbError.BadRequest($"{prefix}{name} must be a string");
            }
        }
        return null;
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "...";
}
