using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OnDemand.LoadGenerator;

internal static class Scenarios
{
    public static async Task<int> ClustersAsync(Options o)
    {
        var targets = Enumerable.Range(0, o.Count).Select(i => ClusterTarget(o, o.Prefix, i)).ToList();
        using var client = new OsbClient(o, o.Concurrency + o.PollConcurrency);
        var report = new Report(o);
        if (o.ReplayOnly)
        {
            var replay = await ReplayAsync(client, targets, o);
            report.Add("replay", replay);
            report.Write();
            return replay.Succeeded == targets.Count * o.ReplayPasses ? 0 : 1;
        }
        var result = await ProvisionAllAsync(client, targets, o, "clusters");
        report.Add("clusters", result);
        if (o.Replay)
        {
            var created = targets.Where((_, i) => result.Outcomes[i].State == "succeeded").ToList();
            report.Add("replay", await ReplayAsync(client, created, o));
        }
        report.Write();
        return result.Succeeded == targets.Count ? 0 : 1;
    }

    public static async Task<int> DatabasesAsync(Options o)
    {
        using var client = new OsbClient(o, o.Concurrency + o.PollConcurrency);
        var report = new Report(o);
        var clusterPrefix = o.ExistingClusters ?? o.Prefix;
        if (o.ExistingClusters is null)
        {
            var clusters = Enumerable.Range(0, o.Clusters).Select(i => ClusterTarget(o, clusterPrefix, i)).ToList();
            var made = await ProvisionAllAsync(client, clusters, o, "clusters");
            report.Add("clusters", made);
            if (made.Succeeded != clusters.Count)
            {
                Console.Error.WriteLine($"loadgen: only {made.Succeeded} of {clusters.Count} clusters were created; not creating databases");
                report.Write();
                return 1;
            }
        }
        // Round-robin over the clusters (database j of every cluster, then j+1) so that consecutive PUTs spread out.
        var databases = new List<Target>(o.Clusters * o.PerCluster);
        for (var j = 0; j < o.PerCluster; j++)
        {
            for (var c = 0; c < o.Clusters; c++)
            {
                var cluster = ClusterTarget(o, clusterPrefix, c);
                databases.Add(new Target($"{o.Prefix}-c{c}-db{j}", $"{cluster.InstanceName}-db{j}", o.ServiceId, o.DatabasePlanId,
                    new JsonObject { ["cluster"] = cluster.InstanceName }, cluster.Org, cluster.Space));
            }
        }
        var result = await ProvisionAllAsync(client, databases, o, "databases");
        report.Add("databases", result);
        if (o.Replay)
        {
            var created = databases.Where((_, i) => result.Outcomes[i].State == "succeeded").ToList();
            report.Add("replay", await ReplayAsync(client, created, o));
        }
        report.Write();
        return result.Succeeded == databases.Count ? 0 : 1;
    }

    /// <summary>Cluster i of a prefix: its id is "{prefix}-{i}", its instance name "{prefix}-c{i}", all in one org and space.</summary>
    private static Target ClusterTarget(Options o, string prefix, int i) =>
        new($"{prefix}-{i}", $"{prefix}-c{i}", o.ServiceId, o.PlanId, null, o.Org, o.Space);

    /// <summary>
    /// PUTs every target (at most --concurrency in flight) while a poller sweeps the accepted ones' last_operation
    /// every --poll-interval-ms (at most --poll-concurrency in flight) until each is succeeded or failed.
    /// </summary>
    private static async Task<PhaseResult> ProvisionAllAsync(OsbClient client, IReadOnlyList<Target> targets, Options o, string label)
    {
        var outcomes = targets.Select(_ => new Outcome()).ToArray();
        var pending = new ConcurrentDictionary<int, byte>();
        // One deadline for the whole phase, PUTs included: what has not finished by then counts as timed out.
        using var deadline = new CancellationTokenSource(o.Timeout);
        var putsDone = 0;
        long polls = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Progress(o, $"{label}: creating {targets.Count} (concurrency {o.Concurrency}, prefix {o.Prefix})");

        var poller = Task.Run(async () =>
        {
            var lastReport = TimeSpan.Zero;
            while (!deadline.IsCancellationRequested)
            {
                var sweepStart = clock.Elapsed;
                var finishedPuts = Volatile.Read(ref putsDone) == 1;
                var ids = pending.Keys.ToArray();
                if (ids.Length == 0 && finishedPuts) return;
                try
                {
                    await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = o.PollConcurrency, CancellationToken = deadline.Token }, async (i, ct) =>
                    {
                        var state = await client.LastOperationAsync(targets[i], ct);
                        Interlocked.Increment(ref polls);
                        if (state is "succeeded" or "failed")
                        {
                            outcomes[i].State = state;
                            outcomes[i].DoneAt = clock.Elapsed;
                            pending.TryRemove(i, out _);
                        }
                    });
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(5))
                {
                    lastReport = clock.Elapsed;
                    Progress(o, $"{label}: {clock.Elapsed.TotalSeconds:0}s, {outcomes.Count(x => x.State is not null)} done, {pending.Count} in progress");
                }
                var wait = o.PollInterval - (clock.Elapsed - sweepStart);
                if (wait > TimeSpan.Zero)
                {
                    try { await Task.Delay(wait, deadline.Token); }
                    catch (OperationCanceledException) { return; }
                }
            }
        });

        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, targets.Count), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = deadline.Token }, async (i, ct) =>
            {
                await PutAsync(i, ct);
            });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"loadgen: {label}: the deadline of {o.Timeout.TotalSeconds:0}s passed while PUTs were still being sent");
        }
        var putPhase = clock.Elapsed;
        Volatile.Write(ref putsDone, 1);
        await poller;
        foreach (var outcome in outcomes.Where(x => x.State is null)) outcome.State = "timeout";
        var wall = outcomes.Where(x => x.DoneAt > TimeSpan.Zero).Select(x => x.DoneAt).DefaultIfEmpty(clock.Elapsed).Max();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var result = new PhaseResult(outcomes, putPhase, wall, Interlocked.Read(ref polls), cpu / clock.Elapsed);
        foreach (var rejected in outcomes.Where(x => x.State == "rejected").Take(3))
            Console.Error.WriteLine($"loadgen: {label}: PUT answered {rejected.PutStatus}: {rejected.Error}");
        return result;

        async Task PutAsync(int i, CancellationToken ct)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, body) = await client.ProvisionAsync(targets[i], ct);
            if (status == 0 && ct.IsCancellationRequested) return; // cut off by the deadline: counted as timed out
            var outcome = outcomes[i];
            outcome.PutMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            outcome.PutStatus = status;
            switch (status)
            {
                case 202:
                    pending[i] = 0;
                    break;
                case 200 or 201:
                    outcome.State = "succeeded";
                    outcome.DoneAt = clock.Elapsed;
                    break;
                default:
                    outcome.State = "rejected";
                    outcome.DoneAt = clock.Elapsed;
                    outcome.Error = body.Length > 300 ? body[..300] : body;
                    break;
            }
        }
    }

    /// <summary>The same PUTs again: each instance exists, so the broker answers 200 without writing anything.</summary>
    private static async Task<PhaseResult> ReplayAsync(OsbClient client, IReadOnlyList<Target> targets, Options o)
    {
        Progress(o, $"replay: PUT {targets.Count} existing instances again, {o.ReplayPasses} time(s)");
        var outcomes = Enumerable.Range(0, targets.Count * o.ReplayPasses).Select(_ => new Outcome()).ToArray();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(o.Timeout);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, outcomes.Length), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = deadline.Token }, async (i, ct) =>
            {
                var started = Stopwatch.GetTimestamp();
                var (status, _) = await client.ProvisionAsync(targets[i % targets.Count], ct);
                outcomes[i].PutMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                outcomes[i].PutStatus = status;
                outcomes[i].State = status == 200 ? "succeeded" : "rejected";
                outcomes[i].DoneAt = clock.Elapsed;
            });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"loadgen: replay: the deadline of {o.Timeout.TotalSeconds:0}s passed");
        }
        foreach (var outcome in outcomes.Where(x => x.State is null)) outcome.State = "timeout";
        var wall = clock.Elapsed;
        return new PhaseResult(outcomes, wall, wall, 0, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore) / wall);
    }

    private static void Progress(Options o, string message)
    {
        if (!o.Quiet) Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
    }
}

internal sealed class Outcome
{
    public double PutMs;
    public int PutStatus;
    public string? State;
    public string? Error;
    public TimeSpan DoneAt;
}

internal sealed record PhaseResult(Outcome[] Outcomes, TimeSpan PutPhase, TimeSpan Wall, long Polls, double ClientCpuCores)
{
    public int Succeeded => Outcomes.Count(x => x.State == "succeeded");
    public int Failed => Outcomes.Count(x => x.State == "failed");
    public int Rejected => Outcomes.Count(x => x.State == "rejected");
    public int TimedOut => Outcomes.Count(x => x.State == "timeout");
}

/// <summary>Prints a human summary and, with --out, key=value lines (label_metric=value) for scripts.</summary>
internal sealed class Report(Options o)
{
    private readonly List<(string Key, string Value)> _values = [];

    public void Add(string label, PhaseResult r)
    {
        var put = r.Outcomes.Select(x => x.PutMs).Where(x => x > 0).Order().ToArray();
        var statuses = string.Join(",", r.Outcomes.GroupBy(x => x.PutStatus).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}"));
        Set(label, "count", r.Outcomes.Length);
        Set(label, "succeeded", r.Succeeded);
        Set(label, "failed", r.Failed);
        Set(label, "rejected", r.Rejected);
        Set(label, "timeout", r.TimedOut);
        Set(label, "put_statuses", statuses);
        Set(label, "wall_s", r.Wall.TotalSeconds);
        Set(label, "rate_per_s", r.Succeeded / Math.Max(r.Wall.TotalSeconds, 1e-9));
        Set(label, "put_phase_s", r.PutPhase.TotalSeconds);
        Set(label, "put_rate_per_s", r.Outcomes.Length / Math.Max(r.PutPhase.TotalSeconds, 1e-9));
        Set(label, "put_p50_ms", Percentile(put, 0.50));
        Set(label, "put_p99_ms", Percentile(put, 0.99));
        Set(label, "put_max_ms", put.Length > 0 ? put[^1] : 0);
        Set(label, "polls", r.Polls);
        Set(label, "client_cpu_cores", r.ClientCpuCores);
        Console.WriteLine($"{label}: {r.Succeeded}/{r.Outcomes.Length} succeeded ({r.Failed} failed, {r.Rejected} rejected, {r.TimedOut} timed out) in {r.Wall.TotalSeconds:0.00}s " +
                          $"= {r.Succeeded / Math.Max(r.Wall.TotalSeconds, 1e-9):0.0}/s; PUT phase {r.PutPhase.TotalSeconds:0.00}s, PUT p50 {Percentile(put, 0.5):0.0} ms p99 {Percentile(put, 0.99):0.0} ms; " +
                          $"statuses {statuses}; {r.Polls} polls; load generator CPU {r.ClientCpuCores:0.00} cores");
    }

    public void Write()
    {
        if (o.Out is null) return;
        var text = new StringBuilder();
        foreach (var (key, value) in _values) text.Append(key).Append('=').Append(value).Append('\n');
        File.WriteAllText(o.Out, text.ToString());
    }

    private void Set(string label, string metric, object value) => _values.Add(($"{label}_{metric}", value switch
    {
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    }));

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
