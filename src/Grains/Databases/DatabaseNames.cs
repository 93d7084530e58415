using System.Text;

namespace OnDemand.Grains.Databases;

/// <summary>Names inside a cluster, derived from OSB ids so every step can recompute them after a crash.</summary>
public static class DatabaseNames
{
    public static string Database(string databaseInstanceId) => "db_" + Identifier(databaseInstanceId, 40);

    /// <summary>At most 32 characters: MySQL's limit for user names.</summary>
    public static string BindingUser(string bindingId) => "u_" + Identifier(bindingId, 30);

    /// <summary>At most 32 characters, like binding users.</summary>
    public static string ClusterAdmin(string clusterInstanceId) => "admin_" + Identifier(clusterInstanceId, 26);

    /// <summary>Lower-case letters and digits of the id (a GUID's 32 hex digits), at most <paramref name="length"/>.</summary>
    private static string Identifier(string id, int length)
    {
        var result = new StringBuilder(length);
        foreach (var c in id.ToLowerInvariant())
        {
            if (result.Length == length) break;
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') result.Append(c);
        }
        return result.ToString();
    }
}
