using OnDemand.Grains.Database;

namespace OnDemand.Tests.CloudFoundry;

/// <summary>How a database's parameters name its cluster: pure, without Orleans or HTTP.</summary>
public sealed class ClusterReferenceTests
{
    private static (ClusterReference? Reference, string? Problem) Parse(string json) => ClusterReference.Parse(JsonNode.Parse(json)!.AsObject(), "svc", "plan");

    [Theory]
    [InlineData("""{"cluster":"c"}""", null, null)]
    [InlineData("""{"cluster":"c","cluster-org":"o","cluster-space":"s"}""", "o", "s")]
    [InlineData("""{"cluster":"c","cluster_org":"o","cluster_space":"s"}""", "o", "s")]
    [InlineData("""{"cluster":"c","cluster-org":"o","cluster_org":"o","cluster-space":"s"}""", "o", "s")]
    [InlineData("""{"cluster":"c","cluster_space":"s"}""", null, "s")]
    [InlineData("""{"cluster":"c","cluster-org":null,"cluster-space":"s"}""", null, "s")]
    public void Either_spelling_names_the_org_and_space(string json, string? org, string? space)
    {
        var (reference, problem) = Parse(json);
        Assert.Null(problem);
        Assert.Equal(new ClusterReference("c", org, space), reference);
        Assert.Equal(org is not null || space is not null, reference!.NamesOrgOrSpace);
    }

    [Theory]
    [InlineData("{}", "name the cluster to create the database in: cf create-service svc plan NAME")]
    [InlineData("""{"cluster":""}""", "name the cluster")]
    [InlineData("""{"cluster":"c","cluster-org":"a","cluster_org":"b","cluster-space":"s"}""", "parameters 'cluster-org' and 'cluster_org' name different orgs ('a' and 'b'): give only one of them")]
    [InlineData("""{"cluster":"c","cluster_space":"a","cluster-space":"b"}""", "parameters 'cluster-space' and 'cluster_space' name different spaces ('b' and 'a'): give only one of them")]
    [InlineData("""{"cluster":"c","cluster-org":"o"}""", "cluster-org 'o' needs cluster-space too")]
    [InlineData("""{"cluster":"c","cluster-space":3}""", "parameter 'cluster-space' must be the name or guid of a space")]
    public void A_bad_reference_is_described(string json, string expected)
    {
        var (reference, problem) = Parse(json);
        Assert.Null(reference);
        Assert.StartsWith(expected, problem);
    }
}
