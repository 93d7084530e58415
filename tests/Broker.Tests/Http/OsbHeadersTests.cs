using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Http;

/// <summary>docs/osb-behaviour.md, "Every endpoint": what every endpoint checks, in Cloud Controller's order.</summary>
public sealed class OsbHeadersTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    private HttpClient Raw(string? version = "2.15", string? user = BrokerStack.BrokerUser, string? password = BrokerStack.BrokerPassword)
    {
        var client = new HttpClient { BaseAddress = fixture.Stack.GatewayUrl };
        if (user is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        if (version is not null) client.DefaultRequestHeaders.TryAddWithoutValidation("X-Broker-API-Version", version);
        return client;
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("broker", "wrong")]
    [InlineData("someone", BrokerStack.BrokerPassword)]
    public async Task Wrong_or_missing_credentials_are_401_even_without_a_version_header(string? user, string? password)
    {
        using var client = Raw(version: null, user: user, password: password);
        var response = await client.GetAsync("/v2/catalog");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2.12")]
    [InlineData("1.15")]
    [InlineData("3.0")]
    [InlineData("2")]
    [InlineData("latest")]
    public async Task A_missing_or_unsupported_version_is_412_with_a_description(string? version)
    {
        using var client = Raw(version: version);
        var response = await client.GetAsync("/v2/catalog");
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("2.13", body["description"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("2.13")]
    [InlineData("2.14")]
    [InlineData("2.15")]
    [InlineData("2.16")]
    [InlineData("2.17")]
    public async Task Every_version_from_2_13_is_accepted(string version)
    {
        using var client = Raw(version: version);
        var response = await client.GetAsync("/v2/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_request_identity_is_echoed_on_success_and_on_errors()
    {
        using var client = Raw();
        foreach (var path in new[] { "/v2/catalog", "/v2/service_instances/nope/last_operation" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Broker-API-Request-Identity", "e26cea1e-2a8a-4f4a-a3b4-0d8b4c2e8f3a");
            var response = await client.SendAsync(request);
            Assert.Equal("e26cea1e-2a8a-4f4a-a3b4-0d8b4c2e8f3a", response.Headers.GetValues("X-Broker-API-Request-Identity").Single());
        }
    }

    [Theory]
    [InlineData("cloudfoundry")]
    [InlineData("cloudfoundry not-base64!!")]
    [InlineData("cloudfoundry bm90IGpzb24=")] // "not json"
    [InlineData("cloudfoundry e30=")]         // "{}": no user_id
    public async Task A_malformed_originating_identity_is_400_and_creates_nothing(string header)
    {
        var id = Guid.NewGuid().ToString();
        var answer = await fixture.Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true",
            OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall), r => r.Headers.TryAddWithoutValidation("X-Broker-API-Originating-Identity", header));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("Originating-Identity", answer.Field("description"));
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Osb.LastOperationAsync(id)).Status);
    }

    [Fact]
    public async Task A_valid_originating_identity_is_accepted()
    {
        var identity = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"user_id\":\"683ea748-3092-4ff4-b656-39cacc4d5360\"}"));
        var answer = await fixture.Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{Guid.NewGuid()}?accepts_incomplete=true",
            OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall), r => r.Headers.TryAddWithoutValidation("X-Broker-API-Originating-Identity", $"cloudfoundry {identity}"));
        Assert.Equal(HttpStatusCode.Accepted, answer.Status);
    }

    [Fact]
    public async Task Malformed_json_is_400_MalformedJson_and_unknown_fields_are_ignored()
    {
        var id = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true")
        {
            Content = new StringContent("{\"service_id\": ", Encoding.UTF8, "application/json"),
        };
        var response = await fixture.Stack.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("MalformedJson", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());

        var body = OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall);
        body["some_future_field"] = new JsonObject { ["x"] = 1 };
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Osb.ProvisionAsync(id, body)).Status);
    }
}
