using System.Net;
using System.Net.Sockets;

namespace OnDemand.Silo;

/// <summary>Bound from the "Orleans" configuration section (Orleans__SiloPort, ...).</summary>
public sealed class OrleansSettings
{
    public const string Section = "Orleans";
    public string ClusterId { get; set; } = "ondemand";
    public string ServiceId { get; set; } = "ondemand-broker";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>The address other silos and gateways reach this silo at: an IP, or a host name resolved at start (containers).</summary>
    public string AdvertisedIP { get; set; } = "127.0.0.1";
    /// <summary>Listen on every interface rather than only the advertised address (containers).</summary>
    public bool ListenOnAnyHostAddress { get; set; }
    /// <summary>Apply sql/ before starting (idempotent); turn off where a migration job does it.</summary>
    public bool ApplySchema { get; set; } = true;

    public IPAddress AdvertisedAddress() => IPAddress.TryParse(AdvertisedIP, out var address)
        ? address
        : Dns.GetHostAddresses(AdvertisedIP).First(a => a.AddressFamily == AddressFamily.InterNetwork);
}
