namespace OnDemand.Tests.Infrastructure;

/// <summary>One broker stack shared by the tests of a class (they use distinct instance ids).</summary>
public sealed class StackFixture(PostgresFixture postgres) : IAsyncLifetime
{
    public BrokerStack Stack { get; private set; } = null!;
    public OsbClient Osb { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Stack = await BrokerStack.StartAsync(postgres.Server);
        Osb = new OsbClient(Stack.Client);
    }

    public async ValueTask DisposeAsync() => await Stack.DisposeAsync();
}
