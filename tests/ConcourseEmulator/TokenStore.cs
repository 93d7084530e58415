using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace OnDemand.ConcourseEmulator;

/// <summary>Issued bearer tokens and their expiry. Tokens are opaque random strings, not JWTs.</summary>
internal sealed class TokenStore(TimeProvider clock, TimeSpan lifetime)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _expiries = new(StringComparer.Ordinal);

    public TimeSpan Lifetime { get; } = lifetime;

    public string Issue()
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _expiries[token] = clock.GetUtcNow() + Lifetime;
        return token;
    }

    public bool IsValid(string token)
    {
        if (!_expiries.TryGetValue(token, out var expiry))
        {
            return false;
        }
        if (expiry > clock.GetUtcNow())
        {
            return true;
        }
        _expiries.TryRemove(token, out _);
        return false;
    }

    /// <summary>Every token issued so far stops working, as after a Concourse signing-key rotation.</summary>
    public void ExpireAll() => _expiries.Clear();
}
