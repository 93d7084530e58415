using Orleans.Configuration;

namespace OnDemand.Silo;

/// <summary>
/// The production defaults for failure detection and shutdown, chosen so that a silo killed with -9 is declared dead
/// (and its grains reactivate elsewhere) within about five seconds. Why each value, and the price in false positives:
/// docs/scaling-out.md. Every value can be overridden with Orleans:Membership:* (Orleans' own option names).
/// </summary>
public static class FastFailover
{
    /// <summary>A grain-to-grain call that gets no answer fails after this (Orleans' default).</summary>
    public static readonly TimeSpan SiloResponseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// HostOptions.ShutdownTimeout: the graceful part of a stop (grains deactivate and save). The process ends at most
    /// <see cref="ShutdownWatchdog.DefaultGrace"/> later, PostgreSQL up or not.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    public static void Apply(ClusterMembershipOptions o)
    {
        // A probe is a ping to a monitored silo; the adaptive timeout stays within [ProbeTimeout/2, 4 x ProbeTimeout]
        // and is also the period between probes (Orleans' default: 5 s).
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        // Two missed probes (the second one indirect, through another silo) make the prober suspect the target and
        // vote (Orleans' default: 3).
        o.NumMissedProbesLimit = 2;
        // Orleans' default: two votes, but never more than half the active silos ((active + 1) / 2), so in a two-silo
        // cluster the survivor's single vote is enough.
        o.NumVotesForDeathDeclaration = 2;
        // Votes older than this do not count: two votes must come within this window (Orleans' default: 2 min).
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
        // Each silo re-reads the membership table this often, in case it missed gossip (Orleans' default: 60 s).
        o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        // Heartbeat row in the table: a silo that missed 3 of these is stale and not probed (Orleans' default: 30 s).
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
    }
}
