using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.Grains.InnerBroker;

/// <summary>A plan of the inner catalog and its size in MB, when known.</summary>
internal sealed record InnerPlan(string Id, string Name, int? SizeMb);

/// <summary>
/// Which inner plan a database gets. A plan's size is its <c>metadata.size_mb</c>, else a size in its name ("100mb",
/// "1gb", "15gb"); a database gets the plan whose size equals the size asked for, else the smallest plan at least
/// that large, else (no size, or larger than every plan) the first plan.
/// </summary>
internal static partial class InnerPlanPolicy
{
    /// <summary>Exact size, else the smallest plan at least as large, else the first plan.</summary>
    public static InnerPlan PlanFor(IReadOnlyList<InnerPlan> plans, int? sizeMb)
    {
        if (sizeMb is not { } wanted)
        {
            return plans[0];
        }
        return plans.FirstOrDefault(plan => plan.SizeMb == wanted)
            ?? plans.Where(plan => plan.SizeMb >= wanted).MinBy(plan => plan.SizeMb)
            ?? plans[0];
    }

    /// <summary>The size of a catalog plan: <c>metadata.size_mb</c>, else a size in its name, else null.</summary>
    public static int? SizeOf(string name, JsonObject? metadata)
    {
        var size = metadata is null ? null : OsbJson.Number(metadata, "size_mb");
        if (size is null && SizeInName().Match(name) is { Success: true } match
            && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            var unit = match.Groups[2].Value.ToLowerInvariant() switch { "gb" => 1024L, "tb" => 1024L * 1024, _ => 1L };
            size = (int)Math.Min(int.MaxValue, amount * unit);
        }
        return size;
    }

    [GeneratedRegex(@"(\d+)\s*(mb|gb|tb)(?![a-z])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizeInName();
}
