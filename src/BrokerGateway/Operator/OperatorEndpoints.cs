using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Globalization;
using OnDemand.BrokerGateway.Osb;
using OnDemand.Grains.Interfaces.Fleet;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace OnDemand.BrokerGateway.Operator;

/// <summary>
/// The operator API under /operator (operator Basic auth): maintenance switch, quotas, fleet listing, upgrade-all,
/// orphans. Bad input is a 400 {"error","description"} and changes nothing. docs/fleet.md describes each route.
/// </summary>
public static class OperatorEndpoints
{
    public static IServiceCollection AddOperatorApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MaintenanceSettings>(configuration.GetSection(MaintenanceSettings.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MaintenanceSwitch>();
        services.AddSingleton<OperatorAuth>();
        // The fleet listing and the quota report read the fleet from storage (docs/fleet.md, "How the fleet is read").
        services.Configure<QuotaOptions>(configuration.GetSection(QuotaOptions.Section));
        if (configuration.GetConnectionString("Orleans") is { } orleans)
            services.AddPostgresClusterDirectory(OrleansDatabase.ConnectionString(orleans));
        else services.TryAddSingleton<IClusterDirectory, NoClusterDirectory>();
        return services;
    }

    public static void MapOperatorEndpoints(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/operator").AddEndpointFilter<OperatorAuth>();
        api.MapGet("/maintenance", async (MaintenanceSwitch maintenance) => MaintenanceJson(await maintenance.CurrentAsync(), maintenance));
        api.MapPut("/maintenance", SetMaintenance);
        api.MapGet("/quotas", Quotas);
        api.MapGet("/instances", Instances);
        api.MapGet("/upgrades", async (IGrainFactory grains) => Json(200, UpgradeJson.Report(await Upgrades(grains).GetReport())));
        api.MapPost("/upgrades", StartUpgrade);
        api.MapPost("/upgrades/{command}", UpgradeCommand);
        api.MapGet("/orphans", async (IGrainFactory grains) => Json(200, OrphanJson(await grains.GetGrain<IOrphanGrain>(0).Find())));
        api.MapDelete("/orphans", DeleteOrphans);
    }

    private static IUpgradeRunGrain Upgrades(IGrainFactory grains) => grains.GetGrain<IUpgradeRunGrain>(0);

    private static IResult Json(int status, JsonObject body) => OsbJson.Result(status, body);

    private static IResult MaintenanceJson(MaintenanceStatus status, MaintenanceSwitch maintenance) => Json(200, new JsonObject
    {
        ["on"] = status.On,
        ["reason"] = status.Reason,
        ["until"] = status.Until?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["changed_at"] = status.ChangedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["changed_by"] = status.ChangedBy,
        ["message"] = status.On ? maintenance.Description(status) : null,
    });

    private static async Task<IResult> SetMaintenance(HttpRequest request, MaintenanceSwitch maintenance, OperatorAuth auth, TimeProvider time)
    {
        var (body, error) = await OsbRequest.ReadBodyAsync(request);
        if (error is not null) return error;
        if (body!["on"] is not JsonValue onValue || !onValue.TryGetValue<bool>(out var on))
            return OsbError.BadRequest("on is required: true or false");
        string? reason = null;
        if (body["reason"] is { } reasonNode)
        {
            if (reasonNode is not JsonValue r || !r.TryGetValue(out reason) || reason.Length > 500)
                return OsbError.BadRequest("reason must be a string of at most 500 characters");
        }
        DateTimeOffset? until = null;
        if (body["until"] is { } untilNode)
        {
            if (untilNode is not JsonValue u || !u.TryGetValue<string>(out var text)
                || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                return OsbError.BadRequest("until must be a date and time, e.g. 2026-12-01T18:00:00Z");
            if (parsed <= time.GetUtcNow()) return OsbError.BadRequest($"until ({parsed.UtcDateTime:O}) is in the past");
            until = parsed;
        }
        if (body["minutes"] is { } minutesNode)
        {
            if (minutesNode is not JsonValue m || !m.TryGetValue<int>(out var minutes) || minutes is < 1 or > 7 * 24 * 60)
                return OsbError.BadRequest("minutes must be a whole number from 1 to 10080");
            if (until is not null) return OsbError.BadRequest("give until or minutes, not both");
            until = time.GetUtcNow().AddMinutes(minutes);
        }
        // An end time only means something for a maintenance that starts now; with on:false it would be dropped silently.
        if (!on && until is not null) return OsbError.BadRequest("until and minutes announce when a maintenance ends: give them with on:true only");
        var status = await maintenance.SetAsync(new MaintenanceChange(on, reason, until, auth.Username));
        return MaintenanceJson(status, maintenance);
    }

    private static async Task<IResult> Quotas(IGrainFactory grains, IClusterDirectory directory, BrokerCatalog catalog, IOptions<QuotaOptions> quotas)
    {
        var report = await FleetReader.ReadQuotasAsync(grains, directory, catalog, quotas.Value);
        return Json(200, new JsonObject
        {
            ["quotas"] = new JsonArray(report.Uses.Select(u => (JsonNode)new JsonObject
            {
                ["quota"] = u.Quota,
                ["scope"] = u.Scope,
                ["limit"] = u.Limit,
                ["used"] = u.Used,
            }).ToArray()),
            ["databases_per_cluster"] = report.DatabasesPerCluster,
        });
    }

    private static async Task<IResult> Instances(HttpRequest request, IGrainFactory grains, IClusterDirectory directory, BrokerCatalog catalog)
    {
        var fleet = await FleetListing.ReadAsync(grains, directory, catalog);
        string? plan = request.Query["plan"], org = request.Query["org"];
        var behindOnly = string.Equals(request.Query["behind"], "true", StringComparison.OrdinalIgnoreCase);
        var selected = fleet.Where(e => (plan is null || e.Claim.PlanName == plan) && (org is null || e.Claim.OrganizationGuid == org || e.View?.Context.OrganizationName == org)
            && (!behindOnly || e.Behind)).ToList();
        return Json(200, new JsonObject
        {
            ["total"] = selected.Count,
            ["instances"] = new JsonArray(selected.Select(e => (JsonNode)e.ToJson()).ToArray()),
        });
    }

    private static async Task<IResult> StartUpgrade(HttpRequest request, IGrainFactory grains, OperatorAuth auth)
    {
        JsonObject body = [];
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (read, error) = await OsbRequest.ReadBodyAsync(request);
            if (error is not null) return error;
            body = read!;
        }
        if (ReadCount(body, "canaries", 0, 10_000, 1, out var canaries) is { } e1) return e1;
        if (ReadCount(body, "parallelism", 1, 100, 5, out var parallelism) is { } e2) return e2;
        var canaryOrg = OsbRequest.String(body, "canary_org");
        if (body["canary_org"] is not null && canaryOrg is null) return OsbError.BadRequest("canary_org must be an org guid or name");
        var result = await Upgrades(grains).Start(new UpgradeRequest(canaries, canaryOrg, parallelism, auth.Username));
        return CommandAnswer(result, StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> UpgradeCommand(string command, IGrainFactory grains, OperatorAuth auth)
    {
        var run = Upgrades(grains);
        var result = command switch
        {
            "pause" => await run.Pause(auth.Username),
            "resume" => await run.Resume(auth.Username),
            "cancel" => await run.Cancel(auth.Username),
            _ => null,
        };
        return result is null
            ? OsbError.BadRequest($"unknown upgrade command '{(command.Length > 40 ? command[..40] : command)}': use pause, resume or cancel")
            : CommandAnswer(result, StatusCodes.Status200OK);
    }

    private static IResult CommandAnswer(UpgradeCommandResult result, int okStatus) => result.Accepted
        ? Json(okStatus, UpgradeJson.Report(result.Report))
        : new OsbError(StatusCodes.Status409Conflict, "Conflict", result.Refusal);

    private static JsonObject OrphanJson(OrphanReport report) => new()
    {
        ["orphan_pipelines"] = new JsonArray(report.OrphanPipelines.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
        ["missing_pipelines"] = new JsonArray(report.MissingPipelines.Select(m => (JsonNode)new JsonObject
        {
            ["instance_id"] = m.InstanceId,
            ["pipeline"] = m.Pipeline,
            ["status"] = m.Status.ToString(),
        }).ToArray()),
        ["confirm_token"] = report.ConfirmToken,
    };

    private static async Task<IResult> DeleteOrphans(HttpRequest request, IGrainFactory grains, OperatorAuth auth)
    {
        var token = request.Query["confirm"].ToString();
        if (token.Length is 0 or > 100) return OsbError.BadRequest("confirm is required: the confirm_token of GET /operator/orphans");
        var result = await grains.GetGrain<IOrphanGrain>(0).CleanUp(token, auth.Username);
        return result.Refusal is { } refusal
            ? new OsbError(StatusCodes.Status409Conflict, "Conflict", refusal)
            : Json(200, new JsonObject { ["deleted"] = new JsonArray(result.Deleted.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()) });
    }

    private static OsbError? ReadCount(JsonObject body, string name, int min, int max, int fallback, out int value)
    {
        value = fallback;
        if (body[name] is null) return null;
        return body[name] is JsonValue v && v.TryGetValue<int>(out value) && value >= min && value <= max
            ? null
            : OsbError.BadRequest($"{name} must be a whole number from {min} to {max}");
    }
}
