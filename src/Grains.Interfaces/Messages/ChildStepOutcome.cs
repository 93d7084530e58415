namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>What a cluster answers when a database asks it to act inside the cluster.</summary>
[GenerateSerializer, Alias("OnDemand.ChildStepOutcome")]
public enum ChildStepOutcome
{
    /// <summary>Done (idempotent: repeating it is harmless).</summary>
    Done = 0,
    /// <summary>The cluster is busy with its own operation (creation, update); ask again later.</summary>
    Waiting = 1,
    /// <summary>A transient failure (cluster unreachable); ask again later.</summary>
    Retry = 2,
    /// <summary>Failed for good; the description says why.</summary>
    Failed = 3,
    /// <summary>Refused without any change (cluster being deleted, another service...).</summary>
    Refused = 4,
    /// <summary>No such cluster in the requester's space (a cluster of another space answers the same).</summary>
    NotFound = 5,
}
