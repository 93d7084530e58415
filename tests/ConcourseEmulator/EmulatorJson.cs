using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.ConcourseEmulator;

/// <summary>Concourse's JSON shapes (atc/build.go, atc/pipeline.go, atc/api/present).</summary>
internal static class EmulatorJson
{
    public static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Build(EmulatedBuildInfo build)
    {
        var json = new JsonObject
        {
            ["id"] = build.Id,
            ["team_name"] = build.Team,
            ["name"] = build.Name,
            ["status"] = build.Status,
            ["api_url"] = $"/api/v1/builds/{build.Id}",
            ["job_name"] = build.Job,
            ["pipeline_name"] = build.Pipeline,
        };
        // Concourse omits unset times (omitempty) rather than sending 0 or null.
        if (build.StartTime is { } start)
        {
            json["start_time"] = start;
        }
        if (build.EndTime is { } end)
        {
            json["end_time"] = end;
        }
        return json;
    }

    public static JsonObject Pipeline(EmulatedPipelineInfo pipeline) => new()
    {
        ["id"] = pipeline.Id,
        ["name"] = pipeline.Name,
        ["paused"] = pipeline.Paused,
        ["public"] = false,
        ["archived"] = pipeline.Archived,
        ["team_name"] = pipeline.Team,
        ["last_updated"] = pipeline.LastUpdated.ToUnixTimeSeconds(),
    };

    public static string SaveConfigAnswer(IReadOnlyList<ConfigWarning> warnings, IReadOnlyList<string>? errors = null)
    {
        var json = new JsonObject();
        if (errors is { Count: > 0 })
        {
            json["errors"] = new JsonArray(errors.Select(error => (JsonNode?)JsonValue.Create(error)).ToArray());
        }
        if (warnings.Count > 0)
        {
            json["warnings"] = new JsonArray(warnings
                .Select(warning => (JsonNode?)new JsonObject { ["type"] = warning.Type, ["message"] = warning.Message })
                .ToArray());
        }
        return json.ToJsonString(Compact);
    }

    public static IResult Json(JsonNode node, int statusCode = StatusCodes.Status200OK) =>
        Results.Text(node.ToJsonString(Compact), "application/json", statusCode: statusCode);

    public static IResult Text(string text, int statusCode) => Results.Text(text, "text/plain", statusCode: statusCode);
}
