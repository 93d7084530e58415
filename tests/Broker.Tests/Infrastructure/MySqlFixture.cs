namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// xunit class fixture owning a private <see cref="MySqlServer"/>: only the test classes that declare
/// <c>IClassFixture&lt;MySqlFixture&gt;</c> start one (a few seconds: most of it is <c>mariadb-install-db</c>).
/// Tests isolate themselves with unique names.
/// </summary>
public sealed class MySqlFixture : IAsyncLifetime
{
    private MySqlServer? _server;

    public MySqlServer Server =>
        _server ?? throw new InvalidOperationException("The MySQL fixture has not been initialized.");

    /// <summary>How long <see cref="InitializeAsync"/> took (data directory, start, root password).</summary>
    public TimeSpan StartupTime { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        _server = await MySqlServer.StartAsync();
        StartupTime = started.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
