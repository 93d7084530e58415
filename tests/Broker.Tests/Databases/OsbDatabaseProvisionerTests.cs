using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Databases;

/// <summary>
/// The "osb" provisioner over HTTP against <see cref="FakeInnerBroker"/> (one per test, on a random port). Poll budgets
/// are cut to a fraction of a second so the asynchronous paths, the "still in progress" one included, stay fast.
/// </summary>
public sealed class OsbDatabaseProvisionerTests
{
    private const string BrokerUser = "cluster-broker-admin";
    private const string BrokerPassword = "inner-broker-secret-4711";
    private const string Db = "db_orders";
    private const string Account = "u_binding1";

    private static readonly TimeSpan ShortBudget = TimeSpan.FromMilliseconds(300);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static OsbDatabaseProvisioner Provisioner(TimeSpan? pollBudget = null) =>
        new(Options.Create(new DatabaseOptions { InnerBrokerScheme = "http" }))
        {
            PollBudget = pollBudget ?? TimeSpan.FromSeconds(3),
            PollInterval = TimeSpan.FromMilliseconds(20),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };

    private static ClusterAdminEndpoint Admin(FakeInnerBroker broker, string password = BrokerPassword) =>
        new("127.0.0.1", broker.Port, BrokerUser, password, "unused");

    private static Task<FakeInnerBroker> StartAsync(TimeSpan asyncDelay) => FakeInnerBroker.StartAsync(BrokerUser, BrokerPassword, asyncDelay);

    // ---------------------------------------------------------------- create

    [Fact]
    public async Task A_synchronous_create_makes_one_instance_with_the_plan_of_that_size_and_reads_the_catalog_once()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();

        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
        Assert.Equal(2, broker.RequestCount); // catalog + PUT
        await provisioner.CreateDatabaseAsync(Admin(broker), "db_other", 100, Ct);
        Assert.Equal(3, broker.RequestCount); // the catalog is cached

        Assert.Equal(2, broker.ProvisionCount);
        Assert.Equal(2, broker.Instances);
        Assert.True(broker.IsReady(Db));
        Assert.Equal(FakeInnerBroker.Plan1GbId, broker.PlanOf(Db));
        Assert.Equal(FakeInnerBroker.Plan100MbId, broker.PlanOf("db_other"));
    }

    [Theory]
    [InlineData(100, FakeInnerBroker.Plan100MbId)]    // exact
    [InlineData(15360, FakeInnerBroker.Plan15GbId)]   // exact
    [InlineData(1, FakeInnerBroker.Plan100MbId)]      // smallest at least as large
    [InlineData(500, FakeInnerBroker.Plan1GbId)]
    [InlineData(2048, FakeInnerBroker.Plan15GbId)]
    [InlineData(20000, FakeInnerBroker.Plan100MbId)]  // larger than every plan: the first plan
    [InlineData(null, FakeInnerBroker.Plan100MbId)]   // no size: the first plan
    public async Task The_plan_is_the_exact_size_else_the_smallest_large_enough_else_the_first(int? sizeMb, string expectedPlan)
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();

        await provisioner.CreateDatabaseAsync(Admin(broker), Db, sizeMb, Ct);

        Assert.Equal(expectedPlan, broker.PlanOf(Db));
    }

    [Fact]
    public async Task An_asynchronous_create_shorter_than_the_budget_is_polled_to_completion_within_the_call()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(200));
        using var provisioner = Provisioner();

        var clock = Stopwatch.StartNew();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);

        Assert.True(broker.IsReady(Db), "the call returned before the inner broker finished");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(190), $"returned after {clock.Elapsed}: did it wait at all?");
        Assert.Equal(1, broker.ProvisionCount);
    }

    [Fact]
    public async Task An_asynchronous_create_longer_than_the_budget_fails_transiently_then_a_retry_completes_it_with_one_instance()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(1200));
        using var provisioner = Provisioner(ShortBudget);

        var first = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct));
        Assert.True(first.Transient, first.Message);
        Assert.Contains("still creating the database", first.Message);
        Assert.False(broker.IsReady(Db));

        // What the caller does: try again later, as often as it takes.
        var attempts = 1;
        while (true)
        {
            attempts++;
            try
            {
                await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
                break;
            }
            catch (DatabaseProvisioningException e) when (e.Transient && attempts < 20)
            {
            }
        }

        Assert.True(broker.IsReady(Db));
        Assert.Equal(1, broker.ProvisionCount);
        Assert.Equal(1, broker.Instances);
        Assert.InRange(attempts, 2, 6);
    }

    [Fact]
    public async Task Creating_twice_is_idempotent()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(50));
        using var provisioner = Provisioner();

        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);

        Assert.Equal(1, broker.ProvisionCount);
        Assert.Equal(1, broker.Instances);
    }

    [Fact]
    public async Task Creating_again_with_another_size_keeps_the_existing_database()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();

        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 100, Ct);
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct); // 409, then GET: it is there

        Assert.Equal(1, broker.ProvisionCount);
        Assert.Equal(FakeInnerBroker.Plan100MbId, broker.PlanOf(Db));
    }

    [Fact]
    public async Task A_create_the_inner_broker_reports_failed_is_a_permanent_failure_with_its_description()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(50));
        using var provisioner = Provisioner();
        broker.FailNextOperation("no space left on the cluster's volume");

        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct));

        Assert.False(e.Transient, e.Message);
        Assert.Contains("no space left on the cluster's volume", e.Message);
    }

    // ---------------------------------------------------------------- bindings

    [Fact]
    public async Task Binding_returns_the_inner_brokers_credentials_mapped()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);

        var credentials = await provisioner.CreateUserAsync(Admin(broker), Db, Account, "ignored-password", Ct);

        var inner = broker.CredentialsOf(Db, Account);
        Assert.NotNull(inner);
        Assert.Equal(FakeInnerBroker.CredentialsHost, credentials.Hostname);
        Assert.Equal(3306, credentials.Port);
        Assert.Equal(Db, credentials.Name);
        Assert.Equal(inner["username"]!.GetValue<string>(), credentials.Username);
        Assert.Equal(inner["password"]!.GetValue<string>(), credentials.Password);
        Assert.NotEqual("ignored-password", credentials.Password); // the inner broker makes the password
        Assert.Equal(inner["uri"]!.GetValue<string>(), credentials.Uri);
        Assert.StartsWith("mysql://", credentials.Uri);
        Assert.Equal(inner["jdbcUrl"]!.GetValue<string>(), credentials.JdbcUrl);
        Assert.Equal(1, broker.Bindings);
    }

    [Fact]
    public async Task Binding_twice_answers_the_same_credentials_and_keeps_one_binding()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);

        var first = await provisioner.CreateUserAsync(Admin(broker), Db, Account, "p1", Ct);
        var second = await provisioner.CreateUserAsync(Admin(broker), Db, Account, "p2", Ct);

        Assert.Equal(first, second);
        Assert.Equal(1, broker.Bindings);

        // The fake's control route, which bench/scale-out.sh's soak reads for its "no leaked login" check.
        using var http = new HttpClient { BaseAddress = broker.Url };
        var state = JsonNode.Parse(await http.GetStringAsync(FakeInnerBroker.StatePath.TrimStart('/'), Ct))!;
        Assert.Equal(1, state["instances"]!.GetValue<int>());
        Assert.Equal(1, state["bindings"]!.GetValue<int>());
        await provisioner.DropUserAsync(Admin(broker), Db, Account, Ct);
        state = JsonNode.Parse(await http.GetStringAsync(FakeInnerBroker.StatePath.TrimStart('/'), Ct))!;
        Assert.Equal(0, state["bindings"]!.GetValue<int>());
    }

    [Fact]
    public async Task Binding_a_missing_database_is_a_permanent_failure()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();

        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateUserAsync(Admin(broker), "db_missing", Account, "p", Ct));

        Assert.False(e.Transient, e.Message);
        Assert.Contains("404", e.Message);
    }

    [Fact]
    public async Task Unbinding_removes_the_binding_and_unbinding_a_missing_one_is_fine()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
        await provisioner.CreateUserAsync(Admin(broker), Db, Account, "p", Ct);
        await provisioner.CreateUserAsync(Admin(broker), Db, "u_binding2", "p", Ct);

        await provisioner.DropUserAsync(Admin(broker), Db, Account, Ct);
        Assert.Null(broker.CredentialsOf(Db, Account));
        Assert.Equal(1, broker.Bindings);

        await provisioner.DropUserAsync(Admin(broker), Db, Account, Ct);          // again: 410
        await provisioner.DropUserAsync(Admin(broker), Db, "u_never_bound", Ct);  // never bound: 410
        await provisioner.DropUserAsync(Admin(broker), "db_missing", Account, Ct); // no such database: 410
        Assert.Equal(1, broker.Bindings);
    }

    // ---------------------------------------------------------------- drop

    [Fact]
    public async Task An_asynchronous_drop_is_polled_to_completion_and_takes_the_bindings_along()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(150));
        using var provisioner = Provisioner();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
        await provisioner.CreateUserAsync(Admin(broker), Db, Account, "p", Ct);

        await provisioner.DropDatabaseAsync(Admin(broker), Db, Ct);

        Assert.Equal(0, broker.Instances);
        Assert.Equal(0, broker.Bindings);
    }

    [Fact]
    public async Task An_asynchronous_drop_longer_than_the_budget_fails_transiently_then_a_retry_completes_it()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(500));
        using var provisioner = Provisioner(TimeSpan.FromSeconds(2));
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);
        using var impatient = Provisioner(ShortBudget);

        var first = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => impatient.DropDatabaseAsync(Admin(broker), Db, Ct));
        Assert.True(first.Transient, first.Message);
        Assert.Contains("still dropping", first.Message);
        Assert.Equal(1, broker.Instances);

        await provisioner.DropDatabaseAsync(Admin(broker), Db, Ct); // re-sent DELETE: 202 same operation, polled to the end
        Assert.Equal(0, broker.Instances);
    }

    [Fact]
    public async Task Dropping_a_missing_database_is_fine()
    {
        await using var broker = await StartAsync(TimeSpan.FromMilliseconds(100));
        using var provisioner = Provisioner();

        await provisioner.DropDatabaseAsync(Admin(broker), "db_missing", Ct);
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 100, Ct);
        await provisioner.DropDatabaseAsync(Admin(broker), Db, Ct);
        await provisioner.DropDatabaseAsync(Admin(broker), Db, Ct);

        Assert.Equal(0, broker.Instances);
    }

    [Fact]
    public async Task Dropping_a_database_still_being_created_is_a_transient_failure()
    {
        await using var broker = await StartAsync(TimeSpan.FromSeconds(5));
        using var provisioner = Provisioner(ShortBudget);
        await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct));

        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.DropDatabaseAsync(Admin(broker), Db, Ct));

        Assert.True(e.Transient, e.Message); // 422 ConcurrencyError: try again once the create is over
        Assert.Contains("ConcurrencyError", e.Message);
        Assert.Equal(1, broker.Instances);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public async Task A_wrong_password_is_a_permanent_failure_that_does_not_quote_the_password()
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();
        const string wrong = "not-the-password-0815";

        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(Admin(broker, wrong), Db, 1024, Ct));

        Assert.False(e.Transient, e.Message);
        Assert.Contains("401", e.Message);
        Assert.DoesNotContain(wrong, e.Message);
        Assert.Equal(0, broker.Instances);
    }

    [Fact]
    public async Task A_closed_port_is_a_transient_failure()
    {
        using var provisioner = Provisioner();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop(); // nothing listens there any more
        }

        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() =>
            provisioner.CreateDatabaseAsync(new ClusterAdminEndpoint("127.0.0.1", port, BrokerUser, BrokerPassword, ""), Db, 1024, Ct));

        Assert.True(e.Transient, e.Message);
        Assert.Contains("connection refused", e.Message);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task A_server_error_is_a_transient_failure_and_the_retry_succeeds(int status)
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();
        await provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct);

        broker.FailNext(1, status);
        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateUserAsync(Admin(broker), Db, Account, "p", Ct));
        Assert.True(e.Transient, e.Message);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Equal(0, broker.Bindings);

        await provisioner.CreateUserAsync(Admin(broker), Db, Account, "p", Ct);
        Assert.Equal(1, broker.Bindings);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(422)]
    public async Task A_rejection_is_a_permanent_failure_with_the_inner_description(int status)
    {
        await using var broker = await StartAsync(TimeSpan.Zero);
        using var provisioner = Provisioner();

        broker.FailNext(1, status);
        var e = await Assert.ThrowsAsync<DatabaseProvisioningException>(() => provisioner.CreateDatabaseAsync(Admin(broker), Db, 1024, Ct));

        Assert.False(e.Transient, e.Message);
        Assert.Contains($"emulated fault: HTTP {status}", e.Message);
    }

    // ---------------------------------------------------------------- credential shapes

    [Fact]
    public void Credentials_in_the_postgres_shape_get_a_postgres_uri_and_jdbc_url()
    {
        var credentials = OsbDatabaseProvisioner.CredentialsFrom(new JsonObject
        {
            ["host"] = "10.0.0.5",
            ["port"] = "5432",
            ["database"] = "orders",
            ["user"] = "app",
            ["password"] = "p@ss word",
        });

        Assert.Equal(new DatabaseCredentials("10.0.0.5", 5432, "orders", "app", "p@ss word",
            "postgres://app:p%40ss%20word@10.0.0.5:5432/orders",
            "jdbc:postgresql://10.0.0.5:5432/orders?user=app&password=p%40ss%20word"), credentials);
    }

    [Fact]
    public void Credentials_on_port_3306_without_uri_get_a_mysql_uri_and_jdbc_url()
    {
        var credentials = OsbDatabaseProvisioner.CredentialsFrom(new JsonObject
        {
            ["hostname"] = "mysql.internal",
            ["port"] = 3306,
            ["name"] = "orders",
            ["username"] = "app",
            ["password"] = "secret",
        });

        Assert.Equal("mysql://app:secret@mysql.internal:3306/orders", credentials.Uri);
        Assert.Equal("jdbc:mysql://mysql.internal:3306/orders?user=app&password=secret", credentials.JdbcUrl);
    }

    [Fact]
    public void Credentials_with_only_a_uri_are_completed_from_it()
    {
        var credentials = OsbDatabaseProvisioner.CredentialsFrom(new JsonObject { ["uri"] = "mysql://app:s%3Acret@db.internal:3307/orders" });

        Assert.Equal(new DatabaseCredentials("db.internal", 3307, "orders", "app", "s:cret",
            "mysql://app:s%3Acret@db.internal:3307/orders",
            "jdbc:mysql://db.internal:3307/orders?user=app&password=s%3Acret"), credentials);
    }

    [Fact]
    public void Credentials_missing_a_field_are_a_permanent_failure_that_names_the_field_not_the_values()
    {
        var e = Assert.Throws<DatabaseProvisioningException>(() => OsbDatabaseProvisioner.CredentialsFrom(new JsonObject
        {
            ["hostname"] = "mysql.internal",
            ["port"] = 3306,
            ["name"] = "orders",
            ["username"] = "app-user-x",
        }));

        Assert.False(e.Transient);
        Assert.Contains("password", e.Message);
        Assert.DoesNotContain("app-user-x", e.Message);
    }
}
