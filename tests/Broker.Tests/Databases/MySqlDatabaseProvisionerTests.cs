using System.Security.Cryptography;
using MySqlConnector;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Databases;

/// <summary>
/// The MySQL provisioner against a private MariaDB started for this class only, through a cluster admin set up as a
/// cluster deployment does it: global privileges WITH GRANT OPTION, PROCESS and CONNECTION ADMIN, but not SUPER.
/// Every test has its own admin and names (random suffix), and removes what it created.
/// </summary>
public sealed class MySqlDatabaseProvisionerTests(MySqlFixture mysql) : IClassFixture<MySqlFixture>, IAsyncLifetime
{
    private readonly string _suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
    private readonly MySqlDatabaseProvisioner _provisioner = new();
    private ClusterAdminEndpoint _admin = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private bool IsMariaDb => mysql.Server.Version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    public async ValueTask InitializeAsync()
    {
        var name = $"cluster_admin_{_suffix}";
        var password = Passwords.Generate();
        var connectionAdmin = IsMariaDb ? "CONNECTION ADMIN" : "CONNECTION_ADMIN";
        await SuperuserAsync($"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'");
        await SuperuserAsync($"""
            GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE TEMPORARY TABLES,
                  LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER,
                  {(IsMariaDb ? "DELETE HISTORY," : "")} CREATE USER, PROCESS, RELOAD, SHOW DATABASES, {connectionAdmin}
            ON *.* TO '{name}'@'%' WITH GRANT OPTION
            """);
        _admin = new ClusterAdminEndpoint("127.0.0.1", mysql.Server.Port, name, password, "mysql");
    }

    public async ValueTask DisposeAsync()
    {
        // Keep the shared server tidy whatever the test left behind: its names all carry the suffix.
        await using var connection = await SuperuserConnectionAsync();
        foreach (var database in await ListAsync(connection, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LOCATE(@s, SCHEMA_NAME) > 0"))
        {
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS `{database}`");
        }
        foreach (var user in await ListAsync(connection, "SELECT DISTINCT CONCAT('''', User, '''@''', Host, '''') FROM mysql.user WHERE LOCATE(@s, User) > 0"))
        {
            await ExecuteAsync(connection, $"DROP USER IF EXISTS {user}");
        }

        async Task<List<string>> ListAsync(MySqlConnection c, string sql)
        {
            await using var command = new MySqlCommand(sql, c);
            command.Parameters.AddWithValue("@s", _suffix);
            await using var reader = await command.ExecuteReaderAsync();
            var names = new List<string>();
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));
            return names;
        }
    }

    private string Db(string name) => $"db_{name}_{_suffix}";

    private string User(string name) => $"u_{name}_{_suffix}";

    [Fact]
    public async Task The_fixture_runs_a_private_server_and_the_admin_is_no_superuser()
    {
        Assert.True(mysql.StartupTime < TimeSpan.FromSeconds(60), $"startup took {mysql.StartupTime}");
        TestContext.Current.TestOutputHelper?.WriteLine($"MySQL fixture ({mysql.Server.Version}) started in {mysql.StartupTime.TotalSeconds:F2} s");
        Assert.Equal("N", await SuperuserAsync($"SELECT Super_priv FROM mysql.user WHERE User = '{_admin.Username}'"));
        Assert.Equal("127.0.0.1", await SuperuserAsync("SELECT @@bind_address"));
    }

    [Fact]
    public async Task Creating_a_database_is_idempotent_and_uses_utf8mb4()
    {
        var db = Db("orders");
        await _provisioner.CreateDatabaseAsync(_admin, db, 1024, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, db, 1024, Ct);

        Assert.Equal("utf8mb4", await SuperuserAsync(
            $"SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{db}'"));

        // Two callers at once (a retried request racing the first): both succeed, one database.
        var raced = Db("raced");
        await Task.WhenAll(
            _provisioner.CreateDatabaseAsync(_admin, raced, null, Ct),
            _provisioner.CreateDatabaseAsync(_admin, raced, null, Ct));
        Assert.Equal(1L, await SuperuserAsync($"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{raced}'"));
    }

    [Fact]
    public async Task A_user_connects_with_the_returned_fields_and_uri_and_can_create_insert_and_select()
    {
        var db = Db("shop");
        var user = User("app");
        var password = Passwords.Generate();
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);

        var credentials = await _provisioner.CreateUserAsync(_admin, db, user, password, Ct);

        Assert.Equal(("127.0.0.1", _admin.Port, db, user, password),
            (credentials.Hostname, credentials.Port, credentials.Name, credentials.Username, credentials.Password));
        Assert.Equal($"mysql://{user}:{password}@127.0.0.1:{_admin.Port}/{db}", credentials.Uri);
        Assert.Equal($"jdbc:mysql://127.0.0.1:{_admin.Port}/{db}?user={user}&password={password}", credentials.JdbcUrl);

        await using (var connection = await ConnectAsync(credentials))
        {
            await ExecuteAsync(connection, "CREATE TABLE items (id int PRIMARY KEY, name varchar(50))");
            await ExecuteAsync(connection, "INSERT INTO items VALUES (1, 'first')");
            Assert.Equal("first", await ScalarAsync(connection, "SELECT name FROM items WHERE id = 1"));
            // Nothing beyond the database: no global privilege, no other schema.
            await Assert.ThrowsAsync<MySqlException>(() => ExecuteAsync(connection, "CREATE DATABASE sneaky_" + _suffix));
            await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(connection, "SELECT COUNT(*) FROM mysql.user"));
        }

        await using (var viaUri = await ConnectAsync(credentials.Uri))
        {
            await ExecuteAsync(viaUri, "INSERT INTO items VALUES (2, 'second')");
            Assert.Equal(2L, await ScalarAsync(viaUri, "SELECT COUNT(*) FROM items"));
        }
    }

    [Fact]
    public async Task A_second_user_shares_the_tables_while_another_databases_user_is_kept_out()
    {
        var db = Db("main");
        var other = Db("other");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, other, null, Ct);
        var first = await _provisioner.CreateUserAsync(_admin, db, User("first"), Passwords.Generate(), Ct);
        var second = await _provisioner.CreateUserAsync(_admin, db, User("second"), Passwords.Generate(), Ct);
        var outsider = await _provisioner.CreateUserAsync(_admin, other, User("outsider"), Passwords.Generate(), Ct);

        await using (var connection = await ConnectAsync(first))
        {
            await ExecuteAsync(connection, "CREATE TABLE shared (v int); INSERT INTO shared VALUES (1)");
        }
        await using (var connection = await ConnectAsync(second))
        {
            await ExecuteAsync(connection, "INSERT INTO shared VALUES (2); ALTER TABLE shared ADD COLUMN note text");
            Assert.Equal(3m, await ScalarAsync(connection, "SELECT SUM(v) FROM shared"));
        }

        var refused = await Assert.ThrowsAsync<MySqlException>(
            () => ConnectAsync(first.Hostname, first.Port, db, outsider.Username, outsider.Password));
        Assert.Equal(MySqlErrorCode.DatabaseAccessDenied, refused.ErrorCode);
        await using (var ownDatabase = await ConnectAsync(outsider))
        {
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(ownDatabase, "SELECT 1")));
            await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(ownDatabase, $"SELECT COUNT(*) FROM `{db}`.shared"));
        }
    }

    [Fact]
    public async Task A_binding_account_reaches_its_own_database_only_not_the_system_or_admin_databases()
    {
        var db = Db("own");
        var other = Db("theirs");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, other, null, Ct);
        var user = await _provisioner.CreateUserAsync(_admin, db, User("app"), Passwords.Generate(), Ct);

        // "mysql" is the admin database (the catalog's admin_database); the other two are the server's own.
        foreach (var elsewhere in new[] { other, "mysql", "performance_schema", "sys" })
        {
            var refused = await Assert.ThrowsAsync<MySqlException>(() => ConnectAsync(user.Hostname, user.Port, elsewhere, user.Username, user.Password));
            Assert.True(refused.ErrorCode is MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.UnknownDatabase,
                $"{elsewhere}: {refused.ErrorCode} {refused.Message}");
        }
        await using var connection = await ConnectAsync(user);
        // It sees its own database and information_schema (the views every account has), nothing else.
        var visible = new List<string>();
        await using (var command = new MySqlCommand("SHOW DATABASES", connection))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct)) visible.Add(reader.GetString(0));
        }
        Assert.Equal(new[] { db, "information_schema" }.Order(), visible.Order());
        // No global privilege: only USAGE on *.* and the database's own grant.
        await using (var command = new MySqlCommand("SHOW GRANTS", connection))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                var grant = reader.GetString(0);
                Assert.True(grant.StartsWith("GRANT USAGE ON *.*", StringComparison.Ordinal) || grant.Contains($" ON `{db.Replace("_", "\\_")}`.*", StringComparison.Ordinal)
                    || grant.Contains($" ON `{db}`.*", StringComparison.Ordinal), grant);
            }
        }
    }

    [Fact]
    public async Task An_underscore_in_the_database_name_is_no_wildcard_in_the_grant()
    {
        // "db_w_x" unescaped in a GRANT would also match "dbawbx".
        var db = Db("w");
        var lookalike = db.Replace('_', 'a');
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        await SuperuserAsync($"CREATE DATABASE `{lookalike}`");
        var user = await _provisioner.CreateUserAsync(_admin, db, User("app"), Passwords.Generate(), Ct);

        var refused = await Assert.ThrowsAsync<MySqlException>(() => ConnectAsync(user.Hostname, user.Port, lookalike, user.Username, user.Password));
        Assert.Equal(MySqlErrorCode.DatabaseAccessDenied, refused.ErrorCode);
    }

    [Fact]
    public async Task Creating_a_user_again_resets_its_password()
    {
        var db = Db("reset");
        var user = User("app");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        var old = await _provisioner.CreateUserAsync(_admin, db, user, Passwords.Generate(), Ct);

        var renewed = await _provisioner.CreateUserAsync(_admin, db, user, Passwords.Generate(), Ct);

        var rejected = await Assert.ThrowsAsync<MySqlException>(() => ConnectAsync(old));
        Assert.Equal(MySqlErrorCode.AccessDenied, rejected.ErrorCode);
        await using var connection = await ConnectAsync(renewed);
        Assert.StartsWith(user + "@", await ScalarAsync(connection, "SELECT CURRENT_USER()") as string);
    }

    [Theory]
    [InlineData("it's a \\ \"quoted\" `x` @p ? %s '; DROP USER root; --")]
    [InlineData("pässwörd-ü'\\x")]
    [InlineData("trailing backslash \\")]
    public async Task Passwords_with_quotes_backslashes_and_non_ascii_characters_work(string password)
    {
        var db = Db("pw");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);

        var credentials = await _provisioner.CreateUserAsync(_admin, db, User("app"), password, Ct);

        await using (var connection = await ConnectAsync(credentials))
        {
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(connection, "SELECT 1")));
        }
        await using (var viaUri = await ConnectAsync(credentials.Uri))
        {
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(viaUri, "SELECT 1")));
        }
    }

    [Fact]
    public async Task Dropping_a_user_ends_its_session_locks_it_out_and_leaves_the_tables()
    {
        var db = Db("unbind");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        var leaving = await _provisioner.CreateUserAsync(_admin, db, User("leaving"), Passwords.Generate(), Ct);
        var staying = await _provisioner.CreateUserAsync(_admin, db, User("staying"), Passwords.Generate(), Ct);

        await using var open = await ConnectAsync(leaving);
        await ExecuteAsync(open, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");

        await _provisioner.DropUserAsync(_admin, db, leaving.Username, Ct);

        await AssertConnectionKilledAsync(open);
        var rejected = await Assert.ThrowsAsync<MySqlException>(() => ConnectAsync(leaving));
        Assert.Equal(MySqlErrorCode.AccessDenied, rejected.ErrorCode);
        Assert.Equal(0L, await SuperuserAsync($"SELECT COUNT(*) FROM mysql.user WHERE User = '{leaving.Username}'"));
        Assert.Equal(0L, await SuperuserAsync($"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{leaving.Username}'"));

        await using (var connection = await ConnectAsync(staying))
        {
            Assert.Equal(42, Convert.ToInt32(await ScalarAsync(connection, "SELECT SUM(v) FROM kept")));
        }

        // Repeating is fine, and so is a user that never existed or a database that is gone.
        await _provisioner.DropUserAsync(_admin, db, leaving.Username, Ct);
        await _provisioner.DropUserAsync(_admin, db, User("never"), Ct);
        await _provisioner.DropUserAsync(_admin, Db("gone"), User("never"), Ct);
    }

    [Fact]
    public async Task Dropping_the_database_ends_its_sessions_and_removes_it_with_its_accounts()
    {
        var db = Db("doomed");
        var survivor = Db("survivor");
        await _provisioner.CreateDatabaseAsync(_admin, db, 100, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, survivor, 100, Ct);
        var user = await _provisioner.CreateUserAsync(_admin, db, User("app"), Passwords.Generate(), Ct);
        var second = await _provisioner.CreateUserAsync(_admin, db, User("app2"), Passwords.Generate(), Ct);
        var survivorUser = await _provisioner.CreateUserAsync(_admin, survivor, User("other"), Passwords.Generate(), Ct);
        await using var open = await ConnectAsync(user);
        await ExecuteAsync(open, "CREATE TABLE t (v int)");

        await _provisioner.DropDatabaseAsync(_admin, db, Ct);

        await AssertConnectionKilledAsync(open);
        Assert.Equal(0L, await SuperuserAsync($"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{db}'"));
        Assert.Equal(0L, await SuperuserAsync(
            $"SELECT COUNT(*) FROM mysql.user WHERE User IN ('{user.Username}', '{second.Username}')"));
        await Assert.ThrowsAsync<MySqlException>(() => ConnectAsync(user));

        // The admin and the other database are untouched.
        await using (var other = await ConnectAsync(survivorUser))
        {
            Assert.Equal(1, Convert.ToInt32(await ScalarAsync(other, "SELECT 1")));
        }

        await _provisioner.DropDatabaseAsync(_admin, db, Ct);
        await _provisioner.DropUserAsync(_admin, db, user.Username, Ct);
        await _provisioner.DropDatabaseAsync(_admin, Db("never"), Ct);
    }

    [Fact]
    public async Task What_the_broker_does_not_manage_is_refused_and_left_alone()
    {
        var db = Db("mine");
        var other = Db("theirs");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, other, null, Ct);
        var theirs = await _provisioner.CreateUserAsync(_admin, other, User("theirs"), Passwords.Generate(), Ct);
        var powerful = User("powerful");
        await SuperuserAsync($"CREATE USER '{powerful}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO '{powerful}'@'%'; GRANT ALL ON `{db}`.* TO '{powerful}'@'%'");

        await AssertPermanentAsync(() => _provisioner.CreateDatabaseAsync(_admin, "mysql", null, Ct));
        await AssertPermanentAsync(() => _provisioner.DropDatabaseAsync(_admin, "sys", Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, "information_schema", User("app"), "pw", Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, Db("missing"), User("app"), Passwords.Generate(), Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, db, theirs.Username, Passwords.Generate(), Ct));
        await AssertPermanentAsync(() => _provisioner.DropUserAsync(_admin, db, theirs.Username, Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, db, powerful, Passwords.Generate(), Ct));
        await AssertPermanentAsync(() => _provisioner.DropUserAsync(_admin, db, powerful, Ct));

        // Dropping the database leaves an account that reaches beyond it alone.
        await _provisioner.DropDatabaseAsync(_admin, db, Ct);
        Assert.Equal(1L, await SuperuserAsync($"SELECT COUNT(*) FROM mysql.user WHERE User = '{powerful}'"));
        await using var stillThere = await ConnectAsync(theirs);
        Assert.Equal(1, Convert.ToInt32(await ScalarAsync(stillThere, "SELECT 1")));
    }

    [Fact]
    public async Task A_wrong_admin_password_is_a_permanent_failure_that_does_not_reveal_it()
    {
        var wrong = _admin with { Password = "not-the-password-" + _suffix };

        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateDatabaseAsync(wrong, Db("x"), null, Ct));

        Assert.False(error.Transient, error.Message);
        Assert.Contains(_admin.Username, error.Message);
        Assert.DoesNotContain(wrong.Password, error.ToString());
    }

    [Fact]
    public async Task A_missing_privilege_is_a_permanent_failure_naming_what_the_admin_needs()
    {
        var weak = _admin with { Username = $"weak_admin_{_suffix}", Password = "weak-" + _suffix };
        await SuperuserAsync($"CREATE USER '{weak.Username}'@'%' IDENTIFIED BY '{weak.Password}'; GRANT SELECT ON *.* TO '{weak.Username}'@'%'");

        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateDatabaseAsync(weak, Db("x"), null, Ct));

        Assert.False(error.Transient, error.Message);
        Assert.Contains("lacks a privilege", error.Message);
    }

    [Fact]
    public async Task A_closed_port_is_a_transient_failure_that_does_not_reveal_the_password()
    {
        var closed = _admin with { Port = FreePort.Next() };

        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateUserAsync(closed, Db("x"), User("x"), "secret-" + _suffix, Ct));

        Assert.True(error.Transient, error.Message);
        Assert.Contains($"127.0.0.1:{closed.Port}", error.Message);
        Assert.DoesNotContain("secret-" + _suffix, error.ToString());
    }

    [Theory]
    [InlineData("x`; DROP DATABASE mysql; --")]
    [InlineData("x'; DROP USER root; --")]
    [InlineData("Orders")]
    [InlineData("1orders")]
    [InlineData("orders-db")]
    [InlineData("orders db")]
    [InlineData("ördérs")]
    [InlineData("u_a\\_b")]
    [InlineData("u_a%")]
    [InlineData("")]
    [InlineData("u_bcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm")] // 65: too long for MySQL
    public async Task Hostile_or_invalid_names_are_rejected_before_connecting(string name)
    {
        var unreachable = _admin with { Port = FreePort.Next() };

        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateDatabaseAsync(unreachable, name, null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.DropDatabaseAsync(unreachable, name, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", name, "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, name, "u_ok", "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.DropUserAsync(unreachable, "db_ok", name, Ct));
    }

    [Fact]
    public async Task User_names_must_be_broker_accounts_that_fit_in_32_characters()
    {
        var unreachable = _admin with { Port = FreePort.Next() };

        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", "u_" + new string('a', 31), "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", "root", "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.DropUserAsync(unreachable, "db_ok", "app", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", "u_ok", "", Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _provisioner.CreateDatabaseAsync(unreachable, "db_ok", 0, Ct));
        // 32 is fine (refused only for the closed port).
        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateUserAsync(unreachable, "db_ok", "u_" + new string('a', 30), "pw", Ct));
        Assert.True(error.Transient);
    }

    // ---------------------------------------------------------------- helpers

    private static async Task AssertPermanentAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(action);
        Assert.False(error.Transient, error.Message);
    }

    private static async Task AssertConnectionKilledAsync(MySqlConnection connection)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ScalarAsync(connection, "SELECT 1"));
        Assert.True(error is MySqlException or InvalidOperationException or IOException, error.ToString());
    }

    private static Task<MySqlConnection> ConnectAsync(DatabaseCredentials credentials) =>
        ConnectAsync(credentials.Hostname, credentials.Port, credentials.Name, credentials.Username, credentials.Password);

    /// <summary>Connects the way an app reading only the <c>uri</c> credential would.</summary>
    private static Task<MySqlConnection> ConnectAsync(string uri)
    {
        var parsed = new Uri(uri);
        Assert.Equal("mysql", parsed.Scheme);
        var userInfo = parsed.UserInfo.Split(':', 2);
        return ConnectAsync(parsed.Host, parsed.Port, parsed.AbsolutePath.TrimStart('/'),
            Uri.UnescapeDataString(userInfo[0]), Uri.UnescapeDataString(userInfo[1]));
    }

    private static async Task<MySqlConnection> ConnectAsync(string host, int port, string database, string username, string password)
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder
        {
            Server = host,
            Port = (uint)port,
            Database = database,
            UserID = username,
            Password = password,
            ConnectionTimeout = 5,
            AllowUserVariables = true,
            Pooling = false, // every open is a real login
        }.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private async Task<MySqlConnection> SuperuserConnectionAsync()
    {
        var connection = new MySqlConnection(
            new MySqlConnectionStringBuilder(mysql.Server.AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task<object?> SuperuserAsync(string sql)
    {
        await using var connection = await SuperuserConnectionAsync();
        return await ScalarAsync(connection, sql);
    }
}
