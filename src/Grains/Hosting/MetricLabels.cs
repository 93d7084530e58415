using Prometheus;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// What /metrics publishes from .NET meters (docs/security.md, "Metrics"): nothing whose labels name a database, a
/// host or a user. Npgsql's meter labels every series with its pool name, the connection string without its password
/// (host, port, database, user name; cluster admin accounts included), so it is left out. Outbound HTTP and DNS label
/// series with the remote host name, Kestrel with its listening address: left out too. Every other meter (the
/// domain's "OnDemand.Broker", Orleans, ASP.NET Core, the runtime) is published from the start, not from the first
/// scrape (docs/fleet.md). Process-wide: prometheus-net's own meter adapter is replaced by this filtered one, once.
/// </summary>
public static class MetricLabels
{
    private static readonly string[] LeftOut = ["Npgsql", "System.Net.Http", "System.Net.NameResolution", "Microsoft.AspNetCore.Server.Kestrel"];
    private static readonly Lock Gate = new();
    private static IDisposable? _adapter;

    public static void Configure()
    {
        lock (Gate)
        {
            if (_adapter is not null) return;
            Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
            _adapter = MeterAdapter.StartListening(new MeterAdapterOptions { InstrumentFilterPredicate = instrument => !LeftOut.Contains(instrument.Meter.Name) });
        }
    }
}
