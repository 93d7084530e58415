namespace OnDemand.BrokerGateway.Osb;

/// <summary>An OSB error answer: `{"error": "CamelCaseCode", "description": "sentence"}`, fields left out when empty.</summary>
public sealed record OsbError(int StatusCode, string? Error, string? Description) : IResult
{
    public static OsbError BadRequest(string description) => new(StatusCodes.Status400BadRequest, "BadRequest", description);
    public static OsbError MalformedJson(string description) => new(StatusCodes.Status400BadRequest, "MalformedJson", description);
    public static OsbError AsyncRequired() => new(StatusCodes.Status422UnprocessableEntity, "AsyncRequired",
        "This service plan requires client support for asynchronous service operations (accepts_incomplete=true).");
    public static OsbError NotFound(string description) => new(StatusCodes.Status404NotFound, null, description);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var body = new JsonObject();
        if (!string.IsNullOrEmpty(Error)) body["error"] = Error;
        if (!string.IsNullOrEmpty(Description)) body["description"] = Description;
        return OsbJson.Write(httpContext, StatusCode, body);
    }
}
