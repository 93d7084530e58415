using System.Security.Cryptography.X509Certificates;

namespace OnDemand.Silo.Security;

/// <summary>
/// The X.509 certificates that encrypt the Data Protection key ring at rest (docs/security.md, "The key ring"): the
/// current one (DataProtection:CertificatePath, optional DataProtection:CertificatePassword) encrypts new keys; it and
/// the previous ones (DataProtection:PreviousCertificates:N:Path / :Password) decrypt existing keys. A file is PKCS#12
/// when it ends in .pfx or .p12, else PEM holding the certificate and its private key.
/// </summary>
public sealed record KeyRingCertificates(X509Certificate2 Current, IReadOnlyList<X509Certificate2> Previous)
{
    public const string Section = "DataProtection";
    public const string PathSetting = "DataProtection:CertificatePath";

    public IEnumerable<X509Certificate2> All => Previous.Prepend(Current);

    public static KeyRingCertificates Load(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var path = section["CertificatePath"];
        if (string.IsNullOrWhiteSpace(path))
            throw new InvalidOperationException($"{PathSetting} is not set (env DataProtection__CertificatePath): the key ring that " +
                "encrypts stored credentials is never kept unencrypted; give a certificate with its private key (PEM or PFX), see docs/security.md");
        var current = LoadOne(PathSetting, path, section["CertificatePassword"]);
        var previous = section.GetSection("PreviousCertificates").GetChildren()
            .Select(child => LoadOne($"{Section}:PreviousCertificates:{child.Key}:Path", child["Path"], child["Password"]))
            .ToList();
        return new KeyRingCertificates(current, previous);
    }

    private static X509Certificate2 LoadOne(string setting, string? path, string? password)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InvalidOperationException($"{setting} is not set");
        if (!File.Exists(path)) throw new InvalidOperationException($"{setting}: no file '{path}'");
        X509Certificate2 certificate;
        try
        {
            var extension = Path.GetExtension(path).ToLowerInvariant();
            certificate = extension is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet)
                : string.IsNullOrEmpty(password) ? X509Certificate2.CreateFromPemFile(path) : X509Certificate2.CreateFromEncryptedPemFile(path, password);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException($"{setting}: '{path}' is not a readable certificate with its private key ({e.Message})");
        }
        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
            throw new InvalidOperationException($"{setting}: '{path}' has no RSA private key (the key ring is encrypted with RSA)");
        return certificate;
    }
}
