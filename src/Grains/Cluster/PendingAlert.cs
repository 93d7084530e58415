namespace OnDemand.Grains.Cluster;

/// <summary>A failure alert not yet delivered; kept in state so a crash does not lose it.</summary>
[GenerateSerializer, Alias("OnDemand.PendingAlert")]
public sealed class PendingAlert
{
    [Id(0)] public string OperationId { get; set; } = "";
    [Id(1)] public string Text { get; set; } = "";
    [Id(2)] public int Attempts { get; set; }
}
