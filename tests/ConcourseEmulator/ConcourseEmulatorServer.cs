using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// An in-process emulator of the Concourse API the broker drives (docs/concourse-api.md) on Kestrel at 127.0.0.1.
/// It is NOT a Concourse: nothing runs, builds only change status. For tests, benchmarks and local runs.
/// <code>
/// await using var concourse = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions());
/// var client = new ConcourseClient(new ConcourseOptions { Url = concourse.Url.ToString(), Username = "admin", Password = "admin" });
/// </code>
/// </summary>
public sealed class ConcourseEmulatorServer : IAsyncDisposable
{
    public const string Banner = "Concourse API EMULATOR - not a real Concourse";

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _finisher;
    private int _disposed;

    private ConcourseEmulatorServer(WebApplication app, Uri url, EmulatorState state, FaultInjector faults, EmulatorOptions options)
    {
        _app = app;
        Url = url;
        State = state;
        Faults = faults;
        Options = options;
        _finisher = RunFinisherAsync(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ConcourseEmulatorServer>());
    }

    /// <summary>Base URL, e.g. http://127.0.0.1:41234/ (use it as Concourse:Url).</summary>
    public Uri Url { get; }

    public EmulatorState State { get; }

    public FaultInjector Faults { get; }

    public EmulatorOptions Options { get; }

    public static async Task<ConcourseEmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Team);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BuildDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.TokenLifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FinisherInterval, TimeSpan.Zero);

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
        app.Use((context, next) => EmulatorMiddleware.FaultsAndLog(context, next, faults));
        app.Use((context, next) => EmulatorMiddleware.RequireBearerToken(context, next, tokens));
        ConcourseApi.Map(app);
        ControlApi.Map(app);

        await app.StartAsync(ct);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var url = new Uri(address.EndsWith('/') ? address : address + "/");
        var server = new ConcourseEmulatorServer(app, url, app.Services.GetRequiredService<EmulatorState>(), faults, options);
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OnDemand.ConcourseEmulator").LogWarning(
            "{Banner}: listening on {Url} (team {Team}, user {Username}, builds take {BuildDuration})",
            Banner, url, options.Team, options.Username, options.BuildDuration);
        return server;
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
        // A short grace: tests may leave hung requests (HangNext) that need not finish.
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _app.StopAsync(grace.Token);
        }
        await _app.DisposeAsync();
        _stopping.Dispose();
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
