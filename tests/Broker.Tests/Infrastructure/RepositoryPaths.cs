namespace OnDemand.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries holding OnDemand.Orleans.sln.</summary>
    public static string Root { get; } = Find();

    public static string BrokerConfig => Path.Combine(Root, "config", "broker.yml");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OnDemand.Orleans.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("repository root (OnDemand.Orleans.sln) not found above " + AppContext.BaseDirectory);
    }
}
