using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Issue 10: the multi-node topology (two silos, two gateways on one PostgreSQL) under load loses a silo. Clients
/// create clusters and poll last_operation through both gateways (taking turns, as a load balancer would) while one
/// silo is killed without deactivating its grains. The membership settings are the production defaults
/// (<see cref="OnDemand.Silo.FastFailover"/>), not the test stack's faster ones. Afterwards: no accepted operation
/// is lost, no build is duplicated, and once the recovery window has passed every request succeeds. The gateways
/// wait at most 5 s for a grain, so "no 503 after the recovery window" also says no request waited longer than that.
/// </summary>
public sealed class MultiNodeFailoverTests(PostgresFixture postgres, ITestOutputHelper output)
{
    /// <summary>From the end of the kill: death declaration (about 5 s) plus the 5 s response timeout of a request caught by it.</summary>
    private static readonly TimeSpan RecoveryWindow = TimeSpan.FromSeconds(10);
    private const int Creators = 3;
    private const int Pollers = 3;

    private sealed record Exchange(string What, string Id, int Gateway, HttpStatusCode Status, DateTime Started, DateTime Ended, string Body);

    [Fact]
    public async Task Killing_one_of_two_silos_under_load_loses_nothing_duplicates_nothing_and_recovers()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?>
        {
            ["Orleans:ResponseTimeout"] = "00:00:05",
            // The production failure detection (FastFailover): null removes the test stack's faster overrides.
            ["Orleans:Membership:ProbeTimeout"] = null,
            ["Orleans:Membership:NumMissedProbesLimit"] = null,
            ["Orleans:Membership:NumVotesForDeathDeclaration"] = null,
            ["Orleans:Membership:TableRefreshTimeout"] = null,
            ["Orleans:GatewayListRefreshPeriod"] = null,
        }, new OnDemand.ConcourseEmulator.EmulatorOptions
        {
            Username = "admin",
            Password = "admin",
            Team = "main",
            ClusterPostgres = postgres.Server.AdminConnectionString,
            BuildDuration = TimeSpan.FromMilliseconds(500), // creates are in flight when the silo dies
        });
        await stack.StartSiloAsync();
        await stack.StartGatewayAsync();
        var gateways = stack.Gateways.Select(g => new OsbClient(BrokerStack.NewClient(new Uri(g.Urls.First())))).ToArray();
        foreach (var gateway in gateways) await Eventually.MatchesAsync(() => gateway.SendAsync(HttpMethod.Get, "/health/ready"), a => a.Status == HttpStatusCode.OK, "gateway ready", TimeSpan.FromSeconds(30));

        var log = new ConcurrentQueue<Exchange>();
        var accepted = new ConcurrentQueue<string>();
        var turn = 0;
        async Task<Answer> SendAsync(string what, string id, Func<OsbClient, Task<Answer>> request)
        {
            var gateway = Interlocked.Increment(ref turn) % gateways.Length;
            var started = DateTime.UtcNow;
            Answer answer;
            try { answer = await request(gateways[gateway]); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            { answer = new Answer((HttpStatusCode)0, null, e.Message, new Dictionary<string, string>(), null); }
            log.Enqueue(new Exchange(what, id, gateway, answer.Status, started, DateTime.UtcNow, answer.Text));
            return answer;
        }

        using var stop = new CancellationTokenSource();
        var creators = Enumerable.Range(0, Creators).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var id = Guid.NewGuid().ToString();
                // Like Cloud Controller's retry of an unanswered PUT: the same request again (it is idempotent).
                while (true)
                {
                    var answer = await SendAsync("create", id, g => g.ProvisionClusterAsync(id));
                    if (answer.Status is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.Created) break;
                    await Task.Delay(100);
                }
                accepted.Enqueue(id);
                await Task.Delay(200);
            }
        })).ToList();
        var pollers = Enumerable.Range(0, Pollers).Select(p => Task.Run(async () =>
        {
            var random = new Random(p);
            while (!stop.IsCancellationRequested)
            {
                var ids = accepted.ToArray();
                if (ids.Length > 0)
                {
                    var id = ids[random.Next(ids.Length)];
                    await SendAsync("last_operation", id, g => g.LastOperationAsync(id));
                }
                await Task.Delay(50);
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var killStarted = DateTime.UtcNow;
        await stack.KillSiloAsync(stack.Silos[0]);
        var recovered = DateTime.UtcNow + RecoveryWindow;
        await Task.Delay(RecoveryWindow + TimeSpan.FromSeconds(4));
        await stop.CancelAsync();
        await Task.WhenAll(creators.Concat(pollers));

        var exchanges = log.OrderBy(e => e.Started).ToList();
        output.WriteLine($"{exchanges.Count} requests, {accepted.Count} clusters; kill at {killStarted:HH:mm:ss.fff}, recovery until {recovered:HH:mm:ss.fff}");
        foreach (var second in exchanges.GroupBy(e => (int)Math.Floor((e.Started - killStarted).TotalSeconds)).OrderBy(g => g.Key))
            output.WriteLine($"  t{second.Key:+0;-0}s: {second.Count()} requests, " + string.Join(", ", second.GroupBy(e => (int)e.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));

        // Every request after the recovery window succeeded (and so none waited for the 5 s timeout).
        var late = exchanges.Where(e => e.Started >= recovered).ToList();
        Assert.NotEmpty(late);
        var failedLate = late.Where(e => e.Status is not (HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.Created)).ToList();
        Assert.True(failedLate.Count == 0, "after the recovery window:\n" + string.Join("\n", failedLate.Take(10).Select(e => $"{e.What} {e.Id} via gateway {e.Gateway}: {(int)e.Status} {e.Body}")));
        // Before the kill, too.
        Assert.All(exchanges.Where(e => e.Ended < killStarted), e => Assert.True(e.Status is HttpStatusCode.OK or HttpStatusCode.Accepted, $"{e.What} {e.Id}: {(int)e.Status} {e.Body}"));

        // No lost operation: every accepted create succeeds; no duplicate build: exactly one deploy build each.
        var ids = accepted.ToList();
        Assert.True(ids.Count >= Creators * 5, $"only {ids.Count} clusters were created");
        await Task.WhenAll(ids.Select((id, i) => Task.Run(async () =>
            Assert.Equal("succeeded", (await gateways[i % gateways.Length].WaitForOperationAsync(id, TimeSpan.FromSeconds(30)))["state"]!.GetValue<string>()))));
        var builds = ids.Select(id => (Id: id, Count: stack.Concourse.State.GetBuilds($"ondemand-{id}", "deploy").Count)).Where(b => b.Count != 1).ToList();
        Assert.True(builds.Count == 0, "deploy builds other than one: " + string.Join(", ", builds.Select(b => $"{b.Id}: {b.Count}")));
    }
}
