using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Security;

/// <summary>A broker whose gateways trust 127.0.0.1 as their proxy, and allow 3 failed authentications per address and hour.</summary>
public sealed class LimitedStackFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["AuthFailureLimit:PermitLimit"] = "3",
        ["AuthFailureLimit:Window"] = "01:00:00",
        ["Broker:KnownProxies:0"] = "127.0.0.1",
    };

    public BrokerStack Stack { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Stack = await BrokerStack.StartAsync(postgres.Server, Settings);

    public async ValueTask DisposeAsync() => await Stack.DisposeAsync();
}

/// <summary>
/// Issue 11, docs/security.md "Failed authentications": failures are limited per client address (429 with
/// Retry-After and an OSB body beyond AuthFailureLimit:PermitLimit per AuthFailureLimit:Window) on the OSB API, the
/// instance dashboards and /metrics; the right credentials are never limited; X-Forwarded-For names the client only
/// when the request comes from a proxy in Broker:KnownProxies.
/// </summary>
public sealed class FailedAuthenticationTests(LimitedStackFixture fixture, PostgresFixture postgres) : IClassFixture<LimitedStackFixture>
{
    private static readonly string Right = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{BrokerStack.BrokerUser}:{BrokerStack.BrokerPassword}"));
    private static readonly string Wrong = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{BrokerStack.BrokerUser}:not-the-password"));

    private static async Task<HttpResponseMessage> GetAsync(Uri url, string? basic, string? forwardedFor)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Broker-API-Version", "2.15");
        if (basic is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    private Uri Catalog(BrokerStack? stack = null) => new((stack ?? fixture.Stack).GatewayUrl, "/v2/catalog");

    [Fact]
    public async Task Failures_beyond_the_limit_are_429_with_retry_after_and_an_osb_body_and_the_right_password_still_works()
    {
        const string client = "203.0.113.10";
        // Requests with the right password take nothing from the limit.
        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.OK, (await GetAsync(Catalog(), Right, client)).StatusCode);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(Catalog(), Wrong, client)).StatusCode);

        var limited = await GetAsync(Catalog(), Wrong, client);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Equal("application/json", limited.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!;
        Assert.Equal("TooManyRequests", body["error"]!.GetValue<string>());
        Assert.Contains("failed authentications", body["description"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(Catalog(), null, client)).StatusCode);

        // Cloud Controller, with the right password from the same address, is never limited.
        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.OK, (await GetAsync(Catalog(), Right, client)).StatusCode);
    }

    [Fact]
    public async Task Each_client_address_has_its_own_limit()
    {
        for (var i = 0; i < 4; i++) await GetAsync(Catalog(), Wrong, "203.0.113.20");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(Catalog(), Wrong, "203.0.113.20")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(Catalog(), Wrong, "203.0.113.21")).StatusCode);
    }

    [Fact]
    public async Task Failures_on_dashboards_and_metrics_count_too()
    {
        const string client = "203.0.113.30";
        var gateway = fixture.Stack.GatewayUrl;
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(new Uri(gateway, "/metrics"), Wrong, client)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(new Uri(gateway, $"/dashboard/instances/{Guid.NewGuid()}?expires=1&token=00"), null, client)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(Catalog(), Wrong, client)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(new Uri(gateway, "/metrics"), Wrong, client)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(new Uri(gateway, $"/dashboard/instances/{Guid.NewGuid()}"), null, client)).StatusCode);

        // The silo's operator routes (no proxy in front: the TCP peer is the client).
        var silo = new Uri(fixture.Stack.Silos[0].Urls.First());
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(new Uri(silo, "/dashboard/ClusterStats"), Wrong, null)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(new Uri(silo, "/metrics"), Wrong, null)).StatusCode);
        var operators = Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(new Uri(silo, "/metrics"), operators, null)).StatusCode);
    }

    [Fact]
    public async Task Failures_on_the_operator_api_count_too_and_the_operators_password_still_works()
    {
        const string client = "203.0.113.40";
        var maintenance = new Uri(fixture.Stack.GatewayUrl, "/operator/maintenance");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(maintenance, Wrong, client)).StatusCode);
        var limited = await GetAsync(maintenance, Wrong, client);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        var operators = Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(maintenance, operators, client)).StatusCode);
    }

    [Fact]
    public async Task X_Forwarded_For_names_the_client_only_behind_a_known_proxy()
    {
        var untrusting = new Dictionary<string, string?>(LimitedStackFixture.Settings) { ["Broker:KnownProxies:0"] = null };
        await using var stack = await BrokerStack.StartAsync(postgres.Server, untrusting);
        // Without a known proxy, a client cannot pick a new address per attempt: every attempt here is 127.0.0.1's.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(Catalog(stack), Wrong, $"198.51.100.{i}")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(Catalog(stack), Wrong, "198.51.100.99")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Catalog(stack), Right, "198.51.100.99")).StatusCode);
    }
}
