using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace OnDemand.BrokerGateway;

/// <summary>
/// Which address a request comes from, for the per-address limit of failed authentications (docs/security.md,
/// "Client addresses"): the TCP peer, unless that peer is a proxy listed in Broker:KnownProxies (IP addresses) or
/// Broker:KnownNetworks (CIDR); then the last X-Forwarded-For entry, the one that proxy added. Nothing is trusted by
/// default, not even loopback: an X-Forwarded-For sent by anyone else is ignored.
/// </summary>
public static class ClientAddresses
{
    public static IServiceCollection AddClientAddresses(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = configuration.GetSection("Broker:KnownProxies").GetChildren().Select(c => c.Value).OfType<string>()
            .Select(value => IPAddress.TryParse(value, out var address) ? address
                : throw new FormatException($"Broker:KnownProxies: '{value}' is not an IP address"))
            .ToList();
        var networks = configuration.GetSection("Broker:KnownNetworks").GetChildren().Select(c => c.Value).OfType<string>()
            .Select(value => System.Net.IPNetwork.TryParse(value, out var network) ? network
                : throw new FormatException($"Broker:KnownNetworks: '{value}' is not a network (CIDR, e.g. 10.0.0.0/8)"))
            .ToList();
        return services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            o.ForwardLimit = 1;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the obsolete list is still consulted, and holds loopback by default
            o.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in proxies) o.KnownProxies.Add(proxy);
            foreach (var network in networks) o.KnownIPNetworks.Add(network);
        });
    }

    /// <summary>
    /// X-Forwarded-For is read only when a proxy is configured: with both lists empty, ASP.NET Core's forwarded headers
    /// middleware would trust every peer.
    /// </summary>
    public static IApplicationBuilder UseClientAddresses(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        return options.KnownProxies.Count > 0 || options.KnownIPNetworks.Count > 0 ? app.UseForwardedHeaders() : app;
    }
}
