using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Databases;

/// <summary>
/// Issue 8: with the clusters' CA configured (Databases:CaFile), the broker verifies a cluster's certificate and host
/// name, and binding credentials carry the CA and verify-full, so apps verify too. A private PostgreSQL serves a
/// certificate signed by a CA made here; a certificate from another CA is refused.
/// </summary>
public sealed class VerifiedTlsTests : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private readonly string _folder = Directory.CreateTempSubdirectory("ondemand-tls-").FullName;
    private string _caFile = null!;
    private string _otherCaFile = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.StartAsync(Ct);
        using var ca = Authority("ondemand test clusters CA");
        using var other = Authority("some other CA");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var server = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        await _server.EnableTlsAsync(server.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        _caFile = Path.Combine(_folder, "ca.pem");
        _otherCaFile = Path.Combine(_folder, "other.pem");
        await File.WriteAllTextAsync(_caFile, ca.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(_otherCaFile, other.ExportCertificatePem(), Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private async Task<ClusterAdminEndpoint> AdminAsync(string caFile)
    {
        var name = "cluster_admin_" + Guid.NewGuid().ToString("N")[..8];
        var password = Passwords.Generate();
        await using var connection = new NpgsqlConnection(_server.AdminConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand($"CREATE ROLE {name} LOGIN CREATEDB CREATEROLE PASSWORD '{password}'", connection);
        await command.ExecuteNonQueryAsync(Ct);
        return new ClusterAdminEndpoint("127.0.0.1", _server.Port, name, password, "postgres", caFile);
    }

    [Fact]
    public async Task Bindings_carry_the_ca_and_verify_full_and_the_connection_is_verified_TLS()
    {
        var admin = await AdminAsync(_caFile);
        var provisioner = new PostgresDatabaseProvisioner();
        var database = DatabaseNames.Database(Guid.NewGuid().ToString());
        await provisioner.CreateDatabaseAsync(admin, database, null, Ct);
        var credentials = await provisioner.CreateUserAsync(admin, database, DatabaseNames.BindingUser(Guid.NewGuid().ToString()), Passwords.Generate(), Ct);

        Assert.Equal(await File.ReadAllTextAsync(_caFile, Ct), credentials.CaCertificate);
        Assert.EndsWith("?sslmode=verify-full", credentials.Uri);
        Assert.Contains("&sslmode=verify-full", credentials.JdbcUrl);

        // An app that follows the credentials connects with verified TLS (VerifyFull fails on anything else).
        await using var app = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = credentials.Hostname,
            Port = credentials.Port,
            Database = credentials.Name,
            Username = credentials.Username,
            Password = credentials.Password,
            SslMode = SslMode.VerifyFull,
            RootCertificate = _caFile,
            Pooling = false,
        }.ConnectionString);
        await app.OpenAsync(Ct);
    }

    [Fact]
    public async Task A_cluster_whose_certificate_another_CA_signed_is_refused()
    {
        var admin = await AdminAsync(_otherCaFile);
        var provisioner = new PostgresDatabaseProvisioner();
        var database = DatabaseNames.Database(Guid.NewGuid().ToString());
        await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(admin, database, null, Ct));

        await using var connection = new NpgsqlConnection(_server.AdminConnectionString);
        await connection.OpenAsync(Ct);
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
        Assert.Equal(0L, await exists.ExecuteScalarAsync(Ct)); // the broker never talked to a server it could not verify
    }
}
