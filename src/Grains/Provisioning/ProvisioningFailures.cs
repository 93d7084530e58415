namespace OnDemand.Grains.Provisioning;

/// <summary>
/// What the SQL provisioners (<see cref="PostgresDatabaseProvisioner"/>, <see cref="MySqlDatabaseProvisioner"/>) say
/// the same way: the checks of their arguments and the words of their failures, which reach users through
/// last_operation and so never carry a password.
/// </summary>
internal static class ProvisioningFailures
{
    /// <summary>The failure of <paramref name="action"/> against <paramref name="where"/>, saying whether it is retried.</summary>
    public static DatabaseProvisioningException Failed(string where, string action, string reason, bool transient, Exception? inner) =>
        new($"{where}: {action} failed: {reason}.{(transient ? " Will retry." : "")}", transient, inner);

    /// <summary>Something the broker did not create is in the way: only an operator may decide.</summary>
    public static DatabaseProvisioningException NotManaged(string where, string what) =>
        new($"{where}: {what}. Not managed by the broker: an operator must look at it.", transient: false);

    /// <summary>A timeout, or the server could not be reached (with the innermost error's words).</summary>
    public static string Unreachable(Exception e, int connectTimeoutSeconds, int commandTimeoutSeconds, Func<Exception, bool> isEngineTimeout,
        Func<string, string>? redact = null) =>
        IsTimeout(e, isEngineTimeout)
            ? $"no answer within {connectTimeoutSeconds} s (connect) / {commandTimeoutSeconds} s (command)"
            : $"cannot reach the server ({(redact ?? (text => text))(Innermost(e).Message)})";

    public static void ValidatePassword(string password)
    {
        if (string.IsNullOrEmpty(password) || password.Contains('\0'))
        {
            // Never echo the password itself.
            throw new ArgumentException("The password must be non-empty and contain no NUL character.", nameof(password));
        }
    }

    /// <summary>A plain name of the engine: lower-case letters, digits and '_', not starting with a digit, bounded.</summary>
    public static void ValidateIdentifier(string? name, string parameter, int maxLength, string engine, System.Text.RegularExpressions.Regex plain)
    {
        if (name is null || !plain.IsMatch(name) || name.Length > maxLength)
        {
            throw new ArgumentException(
                $"'{name}' is not a plain {engine} name (lower-case letters, digits, '_', not starting with a digit, at most {maxLength}).", parameter);
        }
    }

    private static bool IsTimeout(Exception e, Func<Exception, bool> isEngineTimeout)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is TimeoutException || isEngineTimeout(current)) return true;
        }
        return false;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
