using System.Security.Cryptography;
using System.Text;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// An HTTP Basic username/password pair, checked in constant time: the SHA-256 digests of the expected and the given
/// "username:password" are compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither the
/// position of the first wrong byte nor the length of the right password shows in the time a check takes.
/// </summary>
public sealed class BasicCredentials(string username, string password)
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes($"{username}:{password}"));

    public string Username { get; } = username;

    /// <summary>True when the Authorization header carries exactly these credentials.</summary>
    public bool Match(string? authorizationHeader)
    {
        const string prefix = "Basic ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return false;
        Span<byte> decoded = stackalloc byte[256];
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(authorizationHeader[prefix.Length..].Trim(), decoded, out var length)) return false;
        SHA256.HashData(decoded[..length], digest);
        return CryptographicOperations.FixedTimeEquals(digest, _expected);
    }
}
