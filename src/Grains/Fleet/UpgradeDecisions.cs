using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Pure rules of an upgrade-all run: who is behind, who goes first, what starts next, when it ends.</summary>
public static class UpgradeDecisions
{
    /// <summary>A cluster to upgrade: live, not a failed create (it can only be deleted), template behind the catalog's.</summary>
    public static bool IsBehind(ClusterDashboardView view, string catalogVersion) =>
        view.Status is not (ClusterStatus.None or ClusterStatus.Deleted)
        && !(view.Status == ClusterStatus.Failed && view.Operations.FirstOrDefault()?.Kind == OperationKind.Create)
        && view.MaintenanceInfoVersion != catalogVersion;

    /// <summary>Marks the canaries: the clusters of the named org (guid or name), else the first <paramref name="count"/>.</summary>
    /// <returns>a refusal when the named org has no cluster to upgrade.</returns>
    public static string? ChooseCanaries(List<UpgradeItem> items, IReadOnlyDictionary<string, InstanceContext> contexts, int count, string? org)
    {
        if (org is not null)
        {
            var matched = 0;
            foreach (var item in items)
                if (contexts.TryGetValue(item.InstanceId, out var c) && (c.OrganizationGuid == org || c.OrganizationName == org))
                {
                    item.Canary = true;
                    matched++;
                }
            return matched == 0 && items.Count > 0 ? $"no cluster of org {org} needs an upgrade: choose another canary org or a canary count" : null;
        }
        foreach (var item in items.Take(count)) item.Canary = true;
        return null;
    }

    /// <summary>The items to start now: canaries until every canary is done, then the rest; never more than the parallelism.</summary>
    public static List<UpgradeItem> ToStart(IReadOnlyList<UpgradeItem> items, int parallelism, DateTimeOffset now)
    {
        var running = items.Count(i => i.Phase == UpgradeItemPhase.Running);
        var canariesLeft = items.Any(i => i.Canary && !i.IsFinished);
        return items
            .Where(i => i.Phase == UpgradeItemPhase.Pending && i.NextAttemptAt <= now && (!canariesLeft || i.Canary))
            .Take(Math.Max(0, parallelism - running))
            .ToList();
    }

    /// <summary>The first failed canary stops the run (nothing new starts; running upgrades finish).</summary>
    public static UpgradeItem? FailedCanary(IReadOnlyList<UpgradeItem> items) =>
        items.FirstOrDefault(i => i.Canary && i.Phase == UpgradeItemPhase.Failed);

    /// <summary>Whether the run has nothing left to do: no upgrade running, and nothing more will start.</summary>
    public static bool IsOver(UpgradeRunStatus status, IReadOnlyList<UpgradeItem> items) =>
        !items.Any(i => i.Phase == UpgradeItemPhase.Running)
        && (status is UpgradeRunStatus.Cancelled or UpgradeRunStatus.Stopped || items.All(i => i.IsFinished));

    public static UpgradeReport Report(UpgradeRunState s) => new(
        s.RunId, s.Status, s.Reason, s.StartedAt, s.FinishedAt, s.Parallelism, s.Items.Count,
        s.Items.Count(i => i.Phase is UpgradeItemPhase.Done or UpgradeItemPhase.Skipped),
        s.Items.Count(i => i.Phase == UpgradeItemPhase.Running),
        s.Items.Count(i => i.Phase == UpgradeItemPhase.Failed),
        s.Items.Count(i => i.Phase == UpgradeItemPhase.Pending),
        s.Items.Select(i => new UpgradeItemView(i.InstanceId, i.PlanName, i.FromVersion, i.ToVersion, i.Canary, i.Phase, i.Attempts, i.Note)).ToList());
}
