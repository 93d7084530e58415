namespace OnDemand.BrokerGateway.Osb;

/// <summary>The one place where a domain outcome becomes an OSB status code and body.</summary>
public static class OutcomeResponses
{
    /// <param name="dashboardUrl">sent with the first answer of a provision only.</param>
    public static IResult ToResult(OperationResult result, string? dashboardUrl = null) => result.Outcome switch
    {
        OperationOutcome.Accepted => OsbJson.Result(StatusCodes.Status202Accepted, WithDashboard(new JsonObject { ["operation"] = result.Operation }, dashboardUrl)),
        OperationOutcome.InProgress => OsbJson.Result(StatusCodes.Status202Accepted, new JsonObject { ["operation"] = result.Operation }),
        OperationOutcome.Completed or OperationOutcome.AlreadyExists => OsbJson.Empty(StatusCodes.Status200OK),
        OperationOutcome.Gone => OsbJson.Empty(StatusCodes.Status410Gone),
        OperationOutcome.Conflict => new OsbError(StatusCodes.Status409Conflict, null, result.Description),
        OperationOutcome.NotFound => new OsbError(StatusCodes.Status404NotFound, null, result.Description),
        OperationOutcome.ConcurrencyError => new OsbError(StatusCodes.Status422UnprocessableEntity, "ConcurrencyError", result.Description),
        OperationOutcome.PlanChangeNotSupported => new OsbError(StatusCodes.Status422UnprocessableEntity, "PlanChangeNotSupported", result.Description),
        OperationOutcome.MaintenanceInfoConflict => new OsbError(StatusCodes.Status422UnprocessableEntity, "MaintenanceInfoConflict", result.Description),
        OperationOutcome.AsyncRequired => OsbError.AsyncRequired(),
        OperationOutcome.BadRequest => OsbError.BadRequest(result.Description ?? "the request was refused"),
        _ => throw new ArgumentOutOfRangeException(nameof(result), result.Outcome, "unmapped outcome"),
    };

    private static JsonObject WithDashboard(JsonObject body, string? dashboardUrl)
    {
        if (dashboardUrl is not null) body["dashboard_url"] = dashboardUrl;
        return body;
    }
}
