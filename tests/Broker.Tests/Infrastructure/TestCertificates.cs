using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// Self-signed RSA certificates for the Data Protection key ring (docs/security.md), written as PEM files (certificate
/// and private key in one file, mode 0600) like the one run.sh generates.
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<string> Shared = new(() => Create("ondemand-tests-keyring"));

    /// <summary>The certificate every test stack uses unless it sets its own.</summary>
    public static string SharedPath => Shared.Value;

    public static string Create(string name, string? password = null)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
        var key = password is null
            ? rsa.ExportPkcs8PrivateKeyPem()
            : rsa.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000));
        var directory = Directory.CreateTempSubdirectory("ondemand-cert-").FullName;
        var path = Path.Combine(directory, $"{name}.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + key + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
