using OnDemand.Grains.Provisioning;

namespace OnDemand.Grains.Cluster;

/// <summary>A database instance registered inside the cluster, with the names it really uses in the cluster.</summary>
[GenerateSerializer, Alias("OnDemand.ChildDatabase")]
public sealed class ChildDatabase
{
    [Id(0)] public string InstanceId { get; set; } = "";
    [Id(1)] public string? Name { get; set; }
    [Id(2)] public string PlanId { get; set; } = "";
    [Id(3)] public string State { get; set; } = "";
    // [Id(4)] was a binding count, now derived from BindingIds; never reuse the id.
    /// <summary>Bindings whose account exists (created and answered).</summary>
    [Id(5)] public List<string> BindingIds { get; set; } = [];
    [Id(6)] public string ServiceId { get; set; } = "";
    /// <summary>The database's name in the cluster, recorded at registration; null for databases registered before
    /// names were recorded (they keep the legacy rule).</summary>
    [Id(7)] public string? DatabaseName { get; set; }
    /// <summary>Binding id -> account name, recorded before the account is created (pending until it is in
    /// <see cref="BindingIds"/>), so an unbind after a crash still finds and drops it.</summary>
    [Id(8)] public Dictionary<string, string> BindingAccounts { get; set; } = [];

    /// <summary>The database's own org and space (another space's when the cluster is shared); null for databases
    /// registered before it was recorded.</summary>
    [Id(9)] public InstanceContext? Context { get; set; }

    public string DatabaseNameInCluster => DatabaseName ?? DatabaseNames.LegacyDatabase(InstanceId);

    public string AccountOf(string bindingId) =>
        BindingAccounts.TryGetValue(bindingId, out var account) ? account : DatabaseNames.LegacyBindingUser(bindingId);

    /// <summary>Every binding whose account may exist: created ones and pending ones.</summary>
    public IEnumerable<string> KnownBindings => BindingIds.Union(BindingAccounts.Keys);
}
