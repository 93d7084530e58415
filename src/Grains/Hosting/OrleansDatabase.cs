using System.Data.Common;
using Npgsql;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// The connection string the Orleans providers (clustering, grain state, reminders) and the fleet directory use, made
/// from ConnectionStrings:Orleans. Orleans sends the same few statements all day, each in a transaction of its own:
/// <list type="bullet">
/// <item>No reset on close. Those statements leave no session state behind, so a pooled connection need not be
/// reset when it is returned (Npgsql's reset would otherwise run with every next statement).</item>
/// <item>Automatic preparation. Npgsql prepares a statement on a connection once it has run there a few times, so
/// PostgreSQL plans it once instead of on every call: planning was about 40% of PostgreSQL's time for grain reads,
/// writes and reminders (docs/performance.md). An explicit "Max Auto Prepare" in the configured string wins; set it
/// to 0 behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).</item>
/// </list>
/// </summary>
public static class OrleansDatabase
{
    public const int DefaultMaxAutoPrepare = 32;

    public static string ConnectionString(string configured)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured) { NoResetOnClose = true };
        if (!Names(configured, "Max Auto Prepare")) builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        return builder.ConnectionString;
    }

    /// <summary>Whether the configured string sets KEYWORD itself (spaces and case do not matter, as for Npgsql).</summary>
    private static bool Names(string configured, string keyword)
    {
        var wanted = keyword.Replace(" ", "", StringComparison.Ordinal);
        return new DbConnectionStringBuilder { ConnectionString = configured }.Keys.Cast<string>()
            .Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals(wanted, StringComparison.OrdinalIgnoreCase));
    }
}
