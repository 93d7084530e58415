using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>
/// Per-instance dashboard links (docs/security.md, "Dashboard links"): the token is an HMAC of the instance id and the
/// link's expiry under a secret every gateway shares, so any gateway checks a link without state, a link to one
/// instance opens nothing else, and a link stops working Broker:DashboardLinkLifetime (default one hour) after it was
/// issued. Links are built on Broker:PublicUrl, else on the gateway's own configured Urls, never on a request's Host.
/// </summary>
public sealed class DashboardLinks
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    private readonly byte[] _key;
    private readonly string _publicUrl;
    private readonly TimeProvider _clock;

    public DashboardLinks(IOptions<GatewaySettings> settings, IConfiguration configuration, TimeProvider? clock = null)
    {
        if (string.IsNullOrEmpty(settings.Value.DashboardSecret) || settings.Value.DashboardSecret.Length < 16)
            throw new InvalidOperationException("Broker:DashboardSecret must be set to at least 16 characters (env Broker__DashboardSecret), the same on every gateway");
        _key = Encoding.UTF8.GetBytes(settings.Value.DashboardSecret);
        Lifetime = settings.Value.DashboardLinkLifetime ?? DefaultLifetime;
        if (Lifetime <= TimeSpan.Zero) throw new ArgumentException("Broker:DashboardLinkLifetime must be positive.");
        _publicUrl = PublicUrl(settings.Value.PublicUrl, configuration["urls"]);
        _clock = clock ?? TimeProvider.System;
    }

    public TimeSpan Lifetime { get; }

    public string For(string instanceId)
    {
        var expires = _clock.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{_publicUrl}/dashboard/instances/{Uri.EscapeDataString(instanceId)}?expires={expires}&token={Token(instanceId, expires)}";
    }

    public LinkCheck Check(string instanceId, string? expires, string? token)
    {
        if (token is null || expires is null || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return LinkCheck.Invalid;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Token(instanceId, expires)), Encoding.ASCII.GetBytes(token))) return LinkCheck.Invalid;
        return _clock.GetUtcNow().ToUnixTimeSeconds() < seconds ? LinkCheck.Valid : LinkCheck.Expired;
    }

    private string Token(string instanceId, string expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{instanceId}\n{expires}")));

    /// <summary>Broker:PublicUrl, else the first of the gateway's Urls when it names a host (not a wildcard).</summary>
    private static string PublicUrl(string? configured, string? urls)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (!Uri.TryCreate(configured, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new ArgumentException($"Broker:PublicUrl '{configured}' is not an http(s) URL");
            return configured.TrimEnd('/');
        }
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is not null && Uri.TryCreate(first.Replace("://*", "://wildcard").Replace("://+", "://wildcard"), UriKind.Absolute, out var own)
            && own.Host is not ("wildcard" or "0.0.0.0" or "[::]" or "::"))
            return first.TrimEnd('/');
        throw new InvalidOperationException("Broker:PublicUrl is not set (env Broker__PublicUrl) and the gateway's Urls name no host: " +
            "dashboard links are built on where users reach the broker, never on a request's Host header");
    }
}

/// <summary>What a dashboard link's token says.</summary>
public enum LinkCheck { Invalid, Expired, Valid }
