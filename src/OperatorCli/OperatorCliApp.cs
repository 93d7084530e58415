using Spectre.Console;
using Spectre.Console.Cli;

namespace OnDemand.OperatorCli;

/// <summary>
/// ondemand-operator: a thin client of the broker's operator API (/operator/...). Argument parsing, tables and
/// progress come from Spectre.Console(.Cli); every decision is the broker's.
/// </summary>
public static class OperatorCliApp
{
    /// <summary>The console the commands write to (tests hand in a recording one).</summary>
    internal static readonly AsyncLocal<IAnsiConsole> Console = new();

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console)
    {
        Console.Value = console;
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("ondemand-operator");
            c.Settings.Console = console;
            c.AddBranch<ApiSettings>("maintenance", b =>
            {
                b.SetDescription("The maintenance switch: while on, creates, updates and deletes are refused (422) with a time to come back.");
                b.AddCommand<MaintenanceStatusCommand>("status").WithDescription("Show the switch.");
                b.AddCommand<MaintenanceOnCommand>("on").WithDescription("Turn it on (--reason, --minutes).");
                b.AddCommand<MaintenanceOffCommand>("off").WithDescription("Turn it off.");
            });
            c.AddCommand<QuotasCommand>("quotas").WithDescription("Quotas with their limits and current use.");
            c.AddCommand<InstancesCommand>("instances").WithDescription("The fleet of clusters (--plan, --org, --behind).");
            c.AddBranch<ApiSettings>("upgrade", b =>
            {
                b.SetDescription("Upgrade-all: re-run every cluster whose template is behind the catalog's.");
                b.AddCommand<UpgradeStartCommand>("start").WithDescription("Start a run (--canaries N | --canary-org ORG, --parallelism N, --watch).");
                b.AddCommand<UpgradeStatusCommand>("status").WithDescription("Show the run (--watch follows it to its end).");
                b.AddCommand<UpgradeControlCommand>("pause").WithData("pause").WithDescription("Start nothing new; running upgrades finish.");
                b.AddCommand<UpgradeControlCommand>("resume").WithData("resume").WithDescription("Go on after a pause.");
                b.AddCommand<UpgradeControlCommand>("cancel").WithData("cancel").WithDescription("End the run; running upgrades finish.");
            });
            c.AddBranch<ApiSettings>("orphans", b =>
            {
                b.SetDescription("Pipelines no instance owns, instances whose pipeline is missing.");
                b.AddCommand<OrphansListCommand>("list").WithDescription("List them, with the token that confirms a cleanup.");
                b.AddCommand<OrphansCleanCommand>("clean").WithDescription("Delete the listed orphan pipelines (--confirm TOKEN).");
            });
        });
        return await app.RunAsync(args);
    }
}
