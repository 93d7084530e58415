using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OnDemand.Silo;

namespace OnDemand.Tests.Security;

/// <summary>
/// Issue 11, docs/security.md "The key ring": the Data Protection key ring in PostgreSQL is encrypted with a
/// certificate that is not in the database, so a dump of the database alone decrypts no stored credential; a
/// certificate rotation keeps every secret written before it readable; a silo without the certificate does not start.
/// </summary>
public sealed partial class KeyRingTests(PostgresFixture postgres)
{
    private const string ApplicationName = "OnDemand.Orleans";
    private const string Purpose = "OnDemand.Grains.Secrets.v1";

    [Fact]
    public void A_silo_without_the_key_ring_certificate_does_not_start_and_names_the_setting()
    {
        var settings = GrainSettings.For(new Uri("http://127.0.0.1:9"));
        settings["ConnectionStrings:Orleans"] = "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none";
        settings["Operator:Password"] = "operator";
        var error = Assert.ThrowsAny<InvalidOperationException>(() => SiloApplication.Build([], c => c.AddInMemoryCollection(settings)));
        Assert.Contains("DataProtection:CertificatePath", error.Message);
        Assert.DoesNotContain('\n', error.Message);

        settings["DataProtection:CertificatePath"] = "/nonexistent/keyring.pem";
        error = Assert.ThrowsAny<InvalidOperationException>(() => SiloApplication.Build([], c => c.AddInMemoryCollection(settings)));
        Assert.Contains("DataProtection:CertificatePath", error.Message);
    }

    [Fact]
    public async Task The_certificate_run_sh_makes_once_is_private_and_accepted_by_the_silo()
    {
        // run.sh's own lines (from its key ring comment to the export), in a fresh data folder.
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "run.sh"))
            .SkipWhile(l => !l.StartsWith("# The certificate that encrypts the Data Protection key ring"))
            .TakeWhile(l => !l.StartsWith("export DataProtection__CertificatePath"))
            .ToList();
        Assert.NotEmpty(lines);
        var data = Directory.CreateTempSubdirectory("ondemand-runsh-").FullName;
        var script = string.Join("\n", lines) + "\nprintf %s \"$keyring\"\n";
        async Task<string> RunAsync()
        {
            var start = new System.Diagnostics.ProcessStartInfo("bash", ["-euc", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["DATA_DIR"] = data;
            start.Environment.Remove("DataProtection__CertificatePath");
            using var bash = System.Diagnostics.Process.Start(start)!;
            var made = await bash.StandardOutput.ReadToEndAsync();
            await bash.WaitForExitAsync();
            Assert.True(bash.ExitCode == 0, await bash.StandardError.ReadToEndAsync());
            return made;
        }
        var path = await RunAsync();
        var first = await File.ReadAllBytesAsync(path);
        Assert.Equal(path, await RunAsync());   // a second start keeps it
        Assert.Equal(first, await File.ReadAllBytesAsync(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal([Path.Combine(data, "keyring.pem")], Directory.GetFiles(data));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = path }).Build();
        Assert.True(OnDemand.Silo.Security.KeyRingCertificates.Load(configuration).Current.HasPrivateKey);
    }

    [Fact]
    public async Task A_dump_of_the_database_alone_decrypts_no_stored_secret()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        var pg = new PgSession(new OsbClient(stack.Client), postgres.Server);
        var cluster = await pg.ClusterAsync("dump-" + Guid.NewGuid().ToString("N")[..8]);   // its admin password is stored encrypted
        var database = await pg.DatabaseAsync(cluster);
        var credentials = await pg.BindAsync(database, Guid.NewGuid().ToString());        // so are the binding's credentials

        // The dump: the key table and the grain state, nothing else.
        var keys = await KeyElementsAsync(stack.ConnectionString);
        var ciphertexts = await CiphertextsAsync(stack.ConnectionString);
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.NotNull(key.Descendants().FirstOrDefault(e => e.Name.LocalName == "encryptedSecret")));
        Assert.True(ciphertexts.Count >= 2, $"expected the cluster's and the binding's ciphertexts, found {ciphertexts.Count}");

        var withoutCertificate = Protector(keys, certificatePath: null);
        var decrypted = ciphertexts.Count(c => TryUnprotect(withoutCertificate, c) is not null);
        Assert.Equal(0, decrypted);

        // The same harness with the certificate decrypts them all: the ciphertexts are real, the dump alone is not enough.
        var withCertificate = Protector(keys, TestCertificates.SharedPath);
        var plaintexts = ciphertexts.Select(c => TryUnprotect(withCertificate, c)).ToList();
        Assert.All(plaintexts, Assert.NotNull);
        Assert.Contains(plaintexts, p => p!.Contains(credentials["password"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Secrets_written_before_a_certificate_rotation_are_still_readable_after_it()
    {
        var oldCertificate = TestCertificates.Create("keyring-2025");
        var newCertificate = TestCertificates.Create("keyring-2026", password: "pem-password");
        await using var stack = await BrokerStack.StartAsync(postgres.Server, new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = oldCertificate });
        var osb = new OsbClient(stack.Client);
        var pg = new PgSession(osb, postgres.Server);
        var cluster = await pg.ClusterAsync("rotate-" + Guid.NewGuid().ToString("N")[..8]);
        var database = await pg.DatabaseAsync(cluster);
        var bindingId = Guid.NewGuid().ToString();
        var credentials = await pg.BindAsync(database, bindingId);

        // Rotation: the new certificate encrypts, the old one is listed as previous; every silo is replaced.
        await stack.RedeployAsync(new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = newCertificate,
            ["DataProtection:CertificatePassword"] = "pem-password",
            ["DataProtection:PreviousCertificates:0:Path"] = oldCertificate,
        });
        osb = new OsbClient(stack.Client);   // the redeploy replaced the gateway
        pg = new PgSession(osb, postgres.Server);
        // The binding's stored credentials decrypt (the repeated bind answers them), and the cluster's admin password
        // too: a new database in the cluster is created with it.
        var again = await osb.BindAsync(database, bindingId, Catalog.PostgreSql, Catalog.Pg1Gb, appGuid: "app-1");
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        Assert.Equal(credentials["password"]!.GetValue<string>(), again.Body!["credentials"]!["password"]!.GetValue<string>());
        var later = await pg.DatabaseAsync(cluster, name: "after-rotation");
        Assert.True(await PgSession.CanConnectAsync(await pg.BindAsync(later, Guid.NewGuid().ToString())));

        // A key made after the rotation is encrypted with the new certificate (the old one can be retired once every
        // key it encrypted has expired: docs/security.md).
        var silo = stack.Silos[0];
        silo.Services.GetRequiredService<IKeyManager>().CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
        var newest = (await KeyElementsAsync(stack.ConnectionString)).Last();
        var newRaw = Convert.ToBase64String(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromEncryptedPemFile(newCertificate, "pem-password").RawData);
        Assert.Contains(newRaw, newest.ToString(SaveOptions.DisableFormatting));
    }

    [Fact]
    public async Task A_key_ring_kept_unencrypted_before_the_upgrade_gets_an_encrypted_key_at_start()
    {
        await using var stack = await BrokerStack.StartAsync(postgres.Server);
        // The key ring as a silo of the old main left it: a key stored in plaintext, the newest one, with a secret.
        var legacyServices = new ServiceCollection();
        legacyServices.AddDataProtection().SetApplicationName(ApplicationName)
            .AddKeyManagementOptions(o => o.XmlRepository = new OnDemand.Silo.Security.PostgresXmlRepository(stack.ConnectionString));
        await using var legacy = legacyServices.BuildServiceProvider();
        legacy.GetRequiredService<IKeyManager>().CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
        var legacySecret = legacy.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect("written-before-the-upgrade");

        await stack.RedeployAsync(new Dictionary<string, string?>());   // the upgraded silo starts
        var pg = new PgSession(new OsbClient(stack.Client), postgres.Server);
        await pg.ClusterAsync("upgrade-" + Guid.NewGuid().ToString("N")[..8]);

        var keys = await KeyElementsAsync(stack.ConnectionString);
        var withoutCertificate = Protector(keys, certificatePath: null);
        var written = await CiphertextsAsync(stack.ConnectionString);
        Assert.NotEmpty(written);
        Assert.All(written, c => Assert.Null(TryUnprotect(withoutCertificate, c)));
        // What the old key encrypted stays readable by the broker (and, until rewritten, by a dump: docs/security.md).
        Assert.Equal("written-before-the-upgrade", stack.Silos[0].Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(legacySecret));
        Assert.Equal("written-before-the-upgrade", TryUnprotect(withoutCertificate, legacySecret));
    }

    private static IDataProtector Protector(IReadOnlyList<XElement> keys, string? certificatePath)
    {
        var services = new ServiceCollection();
        var builder = services.AddDataProtection().SetApplicationName(ApplicationName).DisableAutomaticKeyGeneration()
            .AddKeyManagementOptions(o => o.XmlRepository = new DumpRepository(keys));
        if (certificatePath is not null)
            builder.UnprotectKeysWithAnyCertificate(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificatePath));
        return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);
    }

    private static string? TryUnprotect(IDataProtector protector, string ciphertext)
    {
        try { return protector.Unprotect(ciphertext); }
        catch (System.Security.Cryptography.CryptographicException) { return null; }
    }

    private static async Task<List<XElement>> KeyElementsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM ondemand_dataprotection_keys ORDER BY created_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<XElement>();
        while (await reader.ReadAsync()) keys.Add(XElement.Parse(reader.GetString(0)));
        return keys;
    }

    /// <summary>Every Data Protection payload ("CfDJ8..." in base64url) in the stored grain state.</summary>
    private static async Task<List<string>> CiphertextsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT payloadbinary FROM orleansstorage WHERE payloadbinary IS NOT NULL", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var found = new List<string>();
        while (await reader.ReadAsync())
            found.AddRange(Payload().Matches(Encoding.Latin1.GetString((byte[])reader[0])).Select(m => m.Value));
        return found;
    }

    [GeneratedRegex("CfDJ8[A-Za-z0-9_-]{40,}")]
    private static partial Regex Payload();

    private sealed class DumpRepository(IReadOnlyList<XElement> keys) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => keys;
        public void StoreElement(XElement element, string friendlyName) => throw new InvalidOperationException("a dump is read-only");
    }
}
