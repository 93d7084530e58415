using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.LoadGenerator;

/// <summary>
/// `soak`: multi-tenant load for a fixed time, in the shape of Cloud Controller, for the scale-out scenarios
/// (bench/scale-out.sh): failover, rolling restart, chaos. --tenants T orgs/spaces; --workers W lifecycles at a time
/// (each: create a cluster, poll last_operation with back-off until it succeeded, on every second cluster create
/// --databases D databases in it (plan --database-plan-id) and bind each, then delete them all and the cluster,
/// polling until gone); --readers R poll random live instances' last_operation all the time. A request that failed
/// (no answer, 5xx) is repeated with back-off (every OSB request here is idempotent). After --seconds, no new
/// lifecycle starts and the ones under way finish (bounded by --timeout-seconds).
/// --events FILE: lines "EPOCH_MS LABEL" the driver appended (a kill, a restart); the report gives errors per second
/// around each, the time from each to the last error after it, and the slowest request.
/// --emulator URL: the final check against the Concourse emulator (POST /_emulator/builds): one deploy build per
/// cluster, one delete build per deleted cluster, no pipeline left. Nothing lost: every accepted create succeeded,
/// every delete finished.
/// --inner-broker URL: the final check against the fake inner broker the databases were made in (its GET
/// /_fake/state): no database and no binding (login) left once everything is deleted.
/// </summary>
internal static class Soak
{
    private sealed record Request(string Endpoint, long StartMs, double LatencyMs, int Status, bool Ok);

    public static async Task<int> RunAsync(Options o)
    {
        var log = new ConcurrentQueue<Request>();
        var created = new ConcurrentDictionary<string, Target>();
        var deleted = new ConcurrentDictionary<string, bool>();
        var live = new ConcurrentDictionary<string, Target>();
        var lost = new ConcurrentQueue<string>();
        using var http = NewHttp(o);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(o.Seconds));
        using var hard = new CancellationTokenSource(o.Timeout);
        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // --stop-file: the driver ends the load early (e.g. when its rolling restart is done) by creating the file.
        _ = Task.Run(async () =>
        {
            while (o.StopFile is not null && !stop.IsCancellationRequested)
            {
                if (File.Exists(o.StopFile)) { await stop.CancelAsync(); break; }
                try { await Task.Delay(200, stop.Token); } catch (OperationCanceledException) { }
            }
        });

        async Task<(int Status, JsonNode? Body)> SendAsync(string endpoint, HttpMethod method, string path, byte[]? body, Func<int, bool> ok)
        {
            var t0 = clock.Elapsed.TotalMilliseconds;
            int status;
            JsonNode? json = null;
            try
            {
                using var request = new HttpRequestMessage(method, path);
                if (body is not null) request.Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
                using var response = await http.SendAsync(request, hard.Token);
                status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync(hard.Token);
                if (text.StartsWith('{')) json = JsonNode.Parse(text);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException) { status = 0; }
            var t1 = clock.Elapsed.TotalMilliseconds;
            log.Enqueue(new Request(endpoint, startedAt + (long)t0, t1 - t0, status, ok(status)));
            return (status, json);
        }

        // Cloud Controller polls with back-off; here scaled down to seconds (--poll-interval-ms, x1.5, at most 2 s).
        async Task<(int Status, JsonNode? Body)?> UntilAsync(string endpoint, HttpMethod method, string path, byte[]? body, Func<int, JsonNode?, bool> done, Func<int, bool> ok)
        {
            var delay = o.PollInterval.TotalMilliseconds;
            while (!hard.IsCancellationRequested)
            {
                var answer = await SendAsync(endpoint, method, path, body, ok);
                if (done(answer.Status, answer.Body)) return answer;
                try { await Task.Delay(TimeSpan.FromMilliseconds(delay), hard.Token); } catch (OperationCanceledException) { break; }
                delay = Math.Min(delay * 1.5, 2000);
            }
            return null;
        }

        static bool Accepted(int s) => s is 200 or 201 or 202;
        static bool DeleteOk(int s) => s is 200 or 202 or 410;
        static string? State(JsonNode? body) => body?["state"]?.GetValue<string>();

        async Task<bool> CreateAsync(Target target, string kind)
        {
            var put = await UntilAsync($"PUT {kind}", HttpMethod.Put, $"v2/service_instances/{target.Id}?accepts_incomplete=true", target.Body, (s, _) => Accepted(s) || s is 400 or 409 or 422, Accepted);
            if (put is null || !Accepted(put.Value.Status)) { lost.Enqueue($"{target.Id}: create {(put is null ? "never answered" : "answered " + put.Value.Status)}"); return false; }
            created[target.Id] = target;
            var op = await UntilAsync($"GET last_operation", HttpMethod.Get, LastOperationPath(target), null, (s, b) => s == 200 && State(b) != "in progress", s => s == 200);
            if (State(op?.Body) != "succeeded") { lost.Enqueue($"{target.Id}: create ended {State(op?.Body) ?? "never"}"); return false; }
            live[target.Id] = target;
            return true;
        }

        async Task DeleteAsync(Target target, string kind)
        {
            live.TryRemove(target.Id, out _);
            var del = await UntilAsync($"DELETE {kind}", HttpMethod.Delete, $"v2/service_instances/{target.Id}?service_id={target.ServiceId}&plan_id={target.PlanId}&accepts_incomplete=true", null, (s, _) => DeleteOk(s), DeleteOk);
            if (del is null) { lost.Enqueue($"{target.Id}: delete never answered"); return; }
            deleted[target.Id] = true;
            if (del.Value.Status is 200 or 410) return;
            var op = await UntilAsync($"GET last_operation", HttpMethod.Get, LastOperationPath(target), null, (s, b) => s == 410 || (s == 200 && State(b) != "in progress"), s => s is 200 or 410);
            if (op is null || (op.Value.Status == 200 && State(op.Value.Body) != "succeeded")) lost.Enqueue($"{target.Id}: delete ended {State(op?.Body) ?? "never"}");
        }

        async Task WorkAsync(int worker)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var tenant = (worker + n * o.Workers) % o.Tenants;
                var org = $"{o.Prefix}-org-{tenant}";
                var space = $"{o.Prefix}-space-{tenant}";
                var name = $"{o.Prefix}-c{worker}x{n}";
                var cluster = new Target($"{o.Prefix}-{worker}-{n}", name, o.ServiceId, o.PlanId, null, org, space);
                if (!await CreateAsync(cluster, "cluster")) continue;
                var databases = new List<Target>();
                if (o.Databases > 0 && n % 2 == 0)
                {
                    for (var d = 0; d < o.Databases; d++)
                    {
                        var database = new Target($"{cluster.Id}-db{d}", $"{name}-db{d}", o.ServiceId, o.DatabasePlanId, new JsonObject { ["cluster"] = name }, org, space);
                        if (!await CreateAsync(database, "database")) continue;
                        databases.Add(database);
                        var binding = $"v2/service_instances/{database.Id}/service_bindings/{database.Id}-b?accepts_incomplete=true";
                        var bound = await UntilAsync("PUT binding", HttpMethod.Put, binding, BindingBody(o.ServiceId, o.DatabasePlanId, $"app-{database.Id}"), (s, _) => Accepted(s) || s is 400 or 409 or 422, Accepted);
                        if (bound is null || !Accepted(bound.Value.Status)) lost.Enqueue($"{database.Id}: bind {(bound is null ? "never answered" : "answered " + bound.Value.Status)}");
                        await UntilAsync("DELETE binding", HttpMethod.Delete, $"v2/service_instances/{database.Id}/service_bindings/{database.Id}-b?service_id={o.ServiceId}&plan_id={o.DatabasePlanId}&accepts_incomplete=true", null, (s, _) => DeleteOk(s), DeleteOk);
                    }
                    foreach (var database in databases) await DeleteAsync(database, "database");
                }
                if (n % 2 == 1 || o.DeleteAll) await DeleteAsync(cluster, "cluster");
            }
        }

        async Task ReadAsync(int reader)
        {
            var random = new Random(reader);
            while (!stop.IsCancellationRequested)
            {
                var ids = live.Values.ToArray();
                if (ids.Length > 0)
                {
                    var target = ids[random.Next(ids.Length)];
                    await SendAsync("GET last_operation (reader)", HttpMethod.Get, LastOperationPath(target), null, s => s is 200 or 410);
                }
                try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
            }
        }

        var tasks = Enumerable.Range(0, o.Workers).Select(w => Task.Run(() => WorkAsync(w)))
            .Concat(Enumerable.Range(0, o.Readers).Select(r => Task.Run(() => ReadAsync(r)))).ToList();
        await Task.WhenAll(tasks);
        var wall = clock.Elapsed; // the load; the clean-up below is not in the rates
        // At the end everything is deleted: the clusters kept alive so far (the readers' targets), W at a time.
        var leftovers = new ConcurrentQueue<Target>(live.Values);
        await Task.WhenAll(Enumerable.Range(0, o.Workers).Select(_ => Task.Run(async () =>
        {
            while (leftovers.TryDequeue(out var target)) await DeleteAsync(target, "cluster");
        })));

        var requests = log.OrderBy(r => r.StartMs).ToList();
        var report = new StringBuilder();
        var kv = new List<(string, string)>();
        void Kv(string key, object value) => kv.Add((key, value is double d ? d.ToString("0.###", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture)!));
        report.AppendLine($"soak: {requests.Count} requests in {wall.TotalSeconds:0.0} s of load (+ {(clock.Elapsed - wall).TotalSeconds:0.0} s deleting what was left), {o.Tenants} tenants, {o.Workers} workers, {o.Readers} readers; {created.Count} instances created, {deleted.Count} deleted");
        report.AppendLine();
        report.AppendLine("| endpoint | requests | ops/s | p50 ms | p99 ms | max ms | failed |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in requests.GroupBy(r => r.Endpoint).OrderBy(g => g.Key))
        {
            var latencies = group.Select(r => r.LatencyMs).Order().ToArray();
            report.AppendLine($"| {group.Key} | {group.Count()} | {group.Count() / wall.TotalSeconds:0.0} | {Percentile(latencies, 0.5):0.0} | {Percentile(latencies, 0.99):0.0} | {latencies[^1]:0} | {group.Count(r => !r.Ok)} |");
        }
        var all = requests.Select(r => r.LatencyMs).Order().ToArray();
        var failedAll = requests.Where(r => !r.Ok).ToList();
        Kv("requests", requests.Count);
        Kv("ops_per_s", requests.Count / wall.TotalSeconds);
        Kv("p50_ms", Percentile(all, 0.5));
        Kv("p99_ms", Percentile(all, 0.99));
        Kv("max_ms", all.Length > 0 ? all[^1] : 0);
        Kv("failed", failedAll.Count);

        var events = ReadEvents(o.Events);
        if (events.Count > 0)
        {
            report.AppendLine();
            report.AppendLine("Around each event (driver's clock): failed requests per second (by the time their answer came) from 2 s before to 10 s after, the failures until the next event and the last of them, the slowest request in flight in that window:");
            report.AppendLine();
            report.AppendLine("| event | -2s | -1s | 0-1s | 1-2s | 2-3s | 3-4s | 4-5s | 5-6s | 6-8s | 8-10s | failed until next event | of them started after the event | last failure after event | slowest request |");
            report.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", 14)));
            for (var i = 0; i < events.Count; i++)
            {
                var (at, label) = events[i];
                var next = i + 1 < events.Count ? events[i + 1].At : long.MaxValue;
                // A failure belongs to the last event before its answer (a request caught in flight by a kill fails
                // when its response timeout ends, up to 5 s later): binned by the time it ended.
                static double End(Request r) => r.StartMs + r.LatencyMs;
                int Failed(double from, double to) => failedAll.Count(r => End(r) >= at + from * 1000 && End(r) < at + to * 1000);
                var window = requests.Where(r => End(r) >= at && r.StartMs < next).ToList();
                var failures = failedAll.Where(r => End(r) >= at && End(r) < next).ToList();
                var lastFailure = failures.Count > 0 ? failures.Max(End) - at : 0;
                var slowest = window.Count > 0 ? window.Max(r => r.LatencyMs) : 0;
                var bins = new[] { (-2.0, -1.0), (-1, 0), (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 8), (8, 10) }.Select(b => Failed(b.Item1, b.Item2).ToString(CultureInfo.InvariantCulture));
                report.AppendLine($"| {label} | {string.Join(" | ", bins)} | {failures.Count} | {failures.Count(r => r.StartMs >= at)} | {(failures.Count > 0 ? $"{lastFailure / 1000:0.00} s" : "none")} | {slowest / 1000:0.00} s |");
                var key = $"event{i + 1}";
                Kv($"{key}_label", label);
                Kv($"{key}_failed", failures.Count);
                Kv($"{key}_last_failure_s", lastFailure / 1000);
                Kv($"{key}_slowest_s", slowest / 1000);
            }
        }

        // Final check against the emulator: one deploy build per cluster, one delete per deleted one, no pipeline left.
        var duplicates = 0;
        var leftPipelines = 0;
        var checkedPipelines = 0;
        if (o.Emulator is not null)
        {
            var clusters = created.Values.Where(t => t.PlanId == o.PlanId).ToList();
            using var emulator = new HttpClient { BaseAddress = o.Emulator, Timeout = TimeSpan.FromSeconds(60) };
            foreach (var chunk in clusters.Chunk(500))
            {
                var names = new JsonArray(chunk.Select(t => (JsonNode)JsonValue.Create($"ondemand-{t.Id}")!).ToArray());
                using var response = await emulator.PostAsync("_emulator/builds", new StringContent(names.ToJsonString(), Encoding.UTF8, "application/json"));
                var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                foreach (var target in chunk)
                {
                    var entry = result[$"ondemand-{target.Id}"]!;
                    var deploys = entry["builds"]!["deploy"]!.GetValue<int>();
                    var deletes = entry["builds"]!["delete"]!.GetValue<int>();
                    var isDeleted = deleted.ContainsKey(target.Id);
                    checkedPipelines++;
                    if (deploys != 1 || deletes != (isDeleted ? 1 : 0)) { duplicates++; lost.Enqueue($"{target.Id}: {deploys} deploy and {deletes} delete builds"); }
                    if (entry["live"]!.GetValue<bool>()) leftPipelines++;
                }
            }
            report.AppendLine();
            report.AppendLine($"emulator check: {checkedPipelines} cluster pipelines; builds other than one deploy (+ one delete when deleted): {duplicates}; pipelines left after the end: {leftPipelines}");
        }
        // No leaked login: every database and binding was deleted, so the inner broker (the databases' servers here) holds none.
        var leakedLogins = 0;
        if (o.InnerBroker is not null)
        {
            using var inner = new HttpClient { BaseAddress = o.InnerBroker, Timeout = TimeSpan.FromSeconds(30) };
            var state = JsonNode.Parse(await inner.GetStringAsync("_fake/state"))!;
            var instancesLeft = state["instances"]!.GetValue<int>();
            leakedLogins = state["bindings"]!.GetValue<int>();
            report.AppendLine($"inner broker check: databases left {instancesLeft}, logins (bindings) left {leakedLogins}");
            Kv("inner_databases_left", instancesLeft);
            if (instancesLeft > 0) lost.Enqueue($"{instancesLeft} databases left on the inner broker after everything was deleted");
            if (leakedLogins > 0) lost.Enqueue($"{leakedLogins} logins left on the inner broker after everything was deleted");
        }
        Kv("leaked_logins", leakedLogins);
        Kv("instances_created", created.Count);
        Kv("instances_deleted", deleted.Count);
        Kv("lost", lost.Count - duplicates);
        Kv("duplicate_builds", duplicates);
        Kv("pipelines_left", leftPipelines);
        report.AppendLine($"lost operations: {lost.Count - duplicates}{(lost.IsEmpty ? "" : ": " + string.Join("; ", lost.Take(10)))}");
        Console.WriteLine(report.ToString());
        if (o.Out is not null) await File.WriteAllTextAsync(o.Out, string.Concat(kv.Select(p => $"{p.Item1}={p.Item2}\n")));
        await File.WriteAllTextAsync(Path.ChangeExtension(o.Out ?? "soak.kv", ".md"), report.ToString());
        return lost.IsEmpty ? 0 : 3;
    }

    /// <summary>
    /// `activate`: GET last_operation of --count distinct unknown instance ids (--prefix-N), --concurrency at a time:
    /// each request activates the grains an instance id maps to (they find no state; the answer says unknown). For the memory
    /// cost per activation (bench/scale-out.sh reads the silos' /metrics before and after).
    /// </summary>
    public static async Task<int> ActivateAsync(Options o)
    {
        using var http = NewHttp(o);
        var next = -1;
        var failed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < o.Count)
            {
                try
                {
                    using var response = await http.GetAsync($"v2/service_instances/{o.Prefix}-{i}/last_operation");
                    if ((int)response.StatusCode is not (404 or 410)) Interlocked.Increment(ref failed);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { Interlocked.Increment(ref failed); }
            }
        })));
        Console.WriteLine($"activate: {o.Count} unknown instances read in {clock.Elapsed.TotalSeconds:0.0} s ({o.Count / clock.Elapsed.TotalSeconds:0}/s), answers other than 404/410 (unknown): {failed}");
        return failed == 0 ? 0 : 3;
    }

    private static string LastOperationPath(Target target) => $"v2/service_instances/{target.Id}/last_operation?service_id={target.ServiceId}&plan_id={target.PlanId}";

    private static byte[] BindingBody(string serviceId, string planId, string app) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["service_id"] = serviceId,
        ["plan_id"] = planId,
        ["app_guid"] = app,
        ["bind_resource"] = new JsonObject { ["app_guid"] = app },
    }.ToJsonString());

    private static List<(long At, string Label)> ReadEvents(string? path)
    {
        if (path is null || !File.Exists(path)) return [];
        return File.ReadAllLines(path).Select(l => l.Split(' ', 2)).Where(p => p.Length == 2 && long.TryParse(p[0], out _))
            .Select(p => (long.Parse(p[0], CultureInfo.InvariantCulture), p[1].Trim())).OrderBy(e => e.Item1).ToList();
    }

    private static HttpClient NewHttp(Options o)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(5) };
        var http = new HttpClient(handler) { BaseAddress = o.Url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.Username}:{o.Password}")));
        http.DefaultRequestHeaders.Add("X-Broker-API-Version", "2.15");
        return http;
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
