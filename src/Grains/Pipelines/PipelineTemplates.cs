using System.Collections.Concurrent;

namespace OnDemand.Grains.Pipelines;

/// <summary>Template files by path, read once per silo: templates change with a deployment, not at run time.</summary>
public sealed class PipelineTemplates
{
    private readonly ConcurrentDictionary<string, string> _byPath = new(StringComparer.Ordinal);

    public string Get(string path) => _byPath.GetOrAdd(path, File.ReadAllText);
}
