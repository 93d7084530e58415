namespace OnDemand.Grains.Cluster;

/// <summary>What the broker knows of the cluster's Concourse pipeline.</summary>
[GenerateSerializer, Alias("OnDemand.PipelineState")]
public sealed class PipelineState
{
    [Id(0)] public string Name { get; set; } = "";
    /// <summary>X-Concourse-Config-Version after our last PUT; another value means someone else edited it.</summary>
    [Id(1)] public long? ConfigVersion { get; set; }
    // [Id(2)] and [Id(3)] were a config hash and the template version, written and never read (the instance's
    // maintenance_info version says which template runs); never reuse the ids.
    /// <summary>A job of the pipeline was (or was about to be) triggered, so a deployment may exist to be deleted.</summary>
    [Id(4)] public bool EverTriggered { get; set; }
    /// <summary>Set before the first config PUT: from then on the pipeline may exist in Concourse.</summary>
    [Id(5)] public bool MayExist { get; set; }
}
