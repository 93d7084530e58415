using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace OnDemand.Tests.Grains;

/// <summary>An in-process Orleans test cluster hosting the broker's grains (memory storage), driving the Concourse emulator over HTTP.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public ConcourseEmulatorServer Concourse { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        Concourse = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions { Username = "admin", Password = "admin", Team = "main" });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(GrainSettings.For(Concourse.Url)).Build();

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage("store");
            silo.UseInMemoryReminderService();
            silo.Services.AddBrokerGrains(configuration);
            silo.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Concourse.DisposeAsync();
    }
}
