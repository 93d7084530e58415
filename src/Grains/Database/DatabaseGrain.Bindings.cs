using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Credentials;

namespace OnDemand.Grains.Database;

/// <summary>
/// Bindings of the database: each is recorded as pending before the cluster creates its login, completed with its
/// (encrypted) credentials, and removed only once the cluster dropped the login (docs/crash-consistency.md, rule 7).
/// </summary>
public sealed partial class DatabaseGrain
{
    public async Task<BindResult> Bind(string bindingId, BindRequest request)
    {
        var decision = DatabaseDecisions.BeforeBind(S, InstanceId, bindingId, request, catalog, b => secrets.Unprotect(b.ProtectedCredentials));
        if (decision.Answer is { } answer) return answer;
        var existing = decision.Pending;

        // Intent first: the binding is on record before its account exists, so an unbind after a crash or a lost
        // answer still finds it and has the cluster drop the account.
        var binding = existing ?? new BindingRecord
        {
            Id = bindingId,
            ServiceId = request.ServiceId,
            PlanId = request.PlanId,
            AppGuid = request.AppGuid,
            ParametersJson = request.ParametersJson,
            Pending = true,
            CreatedAt = time.GetUtcNow(),
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
}
