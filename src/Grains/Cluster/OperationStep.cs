namespace OnDemand.Grains.Cluster;

/// <summary>
/// Where an operation stands. The step is persisted before its side effect runs, so after a crash the grain
/// resumes exactly there; each step is idempotent or checks Concourse before acting.
/// </summary>
[GenerateSerializer, Alias("OnDemand.OperationStep")]
public enum OperationStep
{
    SetPipeline = 0,
    Unpause = 1,
    Trigger = 2,
    AwaitBuild = 3,
    AbortBuild = 4,
    DestroyPipeline = 5,
    Done = 6,
    /// <summary>Hand the cluster's generated admin account to the credential manager before the pipeline needs it.</summary>
    StoreCredentials = 7,
}
