using Npgsql;
using OnDemand.Grains.Hosting;

namespace OnDemand.Tests.Integration;

public sealed class OrleansDatabaseTests
{
    [Fact]
    public void The_Orleans_connection_prepares_statements_and_skips_the_reset_on_close()
    {
        var tuned = new NpgsqlConnectionStringBuilder(OrleansDatabase.ConnectionString("Host=db;Username=u;Password=p;Maximum Pool Size=50"));

        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(OrleansDatabase.DefaultMaxAutoPrepare, tuned.MaxAutoPrepare);
        Assert.Equal(50, tuned.MaxPoolSize);
        Assert.Equal("p", tuned.Password);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;maxautoprepare=7", 7)]
    [InlineData("Host=db;MAX AUTO PREPARE=100", 100)]
    public void An_explicit_Max_Auto_Prepare_in_the_configured_string_wins(string configured, int expected)
    {
        var tuned = new NpgsqlConnectionStringBuilder(OrleansDatabase.ConnectionString(configured));

        Assert.Equal(expected, tuned.MaxAutoPrepare);
        Assert.True(tuned.NoResetOnClose);
    }
}
