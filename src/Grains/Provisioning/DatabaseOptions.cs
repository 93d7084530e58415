namespace OnDemand.Grains.Provisioning;

/// <summary>
/// Bound from the "Databases" configuration section. An endpoint override, per provisioner engine, points every
/// cluster of that engine at one server (Databases__Endpoints__postgresql__Host / __Port): local runs and tests,
/// where the emulated deployments all live in one PostgreSQL.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Databases";
    public Dictionary<string, EndpointOverride> Endpoints { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Scheme of a cluster's own (inner) OSB broker, for the "osb" provisioner: "https", or "http" for tests.</summary>
    public string InnerBrokerScheme { get; set; } = "https";
    /// <summary>
    /// PEM file of the CA that signs every cluster's server certificate (the BOSH manifests' /ondemand-orleans/database_ca,
    /// docs/pipelines.md). Set in production: the broker then verifies each cluster's certificate and host name, and
    /// binding credentials carry the CA with verify-full / VERIFY_IDENTITY. Databases__CaFile.
    /// </summary>
    public string? CaFile { get; set; }
}

public sealed class EndpointOverride
{
    public string? Host { get; set; }
    public int? Port { get; set; }
}
