using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace OnDemand.Tests.FirstRun;

/// <summary>
/// The first-run path of README's Quickstart, for real: a copy of the checkout in a fresh 0700 folder (as in root's home)
/// started with <c>./run.sh &amp;</c> from a script. The test suite runs as root here (CI), so this covers the root
/// case, where PostgreSQL must run as another account that cannot enter the 0700 folder; as an ordinary user the same
/// test covers that case.
/// </summary>
public sealed partial class FirstRunTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_checkout_in_a_0700_folder_runs_in_the_background_stops_on_SIGINT_and_TERM_and_restarts_with_its_state_and_new_logs()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "run.sh is for Linux");
        await using var run = await LocalRun.CopyCheckoutAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        // First run: it starts, and serves the catalog with the generated credentials.
        await run.StartInBackgroundAsync(1);
        await CatalogAnswersAsync(run, http, 1);
        var credentials = run.Credentials();

        // No generated secret on any command line (ps shows them to every user).
        foreach (var name in new[] { "PGPASSWORD", "BROKER_PASSWORD", "OPERATOR_PASSWORD", "DASHBOARD_SECRET" })
        {
            Assert.True(LocalRun.CommandLinesHolding(credentials[name]).Count == 0,
                $"{name} is on a command line: {string.Join(" | ", LocalRun.CommandLinesHolding(credentials[name]))}");
        }

        // What README's quickstart names on the emulator answers.
        foreach (var route in ReadmeEmulatorRoutes())
        {
            var answer = await http.GetAsync($"http://127.0.0.1:{run.EmulatorPort}{route}", TestContext.Current.CancellationToken);
            Assert.True(answer.IsSuccessStatusCode, $"README names GET {route} on the emulator; it answers {(int)answer.StatusCode}");
        }

        // State to find again after a restart: a row in the broker's database and a service instance.
        var instanceId = Guid.NewGuid().ToString();
        await using (var connection = new NpgsqlConnection(
            $"Host=127.0.0.1;Port={run.PgPort};Username=postgres;Password={credentials["PGPASSWORD"]};Database=ondemand;Pooling=false"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand("CREATE TABLE first_run_marker (id text); INSERT INTO first_run_marker VALUES ('kept')", connection);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        using (var provision = Osb(run, credentials, HttpMethod.Put, $"/v2/service_instances/{instanceId}?accepts_incomplete=true", $$"""
            {"service_id":"{{Catalog.MySql}}","plan_id":"{{Catalog.ClusterSmall}}","organization_guid":"org-1","space_guid":"space-1"}
            """))
        {
            var response = await http.SendAsync(provision, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // SIGINT to a background run (started with SIGINT ignored) stops everything it started.
        var firstPid = run.Pid;
        await LocalRun.RunAsync("kill", "-INT", firstPid.ToString());
        await AllStoppedAsync(run, firstPid, "SIGINT", 1);

        // Second run: the same data folder, a new log folder, the state is there.
        await run.StartInBackgroundAsync(2);
        await CatalogAnswersAsync(run, http, 2);
        Assert.Equal(credentials["BROKER_PASSWORD"], run.Credentials()["BROKER_PASSWORD"]);
        await using (var connection = new NpgsqlConnection(
            $"Host=127.0.0.1;Port={run.PgPort};Username=postgres;Password={credentials["PGPASSWORD"]};Database=ondemand;Pooling=false"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand("SELECT id FROM first_run_marker", connection);
            Assert.Equal("kept", await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }
        using (var lastOperation = Osb(run, credentials, HttpMethod.Get, $"/v2/service_instances/{instanceId}/last_operation"))
        {
            var response = await http.SendAsync(lastOperation, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var logs = Path.Combine(run.DataDir, "logs");
        var runFolders = Directory.GetDirectories(logs).Select(Path.GetFileName).Where(name => name != "latest").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, runFolders.Count);
        Assert.Equal(runFolders[^1], new DirectoryInfo(Path.Combine(logs, "latest")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(logs, runFolders[0]!, "gateway.log")), "the first run's logs are kept");
        Assert.True(File.Exists(Path.Combine(logs, runFolders[1]!, "gateway.log")), "the second run logs to its own folder");

        // TERM stops a background run too.
        var secondPid = run.Pid;
        await LocalRun.RunAsync("kill", "-TERM", secondPid.ToString());
        await AllStoppedAsync(run, secondPid, "TERM", 2);
    }

    private static async Task CatalogAnswersAsync(LocalRun run, HttpClient http, int attempt)
    {
        await Eventually.TrueAsync(async () =>
        {
            if (!LocalRun.IsAlive(run.Pid))
            {
                Assert.Fail($"run.sh (run {attempt}) ended before the broker answered:\n{run.Output(attempt)}");
            }
            // run.sh writes the file on its first start: wait until it is whole.
            if (!File.Exists(Path.Combine(run.DataDir, "credentials.env")) || !run.Credentials().ContainsKey("PGPASSWORD")) return false;
            using var request = Osb(run, run.Credentials(), HttpMethod.Get, "/v2/catalog");
            var response = await http.SendAsync(request);
            return response.StatusCode == HttpStatusCode.OK;
        }, $"run {attempt}: GET /v2/catalog answers 200 on port {run.Port}", StartTimeout);
    }

    private static async Task AllStoppedAsync(LocalRun run, int pid, string signal, int attempt)
    {
        await Eventually.TrueAsync(() => Task.FromResult(!LocalRun.IsAlive(pid)),
            $"run.sh (pid {pid}) ends on {signal}; its output:\n{run.Output(attempt)}", StopTimeout);
        await Eventually.MatchesAsync(
            () => Task.FromResult(string.Join("\n", run.ProcessesOfThisRun())), left => left.Length == 0,
            $"no process of the run is left after {signal}", StopTimeout);
        await Eventually.MatchesAsync(
            () => Task.FromResult(string.Join(",", run.PortsInUse())), inUse => inUse.Length == 0,
            $"every port of the run is free after {signal}", StopTimeout);
    }

    private static HttpRequestMessage Osb(LocalRun run, IReadOnlyDictionary<string, string> credentials, HttpMethod method, string path, string? body = null)
    {
        var request = new HttpRequestMessage(method, $"http://127.0.0.1:{run.Port}{path}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials["BROKER_USERNAME"]}:{credentials["BROKER_PASSWORD"]}")));
        request.Headers.Add("X-Broker-API-Version", "2.15");
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    /// <summary>Every <c>/_emulator/...</c> path README's quickstart tells the reader to GET with curl.</summary>
    private static IReadOnlyList<string> ReadmeEmulatorRoutes()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var routes = EmulatorCurl().Matches(readme).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(routes);
        return routes;
    }

    [GeneratedRegex(@"curl (?:-s )?127\.0\.0\.1:8090(/_emulator/[A-Za-z0-9/_-]+)")]
    private static partial Regex EmulatorCurl();
}
