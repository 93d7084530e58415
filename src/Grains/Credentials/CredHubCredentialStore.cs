using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flurl.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using OnDemand.Grains.Http;

namespace OnDemand.Grains.Credentials;

/// <summary>
/// <see cref="ICredentialStore"/> on CredHub's REST API (PUT/GET/DELETE /api/v1/data) with a UAA client-credentials
/// token, on the shared <see cref="OutboundHttpClient"/>. Thread-safe; meant to be a singleton so that all grains share one token and one connection pool.
/// Values and tokens never reach a log line or an exception message; only credential names do.
/// </summary>
public sealed class CredHubCredentialStore : ICredentialStore, IDisposable
{
    private const int MaxQuotedBodyLength = 300;

    // Used when UAA omits expires_in (it never does; its default for clients is 12 h).
    private static readonly TimeSpan FallbackTokenLifetime = TimeSpan.FromMinutes(10);

    private readonly CredHubOptions _options;
    private readonly OutboundHttpClient? _http;
    private readonly string _apiUrl = "";

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
        if (!Enabled)
        {
            return;
        }

        _apiUrl = RequireHttpUrl(options.Url, "CredHub:Url");
        var uaaUrl = RequireHttpUrl(options.UaaUrl, "CredHub:UaaUrl");
        if (string.IsNullOrEmpty(options.ClientId))
        {
            throw new ArgumentException("CredHub:ClientId must be set when CredHub:Url is.", nameof(options));
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("CredHub:RequestTimeout must be positive.", nameof(options));
        }

        _http = new OutboundHttpClient(
            new OutboundHttpSettings("CredHub", options.RequestTimeout, (call, reason, inner) => new CredentialStoreException($"CredHub {call}: {reason}", transient: true, inner))
            {
                AcceptJson = true,
                Clock = clock,
                Login = new OAuthLogin($"{uaaUrl}/oauth/token", options.ClientId, options.ClientSecret, OAuthLogin.ClientCredentialsGrant)
                {
                    Call = $"UAA login of client '{options.ClientId}'",
                    Issuer = $"UAA {options.UaaUrl}",
                    Principal = $"client {options.ClientId}",
                    FallbackLifetime = FallbackTokenLifetime,
                    Refused = Refused,
                },
            },
            (ILogger?)logger ?? NullLogger.Instance);
    }

    public bool Enabled => !string.IsNullOrWhiteSpace(_options.Url);

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        var call = $"set '{name}'";
        var body = new JsonObject { ["name"] = name, ["type"] = "value", ["value"] = value }.ToJsonString();
        // CredHub answers a set with the credential, value included: a success's body is not read, so the secret
        // does not come back into this process's memory a second time.
        var response = await SendAsync(call, HttpMethod.Put, () => DataRequest(), () => HttpJson.Content(body), cancellationToken, AnswerBody.UnlessSuccessful);
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
        if (response.Status == (int)HttpStatusCode.NotFound)
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
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return;
        }
        EnsureSuccess(call, response);
    }

    public void Dispose() => _http?.Dispose();

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

    /// <summary>One authenticated call; the shared client logs in again once on a 401.</summary>
    private async Task<HttpAnswer> SendAsync(
        string call, HttpMethod method, Func<IFlurlRequest> request, Func<HttpContent>? content, CancellationToken cancellationToken,
        AnswerBody body = AnswerBody.Always)
    {
        if (_http is null)
        {
            throw new CredentialStoreException($"Cannot {call}: no credential manager is configured (CredHub:Url is empty).", transient: false);
        }
        var response = await _http.SendAsync(call, method, request, content, cancellationToken, body);
        if (response.Status == (int)HttpStatusCode.Unauthorized)
        {
            throw new CredentialStoreException(
                $"CredHub {call}: {HttpFailures.RejectedAfterLogin} (does CredHub trust {_options.UaaUrl}?): {CredHubWords(response)}",
                transient: false);
        }
        return response;
    }

    private void EnsureSuccess(string call, HttpAnswer response)
    {
        if (!response.IsSuccess)
        {
            throw _http!.TransientFailure(call, response) ?? Refused(call, response);
        }
    }

    /// <summary>5xx (and the "come back later" 408/429) are transient (the shared client's); any other refusal is not.</summary>
    private static CredentialStoreException Refused(string call, HttpAnswer response) =>
        new($"CredHub refused {call} ({response.Status}): {CredHubWords(response)}", transient: false);

    /// <summary>CredHub's and UAA's own explanation ({"error": ..., "error_description": ...}), else a short text body.</summary>
    private static string CredHubWords(HttpAnswer response)
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
            return HttpFailures.ReasonPhrase(response.Status);
        }
        if (body.Length == 0)
        {
            return HttpFailures.ReasonPhrase(response.Status);
        }
        var text = string.Join(' ', body.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length <= MaxQuotedBodyLength ? text : string.Concat(text.AsSpan(0, MaxQuotedBodyLength), "...");
    }
}
