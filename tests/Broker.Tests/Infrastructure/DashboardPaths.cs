using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OnDemand.BrokerGateway;
using OnDemand.BrokerGateway.Dashboard;

namespace OnDemand.Tests.Infrastructure;

/// <summary>The path and query of a fresh dashboard link to an instance of a test stack, as its gateways make them.</summary>
public static class DashboardPaths
{
    private static readonly DashboardLinks Links = new(Options.Create(new GatewaySettings { DashboardSecret = BrokerStack.DashboardSecret }),
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1" }).Build());

    public static string For(string instanceId) => new Uri(Links.For(instanceId)).PathAndQuery;
}
