using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// A fake CredHub and the UAA issuing its tokens, served by the emulator's own Kestrel (one process for run.sh).
/// NOT a CredHub: values live in memory (and in the state file, if any). Clients talk to it exactly as to the real
/// pair, with <c>UaaUrl = {emulator}/uaa</c> and <c>Url = {emulator}/credhub</c>:
/// <list type="bullet">
/// <item><c>POST /uaa/oauth/token</c>: client credentials grant, client id/secret as HTTP Basic (or in the form).</item>
/// <item><c>PUT /credhub/api/v1/data</c> <c>{"name","type":"value"|"password","value"}</c>: sets (overwrites).</item>
/// <item><c>GET /credhub/api/v1/data?name=N[&amp;current=true]</c>: <c>{"data":[{...}]}</c>, 404 when missing.</item>
/// <item><c>DELETE /credhub/api/v1/data?name=N</c>: 204, 404 when missing.</item>
/// <item><c>GET /credhub/info</c>, <c>GET /credhub/health</c>: public.</item>
/// </list>
/// Like CredHub, a name without a leading '/' gets one. Thread-safe. These routes are outside the Concourse
/// <see cref="FaultInjector"/> and request log: CredHub is another service; use <see cref="FailNext"/>/<see cref="HangNext"/>.
/// </summary>
public sealed class FakeCredHub
{
    public const string UaaPrefix = "/uaa";
    public const string CredHubPrefix = "/credhub";

    private const string DataPath = CredHubPrefix + "/api/v1/data";
    private const string TokenPath = UaaPrefix + "/oauth/token";
    private const string MissingAnswer =
        "The request could not be completed because the credential does not exist or you do not have sufficient authorization.";

    private readonly ConcurrentDictionary<string, StoredCredential> _credentials = new(StringComparer.Ordinal);
    private readonly TokenStore _tokens;
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly object _faultsGate = new();
    private readonly List<CredHubFault> _faults = [];
    private int _tokensIssued;
    private int _rejectedRequests;
    private long _changes;

    internal FakeCredHub(EmulatorOptions options, ILogger logger)
    {
        _options = options;
        _clock = options.Clock;
        _logger = logger;
        _tokens = new TokenStore(options.Clock, options.CredHubTokenLifetime);
    }

    /// <summary>The current value, or null. A name without a leading '/' gets one, as in CredHub.</summary>
    public string? Get(string name) => _credentials.TryGetValue(Normalize(name), out var credential) ? credential.Value : null;

    /// <summary>A snapshot: name -> current value.</summary>
    public IReadOnlyDictionary<string, string> All =>
        _credentials.ToDictionary(pair => pair.Key, pair => pair.Value.Value, StringComparer.Ordinal);

    /// <summary>Sets a value directly (type "value"), as an operator with the credhub CLI would.</summary>
    public void Set(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Store(Normalize(name), "value", value);
    }

    /// <summary>False when it did not exist.</summary>
    public bool Delete(string name)
    {
        var removed = _credentials.TryRemove(Normalize(name), out _);
        if (removed)
        {
            Interlocked.Increment(ref _changes);
        }
        return removed;
    }

    /// <summary>Successful UAA logins so far.</summary>
    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    /// <summary>CredHub API calls answered 401 (no, unknown or expired token).</summary>
    public int RejectedRequests => Volatile.Read(ref _rejectedRequests);

    /// <summary>Every issued UAA token stops working: the next CredHub call of each client gets 401.</summary>
    public void ExpireTokens() => _tokens.ExpireAll();

    /// <summary>The next <paramref name="count"/> requests (to UAA or CredHub, optionally only paths containing <paramref name="pathContains"/>) answer this status.</summary>
    public void FailNext(int count, int statusCode, string? pathContains = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        Arm(new CredHubFault(count, pathContains) { StatusCode = statusCode });
    }

    /// <summary>The next requests wait <paramref name="delay"/> before being handled (dropped if the client gives up).</summary>
    public void HangNext(int count, TimeSpan delay, string? pathContains = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Arm(new CredHubFault(count, pathContains) { Delay = delay });
    }

    /// <summary>Bumped on every change of the stored values (the state file saver polls it).</summary>
    internal long ChangeCount => Interlocked.Read(ref _changes);

    internal IReadOnlyList<StoredCredential> Export() => _credentials.Values.OrderBy(credential => credential.Name, StringComparer.Ordinal).ToList();

    internal void Import(IEnumerable<StoredCredential> credentials)
    {
        foreach (var credential in credentials)
        {
            _credentials[credential.Name] = credential;
        }
    }

    /// <summary>Middleware: answers the UAA and CredHub routes, passes everything else on.</summary>
    internal async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments(UaaPrefix, StringComparison.Ordinal) && !path.StartsWithSegments(CredHubPrefix, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var fault = TakeFault(path.Value ?? "");
        if (fault?.Delay is { } delay)
        {
            var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var hang = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            try
            {
                await Task.Delay(delay, _clock, hang.Token);
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }
        }
        else if (fault?.StatusCode is { } status)
        {
            await WriteAsync(context, status, new JsonObject { ["error"] = $"emulated fault: HTTP {status}" });
            return;
        }

        var method = context.Request.Method;
        var (statusCode, answer) = path.Value switch
        {
            TokenPath when HttpMethods.IsPost(method) => await IssueTokenAsync(context),
            CredHubPrefix + "/info" when HttpMethods.IsGet(method) => (200, Info(context)),
            CredHubPrefix + "/health" when HttpMethods.IsGet(method) => (200, new JsonObject { ["status"] = "UP" }),
            DataPath when HttpMethods.IsPut(method) || HttpMethods.IsGet(method) || HttpMethods.IsDelete(method) =>
                Authorized(context) ? await DataAsync(context) : Unauthorized(),
            TokenPath or DataPath or CredHubPrefix + "/info" or CredHubPrefix + "/health" =>
                (StatusCodes.Status405MethodNotAllowed, Error("The requested method is not supported for this resource.")),
            _ => (StatusCodes.Status404NotFound, Error("The requested resource does not exist.")),
        };
        _logger.LogDebug("Fake CredHub {Method} {Path} -> {StatusCode}", method, path.Value, statusCode);
        await WriteAsync(context, statusCode, answer);
    }

    private async Task<(int, JsonObject?)> IssueTokenAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return (StatusCodes.Status400BadRequest, OAuthError("invalid_request", "Expected a form body."));
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var (clientId, clientSecret) = BasicCredentials(context.Request.Headers.Authorization.ToString())
            ?? (form["client_id"].ToString(), form["client_secret"].ToString());
        if (clientId != _options.CredHubClientId || clientSecret != _options.CredHubClientSecret)
        {
            return (StatusCodes.Status401Unauthorized, OAuthError("unauthorized", "Bad credentials"));
        }
        if (form["grant_type"] != "client_credentials")
        {
            return (StatusCodes.Status400BadRequest, OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported."));
        }
        Interlocked.Increment(ref _tokensIssued);
        return (StatusCodes.Status200OK, new JsonObject
        {
            ["access_token"] = _tokens.Issue(),
            ["token_type"] = "bearer",
            ["expires_in"] = (long)_tokens.Lifetime.TotalSeconds,
            ["scope"] = "credhub.read credhub.write",
            ["jti"] = Guid.NewGuid().ToString("N"),
        });
    }

    private static (string Id, string Secret)? BasicCredentials(string header)
    {
        if (!AuthenticationHeaderValue.TryParse(header, out var parsed) || !string.Equals(parsed.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parsed.Parameter ?? ""));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : (decoded[..colon], decoded[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private bool Authorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && _tokens.IsValid(header[scheme.Length..].Trim());
    }

    private (int, JsonObject?) Unauthorized()
    {
        Interlocked.Increment(ref _rejectedRequests);
        return (StatusCodes.Status401Unauthorized, OAuthError("invalid_token", "Full authentication is required to access this resource"));
    }

    private async Task<(int, JsonObject?)> DataAsync(HttpContext context)
    {
        if (HttpMethods.IsPut(context.Request.Method))
        {
            return await PutAsync(context);
        }

        var name = context.Request.Query["name"].ToString();
        if (name.Length == 0)
        {
            // CredHub lists by path or name-like without "name"; the broker never does.
            return (StatusCodes.Status400BadRequest, Error("The query parameter name is required for this request."));
        }
        name = Normalize(name);
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            if (!_credentials.TryRemove(name, out _))
            {
                return (StatusCodes.Status404NotFound, Error(MissingAnswer));
            }
            Interlocked.Increment(ref _changes);
            return (StatusCodes.Status204NoContent, null);
        }

        // Only the current version is kept, so current=true and the full history answer alike.
        return _credentials.TryGetValue(name, out var credential)
            ? (StatusCodes.Status200OK, new JsonObject { ["data"] = new JsonArray(Present(credential)) })
            : (StatusCodes.Status404NotFound, Error(MissingAnswer));
    }

    private async Task<(int, JsonObject?)> PutAsync(HttpContext context)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body is null)
        {
            return (StatusCodes.Status400BadRequest, Error("The request could not be fulfilled because the request path or body did not meet expectation. Please check the documentation for required formatting and retry your request."));
        }
        var name = body["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : "";
        if (name.Length == 0)
        {
            return (StatusCodes.Status400BadRequest, Error("A credential name must be provided. Please validate your input and retry your request."));
        }
        name = Normalize(name);
        if (!ValidName(name))
        {
            return (StatusCodes.Status400BadRequest, Error("A credential name can only include alpha-numeric characters, hyphens, underscores, periods, colons and forward slashes, with no double or trailing slash."));
        }
        var type = body["type"] is JsonValue t && t.TryGetValue<string>(out var typeText) ? typeText : "";
        if (type is not ("value" or "password"))
        {
            return (StatusCodes.Status400BadRequest, Error("The request does not include a valid type. The fake CredHub supports 'value' and 'password'."));
        }
        if (body["value"] is not JsonValue v || !v.TryGetValue<string>(out var value) || value.Length == 0)
        {
            return (StatusCodes.Status400BadRequest, Error("A non-empty value must be specified for the credential. Please validate and retry your request."));
        }
        return (StatusCodes.Status200OK, Present(Store(name, type, value)));
    }

    private StoredCredential Store(string name, string type, string value)
    {
        var credential = new StoredCredential(name, type, value, Guid.NewGuid().ToString(), _clock.GetUtcNow());
        _credentials[name] = credential;
        Interlocked.Increment(ref _changes);
        return credential;
    }

    private JsonObject Info(HttpContext context) => new()
    {
        ["auth-server"] = new JsonObject { ["url"] = $"{context.Request.Scheme}://{context.Request.Host}{UaaPrefix}" },
        ["app"] = new JsonObject { ["name"] = "CredHub (Concourse API emulator's fake)" },
    };

    private static JsonObject Present(StoredCredential credential) => new()
    {
        ["type"] = credential.Type,
        ["version_created_at"] = credential.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["id"] = credential.Id,
        ["name"] = credential.Name,
        ["value"] = credential.Value,
    };

    private static string Normalize(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name.StartsWith('/') ? name : "/" + name;
    }

    private static bool ValidName(string name) =>
        name.Length <= 1024 && !name.Contains("//", StringComparison.Ordinal) && !name.EndsWith('/')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.' or ':');

    private static JsonObject Error(string message) => new() { ["error"] = message };

    private static JsonObject OAuthError(string error, string description) =>
        new() { ["error"] = error, ["error_description"] = description };

    private static async Task WriteAsync(HttpContext context, int statusCode, JsonObject? answer)
    {
        context.Response.StatusCode = statusCode;
        if (answer is null)
        {
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString(EmulatorJson.Compact), context.RequestAborted);
    }

    private void Arm(CredHubFault fault)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Remaining, 1);
        lock (_faultsGate)
        {
            _faults.Add(fault);
        }
    }

    private CredHubFault? TakeFault(string path)
    {
        lock (_faultsGate)
        {
            var fault = _faults.FirstOrDefault(f => f.PathContains is null || path.Contains(f.PathContains, StringComparison.Ordinal));
            if (fault is not null && --fault.Remaining == 0)
            {
                _faults.Remove(fault);
            }
            return fault;
        }
    }

    private sealed class CredHubFault(int count, string? pathContains)
    {
        public int Remaining { get; set; } = count;
        public string? PathContains { get; } = pathContains;
        public int? StatusCode { get; init; }
        public TimeSpan? Delay { get; init; }
    }
}

/// <summary>One credential of the <see cref="FakeCredHub"/> (only its current version is kept).</summary>
internal sealed record StoredCredential(string Name, string Type, string Value, string Id, DateTimeOffset CreatedAt)
{
    // Keep the value out of any log or debugger display that prints the record.
    public override string ToString() => $"StoredCredential {{ Name = {Name}, Type = {Type} }}";
}
