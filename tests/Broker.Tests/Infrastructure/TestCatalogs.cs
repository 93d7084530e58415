namespace OnDemand.Tests.Infrastructure;

/// <summary>Variants of config/broker.yml for tests that need another setting, written next to it in a temp folder.</summary>
public static class TestCatalogs
{
    /// <summary>The real catalog with every maximum_polling_duration set to the given seconds.</summary>
    public static string WithPollingDuration(int seconds)
    {
        var yaml = File.ReadAllText(RepositoryPaths.BrokerConfig);
        yaml = System.Text.RegularExpressions.Regex.Replace(yaml, @"maximum_polling_duration: \d+", $"maximum_polling_duration: {seconds}");
        return Write(yaml);
    }

    public static string Write(string yaml)
    {
        // Template paths in the catalog are relative (../templates/...): keep the same depth under the repository.
        var folder = Path.Combine(RepositoryPaths.Root, "tests", "Broker.Tests", "bin", "catalogs", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "broker.yml");
        File.WriteAllText(path, yaml.Replace("../templates/", Path.Combine(RepositoryPaths.Root, "templates") + "/"));
        return path;
    }
}
