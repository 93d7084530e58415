using OnDemand.Tests.Infrastructure;

// One private PostgreSQL for the whole test assembly: starting a server costs about a second, a database per test
// class costs milliseconds. Test classes receive it through their constructor.
[assembly: AssemblyFixture(typeof(PostgresFixture))]

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// xunit assembly fixture owning the <see cref="PostgresServer"/> shared by all tests. Tests isolate themselves by
/// creating their own database (<see cref="PostgresServer.CreateOrleansDatabaseAsync"/>) with a unique name.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server =>
        _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not been initialized.");

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
