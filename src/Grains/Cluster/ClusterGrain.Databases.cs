using System.Text.Json.Nodes;
using OnDemand.Grains.Provisioning;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The cluster's children: databases register here before anything happens, and every change inside the cluster
/// (create/drop a database, create/drop a binding's account) runs as a short call of this grain, so it is
/// serialized with the cluster's own operations and refused (Waiting) while the cluster is created or updated.
/// </summary>
public sealed partial class ClusterGrain
{
    public async Task<ChildStepResult> RegisterDatabase(ChildDatabaseRequest request)
    {
        if (RefuseChildren(request) is { } refusal) return refusal;
        if (request.ServiceId != S.Spec!.ServiceId)
        {
            var service = catalog.FindService(S.Spec.ServiceId);
            return new(ChildStepOutcome.Refused, $"cluster {DisplayName} is a {service?.Name ?? S.Spec.ServiceId} cluster: use a database plan of that service");
        }
        if (Provisioner(out _, out var unavailable) is null) return new(ChildStepOutcome.Refused, unavailable!);
        if (DatabaseQuotaRefusal(request) is { } overQuota) return new(ChildStepOutcome.Refused, overQuota);
        if (S.Children.Find(c => c.InstanceId == request.DatabaseId) is null)
        {
            // The names are chosen once, here, and recorded: every later step uses the recorded ones.
            S.Children.Add(new ChildDatabase
            {
                InstanceId = request.DatabaseId,
                Name = request.Name,
                PlanId = request.PlanId,
                ServiceId = request.ServiceId,
                State = "registered",
                DatabaseName = DatabaseNames.Database(request.DatabaseId),
                Context = request.DatabaseContext,
            });
            await PersistAsync();
            logger.LogInformation("Cluster {InstanceId}: database {DatabaseId} registered", InstanceId, request.DatabaseId);
        }
        return new(ChildStepOutcome.Done, "registered", ClusterDisplayName);
    }

    public async Task<ChildStepResult> CreateDatabase(string databaseId)
    {
        if (S.Children.Find(c => c.InstanceId == databaseId) is not { } child)
            return new(ChildStepOutcome.Refused, $"database {databaseId} is not registered in cluster {DisplayName}");
        if (WaitForCluster() is { } wait) return wait;
        if (Provisioner(out var service, out var problem) is not { } provisioner) return new(ChildStepOutcome.Failed, problem!);

        var plan = service.FindPlan(child.PlanId);
        var sizeMb = plan?.Vars["size_mb"] is JsonValue size && size.TryGetValue<int>(out var mb) ? mb : (int?)null;
        return await InClusterAsync(child, "create database", async endpoint =>
        {
            await provisioner.CreateDatabaseAsync(endpoint, child.DatabaseNameInCluster, sizeMb, default);
            child.State = "created";
            return new ChildStepResult(ChildStepOutcome.Done, $"database created in cluster {DisplayName} (plan {plan?.Name ?? child.PlanId})", ClusterDisplayName);
        });
    }

    public async Task<ChildStepResult> DeleteDatabase(string databaseId)
    {
        if (S.Children.Find(c => c.InstanceId == databaseId) is not { } child)
            return new(ChildStepOutcome.Done, "database already removed", ClusterDisplayName);
        if (WaitForCluster() is { } wait) return wait;
        if (child.State == "registered")
        {
            // Never created inside the cluster: forgetting it is all there is to do.
            S.Children.Remove(child);
            await PersistAsync();
            return new(ChildStepOutcome.Done, "database deleted", ClusterDisplayName);
        }
        if (Provisioner(out _, out var problem) is not { } provisioner) return new(ChildStepOutcome.Failed, problem!);
        var result = await InClusterAsync(child, "delete database", async endpoint =>
        {
            // Accounts whose creation may have been cut short hold no grant yet: drop them by name first.
            foreach (var pending in child.BindingAccounts.Where(a => !child.BindingIds.Contains(a.Key)).ToList())
                await provisioner.DropUserAsync(endpoint, child.DatabaseNameInCluster, pending.Value, default);
            await provisioner.DropDatabaseAsync(endpoint, child.DatabaseNameInCluster, default);
            S.Children.Remove(child);
            return new ChildStepResult(ChildStepOutcome.Done, $"database deleted from cluster {DisplayName}", ClusterDisplayName);
        });
        if (result.Outcome == ChildStepOutcome.Failed)
        {
            child.State = "delete failed";
            await PersistAsync();
        }
        return result;
    }

    public async Task<ChildStepResult> CreateBinding(string databaseId, string bindingId)
    {
        if (S.Children.Find(c => c.InstanceId == databaseId) is not { State: "created" } child)
            return new(ChildStepOutcome.Refused, $"database {databaseId} is not ready in cluster {DisplayName}");
        if (WaitForCluster() is { } wait) return wait;
        if (Provisioner(out _, out var problem) is not { } provisioner) return new(ChildStepOutcome.Failed, problem!);
        var recordedNow = !child.KnownBindings.Contains(bindingId);
        if (recordedNow)
        {
            // Recorded before the account exists: a crash or a lost answer from here on leaves an account that an
            // unbind (or the database's delete) still finds and drops.
            child.BindingAccounts[bindingId] = DatabaseNames.BindingUser(bindingId);
            await PersistAsync();
        }
        var account = child.AccountOf(bindingId);
        var result = await InClusterAsync(child, "create a binding", async endpoint =>
        {
            var credentials = await provisioner.CreateUserAsync(endpoint, child.DatabaseNameInCluster, account, Credentials.Passwords.Generate(), default);
            if (!child.BindingIds.Contains(bindingId)) child.BindingIds.Add(bindingId);
            var json = new JsonObject
            {
                ["uri"] = credentials.Uri,
                ["hostname"] = credentials.Hostname,
                ["port"] = credentials.Port,
                ["name"] = credentials.Name,
                ["username"] = credentials.Username,
                ["password"] = credentials.Password,
                ["jdbcUrl"] = credentials.JdbcUrl,
            };
            if (credentials.CaCertificate is { } ca)
            {
                json["tls"] = true;
                json["ca_certificate"] = ca;
            }
            return new ChildStepResult(ChildStepOutcome.Done, "bound", ClusterDisplayName, json.ToJsonString());
        });
        if (result.Outcome == ChildStepOutcome.Failed && recordedNow && child.BindingAccounts.Remove(bindingId))
        {
            // Refused by the cluster (e.g. the account name is taken by something the broker does not manage):
            // nothing of ours exists, and the name must never be dropped on this binding's behalf.
            await PersistAsync();
        }
        return result;
    }

    public async Task<ChildStepResult> DeleteBinding(string databaseId, string bindingId)
    {
        if (S.Children.Find(c => c.InstanceId == databaseId) is not { } child || !child.KnownBindings.Contains(bindingId))
            return new(ChildStepOutcome.Done, "binding already removed", ClusterDisplayName);
        if (WaitForCluster() is { } wait) return wait;
        if (Provisioner(out _, out var problem) is not { } provisioner) return new(ChildStepOutcome.Failed, problem!);
        return await InClusterAsync(child, "delete a binding", async endpoint =>
        {
            await provisioner.DropUserAsync(endpoint, child.DatabaseNameInCluster, child.AccountOf(bindingId), default);
            child.BindingIds.Remove(bindingId);
            child.BindingAccounts.Remove(bindingId);
            return new ChildStepResult(ChildStepOutcome.Done, "unbound", ClusterDisplayName);
        });
    }

    /// <summary>Runs one admin step against the cluster and persists what it changed; failures become values.</summary>
    private async Task<ChildStepResult> InClusterAsync(ChildDatabase child, string what, Func<ClusterAdminEndpoint, Task<ChildStepResult>> step)
    {
        if (S.AdminUsername is null || S.AdminPasswordProtected is null)
            return new(ChildStepOutcome.Failed, $"cluster {DisplayName} has no admin account the broker knows; ask the platform operators");
        var service = catalog.FindService(S.Spec!.ServiceId)!;
        var endpoint = databases.EndpointFor(service, InstanceId, PipelineVariables.DeploymentName(service, InstanceId), S.AdminUsername, secrets.Unprotect(S.AdminPasswordProtected));
        try
        {
            var result = await step(endpoint);
            await PersistAsync();
            return result;
        }
        catch (DatabaseProvisioningException e) when (e.Transient)
        {
            logger.LogWarning("Cluster {InstanceId}: could not {What} for database {DatabaseId}, will retry: {Error}", InstanceId, what, child.InstanceId, e.Message);
            return new(ChildStepOutcome.Retry, $"cluster {DisplayName} is unreachable, retrying ({e.Message})", ClusterDisplayName);
        }
        catch (DatabaseProvisioningException e)
        {
            logger.LogError("Cluster {InstanceId}: could not {What} for database {DatabaseId}: {Error}", InstanceId, what, child.InstanceId, e.Message);
            return new(ChildStepOutcome.Failed, $"could not {what} in cluster {DisplayName}: {e.Message}", ClusterDisplayName);
        }
    }

    private ChildStepResult? RefuseChildren(ChildDatabaseRequest request)
    {
        // A cluster of another space answers like an unknown one: its existence is not the requester's business. So
        // does a name the cluster no longer bears (a name index entry left behind by a rename cut short).
        if (S.Status is ClusterStatus.None or ClusterStatus.Deleted || S.Context!.SpaceGuid != request.SpaceGuid
            || (request.RequestedName is { } asked && asked != InstanceId && asked != S.Context.InstanceName))
            return new(ChildStepOutcome.NotFound, "no such cluster in this space");
        return S.Status switch
        {
            ClusterStatus.Deleting => new(ChildStepOutcome.Refused, $"cluster {DisplayName} is being deleted"),
            ClusterStatus.Failed when S.FailedOperation == OperationKind.Create => new(ChildStepOutcome.Refused, $"cluster {DisplayName} failed to be created; delete it and create it again"),
            ClusterStatus.Failed when S.FailedOperation == OperationKind.Delete => new(ChildStepOutcome.Refused, $"cluster {DisplayName} failed to be deleted"),
            _ => null,
        };
    }

    private ChildStepResult? WaitForCluster() => S.Status switch
    {
        ClusterStatus.Creating => new(ChildStepOutcome.Waiting, $"waiting for cluster {DisplayName} (creation in progress)", ClusterDisplayName),
        ClusterStatus.Updating => new(ChildStepOutcome.Waiting, $"waiting for cluster {DisplayName} (update in progress)", ClusterDisplayName),
        ClusterStatus.Deleting => new(ChildStepOutcome.Failed, $"cluster {DisplayName} is being deleted", ClusterDisplayName),
        ClusterStatus.None or ClusterStatus.Deleted => new(ChildStepOutcome.Failed, "the cluster no longer exists"),
        _ => null,
    };

    private IDatabaseProvisioner? Provisioner(out ServiceOffering service, out string? problem)
    {
        service = catalog.FindService(S.Spec!.ServiceId)!;
        var provisioner = databases.For(service);
        problem = provisioner is null
            ? $"databases of service {service.Name} ({service.Databases?.Provisioner ?? "none configured"}) are not available on this broker yet"
            : null;
        return provisioner;
    }

    private string ClusterDisplayName => S.Context?.InstanceName is { Length: > 0 } name ? name : InstanceId;

    /// <summary>The name the space's index should map to this cluster: its instance name while it exists.</summary>
    private string? DesiredIndexedName =>
        S.Status is ClusterStatus.None or ClusterStatus.Deleted || S.Context?.InstanceName is not { Length: > 0 } name ? null : name;

    private bool NameIndexBehind => S.IndexedName != DesiredIndexedName;

    /// <summary>
    /// Brings the name index up to date with the state (claim the current name, release the previous one). Claim and
    /// release are idempotent, so <see cref="ClusterState.IndexedName"/> is persisted with the next write rather than
    /// on its own: a stale value only repeats this on the next activation. A failure here leaves the state as it is;
    /// the timer or the next request tries again.
    /// </summary>
    private async Task SyncNameIndexAsync()
    {
        // One sync at a time (the tick interleaves with requests); repeated until the index has caught up with a
        // rename that arrived meanwhile.
        while (NameIndexBehind)
        {
            var sync = _nameSync ??= SyncNameIndexOnceAsync();
            try
            {
                await sync;
            }
            finally
            {
                if (ReferenceEquals(_nameSync, sync)) _nameSync = null;
            }
        }
    }

    private Task? _nameSync;

    private async Task SyncNameIndexOnceAsync()
    {
        var desired = DesiredIndexedName;
        if (S.IndexedName is { } previous && S.Context is { } context)
            await GrainFactory.GetGrain<IClusterNameGrain>(ClusterNames.Key(context.SpaceGuid, previous)).Release(InstanceId);
        if (desired is not null)
            await GrainFactory.GetGrain<IClusterNameGrain>(ClusterNames.Key(S.Context!.SpaceGuid, desired)).Claim(InstanceId);
        S.IndexedName = desired;
    }
}
