using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flurl.Http;
using Flurl.Http.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using OnDemand.Grains.Http;

namespace OnDemand.Grains.Credentials;

/// <summary>
/// <see cref="ICredentialStore"/> on CredHub's REST API (PUT/GET/DELETE /api/v1/data) with a UAA client-credentials
/// token. Thread-safe; meant to be a singleton so that all grains share one token and one connection pool.
/// Values and tokens never reach a log line or an exception message; only credential names do.
/// </summary>
public sealed partial class CredHubCredentialStore : ICredentialStore, IDisposable
{
    private const int MaxQuotedBodyLength = 300;

    // Used when UAA omits expires_in (it never does; its default for clients is 12 h).
    private static readonly TimeSpan FallbackTokenLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxTokenRenewalMargin = TimeSpan.FromMinutes(1);

    private readonly CredHubOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly IFlurlClient? _http;
    private readonly string _apiUrl = "";
    private readonly string _tokenUrl = "";
    private readonly SharedBearerToken _tokens;

    public CredHubCredentialStore(IOptions<CredHubOptions> options, ILogger<CredHubCredentialStore> logger)
        : this(options.Value, logger)
    {
    }

    /// <param name="clock">for token expiry; the system clock when null.</param>
    /// <exception cref="ArgumentException">CredHub:Url is set but the rest of the section is unusable.</exception>
    public CredHubCredentialStore(CredHubOptions options, ILogger<CredHubCredentialStore>? logger = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _clock = clock ?? TimeProvider.System;
        _tokens = new SharedBearerToken(_clock, LogInAsync);
        if (!Enabled)
        {
            return;
        }

        _apiUrl = RequireHttpUrl(options.Url, "CredHub:Url");
        _tokenUrl = RequireHttpUrl(options.UaaUrl, "CredHub:UaaUrl") + "/oauth/token";
        if (string.IsNullOrEmpty(options.ClientId))
        {
            throw new ArgumentException("CredHub:ClientId must be set when CredHub:Url is.", nameof(options));
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("CredHub:RequestTimeout must be positive.", nameof(options));
        }

        // No base URL: CredHub and UAA are different hosts, every request names its absolute URL.
        _http = new FlurlClientBuilder()
            .WithSettings(settings =>
            {
                settings.Timeout = options.RequestTimeout;
                // Every status is mapped by this class; Flurl must not throw on 4xx/5xx.
                settings.AllowedHttpStatusRange = "*";
            })
            .UseSocketsHttpHandler(handler =>
            {
                handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
                handler.ConnectTimeout = options.RequestTimeout;
                handler.UseCookies = false;
            })
            .Build();
    }

    public bool Enabled => !string.IsNullOrWhiteSpace(_options.Url);

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        var call = $"set '{name}'";
        var body = new JsonObject { ["name"] = name, ["type"] = "value", ["value"] = value }.ToJsonString();
        var response = await SendAsync(call, HttpMethod.Put, () => DataRequest(), () => JsonContent(body), cancellationToken);
        EnsureSuccess(call, response);
    }

    /// <summary>Null when missing. Not part of <see cref="ICredentialStore"/>: the broker only writes and deletes; tests
    /// read back what it wrote.</summary>
    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        var call = $"get '{name}'";
        var response = await SendAsync(
            call, HttpMethod.Get, () => DataRequest().SetQueryParam("name", name).SetQueryParam("current", "true"), null, cancellationToken);
        if (response.StatusCode == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        EnsureSuccess(call, response);

        JsonNode? value;
        try
        {
            var data = JsonNode.Parse(response.Body)?["data"] as JsonArray;
            value = data is { Count: > 0 } ? data[0]?["value"] : null;
        }
        catch (JsonException)
        {
            // Never quote the body: it may hold the secret.
            throw new CredentialStoreException($"CredHub {call}: the answer is not JSON", transient: true);
        }
        return value switch
        {
            null => null,
            JsonValue text when text.TryGetValue<string>(out var s) => s,
            // A credential another tool stored as e.g. type json: hand back its JSON text rather than fail.
            _ => value.ToJsonString(),
        };
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        var call = $"delete '{name}'";
        var response = await SendAsync(call, HttpMethod.Delete, () => DataRequest().SetQueryParam("name", name), null, cancellationToken);
        if (response.StatusCode == (int)HttpStatusCode.NotFound)
        {
            return;
        }
        EnsureSuccess(call, response);
    }

    public void Dispose()
    {
        _http?.Dispose();
        _tokens.Dispose();
    }

    private static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!name.StartsWith('/'))
        {
            throw new ArgumentException($"A CredHub credential name is absolute (starts with '/'), got '{name}'.", nameof(name));
        }
    }

    private static string RequireHttpUrl(string value, string setting)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{setting} must be an absolute http(s) URL, got '{value}'.");
        }
        return value.TrimEnd('/');
    }

    private IFlurlRequest DataRequest() => _http!.Request(_apiUrl, "api", "v1", "data");

    private static ByteArrayContent JsonContent(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>
    /// One authenticated call. A 401 means the token died early (UAA key rotation, CredHub restart): log in once more
    /// and retry once. The content is built by a factory because an HttpContent cannot be sent twice.
    /// </summary>
    private async Task<RawResponse> SendAsync(
        string call, HttpMethod method, Func<IFlurlRequest> request, Func<HttpContent>? content, CancellationToken cancellationToken)
    {
        if (_http is null)
        {
            throw new CredentialStoreException($"Cannot {call}: no credential manager is configured (CredHub:Url is empty).", transient: false);
        }
        var token = await _tokens.GetAsync(cancellationToken);
        var response = await SendOnceAsync(call, method, request().WithOAuthBearerToken(token), content?.Invoke(), cancellationToken);
        if (response.StatusCode != (int)HttpStatusCode.Unauthorized)
        {
            return response;
        }

        Log.TokenRejected(_logger, call);
        token = await _tokens.RenewAsync(token, cancellationToken);
        response = await SendOnceAsync(call, method, request().WithOAuthBearerToken(token), content?.Invoke(), cancellationToken);
        if (response.StatusCode == (int)HttpStatusCode.Unauthorized)
        {
            throw new CredentialStoreException(
                $"CredHub {call}: answered 401 even right after a fresh login (does CredHub trust {_options.UaaUrl}?): {CredHubWords(response)}",
                transient: false);
        }
        return response;
    }

    private async Task<RawResponse> SendOnceAsync(
        string call, HttpMethod method, IFlurlRequest request, HttpContent? content, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        try
        {
            using var response = await request
                .WithHeader("Accept", "application/json")
                .SendAsync(method, content, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var body = await response.GetStringAsync();
            Log.CallCompleted(_logger, call, response.StatusCode, _clock.GetElapsedTime(started).TotalMilliseconds);
            return new RawResponse(response.StatusCode, body);
        }
        catch (FlurlHttpTimeoutException ex)
        {
            throw new CredentialStoreException(
                $"CredHub {call}: no answer within {_options.RequestTimeout.TotalSeconds:0.###} s", transient: true, ex);
        }
        catch (FlurlHttpException) when (cancellationToken.IsCancellationRequested)
        {
            // Flurl wraps the caller's own cancellation; that is not an outage.
            throw new OperationCanceledException(cancellationToken);
        }
        catch (FlurlHttpException ex)
        {
            throw new CredentialStoreException($"CredHub {call}: {HttpFailures.DescribeTransportFailure(ex)}", transient: true, ex);
        }
        finally
        {
            content?.Dispose();
        }
    }

    private async Task<BearerToken> LogInAsync(CancellationToken cancellationToken)
    {
        var call = $"UAA login of client '{_options.ClientId}'";
        var request = _http!.Request(_tokenUrl).WithBasicAuth(_options.ClientId, _options.ClientSecret);
        var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" });
        var response = await SendOnceAsync(call, HttpMethod.Post, request, content, cancellationToken);
        if (response.StatusCode != (int)HttpStatusCode.OK)
        {
            throw Failure(call, response);
        }

        string? accessToken;
        long? expiresIn;
        try
        {
            var answer = JsonNode.Parse(response.Body);
            accessToken = answer?["access_token"]?.GetValue<string>();
            expiresIn = answer?["expires_in"] is JsonValue seconds && seconds.TryGetValue<long>(out var s) ? s : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // Never quote the body: it holds a token.
            throw new CredentialStoreException($"CredHub {call}: unreadable token answer", transient: true);
        }
        if (string.IsNullOrEmpty(accessToken))
        {
            throw new CredentialStoreException($"CredHub {call}: token answer without access_token", transient: true);
        }

        var lifetime = expiresIn is > 0 ? TimeSpan.FromSeconds(expiresIn.Value) : FallbackTokenLifetime;
        // Renew a little early so a call never leaves with a token that dies on the way.
        var margin = TimeSpan.FromTicks(Math.Min(MaxTokenRenewalMargin.Ticks, lifetime.Ticks / 10));
        Log.LoggedIn(_logger, _options.UaaUrl, _options.ClientId, lifetime);
        return new BearerToken(accessToken, _clock.GetUtcNow() + lifetime - margin);
    }

    private static void EnsureSuccess(string call, RawResponse response)
    {
        if (response.StatusCode is < 200 or >= 300)
        {
            throw Failure(call, response);
        }
    }

    /// <summary>5xx (and the "come back later" 408/429) are transient; any other refusal is not.</summary>
    private static CredentialStoreException Failure(string call, RawResponse response)
    {
        var status = response.StatusCode;
        var transient = status >= 500 || status is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests;
        return transient
            ? new CredentialStoreException($"CredHub {call}: answered {status} {HttpFailures.ReasonPhrase(status)}", transient: true)
            : new CredentialStoreException($"CredHub refused {call} ({status}): {CredHubWords(response)}", transient: false);
    }

    /// <summary>CredHub's and UAA's own explanation ({"error": ..., "error_description": ...}), else a short text body.</summary>
    private static string CredHubWords(RawResponse response)
    {
        var body = response.Body.Trim();
        if (body.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(body) is JsonObject json && json["error"] is JsonValue error)
                {
                    var description = json["error_description"]?.ToString();
                    return string.IsNullOrEmpty(description) ? error.ToString() : $"{error}: {description}";
                }
            }
            catch (JsonException)
            {
                // Not JSON after all.
            }
            // Some other JSON (it could be a credential): do not quote it.
            return HttpFailures.ReasonPhrase(response.StatusCode);
        }
        if (body.Length == 0)
        {
            return HttpFailures.ReasonPhrase(response.StatusCode);
        }
        var text = string.Join(' ', body.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length <= MaxQuotedBodyLength ? text : string.Concat(text.AsSpan(0, MaxQuotedBodyLength), "...");
    }


    private sealed record RawResponse(int StatusCode, string Body);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Logged in to UAA {UaaUrl} as client {ClientId} for CredHub; token valid for {Lifetime}")]
        public static partial void LoggedIn(ILogger logger, string uaaUrl, string clientId, TimeSpan lifetime);

        [LoggerMessage(Level = LogLevel.Information, Message = "CredHub rejected the bearer token on {Call}; logging in again")]
        public static partial void TokenRejected(ILogger logger, string call);

        [LoggerMessage(Level = LogLevel.Debug, Message = "CredHub {Call} -> {StatusCode} in {ElapsedMs:0} ms")]
        public static partial void CallCompleted(ILogger logger, string call, int statusCode, double elapsedMs);
    }
}
