namespace OnDemand.Grains.Databases;

/// <summary>
/// Bound from the "Databases" configuration section. The overrides point every cluster's admin endpoint at one
/// server: local runs and tests, where the emulated deployments all live in one PostgreSQL.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Databases";
    public string? AdminHost { get; set; }
    public int? AdminPort { get; set; }
    /// <summary>Scheme of a cluster's own (inner) OSB broker, for the "osb" provisioner: "https", or "http" for tests.</summary>
    public string InnerBrokerScheme { get; set; } = "https";
}
