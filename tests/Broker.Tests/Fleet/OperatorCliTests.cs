using OnDemand.OperatorCli;
using Spectre.Console;

namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "The CLI": ondemand-operator against the running broker, output as an operator sees it.</summary>
public sealed class OperatorCliTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        var exit = await OperatorCliApp.RunAsync([.. args, "--url", fixture.Stack.GatewayUrl.ToString(), "--password", BrokerStack.OperatorPassword], console);
        return (exit, writer.ToString());
    }

    [Fact]
    public async Task Every_command_renders_what_the_operator_api_answers()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Osb.ProvisionClusterAsync(id, instanceName: "cli-" + id[..8])).Status);
        Assert.Equal("succeeded", (await fixture.Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        var on = await RunAsync("maintenance", "on", "--reason", "cli test", "--minutes", "10");
        Assert.Equal(0, on.Exit);
        Assert.Contains("maintenance  on", on.Output);
        Assert.Contains("cli test", on.Output);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await fixture.Osb.ProvisionClusterAsync(Guid.NewGuid().ToString())).Status);
        var off = await RunAsync("maintenance", "off");
        Assert.Equal(0, off.Exit);
        Assert.Contains("maintenance  off", off.Output);

        var instances = await RunAsync("instances");
        Assert.Equal(0, instances.Exit);
        Assert.Contains(id, instances.Output);
        Assert.Contains("cluster-small", instances.Output);

        var quotas = await RunAsync("quotas");
        Assert.Equal(0, quotas.Exit);
        Assert.Contains("clusters_per_plan", quotas.Output);
        Assert.Contains("unlimited", quotas.Output);

        var upgrade = await RunAsync("upgrade", "start", "--canaries", "1", "--parallelism", "2");
        Assert.Equal(0, upgrade.Exit);
        Assert.Contains("completed", upgrade.Output); // every cluster already runs the catalog's template
        Assert.Contains("every cluster already runs", upgrade.Output);
        var pause = await RunAsync("upgrade", "pause");
        Assert.Equal(1, pause.Exit);
        Assert.Contains("error 409", pause.Output);

        var orphans = await RunAsync("orphans", "list");
        Assert.Equal(0, orphans.Exit);
        Assert.Contains("Orphan pipeline", orphans.Output);
        var clean = await RunAsync("orphans", "clean");
        Assert.NotEqual(0, clean.Exit);
    }

    [Fact]
    public async Task Wrong_credentials_are_shown_as_the_broker_words_them()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        var exit = await OperatorCliApp.RunAsync(["quotas", "--url", fixture.Stack.GatewayUrl.ToString(), "--password", "wrong"], console);
        Assert.Equal(1, exit);
        Assert.Contains("error 401", writer.ToString());
    }
}
