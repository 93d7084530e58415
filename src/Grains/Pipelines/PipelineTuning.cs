using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Bounds the user's tuning by the plan's VM memory (plan var <c>vm_memory_mb</c>) and derives the values the BOSH
/// manifests need. A refusal is a <see cref="PipelineRenderException"/> whose message starts with "parameter", which
/// the cluster grain reports as invalid parameters, naming the field and the limit.
/// </summary>
/// <remarks>
/// MySQL: innodb_buffer_pool_size at most 50% of memory (pxc-release's own default share); max_connections at most one
/// per 4 MB. PostgreSQL: shared_buffers at most 40% of memory (PostgreSQL's documentation advises 25%, rarely above
/// 40%); max_connections × work_mem at most 50%. Without <c>vm_memory_mb</c> only the derivations happen.
/// </remarks>
public static partial class PipelineTuning
{
    public const int BufferPoolPercent = 50;
    public const int MySqlMegabytesPerConnection = 4;
    public const int SharedBuffersPercent = 40;
    public const int WorkMemTotalPercent = 50;

    [GeneratedRegex("^([1-9][0-9]{0,8})(kB|MB|GB)$", RegexOptions.CultureInvariant)]
    private static partial Regex Size();

    /// <summary>Checks the limits and adds derived vars (innodb_buffer_pool_size_bytes) to <paramref name="vars"/>.</summary>
    public static void Apply(IDictionary<string, JsonNode?> vars)
    {
        ArgumentNullException.ThrowIfNull(vars);
        var memoryMb = IntOf(vars, "vm_memory_mb");

        if (vars.ContainsKey("innodb_buffer_pool_size"))
        {
            var bytes = Bytes(vars, "innodb_buffer_pool_size");
            vars["innodb_buffer_pool_size_bytes"] = bytes;
            if (memoryMb is { } memory)
            {
                EnsureAtMost("innodb_buffer_pool_size", bytes, Share(memory, BufferPoolPercent), $"{BufferPoolPercent}% of the plan's {memory}MB VM memory");
                if (IntOf(vars, "max_connections") is { } connections && connections > memory / MySqlMegabytesPerConnection)
                {
                    throw new PipelineRenderException(
                        $"parameter 'max_connections' is {connections}, above this plan's limit of {memory / MySqlMegabytesPerConnection} (one per {MySqlMegabytesPerConnection}MB of the plan's {memory}MB VM memory)");
                }
            }
        }

        if (vars.ContainsKey("shared_buffers") && memoryMb is { } pgMemory)
        {
            EnsureAtMost("shared_buffers", Bytes(vars, "shared_buffers"), Share(pgMemory, SharedBuffersPercent), $"{SharedBuffersPercent}% of the plan's {pgMemory}MB VM memory");
            if (vars.ContainsKey("work_mem") && IntOf(vars, "max_connections") is { } connections)
            {
                var workMem = Bytes(vars, "work_mem");
                var limit = Share(pgMemory, WorkMemTotalPercent) / connections;
                EnsureAtMost("work_mem", workMem, limit,
                    $"{WorkMemTotalPercent}% of the plan's {pgMemory}MB VM memory shared by max_connections={connections}");
            }
        }
    }

    private static long Share(long memoryMb, int percent) => memoryMb * 1024 * 1024 * percent / 100;

    private static void EnsureAtMost(string name, long bytes, long limit, string because)
    {
        if (bytes > limit)
        {
            throw new PipelineRenderException($"parameter '{name}' is {Describe(bytes)}, above this plan's limit of {Describe(limit)} ({because})");
        }
    }

    private static string Describe(long bytes) => bytes % (1024 * 1024) == 0
        ? $"{bytes / (1024 * 1024)}MB"
        : $"{bytes / 1024}kB";

    private static long Bytes(IDictionary<string, JsonNode?> vars, string name)
    {
        var text = vars[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
        var match = text is null ? Match.Empty : Size().Match(text);
        if (!match.Success)
        {
            throw new PipelineRenderException($"parameter '{name}' must be a size such as 512MB or 2GB");
        }

        var number = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return number * match.Groups[2].Value switch
        {
            "kB" => 1024L,
            "MB" => 1024L * 1024,
            _ => 1024L * 1024 * 1024,
        };
    }

    private static long? IntOf(IDictionary<string, JsonNode?> vars, string name) =>
        vars.TryGetValue(name, out var node) && node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
        && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : null;
}
