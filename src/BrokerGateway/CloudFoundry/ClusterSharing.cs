using Microsoft.Extensions.Options;
using OnDemand.BrokerGateway.Osb;
using OnDemand.Grains.Database;

namespace OnDemand.BrokerGateway.CloudFoundry;

/// <summary>Where a database's cluster is: an answer (a refusal), or the space to look the cluster up in (null: the requester's).</summary>
public sealed record ClusterPlacement(IResult? Refusal, string? ClusterSpaceGuid = null);

/// <summary>
/// The gateway's part of sharing a cluster across spaces and orgs (docs/sharing.md). Before a database create reaches
/// its grain, this resolves <c>cluster-org</c>/<c>cluster-space</c> through the Cloud Foundry API, finds the cluster
/// in that space (the broker's name index, or a cluster instance id), and, when the cluster is not in the requester's
/// own space, checks that the requesting user (X-Broker-API-Originating-Identity) holds an allowed role in the
/// cluster's space. The identity arrives here, and the API calls take their time here rather than inside a grain call
/// (which the gateway abandons after a few seconds). The database grain then decides with the space found.
/// Nothing is created when anything fails: every refusal is answered before the grain is called.
/// </summary>
public sealed class ClusterSharing(
    IOptions<CloudFoundrySettings> options,
    CloudFoundryApi api,
    RoleGrants grants,
    IGrainFactory grainFactory,
    [FromKeyedServices(CloudFoundryServices.ClockKey)] TimeProvider time,
    ILogger<ClusterSharing> logger)
{
    private readonly CloudFoundrySettings _settings = options.Value;

    public async Task<ClusterPlacement> PlaceAsync(HttpRequest request, ServiceOffering service, ServicePlan plan, JsonObject parameters,
        string organizationGuid, string spaceGuid, string? userId)
    {
        var (reference, problem) = ClusterReference.Parse(parameters, service.Name, plan.Name);
        if (reference is null) return Refuse(problem!);

        using var budget = new CancellationTokenSource(_settings.RequestBudget, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, request.HttpContext.RequestAborted);
        try
        {
            return await PlaceAsync(request, reference, organizationGuid, spaceGuid, userId, linked.Token);
        }
        catch (CloudFoundryUnavailableException e)
        {
            logger.LogWarning("Cloud Foundry API check of a database create failed (answered 503): {Error}", e.Message);
            return Unavailable(request, $"{e.Message}. Try again in a few minutes; if it keeps failing, the platform operators must check that the " +
                "broker reaches the Cloud Foundry API and its UAA (CloudFoundry__ApiUrl, CloudFoundry__UaaUrl)");
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            logger.LogWarning("Cloud Foundry API check of a database create took longer than {Budget}", _settings.RequestBudget);
            return Unavailable(request, $"the Cloud Foundry API and its UAA did not answer within {_settings.RequestBudget.TotalSeconds:0} s. Try again in a few minutes; " +
                "if it keeps failing, the platform operators must check the Cloud Foundry API (CloudFoundry__ApiUrl)");
        }
        catch (CloudFoundryRefusedException e)
        {
            logger.LogError("Cloud Foundry API refused the broker's client (answered 502): {Error}", e.Message);
            return new ClusterPlacement(new OsbError(StatusCodes.Status502BadGateway, "CloudFoundryApiRefused",
                $"nothing was created: the broker could not check your access to the cluster: {e.Message}. The platform operators must fix this (see the broker's docs/sharing.md)"));
        }
    }

    private async Task<ClusterPlacement> PlaceAsync(HttpRequest request, ClusterReference reference, string organizationGuid, string spaceGuid, string? userId,
        CancellationToken cancellationToken)
    {
        string clusterSpace, clusterId, where;
        if (reference.NamesOrgOrSpace)
        {
            if (!_settings.IsConfigured) return Refuse(NotConfigured);
            // cluster-space alone names a space of the requester's own org.
            var org = reference.Org is null ? new CloudFoundryResource(organizationGuid, "your organization") : await api.FindOrganizationAsync(reference.Org, cancellationToken);
            if (org is null)
                return Refuse($"no organization named '{reference.Org}' in Cloud Foundry (cluster-org takes the name or guid of the cluster's org): check it with cf orgs");
            var space = await api.FindSpaceAsync(org.Guid, reference.Space!, cancellationToken);
            if (space is null)
                return Refuse($"no space named '{reference.Space}' in {(reference.Org is null ? "your organization" : $"organization '{reference.Org}'")} (cluster-space takes the name or guid of the cluster's space): check it with cf spaces");
            where = $"space '{space.Name}' of organization '{org.Name}'";
            clusterSpace = space.Guid;
            if (await FindClusterAsync(clusterSpace, reference.Name) is not { } found)
                return Refuse($"no cluster named '{reference.Name}' in {where}: check its name with cf services in that space");
            clusterId = found;
        }
        else
        {
            // The cluster's own space: found by name, nothing to check (Cloud Controller let the requester create here).
            if (await FindByNameAsync(spaceGuid, reference.Name) is not null || !InstanceIds.IsValid(reference.Name)) return new(null);
            var view = await grainFactory.GetGrain<IClusterGrain>(reference.Name).GetDashboard();
            // Unknown, gone, or in this space: the database grain answers as it always did.
            if (view is null || view.Status is ClusterStatus.None or ClusterStatus.Deleted || view.Context.SpaceGuid == spaceGuid) return new(null);
            if (!_settings.IsConfigured) return Refuse(NotConfigured);
            (clusterSpace, clusterId) = (view.Context.SpaceGuid, reference.Name);
        }
        if (clusterSpace == spaceGuid) return new(null, clusterSpace);

        if (!IsCloudFoundryUser(request, userId))
            return Refuse($"using a cluster of another space needs the requesting user: the platform must send {OriginatingIdentity.Header} " +
                "(cloudfoundry, with the user_id) with the request. Ask the platform operators");
        if (!await grants.AllowedAsync(userId!, clusterSpace, cancellationToken))
        {
            logger.LogInformation("User {UserGuid} holds no role {Roles} in space {SpaceGuid} of cluster {ClusterId}: refused", userId, _settings.AllowedRoles, clusterSpace, clusterId);
            return Refuse($"requesting user (userGuid={userId}) has not permission to access cluster service-instance guid={clusterId}");
        }
        return new(null, clusterSpace);
    }

    private const string NotConfigured =
        "using a cluster of another org or space (cluster-org, cluster-space) is not available: the broker's operators have not configured " +
        "the Cloud Foundry API (CloudFoundry__ApiUrl); create the database in the cluster's own space";

    /// <summary>The cluster with that name (or instance id) in the space, when there is one.</summary>
    private async Task<string?> FindClusterAsync(string spaceGuid, string name)
    {
        if (await FindByNameAsync(spaceGuid, name) is { } byName) return byName;
        if (!InstanceIds.IsValid(name)) return null;
        var view = await grainFactory.GetGrain<IClusterGrain>(name).GetDashboard();
        return view is { Status: not (ClusterStatus.None or ClusterStatus.Deleted) } && view.Context.SpaceGuid == spaceGuid ? name : null;
    }

    private async Task<string?> FindByNameAsync(string spaceGuid, string name)
    {
        if (await grainFactory.GetGrain<IClusterNameGrain>(ClusterNames.Key(spaceGuid, name)).Resolve() is { } id) return id;
        return ClusterNames.LegacyKey(spaceGuid, name) is { } legacy ? await grainFactory.GetGrain<IClusterNameGrain>(legacy).Resolve() : null;
    }

    private static bool IsCloudFoundryUser(HttpRequest request, string? userId) =>
        !string.IsNullOrEmpty(userId) && request.Headers[OriginatingIdentity.Header].ToString().StartsWith("cloudfoundry ", StringComparison.Ordinal);

    private static ClusterPlacement Refuse(string description) => new(OsbError.BadRequest(description));

    private static ClusterPlacement Unavailable(HttpRequest request, string reason)
    {
        request.HttpContext.Response.Headers.RetryAfter = "30";
        return new(new OsbError(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable",
            $"nothing was created: the broker could not check your access to the cluster with the Cloud Foundry API: {reason}"));
    }
}
