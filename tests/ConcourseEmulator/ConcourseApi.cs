using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;

namespace OnDemand.ConcourseEmulator;

/// <summary>The Concourse routes of docs/concourse-api.md, with Concourse's status codes and quirks.</summary>
internal static class ConcourseApi
{
    private const string ConfigVersionHeader = "X-Concourse-Config-Version";
    private const string PipelinePath = "/api/v1/teams/{team}/pipelines/{pipeline}";
    // Concourse's default page size for build lists (atc.PaginationAPIDefaultLimit).
    private const int DefaultBuildLimit = 100;
    private const string ArchivedAnswer = "action not allowed for an archived pipeline";

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/sky/issuer/token", IssueToken);
        routes.MapGet("/api/v1/info", Info);
        routes.MapGet("/api/v1/teams/{team}/pipelines", ListPipelines);
        routes.MapGet(PipelinePath, GetPipeline);
        routes.MapDelete(PipelinePath, DeletePipeline);
        routes.MapGet(PipelinePath + "/config", GetConfig);
        routes.MapPut(PipelinePath + "/config", SaveConfig);
        routes.MapPut(PipelinePath + "/pause", (string team, string pipeline, EmulatorState state) => Answer(state.Pause(team, pipeline)));
        routes.MapPut(PipelinePath + "/unpause", (string team, string pipeline, EmulatorState state) => Answer(state.Unpause(team, pipeline)));
        routes.MapPut(PipelinePath + "/archive", (string team, string pipeline, EmulatorState state) => Answer(state.Archive(team, pipeline)));
        routes.MapPost(PipelinePath + "/jobs/{job}/builds", TriggerBuild);
        routes.MapGet(PipelinePath + "/jobs/{job}/builds", ListBuilds);
        routes.MapGet("/api/v1/builds/{id}", GetBuild);
        routes.MapPut("/api/v1/builds/{id}/abort", AbortBuild);
    }

    private static async Task<IResult> IssueToken(HttpContext context, TokenStore tokens, EmulatorOptions options)
    {
        // fly's public client id/secret "fly:Zmx5", as HTTP Basic.
        var expected = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("fly:Zmx5"));
        if (!string.Equals(context.Request.Headers.Authorization.ToString(), expected, StringComparison.Ordinal))
        {
            return OAuthError("invalid_client", "Invalid client credentials.", StatusCodes.Status401Unauthorized);
        }
        if (!context.Request.HasFormContentType)
        {
            return OAuthError("invalid_request", "Expected a form body.", StatusCodes.Status400BadRequest);
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != "password")
        {
            return OAuthError("unsupported_grant_type", "Only the password grant is supported.", StatusCodes.Status400BadRequest);
        }
        if (form["username"] != options.Username || form["password"] != options.Password)
        {
            return OAuthError("invalid_grant", "Invalid username or password.", StatusCodes.Status401Unauthorized);
        }
        return EmulatorJson.Json(new JsonObject
        {
            ["access_token"] = tokens.Issue(),
            ["token_type"] = "bearer",
            ["expires_in"] = (long)tokens.Lifetime.TotalSeconds,
            ["id_token"] = "emulator-id-token",
        });
    }

    private static IResult Info(HttpContext context) => EmulatorJson.Json(new JsonObject
    {
        ["version"] = "7.14.1",
        ["worker_version"] = "2.5",
        ["feature_flags"] = new JsonObject
        {
            ["global_resources"] = false,
            ["redact_secrets"] = false,
            ["build_rerun"] = true,
            ["cache_streamed_volumes"] = false,
            ["pipeline_instances"] = true,
            ["resource_causality"] = false,
        },
        ["external_url"] = $"{context.Request.Scheme}://{context.Request.Host}",
        ["cluster_name"] = "emulator",
    });

    private static IResult ListPipelines(string team, EmulatorState state)
    {
        if (!state.TeamExists(team))
        {
            return Results.NotFound();
        }
        var pipelines = state.GetPipelines(team).Select(pipeline => (JsonNode?)EmulatorJson.Pipeline(pipeline)).ToArray();
        return EmulatorJson.Json(new JsonArray(pipelines));
    }

    private static IResult GetPipeline(string team, string pipeline, EmulatorState state) =>
        state.ReadPipeline(team, pipeline) is { } found
            ? EmulatorJson.Json(EmulatorJson.Pipeline(found))
            : Results.NotFound();

    private static IResult DeletePipeline(string team, string pipeline, EmulatorState state) =>
        state.Delete(team, pipeline) ? Results.NoContent() : Results.NotFound();

    private static IResult GetConfig(string team, string pipeline, EmulatorState state, HttpContext context)
    {
        if (state.ReadConfig(team, pipeline) is not { } config)
        {
            return Results.NotFound();
        }
        context.Response.Headers[ConfigVersionHeader] = config.Version.ToString(CultureInfo.InvariantCulture);
        return Results.Text($"{{\"config\":{config.ConfigJson}}}", "application/json");
    }

    /// <summary>Same order of checks as atc/api/configserver/save.go: version header, content type, config, team, save.</summary>
    private static async Task<IResult> SaveConfig(string team, string pipeline, HttpContext context, EmulatorState state)
    {
        long version = 0; // a missing header means 0, which matches only an archived pipeline
        var versionHeader = context.Request.Headers[ConfigVersionHeader];
        if (!StringValues.IsNullOrEmpty(versionHeader) && !long.TryParse(versionHeader.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out version))
        {
            return SaveError(StatusCodes.Status400BadRequest, "config version is malformed: expected integer");
        }

        // Concourse compares the header exactly: "application/json; charset=utf-8" is a 415.
        var contentType = context.Request.Headers.ContentType.ToString();
        var isYaml = contentType == "application/x-yaml";
        if (contentType != "application/json" && !isYaml)
        {
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }

        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }
        JsonNode? parsed;
        try
        {
            parsed = isYaml ? YamlToJson.Convert(body) : JsonNode.Parse(body);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            return SaveError(StatusCodes.Status400BadRequest, $"malformed config: {ex.Message}");
        }

        var validation = PipelineConfigValidator.Validate(parsed, pipeline);
        if (validation.Errors.Count > 0 || validation.Config is null)
        {
            return Results.Text(EmulatorJson.SaveConfigAnswer([], validation.Errors), "application/json", statusCode: StatusCodes.Status400BadRequest);
        }

        var configJson = validation.Config.ToJsonString(EmulatorJson.Compact);
        return state.SaveConfig(team, pipeline, configJson, validation.Jobs, version) switch
        {
            SaveConfigResult.TeamNotFound => Results.NotFound(),
            SaveConfigResult.VersionConflict => EmulatorJson.Text(
                "failed to save config: comparison with existing config failed during save", StatusCodes.Status500InternalServerError),
            var saved => Results.Text(
                EmulatorJson.SaveConfigAnswer(validation.Warnings),
                "application/json",
                statusCode: saved == SaveConfigResult.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK),
        };
    }

    private static IResult TriggerBuild(string team, string pipeline, string job, EmulatorState state)
    {
        var (result, build) = state.Trigger(team, pipeline, job);
        return result switch
        {
            TriggerResult.Created => EmulatorJson.Json(EmulatorJson.Build(build!)),
            TriggerResult.Archived => EmulatorJson.Text(ArchivedAnswer, StatusCodes.Status409Conflict),
            TriggerResult.ManualTriggerDisabled => EmulatorJson.Text($"manual triggering is disabled for job '{job}'", StatusCodes.Status409Conflict),
            _ => Results.NotFound(),
        };
    }

    private static IResult ListBuilds(string team, string pipeline, string job, HttpContext context, EmulatorState state)
    {
        // Like Concourse, an unreadable limit falls back to the default instead of failing.
        var limit = int.TryParse(context.Request.Query["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var asked) && asked > 0
            ? asked
            : DefaultBuildLimit;
        if (state.ListBuilds(team, pipeline, job, limit) is not { } builds)
        {
            return Results.NotFound();
        }
        return EmulatorJson.Json(new JsonArray(builds.Select(build => (JsonNode?)EmulatorJson.Build(build)).ToArray()));
    }

    private static IResult GetBuild(string id, EmulatorState state)
    {
        if (!long.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out var buildId))
        {
            return Results.BadRequest();
        }
        return state.ReadBuild(buildId) is { } build ? EmulatorJson.Json(EmulatorJson.Build(build)) : Results.NotFound();
    }

    private static IResult AbortBuild(string id, EmulatorState state)
    {
        if (!long.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out var buildId))
        {
            return Results.BadRequest();
        }
        return state.Abort(buildId) ? Results.NoContent() : Results.NotFound();
    }

    private static IResult Answer(PipelineActionResult result) => result switch
    {
        PipelineActionResult.Done => Results.Ok(),
        PipelineActionResult.Archived => EmulatorJson.Text(ArchivedAnswer, StatusCodes.Status409Conflict),
        _ => Results.NotFound(),
    };

    private static IResult SaveError(int statusCode, string error) =>
        Results.Text(EmulatorJson.SaveConfigAnswer([], [error]), "application/json", statusCode: statusCode);

    private static IResult OAuthError(string error, string description, int statusCode) =>
        EmulatorJson.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode);
}
