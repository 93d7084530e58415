using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Security;

/// <summary>
/// docs/security.md "Who can reach what": the silo's Orleans Dashboard, its page, its assets and every API route it
/// maps, answers operators only; broker credentials are not operator credentials.
/// </summary>
public sealed class OrleansDashboardTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    public static TheoryData<string> Routes => new()
    {
        "/dashboard", "/dashboard/", "/dashboard/index.html", "/dashboard/index.min.js", "/dashboard/version", "/dashboard/DashboardCounters",
        "/dashboard/ClusterStats", "/dashboard/Reminders", "/dashboard/TopGrainMethods", "/dashboard/GrainTypes", "/dashboard/LifecycleStages",
        "/dashboard/Trace", "/Dashboard/ClusterStats", "/DASHBOARD/DashboardCounters", "/dashboard//ClusterStats",
    };

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_dashboard_route_of_the_silo_needs_operator_credentials(string route)
    {
        var url = new Uri(new Uri(fixture.Stack.Silos[0].Urls.First()), route);
        using var client = new HttpClient();
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, url);
        var refused = await client.SendAsync(anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Unauthorized", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
        using var broker = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = Basic(BrokerStack.BrokerUser, BrokerStack.BrokerPassword) } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(broker)).StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = Basic("operator", BrokerStack.OperatorPassword + "x") } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
    }

    [Fact]
    public async Task Operators_reach_the_dashboard_and_its_api()
    {
        using var client = new HttpClient { BaseAddress = new Uri(fixture.Stack.Silos[0].Urls.First()) };
        client.DefaultRequestHeaders.Authorization = Basic("operator", BrokerStack.OperatorPassword);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/dashboard/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/dashboard/ClusterStats")).StatusCode);
    }
}
