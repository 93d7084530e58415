namespace OnDemand.Grains.Credentials;

/// <summary>
/// The credential manager Concourse reads `((vars))` from (CredHub). The broker writes secrets it generates for a
/// cluster here, so that the cluster's pipeline receives them without them ever appearing in the pipeline config.
/// Concourse looks a var up as /concourse/TEAM/PIPELINE/VAR, then /concourse/TEAM/VAR.
/// </summary>
public interface ICredentialStore
{
    /// <summary>False when no credential manager is configured.</summary>
    bool Enabled { get; }

    /// <summary>Sets a value (type "value" in CredHub), replacing any previous one. Idempotent.</summary>
    Task SetAsync(string name, string value, CancellationToken cancellationToken);

    /// <summary>Deletes it; missing is fine.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A transient or permanent failure talking to the credential manager.</summary>
public sealed class CredentialStoreException(string message, bool transient, Exception? inner = null) : Exception(message, inner)
{
    public bool Transient { get; } = transient;
}
