using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OnDemand.BrokerGateway.CloudFoundry;

namespace OnDemand.Tests.CloudFoundry;

/// <summary>The Cloud Foundry API client alone, against the fake: finding the UAA, and lists across pages.</summary>
public sealed class CloudFoundryApiTests
{
    private static CloudFoundryApi Client(FakeCloudFoundryApi cf, string? uaaUrl = null, string roles = "space_developer") => new(
        Options.Create(new CloudFoundrySettings
        {
            ApiUrl = cf.ApiUrl,
            ClientId = FakeCloudFoundryApi.ClientId,
            ClientSecret = cf.ClientSecret,
            UaaUrl = uaaUrl,
            AllowedRoles = roles,
            RetryDelay = TimeSpan.Zero,
        }),
        cf.Clock, NullLogger<CloudFoundryApi>.Instance);

    [Fact]
    public async Task The_uaa_is_found_from_the_api_root_login_link_else_its_uaa_link_once()
    {
        foreach (var linksLogin in new[] { true, false })
        {
            await using var cf = await FakeCloudFoundryApi.StartAsync(new ManualClock());
            cf.LinksLogin = linksLogin;
            var org = cf.AddOrg("my-org");
            using var api = Client(cf);
            Assert.Equal(new CloudFoundryResource(org, "my-org"), await api.FindOrganizationAsync("my-org", default));
            Assert.Equal(new CloudFoundryResource(org, "my-org"), await api.FindOrganizationAsync(org, default));
            Assert.Null(await api.FindOrganizationAsync("nope", default));
            Assert.Equal(1, cf.Calls("GET /"));
            Assert.Equal(1, cf.Logins);
        }
    }

    [Fact]
    public async Task A_configured_uaa_is_used_without_asking_the_api_root()
    {
        await using var cf = await FakeCloudFoundryApi.StartAsync(new ManualClock());
        var org = cf.AddOrg("my-org");
        var space = cf.AddSpace(org, "my-space");
        using var api = Client(cf, uaaUrl: cf.ApiUrl + "/uaa/");
        Assert.Equal(new CloudFoundryResource(space, "my-space"), await api.FindSpaceAsync(org, "my-space", default));
        Assert.Equal(0, cf.Calls("GET /"));
        Assert.Equal(1, cf.Logins);
    }

    [Fact]
    public async Task Only_allowed_role_types_in_that_space_count()
    {
        await using var cf = await FakeCloudFoundryApi.StartAsync(new ManualClock());
        cf.PerPage = 1;
        var org = cf.AddOrg("my-org");
        var space = cf.AddSpace(org, "my-space");
        var user = Guid.NewGuid().ToString();
        using var api = Client(cf, roles: "space_manager,space_developer");
        Assert.False(await api.HasSpaceRoleAsync(user, space, ["space_developer"], default));
        cf.Grant(user, "space_auditor", spaceGuid: space);
        cf.Grant(user, "organization_manager", orgGuid: org);
        Assert.False(await api.HasSpaceRoleAsync(user, space, ["space_developer", "space_manager"], default));
        cf.Grant(user, "space_manager", spaceGuid: space);
        Assert.True(await api.HasSpaceRoleAsync(user, space, ["space_developer", "space_manager"], default));
    }

    [Fact]
    public async Task An_api_url_that_is_not_the_cloud_foundry_api_is_refused_naming_the_setting()
    {
        await using var cf = await FakeCloudFoundryApi.StartAsync(new ManualClock());
        using var api = new CloudFoundryApi(Options.Create(new CloudFoundrySettings
        {
            ApiUrl = cf.ApiUrl + "/not-the-api",
            ClientId = FakeCloudFoundryApi.ClientId,
            ClientSecret = cf.ClientSecret,
            UaaUrl = cf.ApiUrl + "/uaa",
            RetryDelay = TimeSpan.Zero,
        }), cf.Clock, NullLogger<CloudFoundryApi>.Instance);
        var error = await Assert.ThrowsAsync<CloudFoundryRefusedException>(() => api.FindOrganizationAsync("my-org", default));
        Assert.Equal($"Cloud Foundry API GET /v3/organizations answered 404 CF-NotFound: Unknown request: CloudFoundry__ApiUrl must be the Cloud Foundry API ({cf.ApiUrl}/not-the-api)",
            error.Message);
    }
}
