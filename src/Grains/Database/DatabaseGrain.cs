using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Credentials;

namespace OnDemand.Grains.Database;

/// <summary>
/// A database inside a dedicated cluster. It resolves its cluster by name in the requester's space, registers with
/// it before anything else, then asks it (from a timer, backed by a reminder) to create or drop the database; the
/// cluster answers Waiting while it is being created or updated, so child work never overlaps cluster work.
/// </summary>
public sealed class DatabaseGrain(
    [PersistentState("database", "store")] IPersistentState<DatabaseState> state,
    BrokerCatalog catalog,
    ISecretProtector secrets,
    IOptions<ClusterLifecycleOptions> options,
    TimeProvider time,
    ILogger<DatabaseGrain> logger) : Grain, IDatabaseGrain, IRemindable
{
    private const string ReminderName = "database-operation";
    private readonly ClusterLifecycleOptions _options = options.Value;
    private IGrainTimer? _timer;
    private bool _reminderRegistered;
    private LastOperationView _lastOperation = LastOperationView.Unknown;
    private InstanceView _instanceView = new(FetchOutcome.NotFound);

    private DatabaseState S => state.State;
    private string InstanceId => this.GetPrimaryKeyString();
    private IClusterGrain Cluster => GrainFactory.GetGrain<IClusterGrain>(S.ClusterId);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RefreshViews();
        if (S.Operation is { IsRunning: true }) StartTimer();
        return Task.CompletedTask;
    }

    public async Task<OperationResult> Provision(ProvisionRequest request)
    {
        switch (S.Status)
        {
            case DatabaseStatus.None or DatabaseStatus.Deleted:
                break;
            case DatabaseStatus.Creating:
                return IsSame(request) ? OperationResult.InProgress(S.Operation!.Id) : Conflict();
            case DatabaseStatus.Ready:
                return IsSame(request) ? OperationResult.AlreadyExists : Conflict();
            case DatabaseStatus.Failed when S.FailedOperation == OperationKind.Create:
                return OperationResult.Conflict($"service instance {InstanceId} exists but its creation failed; delete it and create it again");
            default:
                return OperationResult.Conflict($"service instance {InstanceId} is being deleted or failed to be deleted");
        }

        if (catalog.FindPlan(request.ServiceId, request.PlanId) is not var (service, plan) || plan.Kind != PlanKind.Database)
            return OperationResult.BadRequest($"plan {request.PlanId} is not a database plan of service {request.ServiceId}");
        if (request.MaintenanceInfoVersion is { } asked && asked != plan.MaintenanceInfoVersion)
            return new(OperationOutcome.MaintenanceInfoConflict, null, $"maintenance_info.version {asked} is not the version plan {plan.Name} offers ({plan.MaintenanceInfoVersion})");

        var parameters = JsonNode.Parse(request.ParametersJson) as JsonObject ?? [];
        if (parameters["cluster"] is not JsonValue clusterValue || !clusterValue.TryGetValue<string>(out var clusterName) || clusterName.Length == 0)
            return OperationResult.BadRequest($"name the cluster to create the database in: cf create-service {service.Name} {plan.Name} NAME -c '{{\"cluster\":\"<cluster name>\"}}'");
        if (parameters.ContainsKey("cluster_org") || parameters.ContainsKey("cluster_space"))
            return OperationResult.BadRequest("using a cluster of another org or space (cluster_org, cluster_space) is not supported yet; create the database in the cluster's own space");

        // One id, one instance: the cluster grain of this id is the authority on what the id names. A deleted
        // database keeps its id (its tombstone answers last_operation), so only a first create may give it back.
        var firstCreate = S.Status == DatabaseStatus.None;
        if (!await GrainFactory.GetGrain<IClusterGrain>(InstanceId).ReserveForDatabase())
            return OperationResult.Conflict($"service instance {InstanceId} already exists as a cluster instance; an id names one instance only");

        // The name as the cluster's owners named it in this space, else an instance id (platforms sending no names).
        var space = request.Context.SpaceGuid;
        var clusterId = await ResolveClusterAsync(space, clusterName);
        if (clusterId is null) return await RefuseCreateAsync(NoSuchCluster(service, clusterName), firstCreate);

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
            Operation = NewOperation(OperationKind.Create, plan, $"creating database in cluster '{clusterName}'"),
        };
        await PersistAsync();

        var registration = await Cluster.RegisterDatabase(RegistrationRequest());
        if (registration.Outcome != ChildStepOutcome.Done)
        {
            if (firstCreate)
            {
                await state.ClearStateAsync();
                state.State = new DatabaseState();
            }
            else
            {
                state.State = previous;
                await PersistAsync();
            }
            RefreshViews();
            return await RefuseCreateAsync(registration.Outcome == ChildStepOutcome.NotFound ? NoSuchCluster(service, clusterName) : registration.Description, firstCreate);
        }
        S.Registered = true;
        S.ClusterName = registration.ClusterName ?? clusterName;
        logger.LogInformation("Database {InstanceId} create accepted in cluster {ClusterId}", InstanceId, clusterId);
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation!.Id);
    }

    public async Task<OperationResult> Update(UpdateRequest request)
    {
        if (S.Status is DatabaseStatus.None or DatabaseStatus.Deleted) return OperationResult.NotFound($"service instance {InstanceId} does not exist");
        if (request.ServiceId != S.Spec!.ServiceId)
            return OperationResult.BadRequest(catalog.WrongIds(InstanceId, request.ServiceId, request.PlanId, S.Spec.ServiceId, S.Spec.PlanId, ownerIsDatabase: true));
        if (request.PlanId is { } planId && planId != S.Spec.PlanId)
            return new(OperationOutcome.PlanChangeNotSupported, null, "a database's plan cannot be changed: create a database of the new plan and move the data");
        if (request.ParametersJson is { } changes && JsonNode.Parse(changes) is JsonObject { Count: > 0 })
            return OperationResult.BadRequest("a database's parameters cannot be changed; its cluster is chosen when it is created");
        if (request.Context?.InstanceName is { } name && name != S.Context!.InstanceName)
        {
            S.Context = S.Context with { InstanceName = name };
            await PersistAsync();
        }
        return OperationResult.Completed;
    }

    public async Task<OperationResult> Deprovision(DeprovisionRequest request)
    {
        if (S.Status is DatabaseStatus.None or DatabaseStatus.Deleted) return OperationResult.Gone;
        if (request.ServiceId != S.Spec!.ServiceId || request.PlanId != S.Spec.PlanId)
            return OperationResult.BadRequest(catalog.WrongIds(InstanceId, request.ServiceId, request.PlanId, S.Spec.ServiceId, S.Spec.PlanId, ownerIsDatabase: true));
        if (S.Status == DatabaseStatus.Deleting) return OperationResult.InProgress(S.Operation!.Id);

        // A delete during creation (orphan mitigation) supersedes it: the cluster drops whatever exists.
        var plan = catalog.FindPlan(S.Spec.ServiceId, S.Spec.PlanId)?.Plan;
        S.Status = DatabaseStatus.Deleting;
        S.Operation = NewOperation(OperationKind.Delete, plan, $"deleting database from cluster '{S.ClusterName}'");
        await PersistAsync();
        await StartDrivingAsync();
        return OperationResult.Accepted(S.Operation.Id);
    }

    public Task<LastOperationView> GetLastOperation(string? operation) => Task.FromResult(_lastOperation);

    public Task<InstanceView> Fetch() => Task.FromResult(_instanceView);

    public async Task<BindResult> Bind(string bindingId, BindRequest request)
    {
        var existing = S.Bindings.Find(b => b.Id == bindingId);
        if (existing is not null)
        {
            if (existing.ServiceId != request.ServiceId || existing.PlanId != request.PlanId || existing.AppGuid != request.AppGuid
                || !JsonNode.DeepEquals(JsonNode.Parse(existing.ParametersJson), JsonNode.Parse(request.ParametersJson)))
                return new BindResult(BindOutcome.Conflict, Description: $"binding {bindingId} already exists with other attributes");
            if (!existing.Pending) return new BindResult(BindOutcome.Exists, secrets.Unprotect(existing.ProtectedCredentials));
        }
        switch (S.Status)
        {
            case DatabaseStatus.None or DatabaseStatus.Deleted:
                return new(BindOutcome.BadRequest, Description: $"service instance {InstanceId} does not exist");
            case DatabaseStatus.Creating:
                return new(BindOutcome.Busy, Description: $"database is still being created: {S.Operation!.Description}");
            case DatabaseStatus.Deleting:
                return new(BindOutcome.Busy, Description: "database is being deleted");
            case DatabaseStatus.Failed when S.FailedOperation == OperationKind.Create:
                return new(BindOutcome.BadRequest, Description: "this database failed to be created; delete it and create it again");
        }
        if (request.ServiceId != S.Spec!.ServiceId || request.PlanId != S.Spec.PlanId)
            return new(BindOutcome.BadRequest, Description: catalog.WrongIds(InstanceId, request.ServiceId, request.PlanId, S.Spec.ServiceId, S.Spec.PlanId, ownerIsDatabase: true));

        // Intent first: the binding is on record before its account exists, so an unbind after a crash or a lost
        // answer still finds it and has the cluster drop the account.
        var binding = existing ?? new BindingRecord
        {
            Id = bindingId, ServiceId = request.ServiceId, PlanId = request.PlanId, AppGuid = request.AppGuid,
            ParametersJson = request.ParametersJson, Pending = true, CreatedAt = time.GetUtcNow(),
        };
        if (existing is null)
        {
            S.Bindings.Add(binding);
            await PersistAsync();
        }

        var result = await Cluster.CreateBinding(InstanceId, bindingId);
        switch (result.Outcome)
        {
            case ChildStepOutcome.Done:
                binding.ProtectedCredentials = secrets.Protect(result.CredentialsJson!);
                binding.Pending = false;
                await PersistAsync();
                logger.LogInformation("Database {InstanceId}: binding {BindingId} created", InstanceId, bindingId);
                return new(BindOutcome.Created, result.CredentialsJson);
            case ChildStepOutcome.Retry:
                // The account may exist: the pending binding stays, for the platform's retry or its unbind.
                return new(BindOutcome.Unavailable, Description: result.Description);
            default:
                // Refused before any account was made: the answer is a 4xx, so nothing of this request remains. A
                // binding already pending from an earlier attempt stays: its account may exist, its unbind drops it.
                if (existing is null)
                {
                    S.Bindings.Remove(binding);
                    await PersistAsync();
                }
                return result.Outcome == ChildStepOutcome.Waiting
                    ? new(BindOutcome.Busy, Description: result.Description)
                    : new(BindOutcome.BadRequest, Description: result.Description);
        }
    }

    public async Task<BindResult> Unbind(string bindingId, string serviceId, string planId)
    {
        if (S.Status is not (DatabaseStatus.None or DatabaseStatus.Deleted) && (serviceId != S.Spec!.ServiceId || planId != S.Spec.PlanId))
            return new(BindOutcome.BadRequest, Description: catalog.WrongIds(InstanceId, serviceId, planId, S.Spec.ServiceId, S.Spec.PlanId, ownerIsDatabase: true));
        if (S.Bindings.Find(b => b.Id == bindingId) is not { } binding) return new(BindOutcome.NotFound);
        var result = await Cluster.DeleteBinding(InstanceId, bindingId);
        switch (result.Outcome)
        {
            case ChildStepOutcome.Done:
                S.Bindings.Remove(binding);
                await PersistAsync();
                logger.LogInformation("Database {InstanceId}: binding {BindingId} deleted", InstanceId, bindingId);
                return new(BindOutcome.Deleted);
            case ChildStepOutcome.Waiting:
                return new(BindOutcome.Busy, Description: result.Description);
            case ChildStepOutcome.Retry:
                return new(BindOutcome.Unavailable, Description: result.Description);
            default:
                return new(BindOutcome.BadRequest, Description: result.Description);
        }
    }

    public Task<BindResult> GetBinding(string bindingId) => Task.FromResult(
        S.Bindings.Find(b => b.Id == bindingId) is { Pending: false } binding
            ? new BindResult(BindOutcome.Exists, secrets.Unprotect(binding.ProtectedCredentials))
            : new BindResult(BindOutcome.NotFound));

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return Task.CompletedTask;
        if (S.Operation is { IsRunning: true })
        {
            StartTimer();
            return Task.CompletedTask;
        }
        return StopDrivingAsync();
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var operation = S.Operation;
        if (operation is not { IsRunning: true })
        {
            await StopDrivingAsync();
            return;
        }
        if (!_reminderRegistered) await EnsureReminderAsync();
        var now = time.GetUtcNow();
        if (now < operation.NextAttemptAt) return;
        if (now > operation.Deadline)
        {
            var what = operation.Kind == OperationKind.Delete ? "deleting the database" : "creating the database";
            await FinishAsync(operation, LastOperationState.Failed,
                $"{what} timed out after {(operation.Deadline - operation.StartedAt).TotalMinutes:0} minutes (last status: {operation.Description}); try again or ask the platform operators");
            return;
        }

        if (operation.Kind == OperationKind.Create && !S.Registered)
        {
            // Intent was recorded, but the registration's answer was lost (a crash, a timeout): register again.
            var registration = await Cluster.RegisterDatabase(RegistrationRequest());
            if (registration.Outcome != ChildStepOutcome.Done)
            {
                await FinishAsync(operation, LastOperationState.Failed, registration.Outcome == ChildStepOutcome.NotFound
                    ? $"cluster '{S.ClusterName}' no longer exists in this space; delete this database and create it in an existing cluster"
                    : registration.Description);
                return;
            }
            S.Registered = true;
        }
        var result = operation.Kind == OperationKind.Delete ? await Cluster.DeleteDatabase(InstanceId) : await Cluster.CreateDatabase(InstanceId);
        switch (result.Outcome)
        {
            case ChildStepOutcome.Done:
                await FinishAsync(operation, LastOperationState.Succeeded, result.Description);
                break;
            case ChildStepOutcome.Waiting or ChildStepOutcome.Retry:
                operation.Attempts = result.Outcome == ChildStepOutcome.Retry ? operation.Attempts + 1 : 0;
                operation.NextAttemptAt = now + TimeSpan.FromTicks(Math.Min(_options.MaxRetryDelay.Ticks, _options.PollInterval.Ticks << Math.Min(operation.Attempts, 16)));
                if (operation.Description != result.Description)
                {
                    operation.Description = result.Description;
                    await PersistAsync();
                }
                break;
            default:
                await FinishAsync(operation, LastOperationState.Failed, result.Description);
                break;
        }
    }

    private async Task FinishAsync(DatabaseOperation operation, LastOperationState outcome, string description)
    {
        operation.State = outcome;
        operation.Description = description;
        operation.CompletedAt = time.GetUtcNow();
        if (outcome == LastOperationState.Succeeded)
        {
            S.Status = operation.Kind == OperationKind.Delete ? DatabaseStatus.Deleted : DatabaseStatus.Ready;
            S.FailedOperation = null;
            if (operation.Kind == OperationKind.Delete) S.Bindings.Clear();
        }
        else
        {
            S.Status = DatabaseStatus.Failed;
            S.FailedOperation = operation.Kind;
            logger.LogError("Database {InstanceId} {Kind} {Operation} failed (cluster {ClusterId}): {Description}", InstanceId, operation.Kind, operation.Id, S.ClusterId, description);
        }
        await PersistAsync();
        await StopDrivingAsync();
    }

    /// <summary>The timer first (it cannot fail); a reminder that failed to register is retried by the first tick.</summary>
    private async Task StartDrivingAsync()
    {
        StartTimer();
        await EnsureReminderAsync();
    }

    private async Task EnsureReminderAsync()
    {
        if (_reminderRegistered) return;
        await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
        _reminderRegistered = true;
    }

    private void StartTimer() => _timer ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions
    {
        DueTime = TimeSpan.Zero,
        Period = _options.PollInterval,
        Interleave = false,
        KeepAlive = true,
    });

    private async Task StopDrivingAsync()
    {
        _timer?.Dispose();
        _timer = null;
        _reminderRegistered = false;
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private DatabaseOperation NewOperation(OperationKind kind, ServicePlan? plan, string description)
    {
        var now = time.GetUtcNow();
        return new DatabaseOperation
        {
            Id = $"{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}",
            Kind = kind,
            State = LastOperationState.InProgress,
            Description = description,
            StartedAt = now,
            Deadline = now + TimeSpan.FromSeconds(plan?.MaximumPollingDuration ?? 7200),
            NextAttemptAt = now,
        };
    }

    private ChildDatabaseRequest RegistrationRequest() =>
        new(InstanceId, S.Context!.InstanceName, S.Spec!.ServiceId, S.Spec.PlanId, S.Context.SpaceGuid, S.ClusterName);

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

    private string NoSuchCluster(ServiceOffering service, string clusterName)
    {
        var clusterPlan = service.Plans.FirstOrDefault(p => p.Kind == PlanKind.Cluster)?.Name ?? "<cluster plan>";
        return $"no cluster named '{clusterName}' in this space: create one first (cf create-service {service.Name} {clusterPlan} {clusterName}) or check its name with cf services";
    }

    private bool IsSame(ProvisionRequest request) =>
        S.Spec is { } spec && spec.ServiceId == request.ServiceId && spec.PlanId == request.PlanId
        && S.Context!.SpaceGuid == request.Context.SpaceGuid
        && JsonNode.DeepEquals(spec.Parameters(), JsonNode.Parse(request.ParametersJson));

    private OperationResult Conflict() =>
        OperationResult.Conflict($"service instance {InstanceId} already exists with a different service, plan, space or parameters");

    private async Task PersistAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
        RefreshViews();
    }

    private void RefreshViews()
    {
        _lastOperation = S.Status == DatabaseStatus.None || S.Operation is null
            ? LastOperationView.Unknown
            : new LastOperationView(true, S.Operation.State, S.Operation.Description, S.Spec?.ServiceId, S.Spec is null ? null : [S.Spec.PlanId], IsDatabase: true);
        _instanceView = S.Status is DatabaseStatus.Ready or DatabaseStatus.Deleting || (S.Status == DatabaseStatus.Failed && S.FailedOperation != OperationKind.Create)
            ? new InstanceView(FetchOutcome.Found, S.Spec!.ServiceId, S.Spec.PlanId, S.Spec.ParametersJson, S.Spec.MaintenanceInfoVersion,
                DashboardInstanceId: S.ClusterId)
            : new InstanceView(FetchOutcome.NotFound);
    }
}
