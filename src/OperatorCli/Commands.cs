using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace OnDemand.OperatorCli;

/// <summary>A command that calls the operator API and renders what it answered.</summary>
public abstract class ApiCommand<TSettings> : AsyncCommand<TSettings> where TSettings : ApiSettings
{
    protected static IAnsiConsole Out => OperatorCliApp.Console.Value ?? AnsiConsole.Console;

    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var api = new OperatorApi(settings);
        try
        {
            return await RunAsync(api, context, settings, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            Out.MarkupLineInterpolated($"[red]the broker could not be reached[/]: {e.Message}");
            return 2;
        }
    }

    protected abstract Task<int> RunAsync(OperatorApi api, CommandContext context, TSettings settings, CancellationToken cancellationToken);

    protected static string Text(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}

public sealed class MaintenanceStatusCommand : ApiCommand<ApiSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, ApiSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Get, "/operator/maintenance", cancellationToken: cancellationToken);
        return answer.Ok ? Show(answer.Body) : OperatorApi.Fail(Out, answer);
    }

    internal static int Show(JsonObject body)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("maintenance", body["on"]!.GetValue<bool>() ? "[yellow]on[/]" : "[green]off[/]");
        foreach (var field in new[] { "reason", "until", "changed_at", "changed_by", "message" })
            if (body[field] is not null) grid.AddRow(field.Replace('_', ' '), Markup.Escape(Text(body[field])));
        Out.Write(grid);
        return 0;
    }
}

public sealed class MaintenanceOnSettings : ApiSettings
{
    [CommandOption("--reason <TEXT>"), Description("What users are told the maintenance is for.")]
    public string? Reason { get; init; }

    [CommandOption("--minutes <N>"), Description("When to come back, in minutes from now (else the broker's default retry time).")]
    public int? Minutes { get; init; }
}

public sealed class MaintenanceOnCommand : ApiCommand<MaintenanceOnSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, MaintenanceOnSettings settings, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["on"] = true };
        if (settings.Reason is not null) body["reason"] = settings.Reason;
        if (settings.Minutes is not null) body["minutes"] = settings.Minutes;
        var answer = await api.SendAsync(HttpMethod.Put, "/operator/maintenance", body, cancellationToken);
        return answer.Ok ? MaintenanceStatusCommand.Show(answer.Body) : OperatorApi.Fail(Out, answer);
    }
}

public sealed class MaintenanceOffCommand : ApiCommand<ApiSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, ApiSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Put, "/operator/maintenance", new JsonObject { ["on"] = false }, cancellationToken);
        return answer.Ok ? MaintenanceStatusCommand.Show(answer.Body) : OperatorApi.Fail(Out, answer);
    }
}

public sealed class QuotasCommand : ApiCommand<ApiSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, ApiSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Get, "/operator/quotas", cancellationToken: cancellationToken);
        if (!answer.Ok) return OperatorApi.Fail(Out, answer);
        var table = new Table().AddColumns("Quota", "Scope", "Limit", "Used");
        foreach (var q in answer.Body["quotas"]!.AsArray())
            table.AddRow(Text(q!["quota"]), Markup.Escape(Text(q["scope"])), q["limit"] is null ? "unlimited" : Text(q["limit"]), Text(q["used"]));
        Out.Write(table);
        Out.MarkupLineInterpolated($"databases per cluster: {(answer.Body["databases_per_cluster"] is null ? "unlimited" : Text(answer.Body["databases_per_cluster"]))}");
        return 0;
    }
}

public sealed class InstancesSettings : ApiSettings
{
    [CommandOption("--plan <NAME>")] public string? Plan { get; init; }
    [CommandOption("--org <GUID_OR_NAME>")] public string? Org { get; init; }
    [CommandOption("--behind"), Description("Only clusters whose template is behind the catalog's.")] public bool Behind { get; init; }
}

public sealed class InstancesCommand : ApiCommand<InstancesSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, InstancesSettings settings, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (settings.Plan is not null) query.Add("plan=" + Uri.EscapeDataString(settings.Plan));
        if (settings.Org is not null) query.Add("org=" + Uri.EscapeDataString(settings.Org));
        if (settings.Behind) query.Add("behind=true");
        var answer = await api.SendAsync(HttpMethod.Get, "/operator/instances" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), cancellationToken: cancellationToken);
        if (!answer.Ok) return OperatorApi.Fail(Out, answer);
        var table = new Table().AddColumns("Instance", "Name", "Org", "Plan", "Status", "Template", "Catalog", "Databases");
        foreach (var i in answer.Body["instances"]!.AsArray())
        {
            var behind = i!["behind"]!.GetValue<bool>();
            table.AddRow(Markup.Escape(Text(i["instance_id"])), Markup.Escape(Text(i["name"])), Markup.Escape(Text(i["organization_name"] ?? i["organization_guid"])),
                Text(i["plan"]), Text(i["status"]), behind ? $"[yellow]{Markup.Escape(Text(i["template_version"]))}[/]" : Markup.Escape(Text(i["template_version"])),
                Markup.Escape(Text(i["catalog_version"])), Text(i["databases"]));
        }
        Out.Write(table);
        Out.MarkupLineInterpolated($"{Text(answer.Body["total"])} clusters");
        return 0;
    }
}
