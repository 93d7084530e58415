using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Telemetry;

/// <summary>
/// The broker's domain metrics and traces, on the .NET (OpenTelemetry) API: Meter and ActivitySource
/// "OnDemand.Broker". prometheus-net's MeterAdapter (on by default) exports the Meter on each host's existing /metrics
/// route, so nothing else about /metrics changes; any OpenTelemetry SDK can collect both as well.
/// Gauges are per process: a silo reports the operations its own grains drive; sum (or max, for fleet-wide figures
/// every silo computes) across instances in queries.
/// </summary>
public static class BrokerMetrics
{
    public const string Name = "OnDemand.Broker";

    public static readonly ActivitySource Tracing = new(Name);
    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Started = Meter.CreateCounter<long>("operations.started", description: "Operations accepted, by kind and plan");
    private static readonly Counter<long> Succeeded = Meter.CreateCounter<long>("operations.succeeded", description: "Operations that succeeded, by kind and plan");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("operations.failed", description: "Operations that failed, by kind, plan and cause");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("operation.duration", unit: "s", description: "Duration of finished operations, by kind, plan and outcome");
    private static readonly Counter<long> ExternalErrors = Meter.CreateCounter<long>("external.errors", description: "Failed calls to Concourse and CredHub, by system and kind (unavailable, rejected)");
    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("refusals", description: "Requests refused by a quota or the maintenance switch, by reason");

    private static readonly ConcurrentDictionary<string, (string Kind, string Plan, DateTimeOffset Deadline)> Running = new();
    private static volatile IReadOnlyList<(string Plan, string Status, int Count)> _instances = [];
    private static volatile UpgradeReport? _upgrade;

    static BrokerMetrics()
    {
        Meter.CreateObservableGauge("operations.in_progress", () =>
            Running.Values.GroupBy(r => (r.Kind, r.Plan)).Select(g => new Measurement<long>(g.Count(), new("kind", g.Key.Kind), new("plan", g.Key.Plan))),
            description: "Operations in progress, driven by this silo");
        Meter.CreateObservableGauge("operations.past_deadline", () =>
            Running.Values.Where(r => r.Deadline < DateTimeOffset.UtcNow).GroupBy(r => (r.Kind, r.Plan))
                .Select(g => new Measurement<long>(g.Count(), new("kind", g.Key.Kind), new("plan", g.Key.Plan))),
            description: "Operations still in progress after their deadline (maximum_polling_duration)");
        Meter.CreateObservableGauge("instances", () =>
            _instances.Select(i => new Measurement<long>(i.Count, new("plan", i.Plan), new("status", i.Status))),
            description: "Cluster instances by plan and status (the whole fleet, as this silo last read it)");
        Meter.CreateObservableGauge("upgrade.clusters", UpgradeMeasurements,
            description: "The upgrade-all run's clusters by phase (done, running, failed, left)");
    }

    /// <param name="resource">"cluster" (kind label create, update, delete) or "database" (database_create, database_delete).</param>
    public static void OperationStarted(string instanceId, OperationKind kind, string plan, DateTimeOffset deadline, string resource = Cluster)
    {
        Started.Add(1, new("kind", Label(kind, resource)), new("plan", plan));
        Running[instanceId] = (Label(kind, resource), plan, deadline);
    }

    /// <summary>A grain activated with an operation in progress (after a restart or a move): it drives it here now.</summary>
    public static void OperationResumed(string instanceId, OperationKind kind, string plan, DateTimeOffset deadline, string resource = Cluster) =>
        Running[instanceId] = (Label(kind, resource), plan, deadline);

    public static void OperationSucceeded(string instanceId, OperationKind kind, string plan, TimeSpan duration, string resource = Cluster)
    {
        Running.TryRemove(instanceId, out _);
        Succeeded.Add(1, new("kind", Label(kind, resource)), new("plan", plan));
        Duration.Record(duration.TotalSeconds, new("kind", Label(kind, resource)), new("plan", plan), new("outcome", "succeeded"));
    }

    public static void OperationFailed(string instanceId, OperationKind kind, string plan, FailureCause cause, TimeSpan duration, string resource = Cluster)
    {
        Running.TryRemove(instanceId, out _);
        Failed.Add(1, new("kind", Label(kind, resource)), new("plan", plan), new("cause", CauseLabel(cause)));
        Duration.Record(duration.TotalSeconds, new("kind", Label(kind, resource)), new("plan", plan), new("outcome", "failed"));
    }

    public static void ExternalError(string system, string kind) => ExternalErrors.Add(1, new("system", system), new("kind", kind));

    public static void Refused(string reason) => Refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void SetInstances(IReadOnlyList<(string Plan, string Status, int Count)> instances) => _instances = instances;

    public static void SetUpgrade(UpgradeReport report) => _upgrade = report;

    /// <summary>Why an operation failed, in a few stable words (label values must stay few).</summary>
    /// <summary>The <c>cause</c> label: snake_case of the cause the failing step named (never parsed from its text).</summary>
    public static string CauseLabel(FailureCause cause) => Regex.Replace(cause.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();

    public const string Cluster = "cluster";
    public const string Database = "database";

    /// <summary>The <c>kind</c> label: create, update, delete for clusters (as before databases were counted);
    /// database_create, database_delete for databases.</summary>
    private static string Label(OperationKind kind, string resource) =>
        resource == Cluster ? kind.ToString().ToLowerInvariant() : $"{resource}_{kind.ToString().ToLowerInvariant()}";

    private static IEnumerable<Measurement<long>> UpgradeMeasurements()
    {
        if (_upgrade is not { } r) yield break;
        yield return new(r.Done, new KeyValuePair<string, object?>("phase", "done"));
        yield return new(r.Running, new KeyValuePair<string, object?>("phase", "running"));
        yield return new(r.Failed, new KeyValuePair<string, object?>("phase", "failed"));
        yield return new(r.Left, new KeyValuePair<string, object?>("phase", "left"));
    }
}

/// <summary>Why an operation failed, as the step that failed it says (the <c>cause</c> label of the failed-operations metric).</summary>
public enum FailureCause
{
    Deadline,
    BuildFailed,
    BuildMissing,
    ConcourseRejected,
    Credhub,
    Template,
    EditedOutside,
    /// <summary>A database's cluster no longer exists in its space.</summary>
    ClusterGone,
    /// <summary>A database's cluster refused or failed to create or drop it.</summary>
    Provisioning,
}
