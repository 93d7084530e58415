using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Database;

/// <summary>
/// A database inside a dedicated cluster. It resolves its cluster by name in the requester's space, registers with
/// it before anything else, then asks it (from a timer, backed by a reminder) to create or drop the database; the
/// cluster answers Waiting while it is being created or updated, so child work never overlaps cluster work.
/// </summary>
public sealed partial class DatabaseGrain(
    [PersistentState("database", "store")] IPersistentState<DatabaseState> state,
    BrokerCatalog catalog,
    ISecretProtector secrets,
    IOptions<ClusterLifecycleOptions> options,
    TimeProvider time,
    ILogger<DatabaseGrain> logger) : Grain, IDatabaseGrain, IRemindable
{
    private readonly ClusterLifecycleOptions _options = options.Value;
    private LastOperationView _lastOperation = LastOperationView.Unknown;
    private InstanceView _instanceView = new(FetchOutcome.NotFound);

    private DatabaseState S => state.State;
    private string InstanceId => this.GetPrimaryKeyString();
    private IClusterGrain Cluster => GrainFactory.GetGrain<IClusterGrain>(S.ClusterId);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RefreshViews();
        if (S.Operation is { IsRunning: true } running)
        {
            BrokerMetrics.OperationResumed(InstanceId, running.Kind, PlanLabel, running.Deadline, BrokerMetrics.Database);
            StartTimer();
        }
        return Task.CompletedTask;
    }

    /// <summary>A create is between its reservation of the id and its recorded intent (see <see cref="HoldsInstanceId"/>).</summary>
    private bool _creating;

    public Task<bool> HoldsInstanceId() => Task.FromResult(_creating || S.Status != DatabaseStatus.None);

    public async Task<OperationResult> Provision(ProvisionRequest request)
    {
        _creating = true;
        try
        {
            return await CreateAsync(request);
        }
        finally
        {
            _creating = false;
        }
    }

    private async Task<OperationResult> CreateAsync(ProvisionRequest request)
    {
        var decision = DatabaseDecisions.BeforeCreate(S, InstanceId, request, catalog);
        if (decision.Answer is { } answer) return answer;
        var (service, plan, clusterName, clusterSpace) = (decision.Service!, decision.Plan!, decision.ClusterName!, decision.ClusterSpaceGuid!);

        // One id, one instance: the cluster grain of this id is the authority on what the id names. A deleted
        // database keeps its id (its tombstone answers last_operation), so only a first create may give it back.
        var firstCreate = S.Status == DatabaseStatus.None;
        if (!await GrainFactory.GetGrain<IClusterGrain>(InstanceId).ReserveForDatabase())
            return OperationResult.Conflict($"service instance {InstanceId} already exists as a cluster instance; an id names one instance only");

        // The name as the cluster's owners named it in its space (the requester's, or a shared cluster's the gateway
        // checked), else an instance id (platforms sending no names).
        var clusterId = await ResolveClusterAsync(clusterSpace, clusterName);
        if (clusterId is null) return await RefuseCreateAsync(NoSuchCluster(service, clusterName, clusterSpace != request.Context.SpaceGuid), firstCreate);

        // Intent first: from here on a crash leaves a database that knows its cluster, so a delete (Cloud Controller's
        // orphan mitigation) finds and removes whatever the registration left in the cluster.
        var now = time.GetUtcNow();
        var previous = state.State;
        state.State = new DatabaseState
        {
            Status = DatabaseStatus.Creating,
            Spec = new InstanceSpec(request.ServiceId, request.PlanId, request.ParametersJson, plan.MaintenanceInfoVersion),
            Context = request.Context,
            ClusterId = clusterId,
            ClusterName = clusterName,
            ClusterSpaceGuid = clusterSpace == request.Context.SpaceGuid ? null : clusterSpace,
            Operation = NewOperation(OperationKind.Create, plan, $"creating database in cluster '{clusterName}'"),
        };
        await PersistAsync();

        var registration = await Cluster.RegisterDatabase(RegistrationRequest());
        if (registration.Outcome != ChildStepOutcome.Done)
        {
            if (firstCreate)
            {
                await Driver.WriteAsync(state.ClearStateAsync);
                state.State = new DatabaseState();
            }
            else
            {
                state.State = previous;
                await PersistAsync();
            }
            RefreshViews();
            return await RefuseCreateAsync(registration.Outcome == ChildStepOutcome.NotFound
                ? NoSuchCluster(service, clusterName, clusterSpace != request.Context.SpaceGuid) : registration.Description, firstCreate);
        }
        S.Registered = true;
        S.ClusterName = registration.ClusterName ?? clusterName;
        logger.LogInformation("Database {InstanceId} create accepted in cluster {ClusterId}", InstanceId, clusterId);
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation!.Id);
    }

    public async Task<OperationResult> Update(UpdateRequest request)
    {
        var (result, renamed) = DatabaseDecisions.DecideUpdate(S, InstanceId, request, catalog);
        if (renamed is not null)
        {
            S.Context = renamed;
            await PersistAsync();
        }
        return result;
    }

    public async Task<OperationResult> Deprovision(DeprovisionRequest request)
    {
        if (DatabaseDecisions.BeforeDelete(S, InstanceId, request, catalog) is { } answer) return answer;
        // A delete during creation (orphan mitigation) supersedes it: the cluster drops whatever exists.
        var plan = catalog.FindPlan(S.Spec!.ServiceId, S.Spec.PlanId)?.Plan;
        S.Status = DatabaseStatus.Deleting;
        S.Operation = NewOperation(OperationKind.Delete, plan, $"deleting database from cluster '{S.ClusterName}'");
        await PersistAsync();
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation.Id);
    }

    public Task<LastOperationView> GetLastOperation(string? operation) => Task.FromResult(_lastOperation);

    public Task<InstanceView> Fetch() => Task.FromResult(_instanceView);

    private ChildDatabaseRequest RegistrationRequest() =>
        new(InstanceId, S.Context!.InstanceName, S.Spec!.ServiceId, S.Spec.PlanId, S.ClusterSpaceGuid ?? S.Context.SpaceGuid, S.ClusterName, S.Context);

    /// <summary>The cluster's id: by its name in the space, else the name itself when it is a valid instance id.</summary>
    private async Task<string?> ResolveClusterAsync(string spaceGuid, string clusterName)
    {
        var byName = await GrainFactory.GetGrain<IClusterNameGrain>(ClusterNames.Key(spaceGuid, clusterName)).Resolve();
        if (byName is not null) return byName;
        if (ClusterNames.LegacyKey(spaceGuid, clusterName) is { } legacy
            && await GrainFactory.GetGrain<IClusterNameGrain>(legacy).Resolve() is { } byLegacyName)
            return byLegacyName;
        return InstanceIds.IsValid(clusterName) ? clusterName : null;
    }

    /// <summary>A refused create leaves nothing behind, the id's reservation included when this create made it.</summary>
    private async Task<OperationResult> RefuseCreateAsync(string description, bool firstCreate)
    {
        if (firstCreate) await GrainFactory.GetGrain<IClusterGrain>(InstanceId).ReleaseDatabaseReservation();
        return OperationResult.BadRequest(description);
    }

    private string NoSuchCluster(ServiceOffering service, string clusterName, bool otherSpace)
    {
        if (otherSpace) return $"no cluster named '{clusterName}' in the cluster's org and space (cluster-org, cluster-space): check its name with cf services there";
        var clusterPlan = service.Plans.FirstOrDefault(p => p.Kind == PlanKind.Cluster)?.Name ?? "<cluster plan>";
        return $"no cluster named '{clusterName}' in this space: create one first (cf create-service {service.Name} {clusterPlan} {clusterName}) or check its name with cf services";
    }
}
