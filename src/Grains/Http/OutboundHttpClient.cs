using System.Net;
using Flurl.Http;
using Flurl.Http.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace OnDemand.Grains.Http;

/// <summary>
/// The one outbound HTTP plumbing of the grains (Concourse, CredHub and its UAA, the clusters' inner brokers, and
/// whatever comes next): a Flurl client whose calls each have a time limit, whose every status is handed back to the
/// caller, whose transport failures are worded once (<see cref="HttpFailures"/>) and thrown as the caller's own
/// transient exception, and which, given an <see cref="IBearerLogin"/>, carries a shared bearer token renewed once
/// on a 401. Thread-safe; meant to live as long as its client (a singleton), so that callers share one token and one
/// connection pool.
/// </summary>
/// <example>
/// A new client (say the Cloud Foundry API v3 behind its UAA) is its settings and its own meaning of the answers:
/// <code>
/// var http = new OutboundHttpClient(
///     new OutboundHttpSettings("Cloud Foundry", TimeSpan.FromSeconds(10), (call, reason, inner) => new CloudFoundryUnavailableException($"Cloud Foundry {call}: {reason}", inner))
///     {
///         AcceptJson = true,
///         Login = new OAuthLogin($"{uaaUrl}/oauth/token", "cf", "", OAuthLogin.PasswordGrant(username, password)) { Call = $"UAA login as '{username}'" },
///     },
///     logger);
/// var answer = await http.SendAsync("list spaces", HttpMethod.Get, () => http.Request(apiUrl, "v3", "spaces"), null, ct);
/// if (!answer.IsSuccess) throw http.TransientFailure("list spaces", answer) ?? new CloudFoundryRejectedException(answer.Status, ...);
/// </code>
/// </example>
/// <remarks>
/// Flurl rather than IHttpClientFactory: every client here is a singleton holding a token for all grains, which is
/// the case Microsoft's guidance serves with one long-lived client over a <see cref="SocketsHttpHandler"/> whose
/// pooled connections are recycled (DNS changes), exactly what a Flurl client is; tests and tools build the clients
/// with <c>new</c>, without a container; and Flurl's path and query building (a name is one fully encoded segment)
/// is what every client needs.
/// </remarks>
public sealed partial class OutboundHttpClient : IDisposable
{
    private readonly OutboundHttpSettings _settings;
    private readonly ILogger _logger;
    private readonly IFlurlClient _http;
    private readonly SharedBearerToken? _token;

    public OutboundHttpClient(OutboundHttpSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{settings.Service}: the request timeout must be positive.", nameof(settings));
        }
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        Clock = settings.Clock ?? TimeProvider.System;
        if (settings.Login is { } login)
        {
            _token = new SharedBearerToken(Clock, ct => login.LogInAsync(this, ct));
        }
        // No base URL: a client may talk to several hosts (CredHub and its UAA, one inner broker per cluster).
        _http = new FlurlClientBuilder()
            .WithSettings(flurl =>
            {
                flurl.Timeout = settings.Timeout;
                // Every status is the caller's to map; Flurl must not throw on 4xx/5xx.
                flurl.AllowedHttpStatusRange = "*";
            })
            .UseSocketsHttpHandler(handler =>
            {
                // Re-resolve DNS now and then: web nodes behind a load balancer and redeployed VMs change addresses.
                handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
                handler.ConnectTimeout = settings.Timeout;
                handler.UseCookies = false;
                if (settings.SkipCertificateValidation)
                {
                    handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
                }
            })
            .Build();
    }

    public string Service => _settings.Service;

    public TimeProvider Clock { get; }

    /// <summary>The client's logger: its logins and calls are logged under its name.</summary>
    public ILogger Logger => _logger;

    /// <summary>A request on an absolute URL given as segments: <c>Request(baseUrl, "api", "v1")</c>.</summary>
    public IFlurlRequest Request(params object[] urlSegments)
    {
        var request = _http.Request(urlSegments);
        return _settings.AcceptJson ? request.WithHeader("Accept", "application/json") : request;
    }

    /// <summary>
    /// One call with the bearer token (when there is a login). A 401 means the token died early (a restart, a key
    /// rotation): log in once more, for all concurrent callers together, and send once more. A 401 answered here
    /// therefore came right after a fresh login. Request and content are built by factories because neither can be
    /// sent twice.
    /// </summary>
    public async Task<HttpAnswer> SendAsync(
        string call, HttpMethod method, Func<IFlurlRequest> request, Func<HttpContent>? content, CancellationToken cancellationToken,
        AnswerBody body = AnswerBody.Always)
    {
        if (_token is null)
        {
            return await SendOnceAsync(call, method, request(), content?.Invoke(), cancellationToken, body);
        }
        var token = await _token.GetAsync(cancellationToken);
        var answer = await SendOnceAsync(call, method, request().WithOAuthBearerToken(token), content?.Invoke(), cancellationToken, body);
        if (answer.Status != (int)HttpStatusCode.Unauthorized)
        {
            return answer;
        }

        Log.TokenRejected(_logger, Service, call);
        token = await _token.RenewAsync(token, cancellationToken);
        return await SendOnceAsync(call, method, request().WithOAuthBearerToken(token), content?.Invoke(), cancellationToken, body);
    }

    /// <summary>
    /// One call exactly as given (a login, or a client with its own authentication); disposes <paramref name="content"/>.
    /// No answer in time or no answer at all is the client's <see cref="OutboundHttpSettings.Unavailable"/>; the
    /// caller's own cancellation stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<HttpAnswer> SendOnceAsync(
        string call, HttpMethod method, IFlurlRequest request, HttpContent? content, CancellationToken cancellationToken,
        AnswerBody answerBody = AnswerBody.Always)
    {
        var started = Clock.GetTimestamp();
        try
        {
            var headersOnly = answerBody == AnswerBody.UnlessSuccessful;
            using var response = await request.SendAsync(
                method, content, headersOnly ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
            // A success whose body the caller does not need is not read: disposing the response drains it, and the
            // connection goes back to the pool.
            var body = headersOnly && response.StatusCode is >= 200 and < 300 ? "" : await response.GetStringAsync();
            // The path only: a query or a body may hold what must not be logged.
            Log.CallCompleted(_logger, Service, call, method.Method, request.Url.Path, response.StatusCode, Clock.GetElapsedTime(started).TotalMilliseconds);
            return new HttpAnswer(response.StatusCode, body, response.Headers.ToList());
        }
        catch (FlurlHttpTimeoutException ex)
        {
            throw _settings.Unavailable(call, HttpFailures.NoAnswerWithin(request.Settings.Timeout ?? _settings.Timeout), ex);
        }
        catch (FlurlHttpException) when (cancellationToken.IsCancellationRequested)
        {
            // Flurl wraps the caller's own cancellation; that is not an outage.
            throw new OperationCanceledException(cancellationToken);
        }
        catch (FlurlHttpException ex)
        {
            throw _settings.Unavailable(call, HttpFailures.DescribeTransportFailure(ex), ex);
        }
        finally
        {
            content?.Dispose();
        }
    }

    /// <summary>The client's transient exception when <paramref name="answer"/> has a transient status (5xx, 408, 429), else null.</summary>
    public Exception? TransientFailure(string call, HttpAnswer answer) =>
        HttpFailures.IsTransientStatus(answer.Status) ? _settings.Unavailable(call, HttpFailures.Answered(answer.Status), null) : null;

    /// <summary>The client's transient exception for a reason of its own ("answer is not JSON").</summary>
    public Exception Unavailable(string call, string reason, Exception? inner = null) => _settings.Unavailable(call, reason, inner);

    public void Dispose()
    {
        _http.Dispose();
        _token?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "{Service} rejected the bearer token on {Call}; logging in again")]
        public static partial void TokenRejected(ILogger logger, string service, string call);

        [LoggerMessage(Level = LogLevel.Debug, Message = "{Service} {Call}: {Method} {Path} -> {StatusCode} in {ElapsedMs:0} ms")]
        public static partial void CallCompleted(ILogger logger, string service, string call, string method, string path, int statusCode, double elapsedMs);
    }
}

/// <summary>Which answers' bodies a call reads.</summary>
public enum AnswerBody
{
    /// <summary>Every answer's body is read.</summary>
    Always,

    /// <summary>Only a failure's body is read (for its explanation); a 2xx answer's body is left unread and empty.</summary>
    UnlessSuccessful,
}
