using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// The longest a plan can run given its steps' timeouts: steps in sequence add up, `in_parallel` takes the longest
/// branch, hooks are left out (they run after the work the broker waits for). Null when a step has no timeout.
/// </summary>
public static partial class StepTimeouts
{
    [GeneratedRegex(@"^(?:(\d+(?:\.\d+)?)(h|m|s|ms))+$", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();

    public static TimeSpan? Longest(JsonNode? plan) => plan switch
    {
        JsonArray steps => Sum(steps),
        JsonObject step => OfStep(step),
        _ => TimeSpan.Zero,
    };

    private static TimeSpan? Sum(JsonArray steps)
    {
        var total = TimeSpan.Zero;
        foreach (var step in steps)
        {
            if (Longest(step) is not { } one) return null;
            total += one;
        }
        return total;
    }

    private static TimeSpan? OfStep(JsonObject step)
    {
        TimeSpan? inner = step switch
        {
            _ when step["do"] is JsonArray steps => Sum(steps),
            _ when step.ContainsKey("in_parallel") => Parallel(step["in_parallel"] is JsonObject config ? config["steps"] : step["in_parallel"]),
            _ when step["try"] is JsonObject tried => OfStep(tried),
            _ => null,
        };
        var own = Parse((string?)step["timeout"]);
        return (inner, own) switch
        {
            ({ } i, { } o) => i < o ? i : o,
            ({ } i, null) => i,
            (null, { } o) => o,
            _ => null,
        };
    }

    private static TimeSpan? Parallel(JsonNode? steps)
    {
        var longest = TimeSpan.Zero;
        foreach (var step in steps as JsonArray ?? [])
        {
            if (Longest(step) is not { } one) return null;
            if (one > longest) longest = one;
        }
        return longest;
    }

    /// <summary>Go's time.ParseDuration, for the units Concourse timeouts use.</summary>
    public static TimeSpan? Parse(string? text)
    {
        var match = text is null ? Match.Empty : GoDuration().Match(text);
        if (!match.Success) return null;
        var total = TimeSpan.Zero;
        for (var i = 0; i < match.Groups[1].Captures.Count; i++)
        {
            var value = double.Parse(match.Groups[1].Captures[i].Value, CultureInfo.InvariantCulture);
            total += match.Groups[2].Captures[i].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        }
        return total;
    }
}
