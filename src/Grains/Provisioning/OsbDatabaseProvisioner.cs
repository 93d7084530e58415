using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using OnDemand.Grains.InnerBroker;

namespace OnDemand.Grains.Provisioning;

/// <summary>
/// Databases and bindings inside a dedicated cluster that comes with its own mono-tenant OSB broker (e.g. a MySQL
/// broker deployed next to the cluster): every step is forwarded to that inner broker over the OSB API (2.15), through
/// <see cref="InnerBrokerClient"/>.
/// </summary>
/// <remarks>
/// <para>
/// The admin endpoint locates the inner broker (<c>{DatabaseOptions.InnerBrokerScheme}://{Host}:{Port}</c>) and
/// carries its Basic auth credentials; <see cref="ClusterAdminEndpoint.Database"/> is not used. A database is a
/// service instance whose id is the database name, a binding account a service binding whose id is the user name.
/// </para>
/// <para>
/// Service and plan come from the inner catalog (<see cref="InnerCatalogs"/>, cached) and <see cref="InnerPlanPolicy"/>.
/// Deleting, binding and unbinding need the instance's plan: it is read back with a GET of the instance when the
/// catalog says <c>instances_retrievable</c>, otherwise (or when that GET finds nothing) the first plan is sent.
/// </para>
/// <para>
/// Asynchronous answers (202) are polled through <c>last_operation</c> for at most <see cref="PollBudget"/> inside the
/// call (<see cref="LastOperationPoller"/>); an operation still running after that is reported as a transient failure,
/// and the caller's retry re-sends the same request, which OSB makes idempotent.
/// </para>
/// <para>
/// Errors are those of <see cref="InnerBrokerClient"/>. Credentials (the Basic auth password and whatever a binding
/// answer holds) are never logged nor put in a message; answer bodies are never logged.
/// </para>
/// </remarks>
public sealed partial class OsbDatabaseProvisioner : IDatabaseProvisioner, IDisposable
{
    public const string EngineName = "osb";

    /// <summary>What Cloud Controller sends; inner brokers all accept it.</summary>
    public const string ApiVersion = InnerBrokerClient.ApiVersion;

    private const string Platform = "ondemand";
    private const string Tenant = "ondemand-broker"; // organization_guid and space_guid: the inner broker has one tenant, us

    private readonly InnerCatalogs _catalogs;
    private readonly InnerBrokerClient _client;
    private readonly ILogger _logger;

    public OsbDatabaseProvisioner(IOptions<DatabaseOptions> options, ILogger<OsbDatabaseProvisioner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scheme = options.Value.InnerBrokerScheme?.Trim().ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Databases:InnerBrokerScheme must be \"http\" or \"https\", got '{options.Value.InnerBrokerScheme}'.", nameof(options));
        }
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _catalogs = new InnerCatalogs(_logger);
        _client = new InnerBrokerClient(scheme, _logger, _catalogs.Forget);
    }

    public string Engine => EngineName;

    /// <summary>Time limit of one HTTP call to an inner broker (connect included).</summary>
    public TimeSpan RequestTimeout
    {
        get => _client.RequestTimeout;
        init => _client.RequestTimeout = value;
    }

    /// <summary>How long a call waits, polling <c>last_operation</c>, for an asynchronous create or drop to finish.</summary>
    public TimeSpan PollBudget { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before polling <c>last_operation</c>; it doubles, up to 1 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public Task CreateDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, int? sizeMb, CancellationToken cancellationToken)
    {
        var target = _client.TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        if (sizeMb is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeMb), sizeMb, "The size must be positive when given.");
        }

        var action = $"creating database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await _catalogs.GetAsync(_client, target, ct);
            var plan = offering.PlanFor(sizeMb);
            var body = new JsonObject
            {
                ["service_id"] = offering.ServiceId,
                ["plan_id"] = plan.Id,
                ["organization_guid"] = Tenant,
                ["space_guid"] = Tenant,
                ["context"] = new JsonObject { ["platform"] = Platform },
            };
            var reply = await _client.SendAsync(target, action, HttpMethod.Put,
                InnerBrokerClient.InstanceUrl(target, databaseName).SetQueryParam("accepts_incomplete", "true"), body, ct);
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
                        $"{target.Where}: {action}: the cluster's broker is still creating the database{InnerBrokerClient.OperationText(operation)}. Will retry.",
                        transient: true);
                case 409:
                    await AcceptExistingInstanceAsync(target, action, offering, plan, databaseName, ct);
                    return;
                default:
                    throw _client.Failure(target, action, reply);
            }
        }, cancellationToken);
    }

    public Task DropDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, CancellationToken cancellationToken)
    {
        var target = _client.TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));

        var action = $"dropping database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await _catalogs.GetAsync(_client, target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var reply = await _client.SendAsync(target, action, HttpMethod.Delete,
                InnerBrokerClient.InstanceUrl(target, databaseName)
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
                        $"{target.Where}: {action}: the cluster's broker is still dropping the database{InnerBrokerClient.OperationText(operation)}. Will retry.",
                        transient: true);
                default:
                    throw _client.Failure(target, action, reply);
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
        var target = _client.TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        ValidateId(username, nameof(username));

        var action = $"creating binding '{username}' of database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await _catalogs.GetAsync(_client, target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var body = new JsonObject
            {
                ["service_id"] = offering.ServiceId,
                ["plan_id"] = planId,
                ["context"] = new JsonObject { ["platform"] = Platform },
            };
            var reply = await _client.SendAsync(target, action, HttpMethod.Put, InnerBrokerClient.BindingUrl(target, databaseName, username), body, ct);
            JsonNode? credentials;
            switch (reply.Status)
            {
                case 200 or 201:
                    credentials = reply.Body?["credentials"];
                    break;
                case 409:
                    // Bound before with other attributes (e.g. another plan id): the binding exists, hand out its credentials.
                    var existing = await _client.SendAsync(target, action, HttpMethod.Get, InnerBrokerClient.BindingUrl(target, databaseName, username), null, ct);
                    if (existing.Status != 200)
                    {
                        throw existing.Status >= 500
                            ? _client.Failure(target, action, existing)
                            : new DatabaseProvisioningException(
                                $"{target.Where}: {action} failed: the binding exists with other attributes (HTTP 409) and reading it back answered HTTP {existing.Status}{InnerBrokerClient.DescriptionText(existing)}.",
                                transient: false);
                    }
                    credentials = existing.Body?["credentials"];
                    break;
                case 202:
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: the cluster's broker answered 202 (asynchronous binding), which this broker does not support.",
                        transient: false);
                default:
                    throw _client.Failure(target, action, reply);
            }

            if (credentials is not JsonObject fields)
            {
                throw new DatabaseProvisioningException(
                    $"{target.Where}: {action} failed: the answer has no \"credentials\" object.", transient: false);
            }
            var result = BindingCredentials.From(fields, $"{target.Where}: {action}");
            Log.BindingCreated(_logger, username, databaseName, target.BaseUrl);
            return result;
        }, cancellationToken);
    }

    public Task DropUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, CancellationToken cancellationToken)
    {
        var target = _client.TargetOf(admin);
        ValidateId(databaseName, nameof(databaseName));
        ValidateId(username, nameof(username));

        var action = $"dropping binding '{username}' of database '{databaseName}'";
        return RunAsync(async ct =>
        {
            var offering = await _catalogs.GetAsync(_client, target, ct);
            var planId = await InstancePlanAsync(target, action, offering, databaseName, ct);
            var reply = await _client.SendAsync(target, action, HttpMethod.Delete,
                InnerBrokerClient.BindingUrl(target, databaseName, username)
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
                    throw _client.Failure(target, action, reply);
            }
        }, cancellationToken);
    }

    /// <inheritdoc cref="BindingCredentials.From"/>
    public static DatabaseCredentials CredentialsFrom(JsonObject credentials, string context = "the cluster's broker") =>
        BindingCredentials.From(credentials, context);

    public void Dispose() => _client.Dispose();

    /// <summary>The instance's plan id, read back when the inner broker allows it; else the first plan's.</summary>
    private async Task<string> InstancePlanAsync(InnerBrokerTarget target, string action, InnerOffering offering, string databaseName, CancellationToken ct)
    {
        if (offering.InstancesRetrievable)
        {
            var reply = await _client.SendAsync(target, action, HttpMethod.Get, InnerBrokerClient.InstanceUrl(target, databaseName), null, ct);
            if (reply.Status >= 500)
            {
                throw _client.Failure(target, action, reply);
            }
            if (reply.Status == 200 && reply.Body is JsonObject instance && OsbJson.Text(instance, "plan_id") is { } planId)
            {
                return planId;
            }
        }
        return offering.Plans[0].Id;
    }

    /// <summary>After a 409 on create: fine when the instance exists (with another plan, say) in our service.</summary>
    private async Task AcceptExistingInstanceAsync(
        InnerBrokerTarget target, string action, InnerOffering offering, InnerPlan wanted, string databaseName, CancellationToken ct)
    {
        var reply = await _client.SendAsync(target, action, HttpMethod.Get, InnerBrokerClient.InstanceUrl(target, databaseName), null, ct);
        if (reply.Status >= 500)
        {
            throw _client.Failure(target, action, reply);
        }
        var instance = reply.Body as JsonObject;
        var serviceId = instance is null ? null : OsbJson.Text(instance, "service_id");
        if (reply.Status != 200 || instance is null || (serviceId is not null && serviceId != offering.ServiceId))
        {
            throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: an instance '{databaseName}' exists with other attributes (HTTP 409) and "
                + (reply.Status == 200 ? $"belongs to service '{serviceId}'" : $"reading it answered HTTP {reply.Status}{InnerBrokerClient.DescriptionText(reply)}")
                + ". Not managed by the broker: an operator must look at it.",
                transient: false);
        }
        Log.DatabaseExists(_logger, databaseName, OsbJson.Text(instance, "plan_id") ?? "?", wanted.Id, target.BaseUrl);
    }

    private Task<bool> PollAsync(
        InnerBrokerTarget target, string action, string databaseName, string? operation, string serviceId, string planId, bool deleting, CancellationToken ct) =>
        LastOperationPoller.PollAsync(_client, target, action, databaseName, operation, serviceId, planId, deleting, PollBudget, PollInterval, ct);

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
