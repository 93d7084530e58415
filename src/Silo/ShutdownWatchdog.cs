using System.Diagnostics;

namespace OnDemand.Silo;

/// <summary>
/// Bounded shutdown. HostOptions.ShutdownTimeout (Orleans:ShutdownTimeout) ends the graceful part: Orleans stops
/// deactivating grains and moves on. But Orleans 10 still tries to write the silo's status to the membership table
/// on its way out, for up to a minute per status (MembershipAgent: Stopping, then Dead) - two minutes, measured,
/// when PostgreSQL is down. The other silos declare this one dead by probing anyway, so once the graceful part and
/// a short grace (Orleans:ShutdownGrace) are over, the process ends itself. Only the silo's entry point arms it:
/// silos hosted inside another process (the tests) are never killed.
/// </summary>
public static class ShutdownWatchdog
{
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(5);

    public static void Arm(WebApplication silo)
    {
        var limit = silo.Configuration.GetValue("Orleans:ShutdownTimeout", FastFailover.ShutdownTimeout)
            + silo.Configuration.GetValue("Orleans:ShutdownGrace", DefaultGrace);
        var logger = silo.Logger;
        silo.Lifetime.ApplicationStopping.Register(() => _ = Task.Run(async () =>
        {
            await Task.Delay(limit);
            logger.LogError("The silo did not stop within {Limit} (Orleans:ShutdownTimeout + Orleans:ShutdownGrace; is PostgreSQL reachable?): ending the process", limit);
            await Task.Delay(200); // let the console sink write the line
            Process.GetCurrentProcess().Kill();
        }));
    }
}
