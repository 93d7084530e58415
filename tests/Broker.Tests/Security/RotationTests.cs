using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Security;

/// <summary>
/// docs/security.md "Rotating secrets": a new broker password (and operator password) takes effect when the gateways
/// are redeployed with it, the old one is refused from then on; a new dashboard secret invalidates every link made
/// with the old one, and the next fetch of the instance gives a working link.
/// </summary>
public sealed class RotationTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_broker_password_the_operator_password_and_the_dashboard_secret_rotate_with_a_redeploy()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var id = Guid.NewGuid().ToString();
        var oldLink = (await new OsbClient(stack.Client).ProvisionClusterAsync(id)).Field("dashboard_url")!;
        await new OsbClient(stack.Client).WaitForOperationAsync(id);
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(oldLink)).StatusCode);

        await stack.RedeployAsync(new Dictionary<string, string?>
        {
            ["Broker:Password"] = "rotated-broker-password",
            ["Broker:OperatorPassword"] = "rotated-operator-password",
            ["Operator:Password"] = "rotated-operator-password",
            ["Broker:DashboardSecret"] = "rotated-dashboard-secret-0123456789",
        });

        // The old broker password is refused; the new one works (Cloud Controller: cf update-service-broker).
        Assert.Equal(HttpStatusCode.Unauthorized, (await stack.Client.GetAsync("/v2/catalog")).StatusCode);
        using var rotated = new HttpClient { BaseAddress = stack.GatewayUrl };
        rotated.DefaultRequestHeaders.Authorization = Basic(BrokerStack.BrokerUser, "rotated-broker-password");
        rotated.DefaultRequestHeaders.Add("X-Broker-API-Version", "2.15");
        Assert.Equal(HttpStatusCode.OK, (await rotated.GetAsync("/v2/catalog")).StatusCode);

        // Links made with the old dashboard secret open nothing; the next fetch gives one that works.
        // (the redeployed gateway listens on a new port: the same link, on it)
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(stack.GatewayUrl, new Uri(oldLink).PathAndQuery))).StatusCode);
        var fresh = await new OsbClient(rotated).FetchAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(fresh.Field("dashboard_url"))).StatusCode);

        // Operators: the old password is refused on the gateway's and the silo's operator routes, the new one works.
        var silo = new Uri(stack.Silos[0].Urls.First());
        foreach (var url in new[] { new Uri(stack.GatewayUrl, "/metrics"), new Uri(silo, "/metrics"), new Uri(silo, "/dashboard/ClusterStats") })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(url, Basic("operator", BrokerStack.OperatorPassword))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(url, Basic("operator", "rotated-operator-password"))).StatusCode);
        }
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpResponseMessage> SendAsync(Uri url, AuthenticationHeaderValue authorization)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = authorization } };
        return await client.SendAsync(request);
    }
}
