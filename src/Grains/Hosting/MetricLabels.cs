using Prometheus;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// What /metrics publishes from .NET meters (docs/security.md, "Metrics"): nothing whose labels name a database, a
/// host or a user. Npgsql's meter labels every series with its pool name, the connection string without its password
/// (host, port, database, user name; cluster admin accounts included), so it is left out. Outbound HTTP and DNS label series with the remote host
/// name, Kestrel with its listening address: left out too. Process-wide, set once before the first scrape.
/// </summary>
public static class MetricLabels
{
    private static readonly string[] LeftOut = ["Npgsql", "System.Net.Http", "System.Net.NameResolution", "Microsoft.AspNetCore.Server.Kestrel"];
    private static int _configured;

    public static void Configure()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = instrument => !LeftOut.Contains(instrument.Meter.Name));
    }
}
