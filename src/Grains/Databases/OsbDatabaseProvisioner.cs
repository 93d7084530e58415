using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flurl;
using Flurl.Http;
using Flurl.Http.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using OnDemand.Grains.Http;

namespace OnDemand.Grains.Databases;

/// <summary>
/// Databases and bindings inside a dedicated cluster that comes with its own mono-tenant OSB broker (e.g. a MySQL
/// broker deployed next to the cluster): every step is forwarded to that inner broker over the OSB API (2.15).
/// </summary>
/// <remarks>
/// <para>
/// The admin endpoint locates the inner broker (<c>{DatabaseOptions.InnerBrokerScheme}://{Host}:{Port}</c>) and
/// carries its Basic auth credentials; <see cref="ClusterAdminEndpoint.Database"/> is not used. A database is a
/// service instance whose id is the database name, a binding account a service binding whose id is the user name.
/// </para>
/// <para>
/// Service and plan: the inner catalog is read once per inner broker URL and cached (successes only; a 400, which may
/// mean the catalog changed, drops the cached copy). The first service is used. A plan's size is its
/// <c>metadata.size_mb</c>, else a size in its name ("100mb", "1gb", "15gb"); a database gets the plan whose size
/// equals <c>sizeMb</c>, else the smallest plan at least that large, else (no size, or larger than every plan) the
/// first plan. Deleting, binding and unbinding need the instance's plan: it is read back with a GET of the instance
/// when the catalog says <c>instances_retrievable</c>, otherwise (or when that GET finds nothing) the first plan is sent.
/// </para>
/// <para>
/// Asynchronous answers (202) are polled through <c>last_operation</c> for at most <see cref="PollBudget"/> inside the
/// call; an operation still running after that is reported as a transient failure, and the caller's retry re-sends
/// the same request, which OSB makes idempotent (202 with the same operation, then 200 once done).
/// </para>
/// <para>
/// Errors: no connection, timeouts, 5xx, 408, 429 and 422 <c>ConcurrencyError</c> (the instance is busy) are
/// transient; every other rejection (401, 403, 400, 412, 422 …) is not, and carries the inner broker's description.
/// Credentials (the Basic auth password and whatever a binding answer holds) are never logged nor put in a message;
/// answer bodies are never logged.
/// </para>
/// </remarks>
public sealed partial class OsbDatabaseProvisioner : IDatabaseProvisioner, IDisposable
{
    public const string EngineName = "osb";

    /// <summary>What Cloud Controller sends; inner brokers all accept it.</summary>
    public const string ApiVersion = "2.15";

    private const string ApiVersionHeader = "X-Broker-API-Version";
    private const string RequestIdentityHeader = "X-Broker-API-Request-Identity";
    private const string Platform = "ondemand";
    private const string Tenant = "ondemand-broker"; // organization_guid and space_guid: the inner broker has one tenant, us
    private const int MaxDescriptionLength = 500;

    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, InnerOffering> _catalogs = new(StringComparer.Ordinal);
    private readonly IFlurlClient _http;
    private readonly ILogger _logger;
    private readonly string _scheme;

    public OsbDatabaseProvisioner(IOptions<DatabaseOptions> options, ILogger<OsbDatabaseProvisioner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scheme = options.Value.InnerBrokerScheme?.Trim().ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Databases:InnerBrokerScheme must be \"http\" or \"https\", got '{options.Value.InnerBrokerScheme}'.", nameof(options));
        }
        _scheme = scheme;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        // No base URL: every cluster has its own inner broker, every request names its absolute URL.
        _http = new FlurlClientBuilder()
            .WithSettings(settings =>
            {
                // Every status is mapped by this class; Flurl must not throw on 4xx/5xx.
                settings.AllowedHttpStatusRange = "*";
            })
            .UseSocketsHttpHandler(handler =>
            {
                // Clusters get redeployed (new VMs behind the same name): re-resolve now and then.
                handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
                handler.UseCookies = false;
            })
            .Build();
    }

    public string Engine => EngineName;

    /// <summary>Time limit of one HTTP call to an inner broker (connect included).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call waits, polling <c>last_operation</c>, for an asynchronous create or drop to finish.</summary>
    public TimeSpan PollBudget { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before polling <c>last_operation</c>; it doubles, up to 1 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public Task CreateDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, int? sizeMb, CancellationToken cancellationToken)
    {
        var target = TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        if (sizeMb is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeMb), sizeMb, "The size must be positive when given.");
        }

        var action = $"creating database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await CatalogAsync(target, ct);
            var plan = offering.PlanFor(sizeMb);
            var body = new JsonObject
            {
                ["service_id"] = offering.ServiceId,
                ["plan_id"] = plan.Id,
                ["organization_guid"] = Tenant,
                ["space_guid"] = Tenant,
                ["context"] = new JsonObject { ["platform"] = Platform },
            };
            var reply = await SendAsync(target, action, HttpMethod.Put,
                InstanceUrl(target, databaseName).SetQueryParam("accepts_incomplete", "true"), body, ct);
            switch (reply.Status)
            {
                case 200 or 201:
                    Log.DatabaseCreated(_logger, databaseName, plan.Name, target.BaseUrl);
                    return;
                case 202:
                    var operation = reply.Operation;
                    if (await PollAsync(target, action, databaseName, operation, offering.ServiceId, plan.Id, deleting: false, ct))
                    {
                        Log.DatabaseCreated(_logger, databaseName, plan.Name, target.BaseUrl);
                        return;
                    }
                    // Re-sending the same PUT later is safe: OSB answers 202 with the same operation, then 200.
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action}: the cluster's broker is still creating the database{OperationText(operation)}. Will retry.",
                        transient: true);
                case 409:
                    await AcceptExistingInstanceAsync(target, action, offering, plan, databaseName, ct);
                    return;
                default:
                    throw Failure(target, action, reply);
            }
        }, cancellationToken);
    }

    public Task DropDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, CancellationToken cancellationToken)
    {
        var target = TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));

        var action = $"dropping database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await CatalogAsync(target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var reply = await SendAsync(target, action, HttpMethod.Delete,
                InstanceUrl(target, databaseName)
                    .SetQueryParam("service_id", offering.ServiceId)
                    .SetQueryParam("plan_id", planId)
                    .SetQueryParam("accepts_incomplete", "true"),
                null, ct);
            switch (reply.Status)
            {
                case 200:
                    Log.DatabaseDropped(_logger, databaseName, target.BaseUrl);
                    return;
                case 410:
                    return; // never created, or already dropped
                case 202:
                    var operation = reply.Operation;
                    if (await PollAsync(target, action, databaseName, operation, offering.ServiceId, planId, deleting: true, ct))
                    {
                        Log.DatabaseDropped(_logger, databaseName, target.BaseUrl);
                        return;
                    }
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action}: the cluster's broker is still dropping the database{OperationText(operation)}. Will retry.",
                        transient: true);
                default:
                    throw Failure(target, action, reply);
            }
        }, cancellationToken);
    }

    /// <remarks>
    /// <paramref name="password"/> is not used: the inner broker generates the account and its password itself; the
    /// credentials returned are the ones it answered. Binding again the same name answers the same credentials.
    /// </remarks>
    public Task<DatabaseCredentials> CreateUserAsync(
        ClusterAdminEndpoint admin, string databaseName, string username, string password, CancellationToken cancellationToken)
    {
        var target = TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        ValidateId(username, nameof(username));

        var action = $"creating binding '{username}' of database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await CatalogAsync(target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var body = new JsonObject
            {
                ["service_id"] = offering.ServiceId,
                ["plan_id"] = planId,
                ["context"] = new JsonObject { ["platform"] = Platform },
            };
            var reply = await SendAsync(target, action, HttpMethod.Put, BindingUrl(target, databaseName, username), body, ct);
            JsonNode? credentials;
            switch (reply.Status)
            {
                case 200 or 201:
                    credentials = reply.Body?["credentials"];
                    break;
                case 409:
                    // Bound before with other attributes (e.g. another plan id): the binding exists, hand out its credentials.
                    var existing = await SendAsync(target, action, HttpMethod.Get, BindingUrl(target, databaseName, username), null, ct);
                    if (existing.Status != 200)
                    {
                        throw existing.Status >= 500
                            ? Failure(target, action, existing)
                            : new DatabaseProvisioningException(
                                $"{target.Where}: {action} failed: the binding exists with other attributes (HTTP 409) and reading it back answered HTTP {existing.Status}{DescriptionText(existing)}.",
                                transient: false);
                    }
                    credentials = existing.Body?["credentials"];
                    break;
                case 202:
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: the cluster's broker answered 202 (asynchronous binding), which this broker does not support.",
                        transient: false);
                default:
                    throw Failure(target, action, reply);
            }

            if (credentials is not JsonObject fields)
            {
                throw new DatabaseProvisioningException(
                    $"{target.Where}: {action} failed: the answer has no \"credentials\" object.", transient: false);
            }
            var result = CredentialsFrom(fields, $"{target.Where}: {action}");
            Log.BindingCreated(_logger, username, databaseName, target.BaseUrl);
            return result;
        }, cancellationToken);
    }

    public Task DropUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, CancellationToken cancellationToken)
    {
        var target = TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        ValidateId(username, nameof(username));

        var action = $"dropping binding '{username}' of database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await CatalogAsync(target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var reply = await SendAsync(target, action, HttpMethod.Delete,
                BindingUrl(target, databaseName, username)
                    .SetQueryParam("service_id", offering.ServiceId)
                    .SetQueryParam("plan_id", planId),
                null, ct);
            switch (reply.Status)
            {
                case 200:
                    Log.BindingDropped(_logger, username, databaseName, target.BaseUrl);
                    return;
                case 410:
                    return; // never created, or already dropped
                default:
                    throw Failure(target, action, reply);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Maps a binding's <c>credentials</c> object, accepting the common shapes: <c>hostname</c>|<c>host</c>, <c>port</c>
    /// (number or string), <c>name</c>|<c>database</c>, <c>username</c>|<c>user</c>, <c>password</c>, <c>uri</c>|<c>url</c>,
    /// <c>jdbcUrl</c>|<c>jdbc_url</c>. Fields missing but present in the URI are taken from it. A missing URI is built
    /// as <c>mysql://</c> when the port is 3306, else <c>postgres://</c>; a missing JDBC URL from the URI's scheme.
    /// </summary>
    /// <exception cref="DatabaseProvisioningException">(not transient) a field is missing; the message names it, never a value.</exception>
    public static DatabaseCredentials CredentialsFrom(JsonObject credentials, string context = "the cluster's broker")
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var host = Text(credentials, "hostname", "host");
        var port = Number(credentials, "port");
        var name = Text(credentials, "name", "database");
        var username = Text(credentials, "username", "user");
        var password = Text(credentials, "password");
        var uri = Text(credentials, "uri", "url");
        var jdbcUrl = Text(credentials, "jdbcUrl", "jdbc_url");

        if (uri is not null && Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            host ??= parsed.IdnHost is { Length: > 0 } h ? h : null;
            port ??= parsed.IsDefaultPort || parsed.Port < 0 ? null : parsed.Port;
            name ??= parsed.AbsolutePath.Trim('/') is { Length: > 0 } path ? Uri.UnescapeDataString(path) : null;
            var userInfo = parsed.UserInfo.Split(':', 2);
            username ??= userInfo[0] is { Length: > 0 } u ? Uri.UnescapeDataString(u) : null;
            password ??= userInfo.Length == 2 ? Uri.UnescapeDataString(userInfo[1]) : null;
        }

        var missing = new List<string>();
        if (host is null) missing.Add("hostname");
        if (port is null) missing.Add("port");
        if (name is null) missing.Add("name");
        if (username is null) missing.Add("username");
        if (password is null) missing.Add("password");
        if (missing.Count > 0)
        {
            throw new DatabaseProvisioningException(
                $"{context}: the binding's credentials lack {string.Join(", ", missing)}.", transient: false);
        }

        var hostInUrl = host!.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        var user = Uri.EscapeDataString(username!);
        var secret = Uri.EscapeDataString(password!);
        uri ??= $"{(port == 3306 ? "mysql" : "postgres")}://{user}:{secret}@{hostInUrl}:{port}/{Uri.EscapeDataString(name!)}";
        if (jdbcUrl is null)
        {
            var scheme = uri.Split(':', 2)[0].ToLowerInvariant() switch
            {
                "postgres" or "postgresql" => "postgresql",
                "mysql" or "mysql2" => "mysql",
                var other => other,
            };
            jdbcUrl = $"jdbc:{scheme}://{hostInUrl}:{port}/{Uri.EscapeDataString(name!)}?user={user}&password={secret}";
        }
        return new DatabaseCredentials(host, port!.Value, name!, username!, password!, uri, jdbcUrl);
    }

    public void Dispose() => _http.Dispose();

    // ---------------------------------------------------------------- catalog and plans

    private sealed record InnerPlan(string Id, string Name, int? SizeMb);

    private sealed record InnerOffering(string ServiceId, string ServiceName, bool InstancesRetrievable, IReadOnlyList<InnerPlan> Plans)
    {
        /// <summary>Exact size, else the smallest plan at least as large, else the first plan.</summary>
        public InnerPlan PlanFor(int? sizeMb)
        {
            if (sizeMb is not { } wanted)
            {
                return Plans[0];
            }
            return Plans.FirstOrDefault(plan => plan.SizeMb == wanted)
                ?? Plans.Where(plan => plan.SizeMb >= wanted).MinBy(plan => plan.SizeMb)
                ?? Plans[0];
        }
    }

    [GeneratedRegex(@"(\d+)\s*(mb|gb|tb)(?![a-z])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizeInName();

    private async Task<InnerOffering> CatalogAsync(Target target, CancellationToken ct)
    {
        if (_catalogs.TryGetValue(target.BaseUrl, out var cached))
        {
            return cached;
        }

        const string action = "reading the catalog";
        var reply = await SendAsync(target, action, HttpMethod.Get, new Url(target.BaseUrl).AppendPathSegments("v2", "catalog"), null, ct);
        if (reply.Status != 200)
        {
            throw Failure(target, action, reply);
        }
        var offering = ParseCatalog(reply.Body)
            ?? throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: the catalog has no service with an id and at least one plan with an id.", transient: false);
        Log.CatalogRead(_logger, target.BaseUrl, offering.ServiceName, string.Join(", ", offering.Plans.Select(plan => plan.Name)));
        return _catalogs.GetOrAdd(target.BaseUrl, offering);
    }

    private static InnerOffering? ParseCatalog(JsonNode? catalog)
    {
        if (catalog?["services"] is not JsonArray { Count: > 0 } services || services[0] is not JsonObject service
            || Text(service, "id") is not { } serviceId || service["plans"] is not JsonArray plans)
        {
            return null;
        }

        var parsed = new List<InnerPlan>();
        foreach (var node in plans)
        {
            if (node is not JsonObject plan || Text(plan, "id") is not { } planId)
            {
                continue;
            }
            var name = Text(plan, "name") ?? planId;
            var size = plan["metadata"] is JsonObject metadata ? Number(metadata, "size_mb") : null;
            if (size is null && SizeInName().Match(name) is { Success: true } match
                && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                var unit = match.Groups[2].Value.ToLowerInvariant() switch { "gb" => 1024L, "tb" => 1024L * 1024, _ => 1L };
                size = (int)Math.Min(int.MaxValue, amount * unit);
            }
            parsed.Add(new InnerPlan(planId, name, size));
        }
        if (parsed.Count == 0)
        {
            return null;
        }
        var retrievable = service["instances_retrievable"] is JsonValue flag && flag.TryGetValue<bool>(out var value) && value;
        return new InnerOffering(serviceId, Text(service, "name") ?? serviceId, retrievable, parsed);
    }

    /// <summary>The instance's plan id, read back when the inner broker allows it; else the first plan's.</summary>
    private async Task<string> InstancePlanAsync(Target target, string action, InnerOffering offering, string databaseName, CancellationToken ct)
    {
        if (offering.InstancesRetrievable)
        {
            var reply = await SendAsync(target, action, HttpMethod.Get, InstanceUrl(target, databaseName), null, ct);
            if (reply.Status >= 500)
            {
                throw Failure(target, action, reply);
            }
            if (reply.Status == 200 && reply.Body is JsonObject instance && Text(instance, "plan_id") is { } planId)
            {
                return planId;
            }
        }
        return offering.Plans[0].Id;
    }

    /// <summary>After a 409 on create: fine when the instance exists (with another plan, say) in our service.</summary>
    private async Task AcceptExistingInstanceAsync(
        Target target, string action, InnerOffering offering, InnerPlan wanted, string databaseName, CancellationToken ct)
    {
        var reply = await SendAsync(target, action, HttpMethod.Get, InstanceUrl(target, databaseName), null, ct);
        if (reply.Status >= 500)
        {
            throw Failure(target, action, reply);
        }
        var instance = reply.Body as JsonObject;
        var serviceId = instance is null ? null : Text(instance, "service_id");
        if (reply.Status != 200 || instance is null || (serviceId is not null && serviceId != offering.ServiceId))
        {
            throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: an instance '{databaseName}' exists with other attributes (HTTP 409) and "
                + (reply.Status == 200 ? $"belongs to service '{serviceId}'" : $"reading it answered HTTP {reply.Status}{DescriptionText(reply)}")
                + ". Not managed by the broker: an operator must look at it.",
                transient: false);
        }
        Log.DatabaseExists(_logger, databaseName, Text(instance, "plan_id") ?? "?", wanted.Id, target.BaseUrl);
    }

    // ---------------------------------------------------------------- polling

    /// <summary>
    /// Polls last_operation until the operation ends or <see cref="PollBudget"/> runs out (false). A delete is also
    /// done when the instance is gone (410, or 404: the broker no longer knows it).
    /// </summary>
    private async Task<bool> PollAsync(
        Target target, string action, string databaseName, string? operation, string serviceId, string planId, bool deleting, CancellationToken ct)
    {
        var url = InstanceUrl(target, databaseName).AppendPathSegment("last_operation")
            .SetQueryParam("service_id", serviceId)
            .SetQueryParam("plan_id", planId);
        if (operation is not null)
        {
            url.SetQueryParam("operation", operation);
        }

        var started = Stopwatch.GetTimestamp();
        var wait = PollInterval > TimeSpan.Zero ? PollInterval : TimeSpan.FromMilliseconds(1);
        while (true)
        {
            var remaining = PollBudget - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(wait < remaining ? wait : remaining, ct);
            wait = wait * 2 < MaxPollInterval ? wait * 2 : MaxPollInterval;

            var reply = await SendAsync(target, action, HttpMethod.Get, url.Clone(), null, ct);
            if (deleting && reply.Status is 410 or 404)
            {
                return true;
            }
            if (!deleting && reply.Status is 410 or 404)
            {
                // The inner broker lost the instance (restarted, or cleaned up a failed create): the retry re-sends the PUT.
                throw new DatabaseProvisioningException(
                    $"{target.Where}: {action}: the cluster's broker no longer knows the operation{OperationText(operation)} (HTTP {reply.Status}). Will retry.",
                    transient: true);
            }
            if (reply.Status != 200)
            {
                throw Failure(target, action, reply);
            }

            var state = reply.Body is JsonObject body ? Text(body, "state") : null;
            switch (state)
            {
                case "succeeded":
                    return true;
                case "in progress":
                    continue;
                case "failed":
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: the cluster's broker reports the operation failed{DescriptionText(reply, prefix: ": ")}.",
                        transient: false);
                default:
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: last_operation answered an unknown state '{Truncate(state ?? "(none)")}'.", transient: false);
            }
        }
    }

    private static string OperationText(string? operation) => operation is null ? "" : $" (operation '{Truncate(operation)}')";

    // ---------------------------------------------------------------- HTTP

    /// <summary>One inner broker: its base URL (no credentials in it) and the account to use.</summary>
    private sealed record Target(string BaseUrl, string Username, string Password)
    {
        public string Where => $"cluster broker {BaseUrl}";
    }

    private sealed record Reply(int Status, JsonNode? Body)
    {
        public string? Operation => Body is JsonObject body ? Text(body, "operation") : null;
    }

    private Target TargetOf(ClusterAdminEndpoint admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentException.ThrowIfNullOrWhiteSpace(admin.Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(admin.Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(admin.Port, 65535);
        var host = admin.Host.Contains(':', StringComparison.Ordinal) && !admin.Host.StartsWith('[') ? $"[{admin.Host}]" : admin.Host;
        return new Target($"{_scheme}://{host}:{admin.Port.ToString(CultureInfo.InvariantCulture)}", admin.Username, admin.Password);
    }

    private static Url InstanceUrl(Target target, string databaseName) =>
        new Url(target.BaseUrl).AppendPathSegments("v2", "service_instances").AppendPathSegment(databaseName, fullyEncode: true);

    private static Url BindingUrl(Target target, string databaseName, string username) =>
        InstanceUrl(target, databaseName).AppendPathSegment("service_bindings").AppendPathSegment(username, fullyEncode: true);

    private async Task<Reply> SendAsync(Target target, string action, HttpMethod method, Url url, JsonObject? body, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var content = body is null ? null : JsonContent(body);
        try
        {
            using var response = await _http.Request(url.ToString())
                .WithBasicAuth(target.Username, target.Password)
                .WithHeader(ApiVersionHeader, ApiVersion)
                .WithHeader(RequestIdentityHeader, Guid.NewGuid().ToString())
                .WithHeader("Accept", "application/json")
                .WithTimeout(RequestTimeout)
                .SendAsync(method, content, HttpCompletionOption.ResponseContentRead, ct);
            var text = await response.GetStringAsync();
            // Path only: the query holds no secret, but the body may (a binding's credentials); never log it.
            Log.CallCompleted(_logger, method.Method, url.Path, response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            JsonNode? json = null;
            if (!string.IsNullOrWhiteSpace(text))
            {
                try
                {
                    json = JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    json = null; // a proxy's HTML page, say: the status says enough
                }
            }
            return new Reply(response.StatusCode, json);
        }
        catch (FlurlHttpTimeoutException e)
        {
            throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: no answer within {RequestTimeout.TotalSeconds:0.###} s. Will retry.", transient: true, e);
        }
        catch (FlurlHttpException) when (ct.IsCancellationRequested)
        {
            // Flurl wraps the caller's own cancellation; that is not an outage.
            throw new OperationCanceledException(ct);
        }
        catch (FlurlHttpException e)
        {
            throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: {HttpFailures.DescribeTransportFailure(e)}. Will retry.", transient: true, e);
        }
    }

    private static ByteArrayContent JsonContent(JsonObject body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private DatabaseProvisioningException Failure(Target target, string action, Reply reply)
    {
        var error = reply.Body is JsonObject body ? Text(body, "error") : null;
        var transient = reply.Status >= 500 || reply.Status is 408 or 429 || (reply.Status == 422 && error == "ConcurrencyError");
        if (reply.Status == 400)
        {
            // Perhaps an unknown service or plan: the inner catalog may have changed, read it again next time.
            _catalogs.TryRemove(target.BaseUrl, out _);
        }
        var reason = reply.Status switch
        {
            401 => $"the cluster's broker rejected the credentials of '{target.Username}' (HTTP 401)",
            403 => $"the cluster's broker refused '{target.Username}' (HTTP 403)",
            412 => $"the cluster's broker does not accept OSB API version {ApiVersion} (HTTP 412)",
            422 when error == "ConcurrencyError" => "the cluster's broker is busy with another operation on it (HTTP 422 ConcurrencyError)",
            _ => $"the cluster's broker answered HTTP {reply.Status}",
        };
        return new DatabaseProvisioningException(
            $"{target.Where}: {action} failed: {reason}{DescriptionText(reply)}.{(transient ? " Will retry." : "")}", transient);
    }

    /// <summary>": description (error)" from an OSB error body, or "".</summary>
    private static string DescriptionText(Reply reply, string prefix = ": ")
    {
        if (reply.Body is not JsonObject body)
        {
            return "";
        }
        var description = Text(body, "description");
        var error = Text(body, "error");
        return (description, error) switch
        {
            (null, null) => "",
            (null, _) => $"{prefix}{Truncate(error!)}",
            (_, null) => $"{prefix}{Truncate(description)}",
            _ => $"{prefix}{Truncate(description)} ({Truncate(error)})",
        };
    }

    private static string Truncate(string text) =>
        text.Length <= MaxDescriptionLength ? text : string.Concat(text.AsSpan(0, MaxDescriptionLength), "…");

    private Task RunAsync(Func<CancellationToken, Task> body, CancellationToken ct) =>
        RunAsync(async token => { await body(token); return true; }, ct);

    /// <summary>Logs every failure once (its message holds no secret) and passes it on.</summary>
    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> body, CancellationToken ct)
    {
        try
        {
            return await body(ct);
        }
        catch (DatabaseProvisioningException e)
        {
            Log.Failed(_logger, e.Transient, e.Message);
            throw;
        }
    }

    // ---------------------------------------------------------------- JSON and names

    private static string? Text(JsonObject json, params string[] names)
    {
        foreach (var name in names)
        {
            if (json[name] is JsonValue value && value.TryGetValue<string>(out var text) && !string.IsNullOrEmpty(text))
            {
                return text;
            }
        }
        return null;
    }

    private static int? Number(JsonObject json, string name) => json[name] switch
    {
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static void ValidateId(string? id, string parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id, parameter);
        if (id.Length > 200)
        {
            throw new ArgumentException($"'{id}' is too long for an OSB id.", parameter);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Inner broker {Method} {Path}: HTTP {Status} in {ElapsedMs:0} ms")]
        public static partial void CallCompleted(ILogger logger, string method, string path, int status, double elapsedMs);

        [LoggerMessage(Level = LogLevel.Information, Message = "Inner broker {Url}: service {Service}, plans {Plans}")]
        public static partial void CatalogRead(ILogger logger, string url, string service, string plans);

        [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database} (plan {Plan}) through the cluster broker {Url}")]
        public static partial void DatabaseCreated(ILogger logger, string database, string plan, string url);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Database {Database} already exists with plan {ExistingPlan} (wanted {WantedPlan}) in the cluster broker {Url}; kept as is")]
        public static partial void DatabaseExists(ILogger logger, string database, string existingPlan, string wantedPlan, string url);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped database {Database} through the cluster broker {Url}")]
        public static partial void DatabaseDropped(ILogger logger, string database, string url);

        [LoggerMessage(Level = LogLevel.Information, Message = "Created binding {Username} of database {Database} through the cluster broker {Url}")]
        public static partial void BindingCreated(ILogger logger, string username, string database, string url);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped binding {Username} of database {Database} through the cluster broker {Url}")]
        public static partial void BindingDropped(ILogger logger, string username, string database, string url);

        [LoggerMessage(Level = LogLevel.Warning, Message = "OSB provisioning failed (transient: {Transient}): {Reason}")]
        public static partial void Failed(ILogger logger, bool transient, string reason);
    }
}
