namespace OnDemand.Tests.Infrastructure;

/// <summary>Ids of config/broker.yml, as Cloud Controller would send them.</summary>
public static class Catalog
{
    public const string MySql = "811b8485-aa65-4bea-b4d0-f10f32833187";
    public const string ClusterSmall = "38ee5955-c98a-402e-bb40-34f509bdc233";
    public const string ClusterLarge = "b2ae7692-fe1a-49d3-8719-cd933650cbce";
    public const string Db100Mb = "da90a5b6-1ddd-4d7e-9b65-2da8c8ce37f6";
    public const string PostgreSql = "248f46ec-cca0-40ce-8154-b6b692c22695";
    public const string PgClusterSmall = "ae92697f-ef7c-4e2e-ae41-6213a1c14ab7";
    public const string PgClusterLarge = "66309668-9abb-4a7e-bbc9-bb520d8f4b66";
    public const string Pg1Gb = "2c1968c4-f28f-4250-974b-93ec0d775ac4";
}
