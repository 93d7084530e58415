using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Databases;

/// <summary>
/// The PostgreSQL provisioner against the tests' private PostgreSQL 15, through a cluster admin set up as a cluster
/// deployment does it: LOGIN CREATEDB CREATEROLE, not a superuser. Every test has its own admin and names (random
/// suffix), and removes what it created.
/// </summary>
public sealed class PostgresDatabaseProvisionerTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly string _suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
    private readonly PostgresDatabaseProvisioner _provisioner = new();
    private ClusterAdminEndpoint _admin = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var name = $"cluster_admin_{_suffix}";
        var password = Passwords.Generate();
        await SuperuserAsync($"CREATE ROLE {name} LOGIN CREATEDB CREATEROLE PASSWORD '{password}'");
        _admin = new ClusterAdminEndpoint("127.0.0.1", postgres.Server.Port, name, password, "postgres");
    }

    public async ValueTask DisposeAsync()
    {
        // Keep the shared server tidy whatever the test left behind: its names all carry the suffix.
        await using var connection = await SuperuserConnectionAsync();
        foreach (var database in await ListAsync(connection, "SELECT datname::text FROM pg_database WHERE strpos(datname, $1) > 0"))
        {
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
        // Accounts, then owner roles, then the admin (members before the roles they belong to).
        foreach (var role in await ListAsync(connection, """
            SELECT rolname::text FROM pg_roles WHERE strpos(rolname, $1) > 0
            ORDER BY rolname LIKE 'cluster_admin%', rolname LIKE '%_owner', rolname
            """))
        {
            await ExecuteAsync(connection, $"DROP ROLE IF EXISTS \"{role}\"");
        }

        async Task<List<string>> ListAsync(NpgsqlConnection c, string sql)
        {
            await using var command = new NpgsqlCommand(sql, c) { Parameters = { new() { Value = _suffix } } };
            await using var reader = await command.ExecuteReaderAsync();
            var names = new List<string>();
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));
            return names;
        }
    }

    private string Db(string name) => $"db_{name}_{_suffix}";

    private string User(string name) => $"u_{name}_{_suffix}";

    [Fact]
    public async Task Creating_a_database_is_idempotent_and_gives_it_to_a_nologin_owner_role_only_its_members_may_use()
    {
        var db = Db("orders");
        await _provisioner.CreateDatabaseAsync(_admin, db, 1024, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, db, 1024, Ct);

        Assert.False(await SuperuserAsync($"SELECT rolsuper FROM pg_roles WHERE rolname = '{_admin.Username}'") as bool?,
            "the admin must not be a superuser, or this test proves nothing");
        Assert.Equal(db + "_owner", await SuperuserAsync($"SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = '{db}'"));
        Assert.Equal(false, await SuperuserAsync($"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{db}_owner'"));
        Assert.Contains("1024 MB", await SuperuserAsync($"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{db}'") as string);

        // PUBLIC lost CONNECT: a login role that is no member of the owner role is turned away.
        var stranger = User("stranger");
        await SuperuserAsync($"CREATE ROLE {stranger} LOGIN PASSWORD 'stranger-pw'");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync("127.0.0.1", _admin.Port, db, stranger, "stranger-pw"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);

        // Two callers at once (a retried request racing the first): both succeed, one database.
        var raced = Db("raced");
        await Task.WhenAll(
            _provisioner.CreateDatabaseAsync(_admin, raced, null, Ct),
            _provisioner.CreateDatabaseAsync(_admin, raced, null, Ct));
        Assert.Equal(1L, await SuperuserAsync($"SELECT count(*) FROM pg_database WHERE datname = '{raced}'"));
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
        Assert.Equal($"postgres://{user}:{password}@127.0.0.1:{_admin.Port}/{db}", credentials.Uri);
        Assert.Equal($"jdbc:postgresql://127.0.0.1:{_admin.Port}/{db}?user={user}&password={password}", credentials.JdbcUrl);

        await using (var connection = await ConnectAsync(credentials))
        {
            await ExecuteAsync(connection, "CREATE TABLE items (id int PRIMARY KEY, name text)");
            await ExecuteAsync(connection, "INSERT INTO items VALUES (1, 'first')");
            Assert.Equal("first", await ScalarAsync(connection, "SELECT name FROM items WHERE id = 1"));
            // Sessions act as the owner role: what one binding creates belongs to the database, not to the binding.
            Assert.Equal(db + "_owner", await ScalarAsync(connection, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'items'"));
        }

        await using (var viaUri = await ConnectAsync(credentials.Uri))
        {
            await ExecuteAsync(viaUri, "INSERT INTO items VALUES (2, 'second')");
            Assert.Equal(2L, await ScalarAsync(viaUri, "SELECT count(*) FROM items"));
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
            Assert.Equal(3L, await ScalarAsync(connection, "SELECT sum(v) FROM shared"));
        }

        var refused = await Assert.ThrowsAsync<PostgresException>(
            () => ConnectAsync(first.Hostname, first.Port, db, outsider.Username, outsider.Password));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        await using (var ownDatabase = await ConnectAsync(outsider))
        {
            Assert.Equal(1, await ScalarAsync(ownDatabase, "SELECT 1"));
        }
    }

    [Fact]
    public async Task A_login_that_could_connect_to_a_database_open_to_PUBLIC_is_reported_naming_it_but_never_another_bindings_database()
    {
        // The tests' server is a fresh initdb: PUBLIC has CONNECT on "postgres", as on a cluster deployed without the rule.
        var logger = new ListLogger<PostgresDatabaseProvisioner>();
        var provisioner = new PostgresDatabaseProvisioner(logger);
        var db = Db("warned");
        var other = Db("neighbour");
        await provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        await provisioner.CreateDatabaseAsync(_admin, other, null, Ct);

        var user = await provisioner.CreateUserAsync(_admin, db, User("app"), Passwords.Generate(), Ct);

        var warning = Assert.Single(logger.Messages, m => m.Contains("can also connect", StringComparison.Ordinal));
        Assert.StartsWith("Warning:", warning);
        Assert.Contains(user.Username, warning);
        Assert.Matches(@"database\(s\) [^(]*\bpostgres\b", warning);
        Assert.DoesNotContain(other, warning);
        Assert.DoesNotContain(db + ",", warning);
        Assert.DoesNotContain(user.Password, string.Join("\n", logger.Messages));
    }

    [Fact]
    public async Task Creating_a_user_again_resets_its_password()
    {
        var db = Db("reset");
        var user = User("app");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        var old = await _provisioner.CreateUserAsync(_admin, db, user, Passwords.Generate(), Ct);

        var renewed = await _provisioner.CreateUserAsync(_admin, db, user, Passwords.Generate(), Ct);

        var rejected = await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync(old));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, rejected.SqlState);
        await using var connection = await ConnectAsync(renewed);
        Assert.Equal(user, await ScalarAsync(connection, "SELECT session_user::text"));
    }

    [Theory]
    [InlineData("it's a \\ \"quoted\" $$ %L '; DROP ROLE postgres; --")] // ASCII: SCRAM verifier computed by the broker
    [InlineData("pässwörd-ü'\\x")]                                    // non-ASCII: escaped literal, hashed by the server
    public async Task Passwords_with_quotes_backslashes_and_non_ascii_characters_work(string password)
    {
        var db = Db("pw");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);

        var credentials = await _provisioner.CreateUserAsync(_admin, db, User("app"), password, Ct);

        await using (var connection = await ConnectAsync(credentials))
        {
            Assert.Equal(1, await ScalarAsync(connection, "SELECT 1"));
        }
        await using (var viaUri = await ConnectAsync(credentials.Uri))
        {
            Assert.Equal(1, await ScalarAsync(viaUri, "SELECT 1"));
        }
        Assert.StartsWith("SCRAM-SHA-256$4096:",
            await SuperuserAsync($"SELECT rolpassword FROM pg_authid WHERE rolname = '{credentials.Username}'") as string);
    }

    [Fact]
    public async Task Dropping_a_user_ends_its_session_locks_it_out_and_leaves_its_tables_to_the_owner_role()
    {
        var db = Db("unbind");
        await _provisioner.CreateDatabaseAsync(_admin, db, null, Ct);
        var leaving = await _provisioner.CreateUserAsync(_admin, db, User("leaving"), Passwords.Generate(), Ct);
        var staying = await _provisioner.CreateUserAsync(_admin, db, User("staying"), Passwords.Generate(), Ct);

        await using var open = await ConnectAsync(leaving);
        await ExecuteAsync(open, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
        // An app may step out of the owner role (RESET ROLE keeps it; SET ROLE NONE does not): what it then creates
        // is its own, and must be handed over.
        await ExecuteAsync(open, "RESET ROLE");
        Assert.Equal(db + "_owner", await ScalarAsync(open, "SELECT current_user::text"));
        await ExecuteAsync(open, "SET ROLE NONE; CREATE TABLE own (v int); INSERT INTO own VALUES (7)");
        Assert.Equal(leaving.Username, await ScalarAsync(open, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'own'"));

        await _provisioner.DropUserAsync(_admin, db, leaving.Username, Ct);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync(open, "SELECT 1"));
        var rejected = await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync(leaving));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, rejected.SqlState);
        Assert.Equal(0L, await SuperuserAsync($"SELECT count(*) FROM pg_roles WHERE rolname = '{leaving.Username}'"));

        await using (var connection = await ConnectAsync(staying))
        {
            Assert.Equal(49L, await ScalarAsync(connection, "SELECT (SELECT sum(v) FROM kept) + (SELECT sum(v) FROM own)"));
            Assert.Equal(2L, await ScalarAsync(connection,
                $"SELECT count(*) FROM pg_tables WHERE tablename IN ('kept', 'own') AND tableowner = '{db}_owner'"));
        }

        // Repeating is fine, and so is a user that never existed or a database that is gone.
        await _provisioner.DropUserAsync(_admin, db, leaving.Username, Ct);
        await _provisioner.DropUserAsync(_admin, db, User("never"), Ct);
        await _provisioner.DropUserAsync(_admin, Db("gone"), User("never"), Ct);
    }

    [Fact]
    public async Task Dropping_the_database_ends_its_sessions_and_removes_it_with_its_roles()
    {
        var db = Db("doomed");
        var survivor = Db("survivor");
        await _provisioner.CreateDatabaseAsync(_admin, db, 100, Ct);
        await _provisioner.CreateDatabaseAsync(_admin, survivor, 100, Ct);
        var user = await _provisioner.CreateUserAsync(_admin, db, User("app"), Passwords.Generate(), Ct);
        var survivorUser = await _provisioner.CreateUserAsync(_admin, survivor, User("other"), Passwords.Generate(), Ct);
        await using var open = await ConnectAsync(user);
        await ExecuteAsync(open, "CREATE TABLE t (v int)");

        await _provisioner.DropDatabaseAsync(_admin, db, Ct);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync(open, "SELECT 1"));
        Assert.Equal(0L, await SuperuserAsync($"SELECT count(*) FROM pg_database WHERE datname = '{db}'"));
        Assert.Equal(0L, await SuperuserAsync($"SELECT count(*) FROM pg_roles WHERE rolname IN ('{db}_owner', '{user.Username}')"));
        await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync(user));

        // The admin (a member of every owner role) and the other database are untouched.
        await using (var other = await ConnectAsync(survivorUser))
        {
            Assert.Equal(1, await ScalarAsync(other, "SELECT 1"));
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

        await AssertPermanentAsync(() => _provisioner.CreateDatabaseAsync(_admin, "postgres", null, Ct));
        await AssertPermanentAsync(() => _provisioner.DropDatabaseAsync(_admin, "template1", Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, Db("missing"), User("app"), Passwords.Generate(), Ct));
        await AssertPermanentAsync(() => _provisioner.CreateUserAsync(_admin, db, theirs.Username, Passwords.Generate(), Ct));
        await AssertPermanentAsync(() => _provisioner.DropUserAsync(_admin, db, theirs.Username, Ct));

        Assert.Equal(0L, await SuperuserAsync("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres_owner'"));
        await using var stillThere = await ConnectAsync(theirs);
        Assert.Equal(1, await ScalarAsync(stillThere, "SELECT 1"));
    }

    [Fact]
    public async Task A_wrong_admin_password_is_a_permanent_failure_that_does_not_reveal_it()
    {
        var wrong = _admin with { Password = "not-the-password-" + _suffix };

        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateDatabaseAsync(wrong, Db("x"), null, Ct));

        Assert.False(error.Transient);
        Assert.Contains(_admin.Username, error.Message);
        Assert.DoesNotContain(wrong.Password, error.ToString());
    }

    [Fact]
    public async Task A_closed_port_is_a_transient_failure()
    {
        var closed = _admin with { Port = FreePort() };

        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(
            () => _provisioner.CreateUserAsync(closed, Db("x"), User("x"), "secret-" + _suffix, Ct));

        Assert.True(error.Transient);
        Assert.Contains($"127.0.0.1:{closed.Port}", error.Message);
        Assert.DoesNotContain("secret-" + _suffix, error.ToString());
    }

    [Theory]
    [InlineData("x\"; DROP ROLE postgres; --")]
    [InlineData("Orders")]
    [InlineData("1orders")]
    [InlineData("orders-db")]
    [InlineData("orders db")]
    [InlineData("ördérs")]
    [InlineData("pg_orders")]
    [InlineData("")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl")] // 64: PostgreSQL would truncate it
    public async Task Hostile_or_invalid_names_are_rejected_before_connecting(string name)
    {
        var unreachable = _admin with { Port = FreePort() };

        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateDatabaseAsync(unreachable, name, null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.DropDatabaseAsync(unreachable, name, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", name, "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, name, "u_ok", "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.DropUserAsync(unreachable, "db_ok", name, Ct));
    }

    [Fact]
    public async Task Names_that_would_collide_with_owner_roles_are_rejected()
    {
        var unreachable = _admin with { Port = FreePort() };

        // "<db>_owner" must fit in 63 characters, and no account may pose as (or later become) an owner role.
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateDatabaseAsync(unreachable, new string('a', 58), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", "db_ok_owner", "pw", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _provisioner.CreateUserAsync(unreachable, "db_ok", "u_ok", "", Ct));
    }

    // ---------------------------------------------------------------- helpers

    private static async Task AssertPermanentAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<DatabaseProvisioningException>(action);
        Assert.False(error.Transient, error.Message);
    }

    private static Task<NpgsqlConnection> ConnectAsync(DatabaseCredentials credentials) =>
        ConnectAsync(credentials.Hostname, credentials.Port, credentials.Name, credentials.Username, credentials.Password);

    /// <summary>Connects the way an app reading only the <c>uri</c> credential would.</summary>
    private static Task<NpgsqlConnection> ConnectAsync(string uri)
    {
        var parsed = new Uri(uri);
        Assert.Equal("postgres", parsed.Scheme);
        var userInfo = parsed.UserInfo.Split(':', 2);
        return ConnectAsync(parsed.Host, parsed.Port, parsed.AbsolutePath.TrimStart('/'),
            Uri.UnescapeDataString(userInfo[0]), Uri.UnescapeDataString(userInfo[1]));
    }

    private static async Task<NpgsqlConnection> ConnectAsync(string host, int port, string database, string username, string password)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Database = database,
            Username = username,
            Password = password,
            Timeout = 5,
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

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private async Task<NpgsqlConnection> SuperuserConnectionAsync()
    {
        // Unpooled: an idle superuser session would keep the (non-superuser) admin from dropping a database.
        var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(postgres.Server.AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task<object?> SuperuserAsync(string sql)
    {
        await using var connection = await SuperuserConnectionAsync();
        return await ScalarAsync(connection, sql);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
