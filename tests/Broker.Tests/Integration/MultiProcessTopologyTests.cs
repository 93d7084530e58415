using System.Collections.Concurrent;
using OnDemand.ConcourseEmulator;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Issue 10: the real multi-node topology - two silo processes, two gateway processes, nginx in front of the gateways
/// (run.sh's load-balancing rules), PostgreSQL, the Concourse emulator - under load from clients that create
/// clusters, poll last_operation and delete them, all through nginx. One silo process gets a real <c>kill -9</c>;
/// once the membership table declares it dead ("recovery") every request succeeds. Then one gateway process gets
/// <c>kill -9</c>: nginx retries on the other one, no request fails. At the end: no operation lost (every accepted
/// create succeeded, every accepted delete finished), no build duplicated (one deploy build per cluster, one delete
/// build per deleted one), every live cluster has its pipeline and no deleted one has.
/// No timed assertion: the failover window is bench/ output (bench/run.sh failover).
/// </summary>
public sealed class MultiProcessTopologyTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Workers = 4;
    private const int Readers = 2;

    internal sealed record Exchange(string What, string Id, HttpStatusCode Status, DateTime Started, DateTime Ended, string Body);

    internal static EmulatorOptions Emulator(PostgresServer server) => new()
    {
        Username = "admin",
        Password = "admin",
        Team = "main",
        ClusterPostgres = server.AdminConnectionString,
        BuildDuration = TimeSpan.FromMilliseconds(500), // operations are in flight when a process dies
    };

    [Fact]
    public async Task Kill_9_of_a_silo_and_of_a_gateway_behind_nginx_loses_nothing_duplicates_nothing_and_recovers()
    {
        await using var stack = await MultiProcessStack.StartAsync(postgres.Server, silos: 2, gateways: 2, Emulator(postgres.Server));
        await stack.WarmUpAsync();
        await using var load = new TopologyLoad(stack, Workers, Readers);
        load.Start();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var silo = stack.Silos[0];
        var siloKilled = DateTime.UtcNow;
        silo.Kill();
        // Recovery: the membership table says the silo is dead (the survivors voted it out).
        await Eventually.TrueAsync(async () => await stack.MembershipStatusAsync(silo) == MultiProcessStack.SiloStatusDead,
            "the killed silo declared dead", TimeSpan.FromSeconds(40));
        var recovered = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(4));

        var gateway = stack.Gateways[0];
        var gatewayKilled = DateTime.UtcNow;
        gateway.Kill();
        await Task.Delay(TimeSpan.FromSeconds(4));
        var outcome = await load.StopAsync();

        var exchanges = outcome.Exchanges;
        output.WriteLine($"{exchanges.Count} requests through nginx, {outcome.Created.Count} clusters created, {outcome.Deleted.Count} deleted");
        output.WriteLine($"silo killed at {siloKilled:HH:mm:ss.fff}, declared dead at {recovered:HH:mm:ss.fff} (+{(recovered - siloKilled).TotalSeconds:0.0} s), gateway killed at {gatewayKilled:HH:mm:ss.fff}");
        TopologyLoad.PrintTimeline(output, exchanges, siloKilled);

        var before = exchanges.Where(e => e.Ended < siloKilled).ToList();
        Assert.NotEmpty(before);
        Assert.All(before, e => Assert.True(TopologyLoad.Succeeded(e), $"before the kill: {e}"));
        var after = exchanges.Where(e => e.Started >= recovered).ToList();
        Assert.Contains(after, e => e.Started >= gatewayKilled && e.What == "last_operation");
        var failed = after.Where(e => !TopologyLoad.Succeeded(e)).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} failed requests after the recovery:\n" + string.Join("\n", failed.Take(10)) + "\n" + stack.Logs());

        TopologyLoad.AssertNothingLostNothingDuplicated(stack, outcome);
    }

    /// <summary>
    /// Issue 10: every silo, then every gateway, restarted one at a time (TERM, wait for the exit, start again on the
    /// same ports) under the same load through nginx: no request fails. A silo's graceful shutdown deactivates its
    /// grains (saving their state) and leaves the membership; a gateway's stops accepting, finishes what is in flight,
    /// and nginx sends the next requests to the other gateway.
    /// </summary>
    [Fact]
    public async Task Rolling_restart_of_every_silo_and_gateway_behind_nginx_fails_no_request()
    {
        await using var stack = await MultiProcessStack.StartAsync(postgres.Server, silos: 2, gateways: 2, Emulator(postgres.Server));
        await stack.WarmUpAsync();
        await using var load = new TopologyLoad(stack, Workers, Readers);
        load.Start();
        await Task.Delay(TimeSpan.FromSeconds(3));

        var started = DateTime.UtcNow;
        var steps = new List<string>();
        foreach (var silo in stack.Silos)
        {
            var t = DateTime.UtcNow;
            await silo.StopAsync();
            silo.Start();
            // The gateways find a silo that joined by reading the membership table (GatewayListRefreshPeriod, 5 s) and
            // may still hold its address as dead: stopping the next silo before they use this one leaves them no silo
            // ("No gateways available", seen with a fixed 6 s wait on a loaded machine). So: until it gets their traffic.
            await stack.WaitUntilGatewaysUseAsync(silo);
            steps.Add($"{silo.Name} restarted at +{(t - started).TotalSeconds:0.0} s (stop, rejoin and in use after {(DateTime.UtcNow - t).TotalSeconds:0.0} s)");
        }
        foreach (var gateway in stack.Gateways)
        {
            var t = DateTime.UtcNow;
            await gateway.StopAsync();
            gateway.Start();
            await gateway.WaitUntilReadyAsync();
            // nginx left the stopped gateway out of the upstream for fail_timeout (5 s) after its last refused
            // connection: stopping the next gateway earlier leaves nginx no gateway at all (502 "no live upstreams").
            await Task.Delay(TimeSpan.FromSeconds(6));
            steps.Add($"{gateway.Name} restarted at +{(t - started).TotalSeconds:0.0} s ({(DateTime.UtcNow - t).TotalSeconds - 6:0.0} s)");
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        var outcome = await load.StopAsync();

        var exchanges = outcome.Exchanges;
        output.WriteLine($"{exchanges.Count} requests through nginx, {outcome.Created.Count} clusters created, {outcome.Deleted.Count} deleted");
        foreach (var step in steps) output.WriteLine("  " + step);
        TopologyLoad.PrintTimeline(output, exchanges, started);
        var failed = exchanges.Where(e => !TopologyLoad.Succeeded(e)).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} failed requests during the rolling restart:\n" + string.Join("\n", failed.Take(10)) + "\n" + stack.Logs());
        TopologyLoad.AssertNothingLostNothingDuplicated(stack, outcome);
    }
}

/// <summary>
/// Clients in the shape of Cloud Controller, through the load balancer: workers create a cluster, poll its
/// last_operation until it succeeded, delete every other one and poll until it is gone; readers poll random
/// clusters' last_operation. An unanswered or 503 request is repeated (every OSB request here is idempotent).
/// </summary>
internal sealed class TopologyLoad(MultiProcessStack stack, int workers, int readers) : IAsyncDisposable
{
    private readonly ConcurrentQueue<MultiProcessTopologyTests.Exchange> _log = new();
    private readonly ConcurrentDictionary<string, bool> _created = new();
    private readonly ConcurrentDictionary<string, bool> _deleted = new();
    private readonly ConcurrentQueue<string> _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly OsbClient _client = new(NewClient(stack.Balancer!.Url));

    public sealed record Outcome(List<MultiProcessTopologyTests.Exchange> Exchanges, List<string> Created, List<string> Deleted, List<string> Lost);

    private static HttpClient NewClient(Uri url)
    {
        var client = BrokerStack.NewClient(url);
        client.Timeout = TimeSpan.FromSeconds(20);
        return client;
    }

    public void Start()
    {
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            _tasks.Add(Task.Run(() => WorkAsync(worker)));
        }
        for (var r = 0; r < readers; r++)
        {
            var reader = r;
            _tasks.Add(Task.Run(() => ReadAsync(reader)));
        }
    }

    public async Task<Outcome> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
        return new Outcome(_log.OrderBy(e => e.Started).ToList(), _created.Keys.ToList(), _deleted.Keys.ToList(), _lost.ToList());
    }

    public static bool Succeeded(MultiProcessTopologyTests.Exchange e) => e.What switch
    {
        "create" => e.Status is HttpStatusCode.Accepted or HttpStatusCode.Created or HttpStatusCode.OK,
        "delete" => e.Status is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.Gone,
        "last_operation_gone" => e.Status is HttpStatusCode.OK or HttpStatusCode.Gone,
        _ => e.Status == HttpStatusCode.OK,
    };

    private async Task<Answer> SendAsync(string what, string id, Func<OsbClient, Task<Answer>> request)
    {
        var started = DateTime.UtcNow;
        Answer answer;
        try { answer = await request(_client); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        { answer = new Answer(0, null, e.Message, new Dictionary<string, string>(), null); }
        _log.Enqueue(new MultiProcessTopologyTests.Exchange(what, id, answer.Status, started, DateTime.UtcNow, answer.Text.Length > 300 ? answer.Text[..300] : answer.Text));
        return answer;
    }

    /// <summary>Repeats an idempotent request until <paramref name="done"/> (a client retrying after a 503 or no answer).</summary>
    private async Task<Answer?> UntilAsync(string what, string id, Func<OsbClient, Task<Answer>> request, Func<Answer, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var answer = await SendAsync(what, id, request);
            if (done(answer)) return answer;
            await Task.Delay(100);
        }
        return null;
    }

    private async Task WorkAsync(int worker)
    {
        var n = 0;
        while (!_stop.IsCancellationRequested)
        {
            var id = $"mp-{worker}-{n++}-{Guid.NewGuid():N}"[..36];
            var created = await UntilAsync("create", id, c => c.ProvisionClusterAsync(id),
                a => a.Status is HttpStatusCode.Accepted or HttpStatusCode.Created or HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            if (created is null) { _lost.Enqueue($"{id}: create never accepted"); continue; }
            _created[id] = true;
            // Every accepted create finishes: polled until it leaves "in progress", even after the stop.
            var state = await UntilAsync("last_operation", id, c => c.LastOperationAsync(id),
                a => a.Status == HttpStatusCode.OK && a.Field("state") != "in progress", TimeSpan.FromSeconds(60));
            if (state?.Field("state") != "succeeded") { _lost.Enqueue($"{id}: create ended {state?.ToString() ?? "never"}"); continue; }
            if (n % 2 == 0) continue;
            var deleting = await UntilAsync("delete", id, c => c.DeprovisionAsync(id),
                a => a.Status is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.Gone, TimeSpan.FromSeconds(60));
            if (deleting is null) { _lost.Enqueue($"{id}: delete never accepted"); continue; }
            _deleted[id] = true;
            var gone = await UntilAsync("last_operation_gone", id, c => c.LastOperationAsync(id),
                a => a.Status == HttpStatusCode.Gone || (a.Status == HttpStatusCode.OK && a.Field("state") != "in progress"), TimeSpan.FromSeconds(60));
            if (gone is null || (gone.Status == HttpStatusCode.OK && gone.Field("state") != "succeeded")) _lost.Enqueue($"{id}: delete ended {gone?.ToString() ?? "never"}");
        }
    }

    private async Task ReadAsync(int reader)
    {
        var random = new Random(reader);
        while (!_stop.IsCancellationRequested)
        {
            var ids = _created.Keys.Where(id => !_deleted.ContainsKey(id)).ToArray();
            if (ids.Length > 0)
            {
                var id = ids[random.Next(ids.Length)];
                if (!_deleted.ContainsKey(id)) await SendAsync("last_operation", id, c => c.LastOperationAsync(id));
            }
            await Task.Delay(30);
        }
    }

    public static void PrintTimeline(ITestOutputHelper output, IReadOnlyList<MultiProcessTopologyTests.Exchange> exchanges, DateTime zero)
    {
        foreach (var second in exchanges.GroupBy(e => (int)Math.Floor((e.Started - zero).TotalSeconds)).OrderBy(g => g.Key))
            output.WriteLine($"  t{second.Key:+0;-0}s: {second.Count()} requests, failed {second.Count(e => !Succeeded(e))}, slowest {second.Max(e => (e.Ended - e.Started).TotalSeconds):0.00} s; "
                + string.Join(", ", second.GroupBy(e => (int)e.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
    }

    public static void AssertNothingLostNothingDuplicated(MultiProcessStack stack, Outcome outcome)
    {
        Assert.True(outcome.Lost.Count == 0, "lost operations:\n" + string.Join("\n", outcome.Lost));
        Assert.True(outcome.Created.Count >= 4, $"only {outcome.Created.Count} clusters were created");
        var state = stack.Concourse.State;
        var wrong = new List<string>();
        foreach (var id in outcome.Created)
        {
            var pipeline = $"ondemand-{id}";
            var deploys = state.BuildsEverTriggered(pipeline, "deploy");
            if (deploys != 1) wrong.Add($"{id}: {deploys} deploy builds");
            var deleted = outcome.Deleted.Contains(id);
            var deletes = state.BuildsEverTriggered(pipeline, "delete");
            if (deletes != (deleted ? 1 : 0)) wrong.Add($"{id}: {deletes} delete builds (deleted: {deleted})");
            if (deleted != (state.GetPipeline(pipeline) is null)) wrong.Add($"{id}: pipeline {(deleted ? "left after the delete" : "missing")}");
        }
        var live = state.GetPipelines().Count(p => p.Name.StartsWith("ondemand-mp-", StringComparison.Ordinal));
        if (live != outcome.Created.Count - outcome.Deleted.Count) wrong.Add($"{live} live pipelines for {outcome.Created.Count - outcome.Deleted.Count} live clusters");
        Assert.True(wrong.Count == 0, "builds and pipelines not as the broker's operations demand:\n" + string.Join("\n", wrong.Take(20)));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) { await _stop.CancelAsync(); try { await Task.WhenAll(_tasks); } catch (Exception) { } }
        _client.Http.Dispose();
        _stop.Dispose();
    }
}
