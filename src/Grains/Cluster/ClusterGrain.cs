using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Alerts;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// A dedicated cluster instance. This file takes the OSB requests: each decides from state, records its intent
/// (status + operation) and returns; ClusterGrain.Operations.cs drives the recorded operation through Concourse.
/// </summary>
// The state name must be unique across grain types: the ADO.NET provider keys rows by state name and grain key only,
// so a ClusterGrain and a DatabaseGrain with the same id and the same state name would share (and corrupt) one row.
public sealed partial class ClusterGrain(
    [PersistentState("cluster", "store")] IPersistentState<ClusterState> state,
    BrokerCatalog catalog,
    IConcourseClient concourse,
    IPipelineRenderer renderer,
    PipelineTemplates templates,
    IAlertSender alerts,
    ICredentialStore credentialStore,
    ISecretProtector secrets,
    DatabaseProvisioning databases,
    IOptions<ConcourseOptions> concourseOptions,
    IOptions<ClusterLifecycleOptions> options,
    TimeProvider time,
    ILogger<ClusterGrain> logger) : Grain, IClusterGrain, IRemindable
{
    private readonly ClusterLifecycleOptions _options = options.Value;
    private LastOperationView _lastOperation = LastOperationView.Unknown;
    private InstanceView _instanceView = new(FetchOutcome.NotFound);

    private ClusterState S => state.State;
    private string InstanceId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RefreshViews();
        // Resume whatever the state says is in progress (docs/crash-consistency.md, rule 3).
        if (NeedsDriving) StartTimer(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public async Task<OperationResult> Provision(ProvisionRequest request)
    {
        if (S.ReservedForDatabase)
            return OperationResult.Conflict($"service instance {InstanceId} already exists as a database instance; an id names one instance only");
        switch (S.Status)
        {
            case ClusterStatus.None or ClusterStatus.Deleted:
                break;
            case ClusterStatus.Creating:
                return IsSameCreate(request) ? OperationResult.InProgress(S.Operation!.Id) : ConflictWithExisting();
            case ClusterStatus.Deleting:
                return OperationResult.Conflict($"service instance {InstanceId} is being deleted; wait for the deletion to finish");
            case ClusterStatus.Failed when S.FailedOperation == OperationKind.Create:
                return OperationResult.Conflict($"service instance {InstanceId} exists but its creation failed; delete it and create it again");
            default:
                return IsSameCreate(request) ? OperationResult.AlreadyExists : ConflictWithExisting();
        }

        if (catalog.FindPlan(request.ServiceId, request.PlanId) is not var (service, plan) || plan.Kind != PlanKind.Cluster)
            return OperationResult.BadRequest($"plan {request.PlanId} is not a cluster plan of service {request.ServiceId}");
        if (request.MaintenanceInfoVersion is { } asked && asked != plan.MaintenanceInfoVersion)
            return MaintenanceConflict(plan, asked);

        var spec = new InstanceSpec(request.ServiceId, request.PlanId, request.ParametersJson, plan.MaintenanceInfoVersion);
        // Rendering is pure and fast: a template or value problem is refused now, before anything is recorded.
        if (TryRender(service, plan, spec, request.Context, out _) is { } renderError)
            return OperationResult.BadRequest(renderError);

        var now = time.GetUtcNow();
        state.State = new ClusterState
        {
            Status = ClusterStatus.Creating,
            Spec = spec,
            Context = request.Context,
            CreatedAt = now,
            Pipeline = new PipelineState { Name = PipelineVariables.PipelineName(InstanceId) },
            AdminUsername = DatabaseNames.ClusterAdmin(InstanceId),
            AdminPasswordProtected = secrets.Protect(Passwords.Generate()),
            Operation = NewOperation(OperationKind.Create, plan,
                credentialStore.Enabled ? OperationStep.StoreCredentials : OperationStep.SetPipeline, request.RequestedBy, "creating cluster: setting its Concourse pipeline"),
        };
        await PersistAsync();
        logger.LogInformation("Cluster {InstanceId} create accepted ({Operation}) plan {Plan} in space {SpaceGuid}", InstanceId, S.Operation!.Id, plan.Name, request.Context.SpaceGuid);
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation.Id);
    }

    public async Task<OperationResult> Update(UpdateRequest request)
    {
        if (S.Status is ClusterStatus.None or ClusterStatus.Deleted)
            return OperationResult.NotFound($"service instance {InstanceId} does not exist");
        if (request.ServiceId == S.Spec!.ServiceId && IsContextOnly(request))
        {
            // A rename (context-only update) changes nothing outside the broker: always synchronous, whatever runs.
            var renamedContext = MergeContext(S.Context!, request.Context);
            if (renamedContext != S.Context)
            {
                S.Context = renamedContext;
                await PersistAsync();
            }
            await SyncNameIndexAsync();
            return OperationResult.Completed;
        }
        switch (S.Status)
        {
            case ClusterStatus.Creating:
                return OperationResult.Busy($"cluster {DisplayName} is still being created; update it once its creation succeeded");
            case ClusterStatus.Deleting:
                return OperationResult.Busy($"cluster {DisplayName} is being deleted");
            case ClusterStatus.Failed when S.FailedOperation == OperationKind.Create:
                return OperationResult.BadRequest($"cluster {DisplayName} failed to be created and cannot be updated; delete it and create it again");
        }

        var current = S.Spec!;
        if (request.ServiceId != current.ServiceId)
            return OperationResult.BadRequest(catalog.WrongIds(InstanceId, request.ServiceId, request.PlanId, current.ServiceId, current.PlanId, ownerIsDatabase: false));
        var service = catalog.FindService(current.ServiceId)!;
        var currentPlan = service.FindPlan(current.PlanId);
        if (currentPlan is null)
            return OperationResult.BadRequest($"the plan of instance {InstanceId} is no longer in the catalog; ask an operator");
        var targetPlan = request.PlanId is null ? currentPlan : service.FindPlan(request.PlanId);
        if (targetPlan is null)
            return OperationResult.BadRequest($"plan {request.PlanId} is not a plan of service {service.Name}");
        if (targetPlan.Id != currentPlan.Id && (targetPlan.Kind != PlanKind.Cluster || !currentPlan.PlanUpdateable || !currentPlan.CanChangeTo(targetPlan)))
            return PlanChangeRefused(service, currentPlan, targetPlan);
        if (request.MaintenanceInfoVersion is { } asked && asked != targetPlan.MaintenanceInfoVersion)
            return MaintenanceConflict(targetPlan, asked);

        var parameters = Merge(current.Parameters(), request.ParametersJson);
        var target = new InstanceSpec(current.ServiceId, targetPlan.Id, parameters.ToJsonString(), targetPlan.MaintenanceInfoVersion);
        var context = MergeContext(S.Context!, request.Context);

        if (S.Status == ClusterStatus.Updating)
            return S.Operation!.Target is { } running && running.SameAs(target)
                ? OperationResult.InProgress(S.Operation.Id)
                : OperationResult.Busy($"cluster {DisplayName} is being updated; try again when its last operation finished");

        var changes = targetPlan.Id != current.PlanId
            || !JsonNode.DeepEquals(parameters, current.Parameters())
            || (request.MaintenanceInfoVersion is not null && request.MaintenanceInfoVersion != current.MaintenanceInfoVersion);
        var renamed = context != S.Context;
        // After a failed update or delete, the same request runs the pipeline again (update_repeatable); a request
        // that only renames (changes the context) never runs anything, failed or not.
        var repair = S.Status == ClusterStatus.Failed && !renamed;
        if (!changes && !repair)
        {
            if (renamed)
            {
                S.Context = context;
                await PersistAsync();
            }
            await SyncNameIndexAsync();
            return OperationResult.Completed;
        }
        if (!request.AcceptsIncomplete) return OperationResult.AsyncRequired;

        if (TryRender(service, targetPlan, target, context, out _) is { } renderError)
            return OperationResult.BadRequest(renderError);

        S.Context = context;
        S.Status = ClusterStatus.Updating;
        S.Operation = NewOperation(OperationKind.Update, currentPlan, OperationStep.SetPipeline, request.RequestedBy, "updating cluster: setting its Concourse pipeline");
        S.Operation.Target = target;
        S.Operation.FromPlanId = current.PlanId;
        await PersistAsync();
        logger.LogInformation("Cluster {InstanceId} update accepted ({Operation}) plan {From} -> {To}", InstanceId, S.Operation.Id, currentPlan.Name, targetPlan.Name);
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation.Id);
    }

    public async Task<OperationResult> Deprovision(DeprovisionRequest request)
    {
        switch (S.Status)
        {
            case ClusterStatus.None or ClusterStatus.Deleted:
                return OperationResult.Gone;
        }
        if (request.ServiceId != S.Spec!.ServiceId || !AcceptedPlanIds.Contains(request.PlanId))
            return OperationResult.BadRequest(catalog.WrongIds(InstanceId, request.ServiceId, request.PlanId, S.Spec.ServiceId, S.Spec.PlanId, ownerIsDatabase: false));
        switch (S.Status)
        {
            case ClusterStatus.Deleting:
                return OperationResult.InProgress(S.Operation!.Id);
            case ClusterStatus.Updating:
                return OperationResult.Busy($"cluster {DisplayName} is being updated; delete it once the update finished");
        }
        if (S.Children.Count > 0)
            return OperationResult.BadRequest(
                $"can not delete cluster service instance with child service instances ({string.Join(", ", S.Children.Select(c => $"guid={c.InstanceId}"))}). Use dashboard to list all child service instance details.");

        var plan = catalog.FindPlan(S.Spec!.ServiceId, S.Spec.PlanId)?.Plan;
        var creating = S.Status == ClusterStatus.Creating;
        // A running create may have set its pipeline or stored credentials without having persisted it yet.
        var mayHaveLeftSomething = S.Pipeline.MayExist || creating || credentialStore.Enabled;
        var firstStep = (S.Pipeline.EverTriggered, mayHaveLeftSomething, creating) switch
        {
            (true, _, true) => OperationStep.AbortBuild,   // stop the running deploy before deleting what it made
            (true, _, false) => OperationStep.Unpause,     // run the pipeline's delete job
            (false, true, _) => OperationStep.DestroyPipeline,
            (false, false, _) => OperationStep.Done,       // nothing was ever created outside the broker
        };

        var operation = NewOperation(OperationKind.Delete, plan, firstStep, request.RequestedBy, "deleting cluster");
        // The platform may still name the other side of the last plan change (a failed one included).
        operation.FromPlanId = S.Operation?.Target?.PlanId is { } target && target != S.Spec.PlanId ? target : S.Operation?.FromPlanId;
        if (firstStep == OperationStep.Done)
        {
            S.Operation = operation;
            await CompleteAsync(operation, "cluster deleted (nothing had been deployed)");
            return OperationResult.Completed;
        }

        S.Status = ClusterStatus.Deleting;
        S.Operation = operation;
        await PersistAsync();
        logger.LogInformation("Cluster {InstanceId} delete accepted ({Operation}), first step {Step}", InstanceId, operation.Id, firstStep);
        await StartDrivingAsync();
        return OperationResult.Accepted(operation.Id);
    }

    public async Task<bool> ReserveForDatabase()
    {
        if (S.ReservedForDatabase) return true;
        if (S.Status != ClusterStatus.None) return false;
        S.ReservedForDatabase = true;
        await PersistAsync();
        return true;
    }

    public async Task ReleaseDatabaseReservation()
    {
        if (!S.ReservedForDatabase || S.Status != ClusterStatus.None) return;
        await _writeLock.WaitAsync();
        try { await state.ClearStateAsync(); }
        finally { _writeLock.Release(); }
        state.State = new ClusterState();
        RefreshViews();
    }

    public Task<LastOperationView> GetLastOperation(string? operation) => Task.FromResult(_lastOperation);

    public Task<InstanceView> Fetch() => Task.FromResult(_instanceView);

    public Task<ClusterDashboardView?> GetDashboard()
    {
        if (S.Status == ClusterStatus.None || S.Spec is null || S.Context is null) return Task.FromResult<ClusterDashboardView?>(null);
        var operations = S.History.AsEnumerable();
        if (S.Operation is { IsRunning: true } running) operations = operations.Append(running.ToRecord());
        return Task.FromResult<ClusterDashboardView?>(new ClusterDashboardView(
            InstanceId, S.Status, S.Spec.ServiceId, S.Spec.PlanId, S.Spec.ParametersJson, S.Spec.MaintenanceInfoVersion, S.Context,
            S.Pipeline.Name, concourse.PipelineWebUrl(S.Pipeline.Name),
            operations.Reverse().ToList(),
            S.Children.Select(c => new ChildDatabaseView(c.InstanceId, c.Name, c.PlanId, c.State, c.BindingIds.Count)).ToList()));
    }

    /// <summary>The plans a request about this cluster may name (see <see cref="LastOperationView.PlanIds"/>).</summary>
    private List<string> AcceptedPlanIds =>
        new[] { S.Spec?.PlanId, S.Operation?.Target?.PlanId, S.Operation?.FromPlanId }.OfType<string>().Distinct().ToList();

    private string DisplayName => S.Context?.InstanceName is { Length: > 0 } name ? $"'{name}'" : InstanceId;

    /// <summary>No plan, parameter or version change: what Cloud Controller sends for `cf rename-service`.</summary>
    private bool IsContextOnly(UpdateRequest request) =>
        request.Context is not null
        && (request.PlanId is null || request.PlanId == S.Spec!.PlanId)
        && (request.ParametersJson is null || JsonNode.Parse(request.ParametersJson) is JsonObject { Count: 0 })
        && (request.MaintenanceInfoVersion is null || request.MaintenanceInfoVersion == S.Spec!.MaintenanceInfoVersion)
        && MergeContext(S.Context!, request.Context) != S.Context;

    private bool IsSameCreate(ProvisionRequest request) =>
        S.Spec is { } spec && S.Context is { } context
        && spec.ServiceId == request.ServiceId && spec.PlanId == request.PlanId
        && context.OrganizationGuid == request.Context.OrganizationGuid && context.SpaceGuid == request.Context.SpaceGuid
        && JsonNode.DeepEquals(spec.Parameters(), JsonNode.Parse(request.ParametersJson));

    private OperationResult ConflictWithExisting() =>
        OperationResult.Conflict($"service instance {InstanceId} already exists with a different service, plan, space or parameters");

    private static OperationResult MaintenanceConflict(ServicePlan plan, string asked) => new(OperationOutcome.MaintenanceInfoConflict, null,
        $"maintenance_info.version {asked} is not the version plan {plan.Name} offers ({plan.MaintenanceInfoVersion}); refresh the service broker's catalog and try again");

    private static OperationResult PlanChangeRefused(ServiceOffering service, ServicePlan from, ServicePlan to)
    {
        var allowed = from.PlanUpdateable
            ? from.AllowedPlanChanges.Where(n => service.FindPlanByName(n) is not null).ToList()
            : [];
        var targets = allowed.Count == 0 ? "none: this plan cannot be changed" : string.Join(", ", allowed);
        return new(OperationOutcome.PlanChangeNotSupported, null,
            $"changing plan {from.Name} to {to.Name} is not supported; allowed target plans: {targets}");
    }

    private static JsonObject Merge(JsonObject current, string? changesJson)
    {
        if (changesJson is null || JsonNode.Parse(changesJson) is not JsonObject changes) return current;
        foreach (var (name, value) in changes)
        {
            if (value is null) current.Remove(name);
            else current[name] = value.DeepClone();
        }
        return current;
    }

    private static InstanceContext MergeContext(InstanceContext current, InstanceContext? update) => update is null ? current : current with
    {
        OrganizationName = update.OrganizationName ?? current.OrganizationName,
        SpaceName = update.SpaceName ?? current.SpaceName,
        InstanceName = update.InstanceName ?? current.InstanceName,
    };

    /// <returns>null when the pipeline renders and validates; otherwise a description for the user.</returns>
    private string? TryRender(ServiceOffering service, ServicePlan plan, InstanceSpec spec, InstanceContext context, out RenderedPipeline? rendered)
    {
        rendered = null;
        try
        {
            var vars = PipelineVariables.For(InstanceId, service, plan, spec, context);
            rendered = renderer.Render(templates.Get(service.Pipeline.TemplatePath), vars);
        }
        catch (PipelineRenderException e) when (e.Message.StartsWith("parameter", StringComparison.Ordinal))
        {
            return $"invalid parameters: {e.Message}";
        }
        catch (PipelineRenderException e)
        {
            logger.LogError("Pipeline template {Template} for plan {Plan} cannot be rendered: {Error}", service.Pipeline.TemplatePath, plan.Name, e.Message);
            return $"the broker's pipeline template for plan {plan.Name} is unusable ({e.Message}); contact the platform operators";
        }
        var errors = PipelineValidator.Validate(JsonNode.Parse(rendered.ConfigJson)!);
        if (errors.Count == 0) return null;
        logger.LogError("Pipeline template {Template} for plan {Plan} renders an invalid pipeline: {Errors}", service.Pipeline.TemplatePath, plan.Name, errors);
        rendered = null;
        return $"the broker's pipeline template for plan {plan.Name} is invalid ({string.Join("; ", errors)}); contact the platform operators";
    }
}
