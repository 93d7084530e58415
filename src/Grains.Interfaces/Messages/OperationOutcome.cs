namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>What a request did, as a value; the gateway maps each to one OSB status code and body.</summary>
[GenerateSerializer, Alias("OnDemand.OperationOutcome")]
public enum OperationOutcome
{
    /// <summary>A new asynchronous operation started (202).</summary>
    Accepted = 0,
    /// <summary>The same request is already running (202 with the same operation).</summary>
    InProgress = 1,
    /// <summary>Done synchronously, nothing left to poll (200).</summary>
    Completed = 2,
    /// <summary>An identical request already completed (200).</summary>
    AlreadyExists = 3,
    /// <summary>The id exists with other attributes (409).</summary>
    Conflict = 4,
    /// <summary>The instance does not exist or is deleted (410 on delete).</summary>
    Gone = 5,
    /// <summary>The instance does not exist (404).</summary>
    NotFound = 6,
    /// <summary>Another operation is running on the instance (422 ConcurrencyError).</summary>
    ConcurrencyError = 7,
    /// <summary>422 PlanChangeNotSupported.</summary>
    PlanChangeNotSupported = 8,
    /// <summary>422 MaintenanceInfoConflict.</summary>
    MaintenanceInfoConflict = 9,
    /// <summary>Refused for a reason the user can fix (400).</summary>
    BadRequest = 10,
    /// <summary>The change needs an asynchronous operation and the client did not accept one (422 AsyncRequired).</summary>
    AsyncRequired = 11,
}
