using System.Text;

namespace OnDemand.Grains.Databases;

/// <summary>Names inside a cluster, derived from OSB ids so every step can recompute them after a crash.</summary>
public static class DatabaseNames
{
    public static string Database(string databaseInstanceId) => "db_" + Identifier(databaseInstanceId);

    public static string BindingUser(string bindingId) => "u_" + Identifier(bindingId);

    public static string ClusterAdmin(string clusterInstanceId) => "admin_" + Identifier(clusterInstanceId);

    /// <summary>Lower-case letters, digits and underscores, at most 40: valid unquoted in PostgreSQL and MySQL.</summary>
    private static string Identifier(string id)
    {
        var result = new StringBuilder(40);
        foreach (var c in id.ToLowerInvariant())
        {
            if (result.Length == 40) break;
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') result.Append(c);
            else if (c == '-' || c == '_' || c == '.') continue;
        }
        return result.ToString();
    }
}
