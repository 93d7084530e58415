using System.Security.Cryptography;

namespace OnDemand.Grains.Credentials;

public static class Passwords
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>A random password of letters and digits only, safe in URIs, JDBC URLs and shell variables.</summary>
    public static string Generate(int length = 32) => RandomNumberGenerator.GetString(Alphabet, length);
}
