using System.Text.Json.Nodes;

namespace OnDemand.Grains.Database;

/// <summary>
/// How a database's parameters name its cluster: <c>cluster</c> (a name or an instance id), and, for a cluster shared
/// from another space, <c>cluster-org</c> and <c>cluster-space</c> (each a name or a guid; <c>cluster_org</c> and
/// <c>cluster_space</c> are accepted too). Pure: read by the gateway (which resolves and checks the other space) and
/// by the database grain (which decides).
/// </summary>
/// <param name="Org">the org named, null when none (the requester's own org).</param>
/// <param name="Space">the space named, null when none (the requester's own space).</param>
public sealed record ClusterReference(string Name, string? Org, string? Space)
{
    public static readonly string[] OrgParameters = ["cluster-org", "cluster_org"];
    public static readonly string[] SpaceParameters = ["cluster-space", "cluster_space"];

    /// <summary>Whether the cluster is named in another org or space (which the Cloud Foundry API resolves).</summary>
    public bool NamesOrgOrSpace => Org is not null || Space is not null;

    /// <summary>The reference, or a description of what is wrong with it (for a 400).</summary>
    public static (ClusterReference? Reference, string? Problem) Parse(JsonObject parameters, string serviceName = "<service>", string planName = "<plan>")
    {
        if (parameters["cluster"] is not JsonValue clusterValue || !clusterValue.TryGetValue<string>(out var name) || name.Length == 0)
            return (null, $"name the cluster to create the database in: cf create-service {serviceName} {planName} NAME -c '{{\"cluster\":\"<cluster name>\"}}'");
        var (org, orgProblem) = OneOf(parameters, OrgParameters, "org");
        if (orgProblem is not null) return (null, orgProblem);
        var (space, spaceProblem) = OneOf(parameters, SpaceParameters, "space");
        if (spaceProblem is not null) return (null, spaceProblem);
        if (org is not null && space is null)
            return (null, $"cluster-org '{org}' needs cluster-space too: name the space of org '{org}' the cluster '{name}' is in (-c '{{\"cluster\":\"{name}\",\"cluster-org\":\"{org}\",\"cluster-space\":\"<space>\"}}')");
        return (new ClusterReference(name, org, space), null);
    }

    /// <summary>The value of a parameter given in either spelling; both spellings with different values is a problem.</summary>
    private static (string? Value, string? Problem) OneOf(JsonObject parameters, string[] spellings, string what)
    {
        string? found = null, foundIn = null;
        foreach (var spelling in spellings)
        {
            if (!parameters.TryGetPropertyValue(spelling, out var node) || node is null) continue;
            if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0)
                return (null, $"parameter '{spelling}' must be the name or guid of a {what}");
            if (found is not null && found != text)
                return (null, $"parameters '{foundIn}' and '{spelling}' name different {what}s ('{found}' and '{text}'): give only one of them");
            found = text;
            foundIn = spelling;
        }
        return (found, null);
    }
}
