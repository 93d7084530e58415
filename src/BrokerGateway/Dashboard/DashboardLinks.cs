using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>
/// Per-instance dashboard links: the token is an HMAC of the instance id under a secret every gateway shares, so any
/// gateway can check a link without state, and a link to one instance opens nothing else.
/// </summary>
public sealed class DashboardLinks
{
    private readonly byte[] _key;
    private readonly string? _publicUrl;

    public DashboardLinks(IOptions<GatewaySettings> settings)
    {
        if (string.IsNullOrEmpty(settings.Value.DashboardSecret) || settings.Value.DashboardSecret.Length < 16)
            throw new InvalidOperationException("Broker:DashboardSecret must be set to at least 16 characters (env Broker__DashboardSecret), the same on every gateway");
        _key = Encoding.UTF8.GetBytes(settings.Value.DashboardSecret);
        _publicUrl = settings.Value.PublicUrl?.TrimEnd('/');
    }

    public string For(HttpRequest request, string instanceId)
    {
        var baseUrl = _publicUrl ?? $"{request.Scheme}://{request.Host}";
        return $"{baseUrl}/dashboard/instances/{Uri.EscapeDataString(instanceId)}?token={Token(instanceId)}";
    }

    public bool IsValid(string instanceId, string? token) =>
        token is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Token(instanceId)), Encoding.ASCII.GetBytes(token));

    private string Token(string instanceId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(instanceId)));
}
