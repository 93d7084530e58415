using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// A fake of the mono-tenant OSB broker some services deploy with each dedicated cluster (e.g. a MySQL broker), for
/// tests of the "osb" database provisioner. NOT a database: instances and bindings live in memory, credentials are
/// made up. Its own Kestrel on 127.0.0.1 (random port).
/// <list type="bullet">
/// <item>Catalog: one service <c>mysql</c> (<see cref="ServiceId"/>), plans <c>100mb</c>, <c>1gb</c>, <c>15gb</c> with
/// <c>metadata.size_mb</c> 100, 1024, 15360; instances and bindings retrievable.</item>
/// <item>Provision/deprovision: with a positive asyncDelay, 202 with an operation that succeeds asyncDelay later
/// (without <c>accepts_incomplete=true</c>: 422 AsyncRequired); with <see cref="TimeSpan.Zero"/>, 201/200 at once.
/// Identical PUT: 202 with the same operation while in progress, 200 when done; different service, plan or
/// parameters: 409. DELETE of an unknown instance: 410; a deprovision also removes the instance's bindings;
/// last_operation after it answers <c>succeeded</c> (tombstone), as the conformance suites demand.</item>
/// <item>Bind: synchronous, 201 <c>{"credentials": {hostname, port: 3306, name, username, password, uri, jdbcUrl}}</c>;
/// identical re-send 200 with the same credentials, different 409; unbind unknown 410.</item>
/// <item>Every route: Basic auth (401), then <c>X-Broker-API-Version</c> 2.13+ (412).</item>
/// </list>
/// Thread-safe. Time-based completion is evaluated lazily, on each request or property read.
/// </summary>
public sealed class FakeInnerBroker : IAsyncDisposable
{
    public const string ServiceId = "fake-mysql-service-0001";
    public const string Plan100MbId = "fake-mysql-plan-100mb";
    public const string Plan1GbId = "fake-mysql-plan-1gb";
    public const string Plan15GbId = "fake-mysql-plan-15gb";
    public const string CredentialsHost = "mysql.fake-inner-broker.internal";

    private static readonly (string Id, string Name, int SizeMb)[] Plans =
    [
        (Plan100MbId, "100mb", 100),
        (Plan1GbId, "1gb", 1024),
        (Plan15GbId, "15gb", 15360),
    ];

    private readonly WebApplication _app;
    private string? _expectedAuthorization; // null: any Basic credentials (one fake for many clusters)
    private readonly TimeSpan _asyncDelay;
    private readonly object _gate = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tombstones = new(StringComparer.Ordinal); // deleted instance -> its delete operation
    private int _failuresLeft;
    private int _failureStatus;
    private string? _failNextOperation;
    private int _provisionCount;
    private int _requestCount;
    private long _operationCounter;

    private FakeInnerBroker(WebApplication app, string username, string password, TimeSpan asyncDelay)
    {
        _app = app;
        _expectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
        _asyncDelay = asyncDelay;
    }

    /// <summary>Base URL, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Url { get; private set; } = null!;

    public int Port => Url.Port;

    /// <summary>Provision requests that created an instance (re-sends of the same one not counted).</summary>
    public int ProvisionCount => Volatile.Read(ref _provisionCount);

    /// <summary>Instances that exist now (being created or deleted included).</summary>
    public int Instances
    {
        get
        {
            lock (_gate)
            {
                SettleAll();
                return _instances.Count;
            }
        }
    }

    /// <summary>Bindings that exist now, over all instances.</summary>
    public int Bindings
    {
        get
        {
            lock (_gate)
            {
                SettleAll();
                return _instances.Values.Sum(instance => instance.Bindings.Count);
            }
        }
    }

    /// <summary>Every request received (those answered 401, 412 or a fault included).</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>The plan id of an existing instance, or null.</summary>
    public string? PlanOf(string instanceId)
    {
        lock (_gate)
        {
            SettleAll();
            return _instances.TryGetValue(instanceId, out var instance) ? instance.PlanId : null;
        }
    }

    /// <summary>True when the instance exists and its provisioning is over.</summary>
    public bool IsReady(string instanceId)
    {
        lock (_gate)
        {
            SettleAll();
            return _instances.TryGetValue(instanceId, out var instance) && instance.State == InstanceState.Ready;
        }
    }

    /// <summary>A copy of the credentials of a binding, or null.</summary>
    public JsonObject? CredentialsOf(string instanceId, string bindingId)
    {
        lock (_gate)
        {
            SettleAll();
            return _instances.TryGetValue(instanceId, out var instance) && instance.Bindings.TryGetValue(bindingId, out var binding)
                ? (JsonObject)binding.Credentials.DeepClone()
                : null;
        }
    }

    /// <summary>The next <paramref name="count"/> requests (any route, before auth) answer this status with an OSB error body.</summary>
    public void FailNext(int count, int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        lock (_gate)
        {
            _failuresLeft = count;
            _failureStatus = statusCode;
        }
    }

    /// <summary>The next asynchronous provision or deprovision ends <c>failed</c> with this description (the instance stays).</summary>
    public void FailNextOperation(string description)
    {
        lock (_gate)
        {
            _failNextOperation = description;
        }
    }

    /// <param name="port">0: a random port.</param>
    /// <param name="anyCredentials">accept any Basic credentials: one fake standing in for the inner broker of every
    /// emulated cluster, each with its own admin account (the emulator's --inner-broker-port, for load tests).</param>
    public static async Task<FakeInnerBroker> StartAsync(string username, string password, TimeSpan asyncDelay, int port = 0, bool anyCredentials = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(asyncDelay, TimeSpan.Zero);

        // The empty builder reads no appsettings.json or ASPNETCORE_* variables, and logs nothing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(FakeInnerBroker).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        var broker = new FakeInnerBroker(app, username, password, asyncDelay);
        if (anyCredentials) broker._expectedAuthorization = null;
        app.Run(broker.HandleAsync);
        try
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            broker.Url = new Uri(address.EndsWith('/') ? address : address + "/");
            return broker;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(grace.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    // ---------------------------------------------------------------- HTTP

    /// <summary>The fake's own control route (not OSB, no auth, like the emulator's /_emulator/*): what it holds now.</summary>
    public const string StatePath = "/_fake/state";

    private async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == StatePath)
        {
            await WriteAsync(context, 200, new JsonObject { ["instances"] = Instances, ["bindings"] = Bindings });
            return;
        }
        Interlocked.Increment(ref _requestCount);
        if (context.Request.Headers.TryGetValue("X-Broker-API-Request-Identity", out var identity))
        {
            context.Response.Headers["X-Broker-API-Request-Identity"] = identity;
        }

        int? fault = null;
        lock (_gate)
        {
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                fault = _failureStatus;
            }
        }
        if (fault is { } status)
        {
            await WriteAsync(context, status, Error("EmulatedFault", $"emulated fault: HTTP {status}"));
            return;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (_expectedAuthorization is null ? !authorization.StartsWith("Basic ", StringComparison.Ordinal) : authorization != _expectedAuthorization)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"fake-inner-broker\"";
            await WriteAsync(context, 401, Error(null, "Bad credentials."));
            return;
        }
        if (!SupportedVersion(context.Request.Headers["X-Broker-API-Version"].ToString()))
        {
            await WriteAsync(context, 412, Error(null, "X-Broker-API-Version 2.13 or later is required."));
            return;
        }

        JsonObject? body = null;
        if (HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPatch(context.Request.Method))
        {
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }
            if (body is null)
            {
                await WriteAsync(context, 400, Error("BadRequest", "The body must be a JSON object."));
                return;
            }
        }

        var (code, answer) = Route(context.Request.Method, context.Request.Path.Value ?? "", context.Request.Query, body);
        await WriteAsync(context, code, answer);
    }

    private (int Status, JsonObject Body) Route(string method, string path, IQueryCollection query, JsonObject? body)
    {
        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (segments is ["v2", "catalog"] && HttpMethods.IsGet(method))
        {
            return (200, Catalog());
        }
        if (segments.Length < 3 || segments[0] != "v2" || segments[1] != "service_instances")
        {
            return (404, Error(null, "No such route."));
        }

        var instanceId = segments[2];
        var acceptsIncomplete = query["accepts_incomplete"] == "true";
        lock (_gate)
        {
            SettleAll();
            return (segments.Length, method) switch
            {
                (3, "PUT") => Provision(instanceId, body!, acceptsIncomplete),
                (3, "GET") => FetchInstance(instanceId),
                (3, "DELETE") => Deprovision(instanceId, query, acceptsIncomplete),
                (4, "GET") when segments[3] == "last_operation" => LastOperation(instanceId),
                (5, "PUT") when segments[3] == "service_bindings" => Bind(instanceId, segments[4], body!),
                (5, "GET") when segments[3] == "service_bindings" => FetchBinding(instanceId, segments[4]),
                (5, "DELETE") when segments[3] == "service_bindings" => Unbind(instanceId, segments[4], query),
                _ => (404, Error(null, "No such route.")),
            };
        }
    }

    private (int, JsonObject) Provision(string instanceId, JsonObject body, bool acceptsIncomplete)
    {
        var serviceId = Text(body, "service_id");
        var planId = Text(body, "plan_id");
        if (serviceId is null || planId is null || Text(body, "organization_guid") is null || Text(body, "space_guid") is null)
        {
            return (400, Error("BadRequest", "service_id, plan_id, organization_guid and space_guid are required."));
        }
        if (serviceId != ServiceId || Plans.All(plan => plan.Id != planId))
        {
            return (400, Error("BadRequest", $"Unknown service '{serviceId}' or plan '{planId}'."));
        }
        if (_asyncDelay > TimeSpan.Zero && !acceptsIncomplete)
        {
            return (422, Error("AsyncRequired", "This service plan requires client support for asynchronous service operations."));
        }

        var parameters = body["parameters"]?.ToJsonString();
        if (_instances.TryGetValue(instanceId, out var existing))
        {
            if (existing.ServiceId != serviceId || existing.PlanId != planId || existing.Parameters != parameters)
            {
                return (409, new JsonObject());
            }
            return existing.State switch
            {
                InstanceState.Provisioning => (202, Operation(existing.Operation)),
                InstanceState.Ready => (200, new JsonObject()),
                InstanceState.Failed => StartProvisioning(existing), // a failed create is tried again
                _ => (422, Error("ConcurrencyError", "The instance is being deleted.")),
            };
        }

        _tombstones.Remove(instanceId);
        var instance = new Instance(serviceId, planId, parameters);
        _instances[instanceId] = instance;
        Interlocked.Increment(ref _provisionCount);
        if (_asyncDelay == TimeSpan.Zero)
        {
            instance.State = InstanceState.Ready;
            return (201, new JsonObject());
        }
        return StartProvisioning(instance);
    }

    private (int, JsonObject) StartProvisioning(Instance instance)
    {
        instance.State = InstanceState.Provisioning;
        instance.Operation = NewOperation("provision");
        instance.DueAt = Now + _asyncDelay;
        instance.FailureDescription = TakeOperationFailure();
        return (202, Operation(instance.Operation));
    }

    private (int, JsonObject) FetchInstance(string instanceId)
    {
        if (!_instances.TryGetValue(instanceId, out var instance) || instance.State is InstanceState.Provisioning or InstanceState.Failed)
        {
            return (404, Error(null, $"Service instance {instanceId} does not exist or is being created."));
        }
        if (instance.State == InstanceState.Deprovisioning)
        {
            return (422, Error("ConcurrencyError", "The instance is being deleted."));
        }
        var answer = new JsonObject { ["service_id"] = instance.ServiceId, ["plan_id"] = instance.PlanId };
        if (instance.Parameters is { } parameters)
        {
            answer["parameters"] = JsonNode.Parse(parameters);
        }
        return (200, answer);
    }

    private (int, JsonObject) Deprovision(string instanceId, IQueryCollection query, bool acceptsIncomplete)
    {
        if (KnownIds(query) is { } problem)
        {
            return problem;
        }
        if (!_instances.TryGetValue(instanceId, out var instance))
        {
            return (410, new JsonObject());
        }
        if (_asyncDelay > TimeSpan.Zero && !acceptsIncomplete)
        {
            return (422, Error("AsyncRequired", "This service plan requires client support for asynchronous service operations."));
        }
        switch (instance.State)
        {
            case InstanceState.Provisioning:
                return (422, Error("ConcurrencyError", "The instance is being created."));
            case InstanceState.Deprovisioning:
                return (202, Operation(instance.Operation));
        }
        if (_asyncDelay == TimeSpan.Zero)
        {
            _instances.Remove(instanceId);
            return (200, new JsonObject());
        }
        instance.State = InstanceState.Deprovisioning;
        instance.Operation = NewOperation("deprovision");
        instance.DueAt = Now + _asyncDelay;
        instance.FailureDescription = TakeOperationFailure();
        return (202, Operation(instance.Operation));
    }

    private (int, JsonObject) LastOperation(string instanceId)
    {
        if (!_instances.TryGetValue(instanceId, out var instance))
        {
            return _tombstones.ContainsKey(instanceId)
                ? (200, new JsonObject { ["state"] = "succeeded", ["description"] = "Deleted." })
                : (404, Error(null, $"Service instance {instanceId} does not exist."));
        }
        return instance.State switch
        {
            InstanceState.Provisioning => (200, new JsonObject { ["state"] = "in progress", ["description"] = "Creating the database." }),
            InstanceState.Deprovisioning => (200, new JsonObject { ["state"] = "in progress", ["description"] = "Deleting the database." }),
            InstanceState.Failed or InstanceState.DeleteFailed => (200, new JsonObject { ["state"] = "failed", ["description"] = instance.FailureDescription }),
            _ => (200, new JsonObject { ["state"] = "succeeded", ["description"] = "Created." }),
        };
    }

    private (int, JsonObject) Bind(string instanceId, string bindingId, JsonObject body)
    {
        var serviceId = Text(body, "service_id");
        var planId = Text(body, "plan_id");
        if (serviceId != ServiceId || Plans.All(plan => plan.Id != planId))
        {
            return (400, Error("BadRequest", $"Missing or unknown service_id '{serviceId}' or plan_id '{planId}'."));
        }
        if (!_instances.TryGetValue(instanceId, out var instance) || instance.State == InstanceState.Failed)
        {
            return (404, Error(null, $"Service instance {instanceId} does not exist."));
        }
        if (instance.State != InstanceState.Ready)
        {
            return (422, Error("ConcurrencyError", "The instance is being created or deleted."));
        }

        // What identifies a binding request (context and headers excluded, as for Cloud Controller's re-sends).
        var signature = new JsonObject
        {
            ["service_id"] = serviceId,
            ["plan_id"] = planId,
            ["app_guid"] = body["app_guid"]?.DeepClone(),
            ["bind_resource"] = body["bind_resource"]?.DeepClone(),
            ["parameters"] = body["parameters"]?.DeepClone(),
        }.ToJsonString();
        if (instance.Bindings.TryGetValue(bindingId, out var existing))
        {
            return existing.Signature == signature
                ? (200, new JsonObject { ["credentials"] = existing.Credentials.DeepClone() })
                : (409, new JsonObject());
        }

        var username = "u" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var credentials = new JsonObject
        {
            ["hostname"] = CredentialsHost,
            ["port"] = 3306,
            ["name"] = instanceId,
            ["username"] = username,
            ["password"] = password,
            ["uri"] = $"mysql://{username}:{password}@{CredentialsHost}:3306/{instanceId}?reconnect=true",
            ["jdbcUrl"] = $"jdbc:mysql://{CredentialsHost}:3306/{instanceId}?user={username}&password={password}",
        };
        instance.Bindings[bindingId] = new Binding(signature, credentials);
        return (201, new JsonObject { ["credentials"] = credentials.DeepClone() });
    }

    private (int, JsonObject) FetchBinding(string instanceId, string bindingId) =>
        _instances.TryGetValue(instanceId, out var instance) && instance.Bindings.TryGetValue(bindingId, out var binding)
            ? (200, new JsonObject { ["credentials"] = binding.Credentials.DeepClone() })
            : (404, Error(null, $"Service binding {bindingId} does not exist."));

    private (int, JsonObject) Unbind(string instanceId, string bindingId, IQueryCollection query)
    {
        if (KnownIds(query) is { } problem)
        {
            return problem;
        }
        return _instances.TryGetValue(instanceId, out var instance) && instance.Bindings.Remove(bindingId)
            ? (200, new JsonObject())
            : (410, new JsonObject());
    }

    private static (int, JsonObject)? KnownIds(IQueryCollection query)
    {
        string serviceId = query["service_id"].ToString(), planId = query["plan_id"].ToString();
        return serviceId == ServiceId && Plans.Any(plan => plan.Id == planId)
            ? null
            : (400, Error("BadRequest", $"Missing or unknown service_id '{serviceId}' or plan_id '{planId}'."));
    }

    // ---------------------------------------------------------------- state

    private enum InstanceState { Provisioning, Ready, Failed, Deprovisioning, DeleteFailed }

    private sealed class Instance(string serviceId, string planId, string? parameters)
    {
        public string ServiceId { get; } = serviceId;
        public string PlanId { get; } = planId;
        public string? Parameters { get; } = parameters;
        public InstanceState State { get; set; }
        public string Operation { get; set; } = "";
        public TimeSpan DueAt { get; set; }
        public string? FailureDescription { get; set; }
        public Dictionary<string, Binding> Bindings { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Binding(string Signature, JsonObject Credentials);

    private static TimeSpan Now => Stopwatch.GetElapsedTime(0);

    /// <summary>Ends the operations whose time has come. Under the lock.</summary>
    private void SettleAll()
    {
        var now = Now;
        foreach (var (id, instance) in _instances.ToList())
        {
            if (instance.DueAt > now)
            {
                continue;
            }
            switch (instance.State)
            {
                case InstanceState.Provisioning:
                    instance.State = instance.FailureDescription is null ? InstanceState.Ready : InstanceState.Failed;
                    break;
                case InstanceState.Deprovisioning when instance.FailureDescription is null:
                    _instances.Remove(id);
                    _tombstones[id] = instance.Operation;
                    break;
                case InstanceState.Deprovisioning:
                    instance.State = InstanceState.DeleteFailed;
                    break;
            }
        }
    }

    private string NewOperation(string kind) =>
        $"{kind}-{Interlocked.Increment(ref _operationCounter).ToString(CultureInfo.InvariantCulture)}";

    private string? TakeOperationFailure()
    {
        var description = _failNextOperation;
        _failNextOperation = null;
        return description;
    }

    // ---------------------------------------------------------------- JSON

    private static bool SupportedVersion(string version)
    {
        var parts = version.Split('.');
        return parts.Length == 2 && parts[0] == "2"
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor) && minor >= 13;
    }

    private static JsonObject Operation(string operation) => new() { ["operation"] = operation };

    private static JsonObject Error(string? error, string description)
    {
        var body = new JsonObject();
        if (error is not null)
        {
            body["error"] = error;
        }
        body["description"] = description;
        return body;
    }

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static JsonObject Catalog() => new()
    {
        ["services"] = new JsonArray(new JsonObject
        {
            ["name"] = "mysql",
            ["id"] = ServiceId,
            ["description"] = "Fake MySQL databases (FakeInnerBroker, tests only)",
            ["bindable"] = true,
            ["instances_retrievable"] = true,
            ["bindings_retrievable"] = true,
            ["plans"] = new JsonArray(Plans.Select(plan => (JsonNode)new JsonObject
            {
                ["id"] = plan.Id,
                ["name"] = plan.Name,
                ["description"] = $"A {plan.Name} database",
                ["metadata"] = new JsonObject { ["size_mb"] = plan.SizeMb },
            }).ToArray()),
        }),
    };
}
