namespace OnDemand.Grains.Credentials;

/// <summary>Encrypts secrets kept in grain state (cluster admin passwords, binding credentials).</summary>
public interface ISecretProtector
{
    string Protect(string plaintext);
    string Unprotect(string protectedText);
}
