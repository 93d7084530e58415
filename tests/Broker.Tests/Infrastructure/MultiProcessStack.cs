using Npgsql;
using OnDemand.ConcourseEmulator;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// The production topology on one machine: silos and gateways as separate OS processes (the dlls run.sh starts), on
/// a fresh PostgreSQL database of the test run, nginx as the load balancer in front of the gateways, and the
/// Concourse emulator in this process (so tests can count builds). The membership and timeout settings are the
/// production defaults (src/Silo/FastFailover.cs, gateway response timeout 5 s); only the grains' polling is fast.
/// </summary>
public sealed class MultiProcessStack : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _settings;
    private readonly List<NodeProcess> _silos = [];
    private readonly List<NodeProcess> _gateways = [];
    private readonly Dictionary<NodeProcess, int> _siloPorts = [];

    private MultiProcessStack(string connectionString, string clusterId, ConcourseEmulatorServer concourse, Dictionary<string, string?> settings, string workDir)
    {
        ConnectionString = connectionString;
        ClusterId = clusterId;
        Concourse = concourse;
        _settings = settings;
        WorkDir = workDir;
    }

    public string ConnectionString { get; }
    public string ClusterId { get; }
    public ConcourseEmulatorServer Concourse { get; }
    public string WorkDir { get; }
    public NginxBalancer? Balancer { get; private set; }
    public IReadOnlyList<NodeProcess> Silos => _silos;
    public IReadOnlyList<NodeProcess> Gateways => _gateways;

    public static async Task<MultiProcessStack> StartAsync(PostgresServer postgres, int silos, int gateways, EmulatorOptions emulator, IDictionary<string, string?>? settings = null)
    {
        var siloDll = NodeProcess.ProjectDll("src/Silo", "OnDemand.Silo");
        var gatewayDll = NodeProcess.ProjectDll("src/BrokerGateway", "OnDemand.BrokerGateway");
        if (NginxBalancer.Binary() is null) throw new InvalidOperationException("nginx is missing: sudo apt-get install -y nginx-light (./test.sh installs it when run as root)");
        var name = "broker_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = await postgres.CreateOrleansDatabaseAsync(name);
        var concourse = await ConcourseEmulatorServer.StartAsync(emulator);
        var url = concourse.Url.ToString().TrimEnd('/');
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orleans"] = connectionString,
            ["Orleans:ClusterId"] = name,
            ["Orleans:ServiceId"] = name,
            ["Orleans:ApplySchema"] = "false",
            ["Broker:Username"] = BrokerStack.BrokerUser,
            ["Broker:Password"] = BrokerStack.BrokerPassword,
            ["Broker:DashboardSecret"] = BrokerStack.DashboardSecret,
            ["Broker:OperatorPassword"] = BrokerStack.OperatorPassword,
            ["Operator:Password"] = BrokerStack.OperatorPassword,
            ["DataProtection:CertificatePath"] = TestCertificates.SharedPath,
            ["AuthFailureLimit:PermitLimit"] = "1000000", // as BrokerStack: every client is 127.0.0.1
            ["CredHub:Url"] = $"{url}/credhub",
            ["CredHub:UaaUrl"] = $"{url}/uaa",
            ["CredHub:ClientId"] = "broker",
            ["CredHub:ClientSecret"] = "broker-secret",
            ["Databases:Endpoints:postgresql:Host"] = "127.0.0.1",
            ["Databases:Endpoints:postgresql:Port"] = postgres.Port.ToString(),
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in GrainSettings.For(concourse.Url)) all[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            if (value is null) all.Remove(key);
            else all[key] = value;
        var workDir = Path.Combine(Path.GetTempPath(), "ondemand-multiprocess-" + name);
        Directory.CreateDirectory(workDir);
        var stack = new MultiProcessStack(connectionString, name, concourse, all, workDir);
        try
        {
            for (var i = 0; i < silos; i++) stack.AddSilo();
            await Task.WhenAll(stack._silos.Select(s => stack.WaitUntilActiveAsync(s)));
            for (var j = 0; j < gateways; j++) stack.AddGateway();
            await Task.WhenAll(stack._gateways.Select(g => g.WaitUntilReadyAsync(TimeSpan.FromSeconds(90))));
            stack.Balancer = await NginxBalancer.StartAsync(stack._gateways.Select(g => g.HttpUrl), workDir);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
        return stack;
    }

    public NodeProcess AddSilo()
    {
        var siloPort = FreePort.Next();
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var settings = new Dictionary<string, string?>(_settings)
        {
            ["Orleans:SiloPort"] = siloPort.ToString(),
            ["Orleans:GatewayPort"] = FreePort.Next().ToString(),
            ["Urls"] = http.ToString().TrimEnd('/'),
        };
        var silo = NodeProcess.Start($"silo{_silos.Count + 1}", NodeProcess.ProjectDll("src/Silo", "OnDemand.Silo"), settings, WorkDir, http);
        _silos.Add(silo);
        _siloPorts[silo] = siloPort;
        return silo;
    }

    public NodeProcess AddGateway()
    {
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var settings = new Dictionary<string, string?>(_settings) { ["Urls"] = http.ToString().TrimEnd('/') };
        var gateway = NodeProcess.Start($"gateway{_gateways.Count + 1}", NodeProcess.ProjectDll("src/BrokerGateway", "OnDemand.BrokerGateway"), settings, WorkDir, http);
        _gateways.Add(gateway);
        return gateway;
    }

    /// <summary>The silo's status in the Orleans membership table (6 = Dead), newest generation; null before it joined.</summary>
    public async Task<int?> MembershipStatusAsync(NodeProcess silo)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT status FROM orleansmembershiptable WHERE deploymentid = @id AND port = @port ORDER BY generation DESC LIMIT 1", connection);
        command.Parameters.AddWithValue("id", ClusterId);
        command.Parameters.AddWithValue("port", _siloPorts[silo]);
        return await command.ExecuteScalarAsync() is int status ? status : null;
    }

    public const int SiloStatusActive = 3;

    /// <summary>Until the silo is Active in the membership table (it joined the cluster).</summary>
    public Task WaitUntilActiveAsync(NodeProcess silo, TimeSpan? timeout = null) =>
        silo.WaitUntilReadyAsync(timeout ?? TimeSpan.FromSeconds(90), async () => await MembershipStatusAsync(silo) == SiloStatusActive);
    public const int SiloStatusDead = 6;

    /// <summary>
    /// A first cluster created through each gateway and polled until it succeeded: the first activation after a cold
    /// start (JIT, storage, connections) can outlast the gateway's 5 s response timeout on a busy machine.
    /// Their pipelines are named ondemand-warmup-*.
    /// </summary>
    public async Task WarmUpAsync()
    {
        await Task.WhenAll(_gateways.Select(async (gateway, j) =>
        {
            var client = new OsbClient(BrokerStack.NewClient(gateway.HttpUrl));
            var id = $"warmup-{j}-{Guid.NewGuid():N}"[..30];
            await Eventually.MatchesAsync(() => client.ProvisionClusterAsync(id), a => a.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, $"warm-up create through {gateway.Name}", TimeSpan.FromSeconds(60));
            await client.WaitForOperationAsync(id, TimeSpan.FromSeconds(60));
            client.Http.Dispose();
        }));
    }

    /// <summary>
    /// Messages the silo's Orleans gateway received from clients (our gateway processes), from its /metrics
    /// (<c>microsoft_orleans_orleans_gateway_received</c>; sent with the operator's Basic auth).
    /// </summary>
    public async Task<double> GatewayMessagesReceivedAsync(NodeProcess silo)
    {
        using var client = new HttpClient { BaseAddress = silo.HttpUrl, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}")));
        var text = await client.GetStringAsync("/metrics");
        return text.Split('\n').Where(l => l.StartsWith("microsoft_orleans_orleans_gateway_received", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Until the gateway processes use a silo that (re)joined: it is Active, at least 10 s passed (twice the gateways'
    /// GatewayListRefreshPeriod) and its Orleans gateway keeps receiving client messages.
    /// </summary>
    public async Task WaitUntilGatewaysUseAsync(NodeProcess silo)
    {
        await WaitUntilActiveAsync(silo);
        var since = DateTime.UtcNow;
        // Its HTTP endpoint may come up a moment after it joined the cluster.
        var before = await Eventually.MatchesAsync(() => GatewayMessagesReceivedAsync(silo), _ => true, $"{silo.Name} /metrics", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(async () =>
        {
            var now = await GatewayMessagesReceivedAsync(silo);
            var enough = now - before >= 20;
            return enough;
        }, $"{silo.Name} receiving client messages since {since:HH:mm:ss}", TimeSpan.FromSeconds(60));
    }

    /// <summary>Every process's log tail, for a failure message.</summary>
    public string Logs() => string.Join("\n", _silos.Concat(_gateways).Select(n => $"---- {n.Name}\n{n.Tail(15)}")) + "\n---- nginx\n" + Balancer?.ErrorLog();

    public async ValueTask DisposeAsync()
    {
        if (Balancer is not null) await Balancer.DisposeAsync();
        foreach (var node in _gateways.Concat(_silos)) await node.DisposeAsync();
        await Concourse.DisposeAsync();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { }
    }
}
