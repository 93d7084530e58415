using System.Globalization;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.BrokerGateway.Operator;

public static class UpgradeJson
{
    public static JsonObject Report(UpgradeReport r) => new()
    {
        ["run_id"] = r.RunId,
        ["status"] = r.Status.ToString().ToLowerInvariant(),
        ["reason"] = r.Reason,
        ["started_at"] = r.StartedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["finished_at"] = r.FinishedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["parallelism"] = r.Parallelism,
        ["total"] = r.Total,
        ["done"] = r.Done,
        ["running"] = r.Running,
        ["failed"] = r.Failed,
        ["left"] = r.Left,
        ["items"] = new JsonArray(r.Items.Select(i => (JsonNode)new JsonObject
        {
            ["instance_id"] = i.InstanceId,
            ["plan"] = i.PlanName,
            ["from"] = i.FromVersion,
            ["to"] = i.ToVersion,
            ["canary"] = i.Canary,
            ["phase"] = i.Phase.ToString().ToLowerInvariant(),
            ["attempts"] = i.Attempts,
            ["note"] = i.Note,
        }).ToArray()),
    };
}
