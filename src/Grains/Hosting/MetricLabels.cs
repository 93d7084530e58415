using Prometheus;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// What /metrics publishes from .NET meters (docs/security.md, "Metrics"): an allow-list, so no meter whose labels name
/// a database, a host or a user gets in. Left out on purpose: Npgsql's meter (its pool name is the connection string
/// without its password: host, port, database, user names, cluster admin accounts included), outbound HTTP and DNS
/// (remote host names), Kestrel (listening address), and ASP.NET Core's per-request meters, which cost a quarter of the
/// gateway's throughput (docs/security.md; the OSB request log has each request's route, status and time). Published,
/// from the start rather than from the first scrape (docs/fleet.md): the domain's "OnDemand.Broker", the runtime's, and on
/// silos Orleans' own (grain calls, activations, messaging; a gateway's Orleans client series would cost every grain
/// call). Process-wide: prometheus-net's own meter adapter is replaced by this one, once.
/// </summary>
public static class MetricLabels
{
    private static readonly string[] Always = ["OnDemand.Broker", "System.Runtime"];
    private const string Orleans = "Microsoft.Orleans";
    private static readonly Lock Gate = new();
    private static IDisposable? _adapter;

    /// <param name="orleans">publish Orleans' meter too (silos).</param>
    public static void Configure(bool orleans)
    {
        lock (Gate)
        {
            if (_adapter is not null) return;
            Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
            _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
            {
                InstrumentFilterPredicate = instrument => Always.Contains(instrument.Meter.Name) || (orleans && instrument.Meter.Name == Orleans),
            });
        }
    }
}
