using Microsoft.Extensions.Configuration;
using OnDemand.BrokerGateway;

namespace OnDemand.Tests.CloudFoundry;

/// <summary>The CloudFoundry settings are checked when the gateway starts: a bad one stops it with a line naming it.</summary>
public sealed class CloudFoundrySettingsTests
{
    private static Dictionary<string, string?> Gateway(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orleans"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none",
            ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig,
            ["Broker:Password"] = "secret",
            ["Broker:DashboardSecret"] = BrokerStack.DashboardSecret,
            ["CloudFoundry:ApiUrl"] = "https://api.sys.example.com",
            ["CloudFoundry:ClientId"] = "broker-cf-reader",
            ["CloudFoundry:ClientSecret"] = "reader-secret",
        };
        foreach (var (key, value) in changes) settings[key] = value;
        return settings;
    }

    [Theory]
    [InlineData("CloudFoundry:ApiUrl", "api.sys.example.com", "CloudFoundry:ApiUrl")]
    [InlineData("CloudFoundry:ApiUrl", "ftp://api.sys.example.com", "CloudFoundry:ApiUrl")]
    [InlineData("CloudFoundry:UaaUrl", "not a url", "CloudFoundry:UaaUrl")]
    [InlineData("CloudFoundry:ClientSecret", "", "CloudFoundry:ClientSecret")]
    [InlineData("CloudFoundry:ClientId", null, "CloudFoundry:ClientId")]
    [InlineData("CloudFoundry:AllowedRoles", "space_developer,organization_manager", "CloudFoundry:AllowedRoles")]
    [InlineData("CloudFoundry:AllowedRoles", "", "CloudFoundry:AllowedRoles")]
    [InlineData("CloudFoundry:GrantCacheTime", "-00:00:01", "CloudFoundry:GrantCacheTime")]
    [InlineData("CloudFoundry:SkipSslValidation", "maybe", "SkipSslValidation")]
    public void A_bad_cloud_foundry_setting_stops_the_gateway_naming_it(string key, string? value, string named)
    {
        var error = Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(Gateway((key, value)))));
        Assert.True(error is InvalidOperationException, error.ToString()); // Program prints it as one line
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void A_client_without_an_api_url_stops_the_gateway_and_no_settings_at_all_is_fine()
    {
        var error = Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(Gateway(("CloudFoundry:ApiUrl", null)))));
        Assert.Contains("CloudFoundry:ApiUrl", error.Message);
        var none = Gateway(("CloudFoundry:ApiUrl", null), ("CloudFoundry:ClientId", null), ("CloudFoundry:ClientSecret", null));
        using (GatewayApplication.Build([], c => c.AddInMemoryCollection(none))) { }
        using (GatewayApplication.Build([], c => c.AddInMemoryCollection(Gateway(("CloudFoundry:AllowedRoles", "space_developer, space_manager"))))) { }
    }
}
