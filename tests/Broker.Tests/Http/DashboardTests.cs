using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Http;

/// <summary>The per-instance dashboard: reachable by its unguessable link or with operator credentials only.</summary>
public sealed class DashboardTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task The_dashboard_link_shows_the_cluster_and_a_forged_link_does_not()
    {
        var id = Guid.NewGuid().ToString();
        var created = await fixture.Osb.ProvisionClusterAsync(id, instanceName: "team-db-cluster");
        var link = new Uri(created.Field("dashboard_url")!);
        await fixture.Osb.WaitForOperationAsync(id);

        using var anonymous = new HttpClient();
        var page = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("team-db-cluster", html);
        Assert.Contains("cluster-small", html);
        Assert.Contains($"ondemand-{id}", html);
        Assert.Contains("succeeded", html);

        var forged = new Uri(link.GetLeftPart(UriPartial.Path) + "?token=" + new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(forged)).StatusCode);
        var otherInstance = new Uri(link.ToString().Replace(id, Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(otherInstance)).StatusCode);
    }

    [Fact]
    public async Task Operators_open_any_dashboard_with_their_credentials()
    {
        var id = Guid.NewGuid().ToString();
        await fixture.Osb.ProvisionClusterAsync(id);
        using var operatorClient = new HttpClient { BaseAddress = fixture.Stack.GatewayUrl };
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}")));
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync($"/dashboard/instances/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.GetAsync($"/dashboard/instances/{Guid.NewGuid()}")).StatusCode);
        // broker credentials are not operator credentials
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Stack.Client.GetAsync($"/dashboard/instances/{id}")).StatusCode);
    }

    [Fact]
    public async Task Health_ready_is_200_once_connected()
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayUrl };
        var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
