using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// An in-process emulator of the Concourse API the broker drives (docs/concourse-api.md) on Kestrel at 127.0.0.1.
/// It is NOT a Concourse: nothing runs, builds only change status (unless EmulatorOptions.ClusterPostgres makes deploy
/// and delete builds act on a PostgreSQL, see <see cref="ClusterDeploymentEmulator"/>). The same app also serves a
/// fake CredHub and its UAA (<see cref="CredHub"/>, at <see cref="CredHubUrl"/> and <see cref="UaaUrl"/>).
/// For tests, benchmarks and local runs.
/// <code>
/// await using var concourse = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions());
/// var client = new ConcourseClient(new ConcourseOptions { Url = concourse.Url.ToString(), Username = "admin", Password = "admin" });
/// </code>
/// </summary>
public sealed class ConcourseEmulatorServer : IAsyncDisposable
{
    public const string Banner = "Concourse API EMULATOR - not a real Concourse";

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly Task _finisher;
    private readonly EmulatorStateFile? _stateFile;
    private readonly Task _saver;
    private readonly ClusterDeploymentEmulator? _deployments;
    private readonly ILogger _logger;
    private int _disposed;

    private ConcourseEmulatorServer(
        WebApplication app, Uri url, EmulatorState state, FaultInjector faults, FakeCredHub credHub, EmulatorOptions options,
        CancellationTokenSource stopping, EmulatorStateFile? stateFile, ClusterDeploymentEmulator? deployments)
    {
        _app = app;
        Url = url;
        State = state;
        Faults = faults;
        CredHub = credHub;
        Options = options;
        _stopping = stopping;
        _stateFile = stateFile;
        _deployments = deployments;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ConcourseEmulatorServer>();
        _finisher = RunFinisherAsync(_logger);
        _saver = stateFile?.RunAsync(options.StateSaveInterval, stopping.Token) ?? Task.CompletedTask;
    }

    /// <summary>Base URL, e.g. http://127.0.0.1:41234/ (use it as Concourse:Url).</summary>
    public Uri Url { get; }

    public EmulatorState State { get; }

    public FaultInjector Faults { get; }

    /// <summary>The fake CredHub (and UAA) on the same port: what the broker stored, for assertions and seeding.</summary>
    public FakeCredHub CredHub { get; }

    /// <summary>Use as CredHub:Url, e.g. http://127.0.0.1:41234/credhub.</summary>
    public Uri CredHubUrl => new(Url, "credhub");

    /// <summary>Use as CredHub:UaaUrl, e.g. http://127.0.0.1:41234/uaa.</summary>
    public Uri UaaUrl => new(Url, "uaa");

    public EmulatorOptions Options { get; }

    public static async Task<ConcourseEmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Team);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BuildDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.TokenLifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FinisherInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.CredHubTokenLifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.StateSaveInterval, TimeSpan.Zero);

        // The empty builder reads no appsettings.json or ASPNETCORE_* variables: whatever sits next to the test
        // assemblies (a gateway's Kestrel endpoints...) must not leak into the emulator.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ConcourseEmulatorServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port);
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(options.MinimumLogLevel);
            // One line per request from ASP.NET Core would drown a benchmark's console.
            logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            if (options.ConfigureLogging is { } configure)
            {
                configure(logging);
            }
            else
            {
                logging.AddSimpleConsole(console => console.SingleLine = true);
            }
        });

        var tokens = new TokenStore(options.Clock, options.TokenLifetime);
        var faults = new FaultInjector(tokens, options.Clock, options.RequestLogCapacity);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(tokens);
        builder.Services.AddSingleton(faults);
        builder.Services.AddSingleton(services =>
            new EmulatorState(options, services.GetRequiredService<ILoggerFactory>().CreateLogger<EmulatorState>()));

        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var state = app.Services.GetRequiredService<EmulatorState>();
        var credHub = new FakeCredHub(options, loggers.CreateLogger<FakeCredHub>());
        var stopping = new CancellationTokenSource();
        ClusterDeploymentEmulator? deployments = null;
        try
        {
            // Before any build can finish (restored ones included): deploys and deletes do their work from the start.
            if (!string.IsNullOrWhiteSpace(options.ClusterPostgres))
            {
                deployments = new ClusterDeploymentEmulator(state, credHub, options, loggers.CreateLogger<ClusterDeploymentEmulator>(), stopping.Token);
            }
            var stateFile = string.IsNullOrWhiteSpace(options.StateFile)
                ? null
                : new EmulatorStateFile(options.StateFile, state, credHub, loggers.CreateLogger<EmulatorStateFile>());
            stateFile?.Load();

            // CredHub and UAA first: another service, outside the Concourse faults, request log and bearer tokens.
            app.Use((context, next) => credHub.HandleAsync(context, next));
            app.Use((context, next) => EmulatorMiddleware.FaultsAndLog(context, next, faults));
            app.Use((context, next) => EmulatorMiddleware.RequireBearerToken(context, next, tokens));
            ConcourseApi.Map(app);
            ControlApi.Map(app);

            await app.StartAsync(ct);

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            var url = new Uri(address.EndsWith('/') ? address : address + "/");
            var server = new ConcourseEmulatorServer(app, url, state, faults, credHub, options, stopping, stateFile, deployments);
            var log = loggers.CreateLogger("OnDemand.ConcourseEmulator");
            log.LogWarning(
                "{Banner}: listening on {Url} (team {Team}, user {Username}, builds take {BuildDuration})",
                Banner, url, options.Team, options.Username, options.BuildDuration);
            log.LogWarning(
                "Fake CredHub on {CredHubUrl} with its UAA on {UaaUrl} (client {ClientId}); deploy/delete builds act on PostgreSQL: {ClusterPostgres}; state file: {StateFile}",
                server.CredHubUrl, server.UaaUrl, options.CredHubClientId, deployments is null ? "no" : "yes",
                stateFile is null ? "none" : Path.GetFullPath(options.StateFile!));
            return server;
        }
        catch
        {
            await stopping.CancelAsync();
            if (deployments is not null)
            {
                await deployments.DisposeAsync();
            }
            await app.DisposeAsync();
            stopping.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C when run standalone).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync();
        await _finisher;
        await _saver;
        try
        {
            // A short grace: tests may leave hung requests (HangNext) that need not finish.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(grace.Token);
        }
        finally
        {
            try
            {
                _stateFile?.SaveIfChanged(); // the last word: no request changes anything any more
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "The final save of the emulator state failed");
            }
            await _app.DisposeAsync();
            if (_deployments is not null)
            {
                await _deployments.DisposeAsync();
            }
            _stopping.Dispose();
        }
    }

    /// <summary>Finishes due builds even when nobody reads them, so BuildFinished fires on time.</summary>
    private async Task RunFinisherAsync(ILogger logger)
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Options.FinisherInterval, Options.Clock, _stopping.Token);
                State.FinishDueBuilds();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "The emulator's build finisher failed; it keeps running");
            }
        }
    }
}
