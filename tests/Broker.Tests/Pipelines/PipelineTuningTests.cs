using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines;
using Xunit;

namespace OnDemand.Tests.Pipelines;

public sealed class PipelineTuningTests
{
    private static Dictionary<string, JsonNode?> Vars(params (string Name, JsonNode? Value)[] vars) =>
        vars.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);

    [Fact]
    public void A_buffer_pool_beyond_half_the_vm_memory_is_a_parameter_error_naming_field_and_limit()
    {
        var vars = Vars(("vm_memory_mb", 4096), ("innodb_buffer_pool_size", "999999GB"), ("max_connections", 500));

        var e = Assert.Throws<PipelineRenderException>(() => PipelineTuning.Apply(vars));

        Assert.Equal("parameter 'innodb_buffer_pool_size' is 1023998976MB, above this plan's limit of 2048MB (50% of the plan's 4096MB VM memory)", e.Message);
    }

    [Fact]
    public void The_limit_itself_passes_and_is_given_to_bosh_in_bytes()
    {
        var vars = Vars(("vm_memory_mb", 4096), ("innodb_buffer_pool_size", "2GB"), ("max_connections", 1024));

        PipelineTuning.Apply(vars);

        Assert.Equal(2L * 1024 * 1024 * 1024, (long)vars["innodb_buffer_pool_size_bytes"]!);
    }

    [Fact]
    public void MySql_connections_are_bounded_by_memory()
    {
        var vars = Vars(("vm_memory_mb", 4096), ("innodb_buffer_pool_size", "512MB"), ("max_connections", 1025));

        var e = Assert.Throws<PipelineRenderException>(() => PipelineTuning.Apply(vars));

        Assert.StartsWith("parameter 'max_connections' is 1025, above this plan's limit of 1024", e.Message);
    }

    [Theory]
    [InlineData("1638MB", 200, "4MB", null)]
    [InlineData("1639MB", 200, "4MB", "parameter 'shared_buffers' is 1639MB, above this plan's limit of 1677721kB (40% of the plan's 4096MB VM memory)")]
    [InlineData("128MB", 5000, "1MB", "parameter 'work_mem' is 1MB, above this plan's limit of 419kB")]
    [InlineData("128MB", 5000, "419kB", null)]
    public void PostgreSql_shared_buffers_and_work_mem_are_bounded_by_memory(string sharedBuffers, int connections, string workMem, string? error)
    {
        var vars = Vars(("vm_memory_mb", 4096), ("shared_buffers", sharedBuffers), ("max_connections", connections), ("work_mem", workMem));

        var e = Record.Exception(() => PipelineTuning.Apply(vars));

        if (error is null) Assert.Null(e);
        else Assert.StartsWith(error, Assert.IsType<PipelineRenderException>(e).Message);
    }
}
