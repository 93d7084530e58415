using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OnDemand.BrokerGateway;
using OnDemand.BrokerGateway.Dashboard;

namespace OnDemand.Tests.Security;

/// <summary>
/// Issue 11, docs/security.md "Dashboard links": links expire after Broker:DashboardLinkLifetime, open nothing once
/// their instance is deleted, are built on the configured public URL and never on a request's Host header, and the
/// page (and its refusals) carry security headers.
/// </summary>
public sealed class DashboardLinkTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private static DashboardLinks Links(TimeProvider clock, string? publicUrl = null, string urls = "http://127.0.0.1:8080", TimeSpan? lifetime = null) => new(
        Options.Create(new GatewaySettings { DashboardSecret = BrokerStack.DashboardSecret, PublicUrl = publicUrl, DashboardLinkLifetime = lifetime }),
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls }).Build(), clock);

    private static (string Expires, string Token) Query(string link)
    {
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(link).Query);
        return (query["expires"]!, query["token"]!);
    }

    [Fact]
    public void A_link_works_for_its_configured_lifetime_and_not_a_second_longer()
    {
        var clock = new ManualClock();
        foreach (var lifetime in new[] { DashboardLinks.DefaultLifetime, TimeSpan.FromMinutes(5) })
        {
            var links = Links(clock, lifetime: lifetime == DashboardLinks.DefaultLifetime ? null : lifetime);
            Assert.Equal(lifetime, links.Lifetime);
            var id = Guid.NewGuid().ToString();
            var (expires, token) = Query(links.For(id));
            Assert.Equal(LinkCheck.Valid, links.Check(id, expires, token));
            clock.Advance(lifetime - TimeSpan.FromSeconds(2));
            Assert.Equal(LinkCheck.Valid, links.Check(id, expires, token));
            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(LinkCheck.Expired, links.Check(id, expires, token));
            // a later expiry with the old token, or another instance's id: not a link at all
            Assert.Equal(LinkCheck.Invalid, links.Check(id, (long.Parse(expires) + 3600).ToString(), token));
            Assert.Equal(LinkCheck.Invalid, links.Check(Guid.NewGuid().ToString(), expires, token));
        }
    }

    [Fact]
    public async Task An_expired_link_is_refused_with_an_osb_body_that_says_how_to_get_a_fresh_one()
    {
        var id = Guid.NewGuid().ToString();
        var created = await fixture.Osb.ProvisionClusterAsync(id);
        await fixture.Osb.WaitForOperationAsync(id);
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(created.Field("dashboard_url"))).StatusCode);

        // A link the gateway issued two hours ago (same secret, same URL): its lifetime (one hour) is over.
        var twoHoursAgo = new ManualClock();
        twoHoursAgo.Advance(TimeSpan.FromHours(-2));
        var old = Links(twoHoursAgo, urls: fixture.Stack.GatewayUrl.ToString()).For(id);
        var refused = await anonymous.GetAsync(old);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Basic", refused.Headers.WwwAuthenticate.ToString());
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("Unauthorized", body["error"]!.GetValue<string>());
        Assert.Contains("expired", body["description"]!.GetValue<string>());

        // The broker answers every fetch with a fresh link, which works.
        var fetched = await fixture.Osb.FetchAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(fetched.Field("dashboard_url"))).StatusCode);
    }

    [Fact]
    public async Task A_link_opens_nothing_once_its_instance_is_deleted()
    {
        var id = Guid.NewGuid().ToString();
        var link = (await fixture.Osb.ProvisionClusterAsync(id)).Field("dashboard_url")!;
        await fixture.Osb.WaitForOperationAsync(id);
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(link)).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Osb.DeprovisionAsync(id)).Status);
        var gone = await Eventually.MatchesAsync(() => anonymous.GetAsync(link), r => r.StatusCode == HttpStatusCode.Gone, "the deleted instance's link answers 410");
        var body = JsonNode.Parse(await gone.Content.ReadAsStringAsync())!;
        Assert.Contains("deleted", body["description"]!.GetValue<string>());
        // Operators still see the deleted instance's last state.
        using var operatorClient = new HttpClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}")));
        var page = await operatorClient.GetAsync(new Uri(fixture.Stack.GatewayUrl, $"/dashboard/instances/{id}"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Deleted", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Links_are_built_on_the_configured_url_never_on_the_host_header()
    {
        var id = Guid.NewGuid().ToString();
        var created = await fixture.Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true",
            OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall), request => request.Headers.Host = "evil.example.com");
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        var expected = fixture.Stack.GatewayUrl.ToString().TrimEnd('/') + "/dashboard/instances/" + id + "?";
        Assert.StartsWith(expected, created.Field("dashboard_url"));
        await fixture.Osb.WaitForOperationAsync(id);
        var fetched = await fixture.Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}", configure: request => request.Headers.Host = "evil.example.com");
        Assert.StartsWith(expected, fetched.Field("dashboard_url"));

        // Broker:PublicUrl wins over the gateway's own URL; a wildcard Urls and no PublicUrl is refused at start.
        Assert.StartsWith("https://broker.example.org/dashboard/instances/", Links(TimeProvider.System, publicUrl: "https://broker.example.org/").For(id));
        var error = Assert.ThrowsAny<InvalidOperationException>(() => Links(TimeProvider.System, urls: "http://0.0.0.0:8080"));
        Assert.Contains("Broker:PublicUrl", error.Message);
        Assert.ThrowsAny<InvalidOperationException>(() => Links(TimeProvider.System, urls: "http://*:8080"));
        Assert.ThrowsAny<InvalidOperationException>(() => Links(TimeProvider.System, urls: "http://+:8080"));
    }

    [Fact]
    public async Task The_dashboard_and_its_refusals_send_security_headers()
    {
        var id = Guid.NewGuid().ToString();
        var link = (await fixture.Osb.ProvisionClusterAsync(id)).Field("dashboard_url")!;
        using var anonymous = new HttpClient();
        using var operatorClient = new HttpClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}")));
        var answers = new[]
        {
            (await anonymous.GetAsync(link), HttpStatusCode.OK),
            (await anonymous.GetAsync(link.Replace("token=", "token=0")), HttpStatusCode.Unauthorized),
            (await operatorClient.GetAsync(new Uri(fixture.Stack.GatewayUrl, $"/dashboard/instances/{Guid.NewGuid()}")), HttpStatusCode.NotFound),
        };
        foreach (var (answer, status) in answers)
        {
            Assert.Equal(status, answer.StatusCode);
            Assert.Equal(DashboardHeaders.ContentSecurityPolicy, answer.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains("frame-ancestors 'none'", DashboardHeaders.ContentSecurityPolicy);
            Assert.Equal("DENY", answer.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", answer.Headers.GetValues("Referrer-Policy").Single());
            Assert.True(answer.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
            Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Fact]
    public void A_gateway_with_a_zero_link_lifetime_does_not_start()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orleans"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none",
            ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig,
            ["Broker:Password"] = "secret",
            ["Broker:OperatorPassword"] = "operator",
            ["Broker:DashboardSecret"] = BrokerStack.DashboardSecret,
            ["Broker:DashboardLinkLifetime"] = "00:00:00",
            ["Urls"] = "http://127.0.0.1:9",
        };
        Assert.Contains("Broker:DashboardLinkLifetime", Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(settings))).Message);
        settings["Broker:DashboardLinkLifetime"] = null;
        settings["Urls"] = "http://0.0.0.0:9";
        Assert.Contains("Broker:PublicUrl", Assert.ThrowsAny<Exception>(() => GatewayApplication.Build([], c => c.AddInMemoryCollection(settings))).Message);
    }
}
