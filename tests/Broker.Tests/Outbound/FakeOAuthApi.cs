using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace OnDemand.Tests.Outbound;

/// <summary>
/// A tiny OAuth2 token endpoint and bearer-protected API on Kestrel (random port), for the shared HTTP plumbing:
/// POST /oauth/token (Basic client auth, issues "token-N"), GET /api/thing (needs the live token), GET /status/N,
/// GET /hang (answers when the caller gives up), POST /echo (answers the request's Content-Type). Counts everything.
/// </summary>
internal sealed class FakeOAuthApi : IAsyncDisposable
{
    public const string ClientId = "plumbing-client";
    public const string ClientSecret = "plumbing-secret";

    private readonly WebApplication _app;
    private int _logins;
    private int _apiCalls;
    private int _rejected;
    private volatile string? _liveToken;
    private volatile TaskCompletionSource? _loginGate;

    private FakeOAuthApi(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public string TokenUrl => new Uri(Url, "oauth/token").ToString();

    public int Logins => Volatile.Read(ref _logins);

    /// <summary>API calls that reached the API (accepted or not).</summary>
    public int ApiCalls => Volatile.Read(ref _apiCalls);

    /// <summary>API calls answered 401.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    public long ExpiresIn { get; set; } = 3600;

    /// <summary>When set, the token endpoint answers this status.</summary>
    public int? LoginStatus { get; set; }

    /// <summary>Every bearer token is refused, even a fresh one.</summary>
    public bool RejectEveryToken { get; set; }

    /// <summary>The grant form of the last login.</summary>
    public IReadOnlyDictionary<string, string> LastGrant { get; private set; } = new Dictionary<string, string>();

    /// <summary>Completes when a login arrives (the first one after <see cref="HoldLogins"/>).</summary>
    public TaskCompletionSource LoginArrived { get; private set; } = NewSignal();

    /// <summary>Completes when a request to /hang arrives.</summary>
    public TaskCompletionSource HangArrived { get; } = NewSignal();

    /// <summary>Logins wait until <see cref="ReleaseLogins"/>.</summary>
    public void HoldLogins()
    {
        LoginArrived = NewSignal();
        _loginGate = NewSignal();
    }

    public void ReleaseLogins() => _loginGate?.TrySetResult();

    /// <summary>The live token dies (a restart, a key rotation): the next API call with it gets a 401.</summary>
    public void RevokeTokens() => _liveToken = null;

    public static async Task<FakeOAuthApi> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var api = new FakeOAuthApi(app);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        api.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseLogins();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        switch (context.Request.Method, path)
        {
            case ("POST", "/oauth/token"):
                await LogInAsync(context);
                return;
            case ("GET", "/api/thing"):
                Interlocked.Increment(ref _apiCalls);
                var live = _liveToken;
                if (RejectEveryToken || live is null || context.Request.Headers.Authorization.ToString() != $"Bearer {live}")
                {
                    Interlocked.Increment(ref _rejected);
                    context.Response.StatusCode = 401;
                    return;
                }
                await context.Response.WriteAsJsonAsync(new { thing = "ok" });
                return;
            case ("GET", "/hang"):
                HangArrived.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client gave up, as it should.
                }
                return;
            case ("POST", "/echo"):
                await context.Response.WriteAsync(context.Request.ContentType ?? "");
                return;
            case ("GET", _) when path.StartsWith("/status/", StringComparison.Ordinal):
                context.Response.StatusCode = int.Parse(path["/status/".Length..], System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.WriteAsync("emulated status");
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    private async Task LogInAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _logins);
        LoginArrived.TrySetResult();
        if (_loginGate is { } gate)
        {
            await gate.Task.WaitAsync(context.RequestAborted);
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        LastGrant = form.ToDictionary(field => field.Key, field => field.Value.ToString());
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (context.Request.Headers.Authorization.ToString() != new AuthenticationHeaderValue("Basic", basic).ToString())
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { error = "unauthorized", error_description = "Bad credentials" });
            return;
        }
        if (LoginStatus is { } status)
        {
            context.Response.StatusCode = status;
            return;
        }
        var token = $"token-{number}";
        _liveToken = token;
        await context.Response.WriteAsJsonAsync(new { access_token = token, token_type = "bearer", expires_in = ExpiresIn });
    }
}
