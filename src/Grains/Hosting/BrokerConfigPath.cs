namespace OnDemand.Grains.Hosting;

/// <summary>Finds the broker's YAML configuration: the configured path, else config/broker.yml near the app or the working directory.</summary>
public static class BrokerConfigPath
{
    public const string Key = "Broker:ConfigPath";

    public static string Resolve(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "config", "broker.yml");
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"no broker configuration: set {Key} (env Broker__ConfigPath) or run from the repository (config/broker.yml)");
    }
}
