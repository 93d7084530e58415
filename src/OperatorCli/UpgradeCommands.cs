using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace OnDemand.OperatorCli;

public class UpgradeWatchSettings : ApiSettings
{
    [CommandOption("--watch"), Description("Follow the run with a progress bar until it ends.")]
    public bool Watch { get; init; }
}

public sealed class UpgradeStartSettings : UpgradeWatchSettings
{
    [CommandOption("--canaries <N>"), Description("How many clusters go first (default 1).")]
    public int? Canaries { get; init; }

    [CommandOption("--canary-org <ORG>"), Description("The clusters of this org (guid or name) go first instead.")]
    public string? CanaryOrg { get; init; }

    [CommandOption("--parallelism <N>"), Description("At most this many upgrades at once (default 5).")]
    public int? Parallelism { get; init; }
}

public sealed class UpgradeStartCommand : ApiCommand<UpgradeStartSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, UpgradeStartSettings settings, CancellationToken cancellationToken)
    {
        var body = new JsonObject();
        if (settings.Canaries is not null) body["canaries"] = settings.Canaries;
        if (settings.CanaryOrg is not null) body["canary_org"] = settings.CanaryOrg;
        if (settings.Parallelism is not null) body["parallelism"] = settings.Parallelism;
        var answer = await api.SendAsync(HttpMethod.Post, "/operator/upgrades", body, cancellationToken);
        if (!answer.Ok) return OperatorApi.Fail(Out, answer);
        return settings.Watch ? await UpgradeStatusCommand.WatchAsync(api, cancellationToken) : UpgradeStatusCommand.Show(answer.Body);
    }
}

public sealed class UpgradeStatusCommand : ApiCommand<UpgradeWatchSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, UpgradeWatchSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Watch) return await WatchAsync(api, cancellationToken);
        var answer = await api.SendAsync(HttpMethod.Get, "/operator/upgrades", cancellationToken: cancellationToken);
        return answer.Ok ? Show(answer.Body) : OperatorApi.Fail(Out, answer);
    }

    internal static int Show(JsonObject report)
    {
        var summary = new Table().AddColumns("Run", "Status", "Done", "Running", "Failed", "Left", "Total", "Parallelism");
        summary.AddRow(Markup.Escape(Text(report["run_id"])), Text(report["status"]), Text(report["done"]), Text(report["running"]),
            Text(report["failed"]), Text(report["left"]), Text(report["total"]), Text(report["parallelism"]));
        Out.Write(summary);
        if (report["reason"] is not null) Out.MarkupLineInterpolated($"{Text(report["reason"])}");
        var notable = report["items"]!.AsArray().Where(i => i!["phase"]!.GetValue<string>() is "failed" or "running" || i["canary"]!.GetValue<bool>()).ToList();
        if (notable.Count == 0) return 0;
        var items = new Table().AddColumns("Instance", "Plan", "From", "To", "Canary", "Phase", "Attempts", "Note");
        foreach (var i in notable)
            items.AddRow(Markup.Escape(Text(i!["instance_id"])), Text(i["plan"]), Text(i["from"]), Text(i["to"]), i["canary"]!.GetValue<bool>() ? "yes" : "",
                i["phase"]!.GetValue<string>() == "failed" ? "[red]failed[/]" : Text(i["phase"]), Text(i["attempts"]), Markup.Escape(Text(i["note"])));
        Out.Write(items);
        return 0;
    }

    /// <summary>A progress bar (done + failed of total) until the run is neither running nor paused with work in flight.</summary>
    internal static async Task<int> WatchAsync(OperatorApi api, CancellationToken cancellationToken)
    {
        JsonObject last = [];
        await Out.Progress().StartAsync(async progress =>
        {
            var task = progress.AddTask("upgrade");
            while (!cancellationToken.IsCancellationRequested)
            {
                var answer = await api.SendAsync(HttpMethod.Get, "/operator/upgrades", cancellationToken: cancellationToken);
                if (!answer.Ok) break;
                last = answer.Body;
                var total = Math.Max(1, last["total"]!.GetValue<int>());
                task.MaxValue = total;
                task.Value = last["done"]!.GetValue<int>() + last["failed"]!.GetValue<int>();
                task.Description = $"upgrade {Text(last["status"])}: {Text(last["running"])} running, {Text(last["left"])} left";
                if (last["finished_at"] is not null && last["status"]!.GetValue<string>() is not ("running" or "paused")) break;
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        });
        return last.Count == 0 ? 1 : Show(last);
    }
}

public sealed class UpgradeControlCommand : ApiCommand<ApiSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, ApiSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Post, $"/operator/upgrades/{context.Data}", cancellationToken: cancellationToken);
        return answer.Ok ? UpgradeStatusCommand.Show(answer.Body) : OperatorApi.Fail(Out, answer);
    }
}

public sealed class OrphansListCommand : ApiCommand<ApiSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, ApiSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Get, "/operator/orphans", cancellationToken: cancellationToken);
        if (!answer.Ok) return OperatorApi.Fail(Out, answer);
        var orphans = new Table().AddColumn("Orphan pipeline (no live instance)");
        foreach (var p in answer.Body["orphan_pipelines"]!.AsArray()) orphans.AddRow(Markup.Escape(Text(p)));
        Out.Write(orphans);
        var missing = new Table().AddColumns("Instance without its pipeline", "Pipeline", "Status");
        foreach (var m in answer.Body["missing_pipelines"]!.AsArray()) missing.AddRow(Markup.Escape(Text(m!["instance_id"])), Markup.Escape(Text(m["pipeline"])), Text(m["status"]));
        Out.Write(missing);
        if (answer.Body["confirm_token"] is { } token)
            Out.MarkupLineInterpolated($"delete the orphan pipelines: ondemand-operator orphans clean --confirm {Text(token)}");
        return 0;
    }
}

public sealed class OrphansCleanSettings : ApiSettings
{
    [CommandOption("--confirm <TOKEN>"), Description("The confirm token printed by 'orphans list'.")]
    public string? Confirm { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrEmpty(Confirm) ? ValidationResult.Error("--confirm TOKEN is required: run 'orphans list' first") : ValidationResult.Success();
}

public sealed class OrphansCleanCommand : ApiCommand<OrphansCleanSettings>
{
    protected override async Task<int> RunAsync(OperatorApi api, CommandContext context, OrphansCleanSettings settings, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Delete, $"/operator/orphans?confirm={Uri.EscapeDataString(settings.Confirm!)}", cancellationToken: cancellationToken);
        if (!answer.Ok) return OperatorApi.Fail(Out, answer);
        foreach (var p in answer.Body["deleted"]!.AsArray()) Out.MarkupLineInterpolated($"deleted {Text(p)}");
        return 0;
    }
}
