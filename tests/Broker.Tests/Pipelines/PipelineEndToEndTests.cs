using System.Text.Json.Nodes;
using OnDemand.Tests.Infrastructure;

namespace OnDemand.Tests.Pipelines;

/// <summary>Issue 8 through the whole stack: tuning limits answer 400, and a template BOSH would refuse fails its deploy.</summary>
public sealed class PipelineEndToEndTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task A_buffer_pool_beyond_the_plans_vm_memory_is_refused_with_the_field_and_the_limit()
    {
        var id = Guid.NewGuid().ToString();

        var answer = await fixture.Osb.ProvisionClusterAsync(id, parameters: new JsonObject { ["innodb_buffer_pool_size"] = "999999GB" });

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("parameter 'innodb_buffer_pool_size' is 1023998976MB, above this plan's limit of 2048MB", answer.Field("description"));
        Assert.Null(fixture.Stack.Concourse.State.GetPipeline($"ondemand-{id}"));
    }

    [Fact]
    public async Task A_template_the_checker_refuses_fails_its_deploy_in_the_emulator()
    {
        // The shipped MySQL template with the director-wide clean-up the issue removed: Concourse accepts it, the checker does not.
        var folder = Path.Combine(RepositoryPaths.Root, "tests", "Broker.Tests", "bin", "templates", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var template = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "templates", "mysql-cluster.yml"))
            .Replace("      bosh_io_stemcell_type: regular\n", "      bosh_io_stemcell_type: regular\n      cleanup: true\n", StringComparison.Ordinal);
        Assert.Contains("cleanup: true", template);
        var templatePath = Path.Combine(folder, "mysql-cluster.yml");
        await File.WriteAllTextAsync(templatePath, template, TestContext.Current.CancellationToken);
        var catalog = TestCatalogs.Write(File.ReadAllText(RepositoryPaths.BrokerConfig).Replace("../templates/mysql-cluster.yml", templatePath));
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Broker:ConfigPath"] = catalog });
        var osb = new OsbClient(stack.Client);
        var id = Guid.NewGuid().ToString();

        Assert.Equal(HttpStatusCode.Accepted, (await osb.ProvisionClusterAsync(id)).Status);

        Assert.Equal("failed", (await osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());
        Assert.Equal("failed", stack.Concourse.State.GetBuilds($"ondemand-{id}", "deploy").Single().Status);
    }
}
