using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Alerts;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Operations;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Provisioning;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// A dedicated cluster instance. This file carries out the OSB requests: ClusterDecisions says what each does in the
/// current state; the grain records the intent (status + operation) and returns. ClusterGrain.Driver.cs drives the
/// recorded operation, ClusterGrain.Steps.cs is each step against Concourse.
/// </summary>
// The state name must be unique across grain types: the ADO.NET provider keys rows by state name and grain key only,
// so a ClusterGrain and a DatabaseGrain with the same id and the same state name would share (and corrupt) one row.
public sealed partial class ClusterGrain(
    [PersistentState(PostgresClusterDirectory.ClusterStateName, "store")] IPersistentState<ClusterState> state,
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
        RecordResumed();
        // Resume whatever the state says is in progress (docs/crash-consistency.md, rule 3).
        if (NeedsDriving) StartTimer(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public async Task<OperationResult> Provision(ProvisionRequest request)
    {
        // A database create that died between reserving this id and recording its intent left a reservation nothing
        // holds: it is given back, so the id is not lost to both kinds (docs/crash-consistency.md, rule 12).
        if (S.ReservedForDatabase && S.Status == ClusterStatus.None && !await GrainFactory.GetGrain<IDatabaseGrain>(InstanceId).HoldsInstanceId())
            await ReleaseDatabaseReservation();
        if (ClusterDecisions.BeforeCreate(S, InstanceId, request) is { } answer) return answer;
        if (catalog.FindPlan(request.ServiceId, request.PlanId) is not var (service, plan) || plan.Kind != PlanKind.Cluster)
            return OperationResult.BadRequest($"plan {request.PlanId} is not a cluster plan of service {request.ServiceId}");
        if (request.MaintenanceInfoVersion is { } asked && asked != plan.MaintenanceInfoVersion)
            return ClusterDecisions.MaintenanceConflict(plan, asked);

        var spec = new InstanceSpec(request.ServiceId, request.PlanId, request.ParametersJson, plan.MaintenanceInfoVersion);
        // Rendering is pure and fast: a template or value problem is refused now, before anything is recorded.
        if (TryRender(service, plan, spec, request.Context, out _) is { } renderError)
            return OperationResult.BadRequest(renderError);
        if (await ClaimFleetSlotAsync(request, plan) is { } overQuota) return OperationResult.BadRequest(overQuota);

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
        ClaimRecorded();
        logger.LogInformation("Cluster {InstanceId} create accepted ({Operation}) plan {Plan} in space {SpaceGuid}", InstanceId, S.Operation!.Id, plan.Name, request.Context.SpaceGuid);
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation.Id);
    }

    public async Task<OperationResult> Update(UpdateRequest request)
    {
        switch (ClusterDecisions.DecideUpdate(S, InstanceId, request, catalog))
        {
            case UpdateDecision.Answer answer:
                return answer.Result;
            case UpdateDecision.Rename rename:
                if (rename.Context != S.Context)
                {
                    S.Context = rename.Context;
                    await PersistAsync();
                }
                await SyncNameIndexAsync();
                return OperationResult.Completed;
            case UpdateDecision.Run run:
                var service = catalog.FindService(run.Target.ServiceId)!;
                if (TryRender(service, run.To, run.Target, run.Context, out _) is { } renderError)
                    return OperationResult.BadRequest(renderError);
                var from = S.Spec!.PlanId;
                if (run.To.Id != from && await MoveFleetSlotAsync(from, run.To, enforce: true) is { } overQuota) return OperationResult.BadRequest(overQuota);
                S.Context = run.Context;
                S.Status = ClusterStatus.Updating;
                S.Operation = NewOperation(OperationKind.Update, run.From, OperationStep.SetPipeline, request.RequestedBy, "updating cluster: setting its Concourse pipeline");
                S.Operation.Target = run.Target;
                S.Operation.FromPlanId = from;
                await PersistAsync();
                ClaimRecorded();
                logger.LogInformation("Cluster {InstanceId} update accepted ({Operation}) plan {From} -> {To}", InstanceId, S.Operation.Id, run.From.Name, run.To.Name);
                await StartDrivingAsync();
                return OperationResult.Accepted(S.Operation.Id);
            default:
                throw new InvalidOperationException("unknown update decision");
        }
    }

    public async Task<OperationResult> Deprovision(DeprovisionRequest request)
    {
        var decision = ClusterDecisions.DecideDelete(S, InstanceId, request, catalog, credentialStore.Enabled);
        if (decision.Answer is { } answer)
        {
            // A create whose quota slot was claimed but never recorded (lost before its state was written) holds a
            // claim the quota grain drops when it re-checks its claims (docs/crash-consistency.md, "Quota claims").
            return answer;
        }

        var plan = catalog.FindPlan(S.Spec!.ServiceId, S.Spec.PlanId)?.Plan;
        var operation = NewOperation(OperationKind.Delete, plan, decision.FirstStep, request.RequestedBy, "deleting cluster");
        operation.FromPlanId = decision.FromPlanId;
        if (decision.FirstStep == OperationStep.Done)
        {
            S.Operation = operation;
            await CompleteAsync(operation, "cluster deleted (nothing had been deployed)");
            return OperationResult.Completed;
        }

        S.Status = ClusterStatus.Deleting;
        S.Operation = operation;
        await PersistAsync();
        logger.LogInformation("Cluster {InstanceId} delete accepted ({Operation}), first step {Step}", InstanceId, operation.Id, decision.FirstStep);
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
        await Driver.WriteAsync(state.ClearStateAsync);
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
            S.Children.Select(c => new ChildDatabaseView(c.InstanceId, c.Name, c.PlanId, c.State, c.BindingIds.Count, c.Context)).ToList()));
    }

    /// <summary>The last pipeline that rendered and validated, in memory only.</summary>
    private (ServicePlan Plan, InstanceSpec Spec, InstanceContext Context, RenderedPipeline Pipeline)? _lastRender;

    private List<string> AcceptedPlanIds => ClusterDecisions.AcceptedPlanIds(S);

    private string DisplayName => ClusterDecisions.DisplayName(S, InstanceId);

    /// <returns>null when the pipeline renders and validates; otherwise a description for the user.</returns>
    private string? TryRender(ServiceOffering service, ServicePlan plan, InstanceSpec spec, InstanceContext context, out RenderedPipeline? rendered)
    {
        // The accept-time check rendered exactly this a moment ago: the first tick reuses it rather than render again.
        if (_lastRender is { } last && last.Plan == plan && last.Context == context && last.Spec.SameAs(spec))
        {
            rendered = last.Pipeline;
            return null;
        }
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
        var errors = PipelineValidator.Validate(rendered.Config);
        if (errors.Count == 0)
        {
            _lastRender = (plan, spec, context, rendered);
            return null;
        }
        logger.LogError("Pipeline template {Template} for plan {Plan} renders an invalid pipeline: {Errors}", service.Pipeline.TemplatePath, plan.Name, errors);
        rendered = null;
        return $"the broker's pipeline template for plan {plan.Name} is invalid ({string.Join("; ", errors)}); contact the platform operators";
    }
}
