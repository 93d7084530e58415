using System.Security.Cryptography;
using System.Text;

namespace OnDemand.Grains.Hosting;

/// <summary>An HTTP Basic username/password pair, checked in constant time.</summary>
public sealed class BasicCredentials(string username, string password)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes($"{username}:{password}");

    public string Username { get; } = username;

    /// <summary>True when the Authorization header carries exactly these credentials.</summary>
    public bool Match(string? authorizationHeader)
    {
        const string prefix = "Basic ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return false;
        Span<byte> decoded = stackalloc byte[256];
        return Convert.TryFromBase64String(authorizationHeader[prefix.Length..].Trim(), decoded, out var length)
            && CryptographicOperations.FixedTimeEquals(decoded[..length], _expected);
    }
}
