using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Net.Http.Headers;
using System.Text;
using OnDemand.BrokerGateway;
using OnDemand.ConcourseEmulator;
using OnDemand.Silo;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// The whole broker as it runs in production, in this process: silos and gateways on a fresh PostgreSQL database of
/// the test run, talking HTTP to the Concourse emulator. Tests drive it through the gateway's HTTP API.
/// </summary>
public sealed class BrokerStack : IAsyncDisposable
{
    public const string BrokerUser = "broker";
    public const string BrokerPassword = "broker-test-password";
    public const string OperatorPassword = "operator-test-password";
    public const string DashboardSecret = "dashboard-secret-for-tests-0123456789";

    private readonly List<WebApplication> _silos = [];
    private readonly List<WebApplication> _gateways = [];
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _gatewayServices;

    private BrokerStack(string connectionString, ConcourseEmulatorServer concourse, Dictionary<string, string?> settings, Action<IServiceCollection>? gatewayServices)
    {
        ConnectionString = connectionString;
        Concourse = concourse;
        _settings = settings;
        _gatewayServices = gatewayServices;
    }

    public string ConnectionString { get; }
    public string ServiceId => _settings["Orleans:ServiceId"]!;
    public ConcourseEmulatorServer Concourse { get; }
    public HttpClient Client { get; private set; } = null!;
    public Uri GatewayUrl { get; private set; } = null!;
    public IReadOnlyList<WebApplication> Silos => _silos;
    public IReadOnlyList<WebApplication> Gateways => _gateways;

    /// <param name="settings">configuration overrides (e.g. "Lifecycle:PollInterval", "CloudFoundry:ApiUrl"); null removes the stack's own value.</param>
    /// <param name="gatewayServices">replaces services of every gateway (e.g. the Cloud Foundry check's clock).</param>
    public static async Task<BrokerStack> StartAsync(PostgresServer postgres, IDictionary<string, string?>? settings = null, EmulatorOptions? emulator = null,
        Action<IServiceCollection>? gatewayServices = null)
    {
        var name = "broker_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = await postgres.CreateOrleansDatabaseAsync(name);
        // Emulated deployments bring up each cluster's admin account in this test run's PostgreSQL.
        var concourse = await ConcourseEmulatorServer.StartAsync(emulator ?? new EmulatorOptions
        {
            Username = "admin",
            Password = "admin",
            Team = "main",
            ClusterPostgres = postgres.AdminConnectionString,
            DeployCheck = Pipelines.PipelineChecks.CheckDeployable, // a pipeline BOSH or Concourse would refuse fails its deploy
        });
        var concourseUrl = concourse.Url.ToString().TrimEnd('/');
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orleans"] = connectionString,
            ["Orleans:ClusterId"] = name,
            ["Orleans:ServiceId"] = name,
            ["Orleans:ApplySchema"] = "false",
            ["Broker:Username"] = BrokerUser,
            ["Broker:Password"] = BrokerPassword,
            ["Broker:DashboardSecret"] = DashboardSecret,
            ["Broker:OperatorPassword"] = OperatorPassword,
            ["Operator:Password"] = OperatorPassword,
            ["DataProtection:CertificatePath"] = TestCertificates.SharedPath,
            // Tests share 127.0.0.1 and refuse credentials on purpose; Security/FailedAuthenticationTests sets its own limit.
            ["AuthFailureLimit:PermitLimit"] = "1000000",
            ["CredHub:Url"] = $"{concourseUrl}/credhub",
            ["CredHub:UaaUrl"] = $"{concourseUrl}/uaa",
            ["CredHub:ClientId"] = "broker",
            ["CredHub:ClientSecret"] = "broker-secret",
            ["Databases:Endpoints:postgresql:Host"] = "127.0.0.1",
            ["Databases:Endpoints:postgresql:Port"] = postgres.Port.ToString(),
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // A killed silo is declared dead within seconds, so its grains move on quickly.
            ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
            ["Orleans:Membership:NumMissedProbesLimit"] = "1",
            ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1",
            ["Orleans:Membership:TableRefreshTimeout"] = "00:00:02",
            ["Orleans:GatewayListRefreshPeriod"] = "00:00:01",
        };
        foreach (var (key, value) in GrainSettings.For(concourse.Url)) all[key] = value;
        // A null value removes a default of this stack (the application's own default applies).
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            if (value is null) all.Remove(key);
            else all[key] = value;

        var stack = new BrokerStack(connectionString, concourse, all, gatewayServices);
        await stack.StartSiloAsync();
        await stack.StartGatewayAsync();
        return stack;
    }

    /// <param name="siloPort">reuse a stopped silo's ports to emulate its restart; default: new ports.</param>
    public async Task<WebApplication> StartSiloAsync(int? siloPort = null, int? gatewayPort = null)
    {
        var settings = new Dictionary<string, string?>(_settings)
        {
            ["Orleans:SiloPort"] = (siloPort ?? FreePort.Next()).ToString(),
            ["Orleans:GatewayPort"] = (gatewayPort ?? FreePort.Next()).ToString(),
            ["Urls"] = $"http://127.0.0.1:{FreePort.Next()}",
        };
        var silo = SiloApplication.Build([], config => config.AddInMemoryCollection(settings));
        await silo.StartAsync();
        _silos.Add(silo);
        return silo;
    }

    public async Task<WebApplication> StartGatewayAsync()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var settings = new Dictionary<string, string?>(_settings) { ["Urls"] = url };
        var gateway = GatewayApplication.Build([], config => config.AddInMemoryCollection(settings), _gatewayServices);
        await gateway.StartAsync();
        _gateways.Add(gateway);
        if (_gateways.Count == 1)
        {
            Client?.Dispose();
            GatewayUrl = new Uri(url);
            Client = NewClient(GatewayUrl);
        }
        return gateway;
    }

    /// <summary>Redeploys the broker with changed settings (e.g. a new catalog): every silo and gateway is replaced.</summary>
    public async Task RedeployAsync(IDictionary<string, string?> changes)
    {
        foreach (var (key, value) in changes) _settings[key] = value;
        foreach (var gateway in _gateways.ToList()) { await gateway.StopAsync(); await gateway.DisposeAsync(); }
        _gateways.Clear();
        foreach (var silo in _silos.ToList()) await StopSiloAsync(silo);
        await StartSiloAsync();
        await StartGatewayAsync();
        await WaitUntilReadyAsync();
    }

    /// <summary>Stops a silo the hard way for its grains: they are not deactivated gracefully first.</summary>
    public async Task KillSiloAsync(WebApplication silo)
    {
        _silos.Remove(silo);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        try { await silo.StopAsync(cancelled.Token); } catch (OperationCanceledException) { }
        await silo.DisposeAsync();
    }

    public async Task StopSiloAsync(WebApplication silo)
    {
        _silos.Remove(silo);
        await silo.StopAsync();
        await silo.DisposeAsync();
    }

    /// <summary>Waits until the first gateway reaches a silo again (after a silo was replaced).</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = GatewayUrl, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        Assert.Fail("the gateway did not reach a silo within 60 s");
    }

    public static HttpClient NewClient(Uri baseAddress, string version = "2.15")
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{BrokerUser}:{BrokerPassword}")));
        client.DefaultRequestHeaders.Add("X-Broker-API-Version", version);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        foreach (var gateway in _gateways.ToList()) { await gateway.StopAsync(); await gateway.DisposeAsync(); }
        foreach (var silo in _silos.ToList()) { await silo.StopAsync(); await silo.DisposeAsync(); }
        await Concourse.DisposeAsync();
    }
}
