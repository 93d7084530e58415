using System.Collections.Concurrent;
using System.Diagnostics;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Issue 7: seeded, repeatable sequences of OSB requests against the real stack (gateway, silo, PostgreSQL, the
/// Concourse emulator): clusters created, updated, renamed and deleted, databases created and deleted by cluster
/// name or id, bindings made and removed, with hostile ids, names and bodies, run concurrently while the silo is
/// killed at random points. Afterwards Cloud Controller's orphan mitigation runs for every 5xx, everything settles,
/// and the invariants are checked against what the broker answers and what PostgreSQL and Concourse hold.
/// CI runs a short sequence; <c>INTEGRITY_SEED</c>, <c>INTEGRITY_STEPS</c> and <c>INTEGRITY_KILLS</c> run others
/// (README, "Integrity test").
/// </summary>
public sealed class RandomizedIntegrityTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Service = Catalog.PostgreSql;
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    private BrokerStack _stack = null!;
    private OsbClient _osb = null!;
    private readonly ConcurrentQueue<Exchange> _log = new();
    private readonly List<(DateTime From, DateTime To)> _killWindows = [];
    /// <summary>What was accepted so far, so later requests aim at instances that exist (as a user's would).</summary>
    private readonly ConcurrentBag<(string Id, string Name, string Space)> _clusters = [];
    private readonly ConcurrentBag<string> _databases = [];

    private sealed record Exchange(string Step, HttpMethod Method, string Path, string Target, HttpStatusCode Status, string Body, DateTime Started, DateTime Ended, bool MustBe4xx);

    public async ValueTask InitializeAsync()
    {
        // A short response timeout keeps requests caught by a kill from waiting Orleans' default 30 s.
        // Builds take a moment, so kills land while operations are in flight.
        _stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["Orleans:ResponseTimeout"] = "00:00:05" },
            new OnDemand.ConcourseEmulator.EmulatorOptions
            {
                Username = "admin",
                Password = "admin",
                Team = "main",
                ClusterPostgres = postgres.Server.AdminConnectionString,
                BuildDuration = TimeSpan.FromMilliseconds(300),
            });
        _osb = new OsbClient(_stack.Client);
    }

    public async ValueTask DisposeAsync() => await _stack.DisposeAsync();

    [Fact]
    public async Task Random_requests_with_silo_kills_keep_every_invariant()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("INTEGRITY_SEED"), out var s) ? s : 20261201;
        var steps = int.TryParse(Environment.GetEnvironmentVariable("INTEGRITY_STEPS"), out var n) ? n : 120;
        var kills = int.TryParse(Environment.GetEnvironmentVariable("INTEGRITY_KILLS"), out var k) ? k : 2;
        output.WriteLine($"seed {seed}, {steps} steps, {kills} silo kills (repeat with INTEGRITY_SEED={seed} INTEGRITY_STEPS={steps} INTEGRITY_KILLS={kills})");
        var random = new Random(seed);
        var pools = new Pools(random.Next().ToString("x"));

        var sentinel = await SentinelAsync(pools.Run);
        var killAt = Enumerable.Range(0, kills).Select(_ => random.Next(steps / 4, steps)).ToHashSet();
        const int concurrency = 4;
        for (var step = 0; step < steps; step += concurrency)
        {
            var batch = Enumerable.Range(step, concurrency).Select(i => NextRequest(random, pools, sentinel, i, _clusters.ToArray(), _databases.ToArray())).ToList();
            var running = batch.Select(SendAsync).ToList();
            if (Enumerable.Range(step, concurrency).Any(killAt.Contains)) await KillAndReplaceSiloAsync(random);
            await Task.WhenAll(running);
            await Task.Delay(100); // time for accepted operations to move on, as between a user's commands
        }

        await OrphanMitigationAsync();
        var ids = pools.InstanceIds.ToList();
        foreach (var id in ids) await SettleAsync(id);

        var violations = new List<string>();
        CheckNoServerErrorsOutsideKills(violations);
        await CheckInstancesAsync(ids, violations);
        await CheckBindingsAndLoginsAsync(pools, violations);
        CheckOneBuildPerOperation(ids, violations);
        await CheckSentinelAsync(sentinel, violations);

        var lines = _log.OrderBy(e => e.Started).Select(e => $"{e.Step} {e.Method} {e.Path} -> {(int)e.Status} {Shorten(e.Body)}").ToList();
        var summary = string.Join(", ", _log.GroupBy(e => (int)e.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        lines.Insert(0, $"seed {seed}: {_log.Count} requests ({summary}), {_killWindows.Count} silo kills, {violations.Count} violations");
        foreach (var line in lines) output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("INTEGRITY_LOG") is { Length: > 0 } logFile) await File.WriteAllLinesAsync(logFile, lines.Concat(violations));
        Assert.True(violations.Count == 0, $"seed {seed}: {violations.Count} invariant violations:\n" + string.Join("\n", violations.Take(30)));
    }

    // ------------------------------------------------------------------ requests

    private sealed class Pools(string run)
    {
        public string Run { get; } = run;
        /// <summary>Ids for either kind: ids that read alike, GUIDs, long ones; clusters and databases draw from the same pool.</summary>
        public string[] Ids { get; } =
        [
            $"Tenant-A.db1-{run}", $"tenanta_DB1-{run}", $"TENANTA-DB1-{run}", (run + new string('x', 100))[..100],
            .. Enumerable.Range(0, 10).Select(_ => Guid.NewGuid().ToString()),
        ];
        public string[] Names { get; } = [$"team-db-{run}", $"team{{db}}-{run}", $"équipe-😀-{run}", $"{run}-" + new string('n', 200), $"Team-DB-{run}"];
        public string[] Spaces { get; } = ["space-0001", "sp{ace}-0002"];
        public string[] BindingIds { get; } = MakeBindingIds(run);

        public IEnumerable<string> InstanceIds => Ids;

        private static string[] MakeBindingIds(string run)
        {
            var guid = Guid.NewGuid().ToString();
            return [$"App-Key.1-{run}", $"appkey1-{run}", guid[..^2] + "00", guid[..^2] + "01", Guid.NewGuid().ToString()];
        }
    }

    private sealed record Request(string Step, HttpMethod Method, string Path, JsonNode? Body, string Target, bool MustBe4xx)
    {
        public (string Name, string Space)? Cluster { get; init; }
    }

    private static Request NextRequest(Random random, Pools pools, Sentinel sentinel, int index,
        (string Id, string Name, string Space)[] clusters, string[] databases)
    {
        T Pick<T>(T[] items) => items[random.Next(items.Length)];
        var id = Pick(pools.Ids);
        var space = Pick(pools.Spaces);
        var op = random.Next(100);
        // Mostly aim at what exists (as users do), sometimes at anything in the pools (as attackers do).
        if (random.Next(4) > 0)
        {
            if (op is >= 16 and < 36 && clusters.Length > 0) (id, _, space) = Pick(clusters);
            if (op >= 56 && op < 86 && databases.Length > 0) id = Pick(databases);
        }
        string clusterName, clusterSpace;
        if (clusters.Length > 0 && random.Next(4) > 0)
        {
            var known = Pick(clusters);
            (clusterName, clusterSpace) = (random.Next(3) == 0 ? known.Id : known.Name, known.Space);
        }
        else (clusterName, clusterSpace) = (random.Next(3) == 0 ? Pick(pools.Ids) : Pick(pools.Names), space);
        var step = $"#{index}";
        switch (op)
        {
            case < 16:
                var name = Pick(pools.Names);
                return new(step + " create cluster", HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true",
                    OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, Tuning(random), name, space), id, false)
                { Cluster = (name, space) };
            case < 22:
                return new(step + " tune cluster", HttpMethod.Patch, $"/v2/service_instances/{id}?accepts_incomplete=true",
                    new JsonObject { ["service_id"] = Service, ["plan_id"] = Catalog.PgClusterSmall, ["parameters"] = Tuning(random) }, id, false);
            case < 28:
                return new(step + " rename", HttpMethod.Patch, $"/v2/service_instances/{id}?accepts_incomplete=true", new JsonObject
                {
                    ["service_id"] = Service,
                    ["context"] = new JsonObject { ["platform"] = "cloudfoundry", ["organization_guid"] = OsbClient.OrgGuid, ["space_guid"] = space, ["instance_name"] = Pick(pools.Names) },
                }, id, false);
            case < 36:
                return new(step + " delete cluster", HttpMethod.Delete, $"/v2/service_instances/{id}?service_id={Service}&plan_id={Catalog.PgClusterSmall}&accepts_incomplete=true", null, id, false);
            case < 56:
                return new(step + " create database", HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true",
                    PgSession.Database(clusterName, "db-" + index, clusterSpace), id, false);
            case < 64:
                return new(step + " delete database", HttpMethod.Delete, $"/v2/service_instances/{id}?service_id={Service}&plan_id={Catalog.Pg1Gb}&accepts_incomplete=true", null, id, false);
            case < 78:
                return new(step + " bind", HttpMethod.Put, $"/v2/service_instances/{id}/service_bindings/{Pick(pools.BindingIds)}?accepts_incomplete=true",
                    new JsonObject { ["service_id"] = Service, ["plan_id"] = Catalog.Pg1Gb, ["app_guid"] = "app-1" }, id, false);
            case < 86:
                return new(step + " unbind", HttpMethod.Delete, $"/v2/service_instances/{id}/service_bindings/{Pick(pools.BindingIds)}?service_id={Service}&plan_id={Catalog.Pg1Gb}", null, id, false);
            default:
                return Hostile(random, sentinel, step);
        }
    }

    private static JsonObject Tuning(Random random) => new() { ["max_connections"] = random.Next(10, 300) };

    /// <summary>Requests that must be refused with a 4xx and change nothing, aimed at the sentinel instances.</summary>
    private static Request Hostile(Random random, Sentinel sentinel, string step)
    {
        var c = sentinel.ClusterId;
        var d = sentinel.DatabaseId;
        return random.Next(8) switch
        {
            0 => new(step + " delete cluster with a database plan", HttpMethod.Delete, $"/v2/service_instances/{c}?service_id={Service}&plan_id={Catalog.Pg1Gb}&accepts_incomplete=true", null, c, true),
            1 => new(step + " delete database with another service", HttpMethod.Delete, $"/v2/service_instances/{d}?service_id={Catalog.MySql}&plan_id={Catalog.Db100Mb}&accepts_incomplete=true", null, d, true),
            2 => new(step + " unbind with a cluster plan", HttpMethod.Delete, $"/v2/service_instances/{d}/service_bindings/{sentinel.BindingId}?service_id={Service}&plan_id={Catalog.PgClusterSmall}", null, d, true),
            3 => new(step + " database on a cluster's id", HttpMethod.Put, $"/v2/service_instances/{c}?accepts_incomplete=true", PgSession.Database(sentinel.ClusterName, "x"), c, true),
            4 => new(step + " cluster on a database's id", HttpMethod.Put, $"/v2/service_instances/{d}?accepts_incomplete=true",
                OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, instanceName: "x"), d, true),
            5 => new(step + " rename to a NUL name", HttpMethod.Patch, $"/v2/service_instances/{c}?accepts_incomplete=true",
                JsonNode.Parse($$$"""{"service_id":"{{{Service}}}","context":{"instance_name":"a\u0000b"}}"""), c, true),
            6 => new(step + " oversized tuning", HttpMethod.Patch, $"/v2/service_instances/{c}?accepts_incomplete=true",
                new JsonObject { ["service_id"] = Service, ["parameters"] = new JsonObject { ["work_mem"] = new string('9', 70_000) } }, c, true),
            _ => new(step + " tuning with a trailing newline", HttpMethod.Patch, $"/v2/service_instances/{c}?accepts_incomplete=true",
                new JsonObject { ["service_id"] = Service, ["parameters"] = new JsonObject { ["shared_buffers"] = "128MB\n" } }, c, true),
        };
    }

    private async Task SendAsync(Request request)
    {
        var started = DateTime.UtcNow;
        Answer answer;
        try
        {
            answer = await _osb.SendAsync(request.Method, request.Path, request.Body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            answer = new Answer(HttpStatusCode.BadGateway, null, e.Message, new Dictionary<string, string>(), null);
        }
        _log.Enqueue(new Exchange(request.Step, request.Method, request.Path, request.Target, answer.Status, answer.Text, started, DateTime.UtcNow, request.MustBe4xx));
        if (answer.Status == HttpStatusCode.Accepted && request.Step.EndsWith("create cluster", StringComparison.Ordinal)) _clusters.Add((request.Target, request.Cluster!.Value.Name, request.Cluster.Value.Space));
        if (answer.Status == HttpStatusCode.Accepted && request.Step.EndsWith("create database", StringComparison.Ordinal)) _databases.Add(request.Target);
    }

    private async Task KillAndReplaceSiloAsync(Random random)
    {
        await Task.Delay(random.Next(0, 30));
        var from = DateTime.UtcNow;
        await _stack.KillSiloAsync(_stack.Silos[0]);
        await _stack.StartSiloAsync();
        await _stack.WaitUntilReadyAsync();
        lock (_killWindows) _killWindows.Add((from, DateTime.UtcNow + KillGrace));
    }

    // ------------------------------------------------------------------ Cloud Controller's side

    /// <summary>What Cloud Controller does after a 5xx or no answer: delete what may be half-made, until it is gone.</summary>
    private async Task OrphanMitigationAsync()
    {
        foreach (var exchange in _log.Where(e => (int)e.Status >= 500 && e.Method != HttpMethod.Get).ToList())
        {
            var path = exchange.Path.Split('?')[0];
            var isBinding = path.Contains("/service_bindings/");
            var isDatabase = exchange.Step.Contains("database") || isBinding;
            string? mitigation = (exchange.Method == HttpMethod.Put, isBinding) switch
            {
                (true, true) => $"{path}?service_id={Service}&plan_id={Catalog.Pg1Gb}",
                (true, false) => $"{path}?service_id={Service}&plan_id={(isDatabase ? Catalog.Pg1Gb : Catalog.PgClusterSmall)}&accepts_incomplete=true",
                _ => null,
            };
            if (mitigation is null) continue;
            await Eventually.TrueAsync(async () =>
            {
                var answer = await _osb.SendAsync(HttpMethod.Delete, mitigation);
                _log.Enqueue(new Exchange("orphan mitigation", HttpMethod.Delete, mitigation, exchange.Target, answer.Status, answer.Text, DateTime.UtcNow, DateTime.UtcNow, false));
                // 400 here: the id belongs to an instance of the other kind (the create was refused): nothing to mitigate.
                return (int)answer.Status < 500 && answer.Status != HttpStatusCode.UnprocessableEntity;
            }, $"orphan mitigation of {exchange.Step} {exchange.Path}", TimeSpan.FromSeconds(60));
        }
    }

    private async Task SettleAsync(string id) =>
        await Eventually.TrueAsync(async () =>
        {
            var answer = await _osb.LastOperationAsync(id);
            return answer.Status == HttpStatusCode.NotFound || (answer.Status == HttpStatusCode.OK && answer.Field("state") != "in progress");
        }, $"instance {id} settles", TimeSpan.FromSeconds(120));

    // ------------------------------------------------------------------ invariants

    private void CheckNoServerErrorsOutsideKills(List<string> violations)
    {
        foreach (var exchange in _log.Where(e => e.Step != "orphan mitigation"))
        {
            var inKillWindow = _killWindows.Any(w => exchange.Started <= w.To && exchange.Ended >= w.From);
            if ((int)exchange.Status >= 500 && !inKillWindow)
                violations.Add($"{exchange.Step}: {(int)exchange.Status} outside a kill window: {exchange.Method} {exchange.Path} {Shorten(exchange.Body)}");
            if (exchange.MustBe4xx && !inKillWindow && (int)exchange.Status is < 400 or >= 500)
                violations.Add($"{exchange.Step}: expected a 4xx, got {(int)exchange.Status}: {Shorten(exchange.Body)}");
        }
    }

    /// <summary>Every instance is readable, of one kind, and its database exists in PostgreSQL exactly while it lives.</summary>
    private async Task CheckInstancesAsync(List<string> ids, List<string> violations)
    {
        var pg = new PgSession(_osb, postgres.Server);
        foreach (var id in ids)
        {
            var plain = await _osb.LastOperationAsync(id);
            var asCluster = await _osb.LastOperationAsync(id, serviceId: Service, planId: Catalog.PgClusterSmall);
            var asDatabase = await _osb.LastOperationAsync(id, serviceId: Service, planId: Catalog.Pg1Gb);
            if (plain.Status == HttpStatusCode.NotFound)
            {
                if (asCluster.Status != HttpStatusCode.NotFound || asDatabase.Status != HttpStatusCode.NotFound)
                    violations.Add($"{id}: unknown without ids but {(int)asCluster.Status}/{(int)asDatabase.Status} with them");
                continue;
            }
            if (plain.Status != HttpStatusCode.OK) { violations.Add($"{id}: last_operation {plain}"); continue; }
            if ((asCluster.Status == HttpStatusCode.OK) == (asDatabase.Status == HttpStatusCode.OK))
                violations.Add($"{id}: not exactly one kind (as cluster {(int)asCluster.Status}, as database {(int)asDatabase.Status})");

            var fetch = await _osb.FetchAsync(id);
            if (fetch.Status is not (HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity))
                violations.Add($"{id}: fetch answered {fetch}");
            var isLiveDatabase = asDatabase.Status == HttpStatusCode.OK && fetch.Status == HttpStatusCode.OK;
            var databases = await pg.DatabasesNamedAsync(id);
            if (isLiveDatabase != (databases == 1))
                violations.Add($"{id}: database instance live={isLiveDatabase} but {databases} PostgreSQL database(s) named for it");
        }
    }

    /// <summary>Every login belongs to exactly one live binding; a binding's credentials reach its own database only.</summary>
    private async Task CheckBindingsAndLoginsAsync(Pools pools, List<string> violations)
    {
        var pg = new PgSession(_osb, postgres.Server);
        var loginRoles = (await pg.NamesAsync("SELECT rolname FROM pg_roles WHERE rolcanlogin")).ToHashSet();
        foreach (var bindingId in pools.BindingIds)
        {
            var live = new List<(string Database, JsonNode Credentials)>();
            foreach (var id in pools.Ids)
            {
                var answer = await _osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}/service_bindings/{bindingId}");
                if (answer.Status == HttpStatusCode.OK) live.Add((id, answer.Body!["credentials"]!));
            }
            var login = DatabaseNames.BindingUser(bindingId);
            if (live.Count > 1) violations.Add($"binding {bindingId} is live on {live.Count} databases: {string.Join(", ", live.Select(l => l.Database))}");
            if (live.Count == 1 != loginRoles.Contains(login))
                violations.Add($"binding {bindingId}: {live.Count} live binding(s) but login {login} {(loginRoles.Contains(login) ? "exists" : "does not exist")}");
            foreach (var (database, credentials) in live)
            {
                if (credentials["name"]!.GetValue<string>() != DatabaseNames.Database(database))
                    violations.Add($"binding {bindingId} of {database} names database {credentials["name"]}");
                if (!await PgSession.CanConnectAsync(credentials))
                    violations.Add($"binding {bindingId} of {database}: its credentials do not connect");
            }
        }
    }

    /// <summary>No build ran twice: a pipeline's builds are at most the operations accepted for it (or of unknown outcome).</summary>
    private void CheckOneBuildPerOperation(List<string> ids, List<string> violations)
    {
        foreach (var id in ids)
        {
            var ofInstance = _log.Where(e => e.Target == id && e.Method != HttpMethod.Get && !e.Path.Contains("/service_bindings/")).ToList();
            var operations = ofInstance.Where(e => e.Status == HttpStatusCode.Accepted).Select(e => JsonNode.Parse(e.Body)?["operation"]?.GetValue<string>()).Distinct().Count();
            var unknown = ofInstance.Count(e => (int)e.Status >= 500);
            var pipeline = $"ondemand-{id}";
            var builds = _stack.Concourse.State.GetBuilds(pipeline, "deploy").Count + _stack.Concourse.State.GetBuilds(pipeline, "delete").Count;
            if (builds > operations + unknown)
                violations.Add($"{id}: {builds} builds for {operations} accepted operations ({unknown} of unknown outcome)");
        }
    }

    private sealed record Sentinel(string ClusterId, string ClusterName, string DatabaseId, string BindingId, JsonNode Credentials, string LastOperation, int Builds);

    /// <summary>Instances only hostile requests touch: they must end exactly as they began.</summary>
    private async Task<Sentinel> SentinelAsync(string run)
    {
        var pg = new PgSession(_osb, postgres.Server);
        var name = $"sentinel-{run}";
        var cluster = await pg.ClusterAsync(name);
        var database = await pg.DatabaseAsync(name);
        var binding = Guid.NewGuid().ToString();
        var credentials = await pg.BindAsync(database, binding);
        var lastOperation = (await _osb.LastOperationAsync(cluster)).Text;
        return new Sentinel(cluster, name, database, binding, credentials, lastOperation, _stack.Concourse.State.GetBuilds($"ondemand-{cluster}", "deploy").Count);
    }

    private async Task CheckSentinelAsync(Sentinel sentinel, List<string> violations)
    {
        var lastOperation = (await _osb.LastOperationAsync(sentinel.ClusterId)).Text;
        if (lastOperation != sentinel.LastOperation) violations.Add($"sentinel cluster changed: {sentinel.LastOperation} -> {lastOperation}");
        if (_stack.Concourse.State.GetBuilds($"ondemand-{sentinel.ClusterId}", "deploy").Count != sentinel.Builds) violations.Add("sentinel cluster was deployed again");
        if ((await _osb.FetchAsync(sentinel.DatabaseId)).Status != HttpStatusCode.OK) violations.Add("sentinel database is gone");
        if (!await PgSession.CanConnectAsync(sentinel.Credentials)) violations.Add("sentinel binding no longer connects");
        var database = await _osb.ProvisionAsync(Guid.NewGuid().ToString(), PgSession.Database(sentinel.ClusterName, "probe"));
        if (database.Status != HttpStatusCode.Accepted) violations.Add($"sentinel cluster no longer found by its name: {database}");
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
