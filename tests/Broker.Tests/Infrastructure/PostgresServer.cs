using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;
using OnDemand.Silo.Storage;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// A private, throw-away PostgreSQL server built from the machine's own binaries: a fresh cluster in a temp
/// directory, listening on a free port of 127.0.0.1 only, tuned for speed (no fsync). Tests get real PostgreSQL
/// semantics (locks, constraints, the Orleans ADO.NET queries) without depending on a shared or system database.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private const string SuperUser = "postgres";

    /// <summary>PostgreSQL refuses to run as root; Debian's postgresql package creates this account.</summary>
    private const string ServiceAccount = "postgres";

    private const string InstallHint = "install PostgreSQL: apt-get install -y postgresql";
    private const int StartAttempts = 3;

    private readonly string _binDirectory;
    private readonly string _rootDirectory;
    private readonly string _dataDirectory;
    private readonly string _logFile;
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly bool _runAsServiceAccount = IsRoot();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private bool _running;
    private bool _disposed;

    private PostgresServer(string binDirectory)
    {
        _binDirectory = binDirectory;
        _rootDirectory = Path.Combine(Path.GetTempPath(), $"ondemand-pg-{Guid.NewGuid():N}"[..24]);
        _dataDirectory = Path.Combine(_rootDirectory, "data");
        _logFile = Path.Combine(_rootDirectory, "server.log");

        // Last line of defence for a test run that ends without disposing (e.g. a crash in another fixture):
        // an orphaned postmaster would otherwise outlive the test process.
        AppDomain.CurrentDomain.ProcessExit += StopOnProcessExit;
    }

    /// <summary>TCP port on 127.0.0.1; stays the same across <see cref="RestartAsync"/>.</summary>
    public int Port { get; private set; }

    /// <summary>Where the server's Unix socket is (local connections are trusted there).</summary>
    public string SocketDirectory => _rootDirectory;

    /// <summary>psql: next to the server's binaries, else on PATH (Debian's wrapper).</summary>
    public string PsqlPath => new[] { Path.Combine(_binDirectory, "psql"), "/usr/bin/psql" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"psql was found neither in {_binDirectory} nor in /usr/bin; {InstallHint}.");

    /// <summary>Superuser connection string to the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    /// <summary>Creates a cluster in a new temp directory and starts it.</summary>
    /// <exception cref="InvalidOperationException">No PostgreSQL binaries were found, or the server did not start.</exception>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var server = new PostgresServer(FindBinDirectory());
        try
        {
            await server.InitializeClusterAsync(ct);
            await server.StartOnFreePortAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    /// <param name="name">Lower-case letters, digits and underscores, starting with a letter or underscore.</param>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a plain database name (lower-case letters, digits, '_', at most 63).", nameof(name));
        }

        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionStringFor(name);
    }

    /// <summary>Creates a database holding the project's Orleans schema (the <c>sql/</c> scripts).</summary>
    public async Task<string> CreateOrleansDatabaseAsync(string name)
    {
        var connectionString = await CreateDatabaseAsync(name);
        await SqlSchemaInstaller.ApplyAsync(connectionString, SqlSchemaInstaller.FindSqlDirectory());
        return connectionString;
    }

    /// <summary>Stops the server cleanly (<c>pg_ctl stop -m fast</c>); data is kept.</summary>
    /// <summary>Turns TLS on (a reload, no restart) with this server certificate and key (PEM).</summary>
    public async Task EnableTlsAsync(string certificatePem, string privateKeyPem)
    {
        var certificate = Path.Combine(_dataDirectory, "server.crt");
        var key = Path.Combine(_dataDirectory, "server.key");
        await File.WriteAllTextAsync(certificate, certificatePem);
        await File.WriteAllTextAsync(key, privateKeyPem);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite); // PostgreSQL refuses a readable key
        if (_runAsServiceAccount) await RunAsync("chown", [$"{ServiceAccount}:", certificate, key], default);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            ALTER SYSTEM SET ssl_cert_file = 'server.crt';
            ALTER SYSTEM SET ssl_key_file = 'server.key';
            ALTER SYSTEM SET ssl = on;
            SELECT pg_reload_conf();
            """, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StopServerAsync("fast", CancellationToken.None);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops and starts the server on the same port with the same data (a database outage in a test).</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StopServerAsync("fast", CancellationToken.None);
            await StartServerAsync(CancellationToken.None);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Kills the server (<c>pg_ctl stop -m immediate</c>) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= StopOnProcessExit;
        try
        {
            await StopServerAsync("immediate", CancellationToken.None);
        }
        finally
        {
            if (Directory.Exists(_rootDirectory))
            {
                Directory.Delete(_rootDirectory, recursive: true);
            }

            _lifecycle.Dispose();
        }
    }

    private string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(),
        Port = Port,
        Username = SuperUser,
        Password = _password,
        Database = database,
        IncludeErrorDetail = true,
    }.ConnectionString;

    private async Task InitializeClusterAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_rootDirectory);
        var passwordFile = Path.Combine(_rootDirectory, "superuser-password");
        await File.WriteAllTextAsync(passwordFile, _password, ct);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        if (_runAsServiceAccount)
        {
            await RunAsync("chown", ["-R", $"{ServiceAccount}:", _rootDirectory], ct);
        }

        await RunPostgresToolAsync("initdb",
        [
            "--pgdata", _dataDirectory,
            "--username", SuperUser,
            "--pwfile", passwordFile,
            "--auth-local", "trust",            // the socket lives in our private directory
            "--auth-host", "scram-sha-256",     // TCP needs the password, as in production
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
            "--no-instructions",
        ], ct);
        File.Delete(passwordFile);

        // Appended settings override initdb's defaults (last one wins). The port is passed at start instead, so a
        // start that loses the free-port race can simply retry on another one.
        await File.AppendAllTextAsync(Path.Combine(_dataDirectory, "postgresql.conf"), $"""

            # OnDemand test server: private, disposable, fast.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{_rootDirectory}'
            max_connections = 300
            shared_buffers = 32MB
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            log_min_messages = warning
            """, ct);
    }

    private async Task StartOnFreePortAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            try
            {
                await StartServerAsync(ct);
                return;
            }
            catch (InvalidOperationException) when (attempt < StartAttempts)
            {
                // Most likely another process took the port between FreePort.Next and the bind; try another one.
            }
        }
    }

    private async Task StartServerAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await RunPostgresToolAsync("pg_ctl",
            ["start", "--pgdata", _dataDirectory, "--log", _logFile, "--wait", "--timeout", "60", "-o", $"-p {Port}"],
            ct);
        _running = true;
    }

    private async Task StopServerAsync(string mode, CancellationToken ct)
    {
        if (!_running)
        {
            return;
        }

        await RunPostgresToolAsync("pg_ctl", ["stop", "--pgdata", _dataDirectory, "--mode", mode, "--wait"], ct);
        _running = false;

        // Pooled connections to the old server process are dead; drop them so the next open reconnects.
        NpgsqlConnection.ClearAllPools();
    }

    private void StopOnProcessExit(object? sender, EventArgs e)
    {
        if (_running)
        {
            StopServerAsync("immediate", CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    private Task<string> RunPostgresToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var executable = Path.Combine(_binDirectory, tool);
        return _runAsServiceAccount
            ? RunAsync("runuser", ["-u", ServiceAccount, "--", executable, .. arguments], ct)
            : RunAsync(executable, arguments, ct);
    }

    private async Task<string> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _rootDirectory, // readable by the service account, unlike e.g. /root
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start '{fileName}'.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', arguments)}' exited with {process.ExitCode}.\n" +
                $"{await output}{await error}{ServerLogTail()}");
        }

        return await output;
    }

    private string ServerLogTail()
    {
        if (!File.Exists(_logFile))
        {
            return string.Empty;
        }

        var lines = File.ReadAllLines(_logFile);
        return "\nServer log (last lines):\n" + string.Join('\n', lines.TakeLast(30));
    }

    private static string FindBinDirectory()
    {
        static bool HasServerTools(string directory) =>
            File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(HasServerTools);
        if (onPath is not null)
        {
            return onPath;
        }

        // Debian/Ubuntu keep the server tools off PATH, one directory per major version.
        const string debianRoot = "/usr/lib/postgresql";
        var newestInstalled = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(directory => (
                    Version: double.TryParse(Path.GetFileName(directory), NumberStyles.Float, CultureInfo.InvariantCulture, out var version) ? version : -1,
                    Bin: Path.Combine(directory, "bin")))
                .Where(candidate => candidate.Version >= 0 && HasServerTools(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;

        return newestInstalled ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH nor under {debianRoot}/*/bin; {InstallHint}.");
    }

    // On Unix, .NET resolves Environment.UserName from the effective user id (getpwuid(geteuid())).
    private static bool IsRoot() => Environment.UserName == "root";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
