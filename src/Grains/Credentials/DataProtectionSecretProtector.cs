using Microsoft.AspNetCore.DataProtection;

namespace OnDemand.Grains.Credentials;

/// <summary>ASP.NET Core Data Protection; the silo keeps its key ring in PostgreSQL so every silo can decrypt.</summary>
public sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("OnDemand.Grains.Secrets.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedText) => _protector.Unprotect(protectedText);
}
