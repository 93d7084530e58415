using System.Globalization;
using System.Text.Json.Nodes;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// Unauthenticated routes under /_emulator/ to steer the emulator from scripts and benchmarks (listed in Program.cs).
/// Bad input answers 400 with a plain-text reason.
/// </summary>
internal static class ControlApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var control = routes.MapGroup(EmulatorMiddleware.ControlPrefix);
        control.MapGet("/stats", Stats);
        control.MapGet("/pipelines", Pipelines);
        control.MapPost("/builds", Builds);
        control.MapPut("/build-duration", (HttpContext context, EmulatorState state) =>
            Run(() => state.BuildDuration = TimeSpan.FromSeconds(Number(context, "seconds"))));
        control.MapPost("/script", (HttpContext context, EmulatorState state) => Run(() =>
            state.ScriptNextBuilds(
                Text(context, "pipeline", EmulatorState.AnyPipeline),
                Required(context, "job"),
                context.Request.Query["status"].SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray())));
        control.MapPost("/hold", (HttpContext context, EmulatorState state) => Run(() => state.HoldBuilds(Required(context, "job"))));
        control.MapPost("/release", (HttpContext context, EmulatorState state) => Run(() => state.ReleaseBuilds(Required(context, "job"))));
        control.MapPost("/teams", (HttpContext context, EmulatorState state) => Run(() => state.AddTeam(Required(context, "name"))));
        control.MapPost("/faults/fail", (HttpContext context, FaultInjector faults) => Run(() =>
            faults.FailNext(Count(context), (int)Number(context, "status"), Path(context), Method(context))));
        control.MapPost("/faults/hang", (HttpContext context, FaultInjector faults) => Run(() =>
            faults.HangNext(Count(context), TimeSpan.FromSeconds(Number(context, "seconds")), Path(context), Method(context))));
        control.MapPost("/faults/lose-response", (HttpContext context, FaultInjector faults) => Run(() =>
            faults.LoseResponseNext(
                Count(context), Path(context), Method(context),
                Text(context, "mode", "502") == "abort" ? LostResponseMode.AbortConnection : LostResponseMode.BadGateway)));
        control.MapDelete("/faults", (FaultInjector faults) => Run(faults.Clear));
        control.MapPost("/expire-tokens", (FaultInjector faults) => Run(faults.ExpireAllTokens));
        control.MapGet("/requests", (HttpContext context, FaultInjector faults) =>
        {
            var limit = int.TryParse(context.Request.Query["limit"], out var asked) && asked > 0 ? asked : 100;
            var log = faults.RequestLog;
            var recent = log.Skip(Math.Max(0, log.Count - limit)).Select(entry => (JsonNode?)new JsonObject
            {
                ["at"] = entry.At.ToString("O", CultureInfo.InvariantCulture),
                ["method"] = entry.Method,
                ["path"] = entry.Path,
                ["status"] = entry.StatusCode,
                ["fault"] = entry.Fault,
            });
            return EmulatorJson.Json(new JsonArray(recent.ToArray()));
        });
    }

    /// <summary>
    /// For load tests' final checks: POST a JSON array of pipeline names; answers, per name, whether the pipeline is
    /// live and how many builds of its deploy and delete jobs were ever triggered (a deleted pipeline's included).
    /// </summary>
    private static async Task<IResult> Builds(HttpContext context, EmulatorState state)
    {
        if (await JsonNode.ParseAsync(context.Request.Body) is not JsonArray names) return Results.BadRequest("a JSON array of pipeline names");
        var result = new JsonObject();
        foreach (var name in names.Select(n => n?.GetValue<string>()).OfType<string>())
        {
            var jobs = new JsonObject();
            foreach (var job in new[] { "deploy", "delete" }) jobs[job] = state.BuildsEverTriggered(name, job);
            result[name] = new JsonObject { ["live"] = state.GetPipeline(name) is not null, ["builds"] = jobs };
        }
        return Results.Json(result);
    }

    private static IResult Stats(EmulatorState state, FaultInjector faults)
    {
        var byStatus = new JsonObject();
        foreach (var (status, count) in state.CountBuildsByStatus())
        {
            byStatus[status] = count;
        }
        return EmulatorJson.Json(new JsonObject
        {
            ["emulator"] = true,
            ["pipelines"] = state.PipelineCount,
            ["builds"] = state.BuildCount,
            ["builds_by_status"] = byStatus,
            ["build_duration_seconds"] = state.BuildDuration.TotalSeconds,
            ["logged_requests"] = faults.RequestLog.Count,
            ["pending_faults"] = faults.PendingFaults,
        });
    }

    /// <summary>Every pipeline (not destroyed), oldest first: what a Concourse UI would list, with each job's last build.</summary>
    private static IResult Pipelines(EmulatorState state)
    {
        var pipelines = state.GetPipelines().Select(pipeline => (JsonNode?)new JsonObject
        {
            ["team"] = pipeline.Team,
            ["name"] = pipeline.Name,
            ["paused"] = pipeline.Paused,
            ["archived"] = pipeline.Archived,
            ["config_version"] = pipeline.ConfigVersion,
            ["jobs"] = new JsonArray(pipeline.Jobs.Select(job =>
            {
                var builds = state.GetBuilds(pipeline.Name, job, pipeline.Team);
                var last = builds.Count > 0 ? builds[0] : null;
                return (JsonNode?)new JsonObject
                {
                    ["name"] = job,
                    ["builds"] = builds.Count,
                    ["last_build"] = last is null ? null : new JsonObject
                    {
                        ["id"] = last.Id,
                        ["name"] = last.Name,
                        ["status"] = last.Status,
                    },
                };
            }).ToArray()),
        });
        return EmulatorJson.Json(new JsonArray(pipelines.ToArray()));
    }

    private static IResult Run(Action action)
    {
        try
        {
            action();
            return Results.NoContent();
        }
        catch (ArgumentException ex)
        {
            return EmulatorJson.Text(ex.Message, StatusCodes.Status400BadRequest);
        }
    }

    private static string Required(HttpContext context, string name) =>
        Optional(context, name) ?? throw new ArgumentException($"query parameter '{name}' is required");

    private static string Text(HttpContext context, string name, string fallback) => Optional(context, name) ?? fallback;

    private static string? Optional(HttpContext context, string name)
    {
        var value = context.Request.Query[name].ToString();
        return value.Length > 0 ? value : null;
    }

    private static double Number(HttpContext context, string name) =>
        double.TryParse(Required(context, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0
            ? number
            : throw new ArgumentException($"query parameter '{name}' must be a non-negative number");

    private static int Count(HttpContext context) =>
        Optional(context, "count") is null ? 1 : (int)Number(context, "count");

    private static string? Path(HttpContext context) => Optional(context, "path");

    private static string? Method(HttpContext context) => Optional(context, "method");
}
