namespace OnDemand.Grains.Database;

/// <summary>A binding of the database. Credentials are kept encrypted (ISecretProtector).</summary>
[GenerateSerializer, Alias("OnDemand.BindingRecord")]
public sealed class BindingRecord
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string ServiceId { get; set; } = "";
    [Id(2)] public string PlanId { get; set; } = "";
    [Id(3)] public string? AppGuid { get; set; }
    [Id(4)] public string ParametersJson { get; set; } = "{}";
    [Id(5)] public string ProtectedCredentials { get; set; } = "";
    [Id(6)] public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Recorded before the cluster creates its account, cleared when the credentials are in: a pending
    /// binding is not served, but an unbind of it still drops whatever account exists.</summary>
    [Id(7)] public bool Pending { get; set; }
}
