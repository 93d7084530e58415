using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Grains.Interfaces;

/// <summary>
/// One dedicated cluster instance, keyed by its OSB instance id. Every change to the cluster goes through it, one at a
/// time; long work (the pipeline build) is recorded as intent and driven by a timer and a reminder, never awaited
/// inside a call. Reads are answered from state and interleave with that work, so they never wait on Concourse.
/// </summary>
[Alias("OnDemand.IClusterGrain")]
public interface IClusterGrain : IServiceInstanceGrain
{
    /// <summary>
    /// A database instance claims this id (one id, one instance): false when a cluster exists or existed under it.
    /// Databases call it on their own id before recording anything, so a cluster can never be created under it.
    /// </summary>
    [Alias("ReserveForDatabase")]
    Task<bool> ReserveForDatabase();

    /// <summary>Undoes <see cref="ReserveForDatabase"/> for a database create that was refused.</summary>
    [Alias("ReleaseDatabaseReservation")]
    Task ReleaseDatabaseReservation();

    /// <summary>A database asks to live in this cluster; recorded before the database does anything.</summary>
    [Alias("RegisterDatabase")]
    Task<ChildStepResult> RegisterDatabase(ChildDatabaseRequest request);

    /// <summary>Creates the registered database inside the cluster, unless the cluster is busy (Waiting).</summary>
    [Alias("CreateDatabase")]
    Task<ChildStepResult> CreateDatabase(string databaseId);

    /// <summary>Drops the database inside the cluster, then forgets it; a failure leaves it registered.</summary>
    [Alias("DeleteDatabase")]
    Task<ChildStepResult> DeleteDatabase(string databaseId);

    /// <summary>Creates an account for a binding of a database of this cluster; Done carries the credentials.</summary>
    [Alias("CreateBinding")]
    Task<ChildStepResult> CreateBinding(string databaseId, string bindingId);

    [Alias("DeleteBinding")]
    Task<ChildStepResult> DeleteBinding(string databaseId, string bindingId);

    /// <summary>Null when the instance does not exist.</summary>
    [AlwaysInterleave, Alias("GetDashboard")]
    Task<ClusterDashboardView?> GetDashboard();

    /// <summary>What the cluster counts for in the cluster quotas; null when it has no live state (never created,
    /// deleted, or a create lost before its intent was recorded). A claim being made counts (docs/fleet.md).</summary>
    [AlwaysInterleave, Alias("GetQuotaScope")]
    Task<Fleet.ClusterQuotaScope?> GetQuotaScope();
}
