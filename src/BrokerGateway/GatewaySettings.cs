namespace OnDemand.BrokerGateway;

/// <summary>Bound from the "Broker" configuration section (Broker__Username, ...).</summary>
public sealed class GatewaySettings
{
    public const string Section = "Broker";
    /// <summary>Basic auth Cloud Controller uses.</summary>
    public string Username { get; set; } = "broker";
    public string Password { get; set; } = "";
    /// <summary>Where users reach this broker (the load balancer); dashboard links are built on it. Default: the gateway's own Urls, never a request's Host.</summary>
    public string? PublicUrl { get; set; }
    /// <summary>Key of the per-instance dashboard links; the same on every gateway.</summary>
    public string DashboardSecret { get; set; } = "";
    /// <summary>How long a dashboard link works after the broker issued it (default one hour, docs/security.md).</summary>
    public TimeSpan? DashboardLinkLifetime { get; set; }
    /// <summary>Operators may open any instance dashboard with these credentials.</summary>
    public string OperatorUsername { get; set; } = "operator";
    public string OperatorPassword { get; set; } = "";
}
