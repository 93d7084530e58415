using System.Net.Http.Headers;
using System.Text;
using Npgsql;

namespace OnDemand.Tests.Security;

/// <summary>
/// Issue 11, docs/security.md "Who can reach what": /metrics on gateways and silos answers operators only, and no
/// label carries a connection string, host name, port or user name.
/// </summary>
public sealed class MetricsTests(StackFixture fixture, PostgresFixture postgres) : IClassFixture<StackFixture>
{
    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private Uri SiloUrl => new(fixture.Stack.Silos[0].Urls.First());

    [Fact]
    public async Task Metrics_on_the_gateway_and_the_silo_need_operator_credentials()
    {
        foreach (var url in new[] { new Uri(fixture.Stack.GatewayUrl, "/metrics"), new Uri(SiloUrl, "/metrics") })
        {
            using var client = new HttpClient();
            var anonymous = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString());
            var body = JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!;
            Assert.Equal("Unauthorized", body["error"]!.GetValue<string>());
            Assert.NotNull(body["description"]);

            using var broker = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = Basic(BrokerStack.BrokerUser, BrokerStack.BrokerPassword) } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(broker)).StatusCode);
            using var upperCase = new HttpRequestMessage(HttpMethod.Get, new Uri(url, "/METRICS"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(upperCase)).StatusCode);

            using var operatorRequest = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = Basic("operator", BrokerStack.OperatorPassword) } };
            var scraped = await client.SendAsync(operatorRequest);
            Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        }
    }

    [Fact]
    public async Task A_gateway_without_an_operator_password_serves_metrics_to_nobody()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Broker:OperatorPassword"] = null });
        using var client = new HttpClient();
        foreach (var authorization in new AuthenticationHeaderValue?[] { null, Basic("operator", ""), Basic("operator", BrokerStack.OperatorPassword) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(stack.GatewayUrl, "/metrics")) { Headers = { Authorization = authorization } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task No_metric_label_names_the_database_host_port_or_user()
    {
        // Some database work first: the membership table, grain state, a cluster's database account.
        var pg = new PgSession(fixture.Osb, postgres.Server);
        var cluster = await pg.ClusterAsync("metrics-" + Guid.NewGuid().ToString("N")[..8]);
        await pg.DatabaseAsync(cluster);
        var connection = new NpgsqlConnectionStringBuilder(fixture.Stack.ConnectionString);

        foreach (var url in new[] { new Uri(fixture.Stack.GatewayUrl, "/metrics"), new Uri(SiloUrl, "/metrics") })
        {
            using var client = new HttpClient();
            client.DefaultRequestHeaders.Authorization = Basic("operator", BrokerStack.OperatorPassword);
            var text = await client.GetStringAsync(url);
            Assert.Contains("# TYPE", text);
            var labels = string.Join("\n", text.Split('\n').Where(line => !line.StartsWith('#')).Select(line => line.Split(' ')[0]));
            Assert.DoesNotContain("Host=", labels, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Username=", labels, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain($"{connection.Host}:{connection.Port}", labels);
            Assert.DoesNotContain($"\"{connection.Host}\"", labels);
            Assert.DoesNotContain($"\"{connection.Username}\"", labels);
            Assert.DoesNotContain(connection.Database!, labels);
            Assert.DoesNotContain("Username", labels, StringComparison.OrdinalIgnoreCase);
        }
    }
}
