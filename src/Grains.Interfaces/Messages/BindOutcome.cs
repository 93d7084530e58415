namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Alias("OnDemand.BindOutcome")]
public enum BindOutcome
{
    /// <summary>201 with credentials.</summary>
    Created = 0,
    /// <summary>200: identical binding exists (or fetched).</summary>
    Exists = 1,
    /// <summary>409: the id exists with other attributes.</summary>
    Conflict = 2,
    /// <summary>404 (fetch) / 410 (unbind): no such binding.</summary>
    NotFound = 3,
    /// <summary>422 ConcurrencyError: the database or its cluster is busy.</summary>
    Busy = 4,
    /// <summary>400: refused for a reason the user can fix.</summary>
    BadRequest = 5,
    /// <summary>200 {}: unbound.</summary>
    Deleted = 6,
    /// <summary>503: the cluster could not be reached; nothing changed, try again.</summary>
    Unavailable = 7,
}
