using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace OnDemand.Silo.Security;

/// <summary>
/// The upgrade from a key ring kept unencrypted (before issue 11): when the key new secrets would be encrypted with
/// is stored in plaintext, a new key (encrypted with the certificate) replaces it at start, so nothing written from
/// now on can be decrypted from a database dump. The old keys stay (they still decrypt what they encrypted) and are
/// named in a warning; docs/security.md says how to retire them.
/// </summary>
public sealed class PlaintextKeyRetirement(IKeyManager keys, IXmlRepository repository, TimeProvider clock, ILogger<PlaintextKeyRetirement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var plaintext = repository.GetAllElements()
                .Where(e => e.Name.LocalName == "key" && !e.Descendants().Any(d => d.Name.LocalName == "encryptedSecret"))
                .Select(e => (Guid)e.Attribute("id")!)
                .ToHashSet();
            if (plaintext.Count == 0) return Task.CompletedTask;
            var now = clock.GetUtcNow();
            var current = keys.GetAllKeys()
                .Where(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now)
                .MaxBy(k => k.ActivationDate);
            if (current is not null && plaintext.Contains(current.KeyId))
            {
                var replacement = keys.CreateNewKey(now, now.AddDays(90));
                logger.LogWarning("Data Protection key {Old} is stored unencrypted: new secrets now use key {New}, encrypted with the certificate", current.KeyId, replacement.KeyId);
            }
            logger.LogWarning("{Count} Data Protection key(s) are stored unencrypted ({Keys}); secrets written with them can be decrypted from a database dump until they are rewritten (docs/security.md)",
                plaintext.Count, string.Join(", ", plaintext));
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or System.Security.Cryptography.CryptographicException or InvalidOperationException)
        {
            logger.LogWarning(e, "Could not check the Data Protection key ring for unencrypted keys");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
