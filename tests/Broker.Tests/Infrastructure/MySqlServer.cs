using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using MySqlConnector;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// A private, throw-away MariaDB (or MySQL) server built from the machine's own binaries: a fresh data directory in a
/// temp directory, listening on a free port of 127.0.0.1 only, tuned for speed (no fsync, small buffer pool, no binary
/// log). The superuser is <c>root</c> with a random password, over TCP; the socket in the private directory is used
/// only to set that password.
/// </summary>
public sealed class MySqlServer : IAsyncDisposable
{
    private const string SuperUser = "root";

    /// <summary>mariadbd refuses to run as root without --user; Debian's mariadb-server package creates this account.</summary>
    private const string ServiceAccount = "mysql";

    private const string InstallHint = "install mariadb-server: apt-get install -y mariadb-server";
    private const int StartAttempts = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _serverBinary;
    private readonly string _installTool;
    private readonly string _rootDirectory;
    private readonly string _dataDirectory;
    private readonly string _socket;
    private readonly string _logFile;
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly bool _runAsServiceAccount = Environment.UserName == "root";
    private Process? _process;
    private bool _disposed;

    private MySqlServer(string serverBinary, string installTool)
    {
        _serverBinary = serverBinary;
        _installTool = installTool;
        _rootDirectory = Path.Combine(Path.GetTempPath(), $"ondemand-my-{Guid.NewGuid():N}"[..24]);
        _dataDirectory = Path.Combine(_rootDirectory, "data");
        _socket = Path.Combine(_rootDirectory, "mysqld.sock");
        _logFile = Path.Combine(_rootDirectory, "server.log");

        // Last line of defence for a test run that ends without disposing: an orphaned server would outlive it.
        AppDomain.CurrentDomain.ProcessExit += KillOnProcessExit;
    }

    /// <summary>TCP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>Server version string, e.g. <c>10.11.6-MariaDB-0+deb12u1</c>.</summary>
    public string Version { get; private set; } = "";

    /// <summary>Superuser (<c>root</c>, every privilege) connection string over TCP, no default database.</summary>
    public string AdminConnectionString => new MySqlConnectionStringBuilder
    {
        Server = IPAddress.Loopback.ToString(),
        Port = (uint)Port,
        UserID = SuperUser,
        Password = _password,
        AllowUserVariables = true,
        ConnectionTimeout = 5,
    }.ConnectionString;

    /// <summary>Creates a data directory in a new temp directory and starts a server on it.</summary>
    /// <exception cref="InvalidOperationException">No MariaDB/MySQL binaries were found, or the server did not start.</exception>
    public static async Task<MySqlServer> StartAsync(CancellationToken ct = default)
    {
        var (serverBinary, installTool) = FindBinaries();
        var server = new MySqlServer(serverBinary, installTool);
        try
        {
            await server.InitializeDataDirectoryAsync(ct);
            await server.StartOnFreePortAsync(ct);
            await server.SecureRootAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= KillOnProcessExit;
        try
        {
            await KillServerAsync();
        }
        finally
        {
            MySqlConnection.ClearAllPools();
            if (Directory.Exists(_rootDirectory))
            {
                Directory.Delete(_rootDirectory, recursive: true);
            }
        }
    }

    private async Task InitializeDataDirectoryAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_rootDirectory);
        if (_runAsServiceAccount)
        {
            await RunAsync(["chown", $"{ServiceAccount}:", _rootDirectory], ct);
        }

        // root@localhost/127.0.0.1 get an empty password ("normal" authentication, not unix_socket); SecureRootAsync
        // sets a real one before any test connects.
        await RunAsync(AsServiceAccount(
        [
            _installTool,
            "--no-defaults",
            $"--datadir={_dataDirectory}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            .. SpeedOptions,
        ]), ct);
    }

    /// <summary>Server options shared by the bootstrap and the real server: small and without durability.</summary>
    private static readonly string[] SpeedOptions =
    [
        "--innodb-buffer-pool-size=32M",
        "--innodb-flush-method=nosync",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
    ];

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
            catch (InvalidOperationException) when (attempt < StartAttempts && _process is { HasExited: true })
            {
                // Most likely another process took the port between FreePort and the bind; try another one.
                _process.Dispose();
                _process = null;
            }
        }
    }

    private async Task StartServerAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string[] server =
        [
            _serverBinary,
            "--no-defaults",
            $"--datadir={_dataDirectory}",
            $"--socket={_socket}",
            $"--pid-file={Path.Combine(_rootDirectory, "mysqld.pid")}",
            $"--log-error={_logFile}",
            $"--port={Port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--max-connections=300",
            "--character-set-server=utf8mb4",
            .. SpeedOptions,
        ];
        var arguments = AsServiceAccount(server);
        var startInfo = new ProcessStartInfo(arguments[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _rootDirectory,
        };
        foreach (var argument in arguments.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{_serverBinary}'.");
        // Nothing of interest goes there (--log-error), but a full pipe would block the server.
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Ready when the socket accepts a root login (only then is the TCP port also listening).
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"'{_serverBinary}' exited with {_process.ExitCode} while starting on port {Port}.{ServerLogTail()}");
            }
            try
            {
                await using var connection = new MySqlConnection(SocketConnectionString());
                await connection.OpenAsync(ct);
                await using var version = new MySqlCommand("SELECT VERSION()", connection);
                Version = (string)(await version.ExecuteScalarAsync(ct))!;
                return;
            }
            catch (MySqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
            catch (MySqlException e)
            {
                throw new InvalidOperationException($"The server did not accept connections within {StartTimeout.TotalSeconds} s.{ServerLogTail()}", e);
            }
        }
    }

    /// <summary>
    /// Gives the root accounts the random password, over the socket (the only way in without one). Root accounts
    /// named after the machine's host name are ignored by the server under --skip-name-resolve.
    /// </summary>
    private async Task SecureRootAsync(CancellationToken ct)
    {
        await using var connection = new MySqlConnection(SocketConnectionString());
        await connection.OpenAsync(ct);
        var accounts = new List<string>();
        await using (var list = new MySqlCommand("SELECT Host FROM mysql.user WHERE User = 'root' AND Host IN ('localhost', '127.0.0.1', '::1')", connection))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                accounts.Add(reader.GetString(0));
            }
        }
        foreach (var host in accounts)
        {
            await using var alter = new MySqlCommand($"ALTER USER 'root'@'{host.Replace("'", "''", StringComparison.Ordinal)}' IDENTIFIED BY @password", connection);
            alter.Parameters.AddWithValue("@password", _password);
            await alter.ExecuteNonQueryAsync(ct);
        }
    }

    private string SocketConnectionString() => new MySqlConnectionStringBuilder
    {
        Server = _socket,
        ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
        UserID = SuperUser,
        Pooling = false,
        AllowUserVariables = true,
        ConnectionTimeout = 2,
    }.ConnectionString;

    private async Task KillServerAsync()
    {
        if (_process is null)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                // Under runuser the server is a grandchild: kill the whole tree (the data is thrown away anyway).
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone, or stuck: the directory is deleted regardless.
        }
        finally
        {
            _process.Dispose();
            _process = null;
        }
    }

    private void KillOnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private string[] AsServiceAccount(string[] command) =>
        _runAsServiceAccount ? ["runuser", "-u", ServiceAccount, "--", .. command] : command;

    private async Task RunAsync(IReadOnlyList<string> commandLine, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _rootDirectory, // readable by the service account, unlike e.g. /root
        };
        foreach (var argument in commandLine.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{commandLine[0]}'.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{string.Join(' ', commandLine)}' exited with {process.ExitCode}.\n{await output}{await error}");
        }
    }

    private string ServerLogTail()
    {
        if (!File.Exists(_logFile))
        {
            return string.Empty;
        }
        return "\nServer log (last lines):\n" + string.Join('\n', File.ReadAllLines(_logFile).TakeLast(30));
    }

    /// <summary>The server (<c>mariadbd</c>, else <c>mysqld</c>) and <c>mariadb-install-db</c> (else <c>mysql_install_db</c>).</summary>
    private static (string Server, string InstallTool) FindBinaries()
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/local/mysql/bin"])
            .Distinct()
            .ToList();

        string? Find(params string[] names) => names
            .SelectMany(name => directories.Select(directory => Path.Combine(directory, name)))
            .FirstOrDefault(File.Exists);

        var server = Find("mariadbd", "mysqld");
        var installTool = Find("mariadb-install-db", "mysql_install_db");
        if (server is null || installTool is null)
        {
            throw new InvalidOperationException(
                $"MariaDB/MySQL server binaries (mariadbd or mysqld, and mariadb-install-db) were not found on PATH nor in /usr/sbin; {InstallHint}.");
        }
        return (server, installTool);
    }
}
