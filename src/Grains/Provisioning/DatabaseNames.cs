using System.Security.Cryptography;
using System.Text;

namespace OnDemand.Grains.Provisioning;

/// <summary>
/// Names inside a cluster, derived from OSB ids: a readable prefix (the id's letters and digits, lower-cased) plus a
/// hash of the whole id, exact and case-sensitive, so distinct ids always give distinct names (docs/naming.md). They
/// fit every engine: PostgreSQL 63 bytes (a database's owner role adds "_owner"), MySQL 64 for databases and 32 for
/// users. Each instance records the names it was given, so this rule can change without touching existing instances.
/// </summary>
public static class DatabaseNames
{
    /// <summary>"db_" + 16 + "_" + 26 = 46 characters (130 bits of hash).</summary>
    public static string Database(string databaseInstanceId) => Name("db_", databaseInstanceId, 16, 26);

    /// <summary>"u_" + 8 + "_" + 20 = 31 characters (100 bits of hash): fits MySQL's 32-character user names.</summary>
    public static string BindingUser(string bindingId) => Name("u_", bindingId, 8, 20);

    /// <summary>"admin_" + 4 + "_" + 20 = 31 characters, like binding users.</summary>
    public static string ClusterAdmin(string clusterInstanceId) => Name("admin_", clusterInstanceId, 4, 20);

    /// <summary>The rule before names were recorded (not injective): only for instances created under it.</summary>
    public static string LegacyDatabase(string databaseInstanceId) => "db_" + Readable(databaseInstanceId, 40);

    /// <summary>The rule before names were recorded (not injective): only for bindings created under it.</summary>
    public static string LegacyBindingUser(string bindingId) => "u_" + Readable(bindingId, 30);

    private static string Name(string prefix, string id, int readableLength, int hashLength)
    {
        var readable = Readable(id, readableLength);
        return $"{prefix}{readable}{(readable.Length > 0 ? "_" : "")}{Hash(id, hashLength)}";
    }

    /// <summary>Lower-case letters and digits of the id, at most <paramref name="length"/>.</summary>
    private static string Readable(string id, int length)
    {
        var result = new StringBuilder(length);
        foreach (var c in id.ToLowerInvariant())
        {
            if (result.Length == length) break;
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') result.Append(c);
        }
        return result.ToString();
    }

    /// <summary>SHA-256 of the id's UTF-8 bytes in lower-case base32 (a-z, 2-7), cut to <paramref name="length"/>.</summary>
    private static string Hash(string id, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        var result = new StringBuilder(length);
        int buffer = 0, bits = 0, index = 0;
        while (result.Length < length)
        {
            if (bits < 5)
            {
                buffer = (buffer << 8) | bytes[index++];
                bits += 8;
            }
            result.Append(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
        return result.ToString();
    }
}
