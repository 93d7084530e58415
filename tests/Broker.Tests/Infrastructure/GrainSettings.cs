namespace OnDemand.Tests.Infrastructure;

/// <summary>What the grains need from configuration in tests: the catalog, the Concourse emulator, fast polling.</summary>
public static class GrainSettings
{
    public static Dictionary<string, string?> For(Uri concourse)
    {
        var url = concourse.ToString().TrimEnd('/');
        return new Dictionary<string, string?>
        {
            ["Broker:ConfigPath"] = RepositoryPaths.BrokerConfig,
            ["Concourse:Url"] = url,
            ["Concourse:Team"] = "main",
            ["Concourse:Username"] = "admin",
            ["Concourse:Password"] = "admin",
            ["Concourse:RequestTimeout"] = "00:00:02",
            ["Lifecycle:PollInterval"] = "00:00:00.050",
            ["Lifecycle:MaxRetryDelay"] = "00:00:00.500",
        };
    }
}
