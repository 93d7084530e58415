using Microsoft.Extensions.Configuration;
using OnDemand.BrokerGateway;
using OnDemand.Silo;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Settings are checked when a process starts, not at the first request or grain activation: a bad one stops the
/// silo or gateway with a message naming it (Program prints that message as one line and exits 2).
/// </summary>
public sealed class StartupSettingsTests
{
    private static Dictionary<string, string?> Silo(params (string Key, string? Value)[] changes)
    {
        var settings = GrainSettings.For(new Uri("http://127.0.0.1:9"));
        settings["ConnectionStrings:Orleans"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none";
        settings["Orleans:ApplySchema"] = "false";
        settings["Operator:Password"] = "operator";
        settings["DataProtection:CertificatePath"] = TestCertificates.SharedPath;
        foreach (var (key, value) in changes) settings[key] = value;
        return settings;
    }

    [Theory]
    [InlineData("Concourse:Url", "not-a-url", "Concourse:Url")]
    [InlineData("Concourse:Url", "", "Concourse:Url")]
    [InlineData("CredHub:Url", "https://credhub.example.com", "CredHub")]
    [InlineData("Lifecycle:PollInterval", "00:00:00", "Lifecycle:PollInterval")]
    [InlineData("Broker:ConfigPath", "/nonexistent/broker.yml", "broker.yml")]
    public void A_bad_silo_setting_stops_the_silo_naming_it(string key, string value, string named)
    {
        var error = Assert.ThrowsAny<Exception>(() => SiloApplication.Build([], c => c.AddInMemoryCollection(Silo((key, value)))));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void A_gateway_without_its_password_or_dashboard_secret_does_not_start()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orleans"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none",
            ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig,
            ["Broker:DashboardSecret"] = BrokerStack.DashboardSecret,
        };
        Assert.Contains("Broker:Password", Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(settings))).Message);
        settings["Broker:Password"] = "secret";
        settings["Broker:DashboardSecret"] = "short";
        Assert.Contains("DashboardSecret", Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(settings))).Message);
    }
}
