using System.Text.Json.Nodes;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Grains.InnerBroker;

/// <summary>What an app needs to connect, from an inner broker's binding answer.</summary>
internal static class BindingCredentials
{
    /// <summary>
    /// Maps a binding's <c>credentials</c> object, accepting the common shapes: <c>hostname</c>|<c>host</c>, <c>port</c>
    /// (number or string), <c>name</c>|<c>database</c>, <c>username</c>|<c>user</c>, <c>password</c>, <c>uri</c>|<c>url</c>,
    /// <c>jdbcUrl</c>|<c>jdbc_url</c>. Fields missing but present in the URI are taken from it. A missing URI is built
    /// as <c>mysql://</c> when the port is 3306, else <c>postgres://</c>; a missing JDBC URL from the URI's scheme.
    /// </summary>
    /// <exception cref="DatabaseProvisioningException">(not transient) a field is missing; the message names it, never a value.</exception>
    public static DatabaseCredentials From(JsonObject credentials, string context)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var host = OsbJson.Text(credentials, "hostname", "host");
        var port = OsbJson.Number(credentials, "port");
        var name = OsbJson.Text(credentials, "name", "database");
        var username = OsbJson.Text(credentials, "username", "user");
        var password = OsbJson.Text(credentials, "password");
        var uri = OsbJson.Text(credentials, "uri", "url");
        var jdbcUrl = OsbJson.Text(credentials, "jdbcUrl", "jdbc_url");

        if (uri is not null && Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            host ??= parsed.IdnHost is { Length: > 0 } h ? h : null;
            port ??= parsed.IsDefaultPort || parsed.Port < 0 ? null : parsed.Port;
            name ??= parsed.AbsolutePath.Trim('/') is { Length: > 0 } path ? Uri.UnescapeDataString(path) : null;
            var userInfo = parsed.UserInfo.Split(':', 2);
            username ??= userInfo[0] is { Length: > 0 } u ? Uri.UnescapeDataString(u) : null;
            password ??= userInfo.Length == 2 ? Uri.UnescapeDataString(userInfo[1]) : null;
        }

        var missing = new List<string>();
        if (host is null) missing.Add("hostname");
        if (port is null) missing.Add("port");
        if (name is null) missing.Add("name");
        if (username is null) missing.Add("username");
        if (password is null) missing.Add("password");
        if (missing.Count > 0)
        {
            throw new DatabaseProvisioningException(
                $"{context}: the binding's credentials lack {string.Join(", ", missing)}.", transient: false);
        }

        var hostInUrl = host!.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        var user = Uri.EscapeDataString(username!);
        var secret = Uri.EscapeDataString(password!);
        uri ??= $"{(port == 3306 ? "mysql" : "postgres")}://{user}:{secret}@{hostInUrl}:{port}/{Uri.EscapeDataString(name!)}";
        if (jdbcUrl is null)
        {
            var scheme = uri.Split(':', 2)[0].ToLowerInvariant() switch
            {
                "postgres" or "postgresql" => "postgresql",
                "mysql" or "mysql2" => "mysql",
                var other => other,
            };
            jdbcUrl = $"jdbc:{scheme}://{hostInUrl}:{port}/{Uri.EscapeDataString(name!)}?user={user}&password={secret}";
        }
        return new DatabaseCredentials(host, port!.Value, name!, username!, password!, uri, jdbcUrl);
    }
}
